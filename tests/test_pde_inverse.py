"""PDE observations and parameter identification: grids and noise of simulated data, the .npz format and its
validation, and estimates of a constant with standard errors (heat: kappa; burgers: nu) on reduced set-ups.
Thresholds are measured values with their margins stated."""

from __future__ import annotations

import numpy as np
import pytest

from pinn.errors import PinnError
from pinn.pde.config import LeastSquaresConfig
from pinn.pde.inverse import PDEIdentifyConfig, identify_pde, write_identify_run
from pinn.pde.observations import load_observations, save_observations, simulate_observations
from problems.burgers import BurgersParams, burgers_problem
from problems.heat import heat_problem

HEAT_FORWARD = LeastSquaresConfig(block=0.25, cells=2, features=100, points_x=20, points_s=14, adapt=False)
"""A reduced forward model for the heat equation (fixed cells, about 0.05 s a solve)."""


def test_simulated_observations_have_the_grid_and_the_noise_asked_for() -> None:
    problem = heat_problem()
    obs = simulate_observations(problem, nx=64, every=0.05, noise=0.01, seed=7)
    assert obs.x.shape == (64,) and obs.s.shape == (21,) and obs.u.shape == (21, 64)
    assert obs.x[0] == 0.0 and obs.x[-1] == 1.0 and abs(obs.s[-1] - 1.0) < 1e-12
    exact = problem.exact_on_grid(obs.x, obs.s)
    ratio = np.std(obs.u - exact) / (0.01 * np.sqrt(np.mean(exact ** 2)))
    assert 0.93 < ratio < 1.07, ratio  # 1344 samples: the sample std is within 2 % (1 sigma) of the truth
    clean = simulate_observations(problem, nx=64, every=0.05, noise=0.0)
    assert np.array_equal(clean.u, exact)


def test_observations_round_trip_through_npz(tmp_path) -> None:
    obs = simulate_observations(heat_problem(), nx=16, every=0.25, noise=0.02, seed=3)
    path = save_observations(tmp_path / "obs.npz", obs)
    back = load_observations(path, heat_problem(), unknowns=1)
    assert np.array_equal(back.x, obs.x) and np.array_equal(back.s, obs.s) and np.array_equal(back.u, obs.u)
    assert (back.problem, back.noise, back.seed, dict(back.params)) == ("heat", 0.02, 3, {"kappa": 0.1})


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.linspace(0, 1, 4), "t": np.linspace(0, 1, 3)}, "lacks"),
    ({"x": np.linspace(0, 1, 4), "t": np.linspace(0, 1, 3), "u": np.zeros((4, 3))}, "shape"),
    ({"x": np.linspace(0, 1, 4), "t": np.array([0.0, 0.5, 0.4]), "u": np.zeros((3, 4))}, "increasing"),
    ({"x": np.linspace(0, 2, 4), "t": np.linspace(0, 1, 3), "u": np.zeros((3, 4))}, "leaves the domain"),
    ({"x": np.linspace(0, 1, 4), "t": np.linspace(0, 1, 3), "u": np.full((3, 4), np.inf)}, "infinite"),
])
def test_malformed_observations_are_rejected_with_a_reason(tmp_path, arrays, message) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(PinnError, match=message):
        load_observations(path, heat_problem())


def test_simulate_rejects_a_one_point_grid_and_bad_noise() -> None:
    with pytest.raises(PinnError):
        simulate_observations(heat_problem(), nx=1)
    with pytest.raises(PinnError):
        simulate_observations(heat_problem(), noise=float("nan"))


def test_identify_rejects_unknown_constants_and_missing_start() -> None:
    obs = simulate_observations(heat_problem(), nx=8, every=0.5, noise=0.0)
    with pytest.raises(PinnError, match="no constant"):
        identify_pde(heat_problem(), obs, PDEIdentifyConfig(unknowns=("nu",), guesses={"nu": 1.0}))
    with pytest.raises(PinnError, match="starting value"):
        identify_pde(heat_problem(), obs, PDEIdentifyConfig(unknowns=("kappa",)))


def test_heat_diffusivity_from_exact_data() -> None:
    problem = heat_problem()
    obs = simulate_observations(problem, nx=64, every=0.05, noise=0.0)
    result = identify_pde(problem, obs, PDEIdentifyConfig(unknowns=("kappa",), guesses={"kappa": 0.3},
                                                          least_squares=HEAT_FORWARD))
    assert abs(result.estimates[0] / 0.1 - 1) < 1e-6, result.estimates  # measured 3e-9 from a 3x wrong guess


def test_heat_diffusivity_from_noisy_data_has_a_consistent_standard_error() -> None:
    problem = heat_problem()
    obs = simulate_observations(problem, nx=64, every=0.05, noise=0.01, seed=3)
    result = identify_pde(problem, obs, PDEIdentifyConfig(unknowns=("kappa",), ranges={"kappa": (0.01, 1.0)},
                                                          least_squares=HEAT_FORWARD))
    err, se = abs(result.estimates[0] - 0.1), result.stderr[0]
    assert err < 3 * se, (err, se)  # measured 1.6 standard errors for this seed
    assert 5e-4 < se / 0.1 < 8e-4, se  # measured 6.25e-4
    assert abs(result.relative_noise / 0.01 - 1) < 0.05  # the noise level is recovered from the residuals


def test_identify_run_folder_records_estimates_and_fit(tmp_path) -> None:
    import json

    problem = heat_problem()
    obs = simulate_observations(problem, nx=16, every=0.25, noise=0.01, seed=1)
    cfg = PDEIdentifyConfig(unknowns=("kappa",), guesses={"kappa": 0.12}, least_squares=HEAT_FORWARD)
    result = identify_pde(problem, obs, cfg)
    files = write_identify_run(tmp_path / "run", problem, obs, cfg, result, "obs.npz")
    assert all(f.is_file() for f in files)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["estimates"]["kappa"] == pytest.approx(result.estimates[0], rel=1e-15)
    assert metrics["relative_error"]["kappa"] == pytest.approx(abs(result.estimates[0] / 0.1 - 1), rel=1e-12)
    with np.load(tmp_path / "run" / "fit.npz") as fit:
        assert np.allclose(fit["misfit"], result.fitted - obs.u)


@pytest.mark.slow
def test_burgers_viscosity_from_exact_data_within_1e_4() -> None:
    # reduced: t in [0, 0.5] (the front forms by t = 0.4), 64 x 11 data, a coarse forward model (misfit 4e-5)
    problem = burgers_problem(BurgersParams(t1=0.5))
    obs = simulate_observations(problem, nx=64, every=0.05, noise=0.0)
    forward = LeastSquaresConfig(block=0.1, edges=(-0.2, -0.05, -0.01, 0.0, 0.01, 0.05, 0.2), features=60,
                                 points_x=16, points_s=10, max_iter=4, adapt=False)
    result = identify_pde(problem, obs, PDEIdentifyConfig(unknowns=("nu",), guesses={"nu": 0.004},
                                                          least_squares=forward))
    assert abs(result.estimates[0] / problem.params["nu"] - 1) < 1e-4, result.estimates  # measured 1.1e-5


@pytest.mark.slow
def test_standard_errors_are_calibrated_over_noise_seeds() -> None:
    problem = heat_problem()
    z = []
    for seed in range(30):
        obs = simulate_observations(problem, nx=32, every=0.1, noise=0.01, seed=100 + seed)
        r = identify_pde(problem, obs, PDEIdentifyConfig(unknowns=("kappa",), guesses={"kappa": 0.12},
                                                         least_squares=HEAT_FORWARD))
        z.append((r.estimates[0] - 0.1) / r.stderr[0])
    z = np.array(z)
    coverage = np.mean(np.abs(z) < 2)
    assert coverage >= 0.8, z  # 95 % expected; 24 of 30 or fewer has probability 0.2 %
    assert 0.6 < np.std(z) < 1.4, z  # unit spread: the standard error is neither too small nor too large
