"""Parameter identification: observations, the joint least-squares machinery, and recovery of constants."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pinn.errors import PinnError
from pinn.inverse.config import GradientFitConfig, JointFitConfig
from pinn.inverse.fit import fit_joint
from pinn.inverse.gauss_newton import JointResidual, data_rows, parameter_jacobian, predicted_cost, solve_step
from pinn.inverse.gradient import fit_gradient
from pinn.inverse.observations import check_observations, load_observations, make_observations
from pinn.inverse.trajectory import WindowedTrajectory
from pinn.reference import dop853, reference_solution
from pinn.runs import write_csv
from pinn.solve_config import MarchingConfig
from problems.lorenz import LORENZ
from problems.oscillator import OSCILLATOR

TRUE_LORENZ = {"sigma": 10.0, "rho": 15.0, "beta": 8.0 / 3.0}
UNKNOWN_LORENZ = ("sigma", "rho", "beta")


@pytest.fixture(autouse=True)
def seeded() -> None:
    np.random.seed(0)
    torch.manual_seed(0)


def lorenz_data(t1: float, observe=("x", "y", "z"), noise: float = 0.0, seed: int = 1):
    problem = LORENZ.problem(TRUE_LORENZ, t1=t1)
    header, table = make_observations(problem, 0.05, observe, noise, seed)
    return problem, check_observations(header, table, problem.components, "test")


def relative_error(estimate: np.ndarray, names=UNKNOWN_LORENZ, truth=TRUE_LORENZ) -> np.ndarray:
    values = np.array([truth[n] for n in names])
    return np.abs(estimate - values) / np.abs(values)


# --- observations -------------------------------------------------------------------------------------------

def test_make_observations_samples_the_reference_on_the_grid() -> None:
    problem = LORENZ.problem(TRUE_LORENZ, t1=1.0)
    header, table = make_observations(problem, 0.05, ["x", "z"], 0.0, 0)
    assert header == ["t", "x", "z"] and table.shape == (21, 3)
    assert np.allclose(table[:, 0], 0.05 * np.arange(21)) and table[-1, 0] == pytest.approx(1.0)
    assert np.array_equal(table[:, 1:], reference_solution(problem, table[:, 0])[:, [0, 2]])


def test_make_observations_noise_is_relative_to_each_component_rms() -> None:
    problem = OSCILLATOR.problem(t1=200.0)
    _, clean = make_observations(problem, 0.01, ["x", "v"], 0.0, 3)
    _, noisy = make_observations(problem, 0.01, ["x", "v"], 0.02, 3)
    rms = np.sqrt(np.mean(clean[:, 1:] ** 2, axis=0))
    spread = (noisy[:, 1:] - clean[:, 1:]).std(axis=0) / rms
    assert np.allclose(spread, 0.02, rtol=0.03)  # 20001 samples: the spread is within ~1 % of 0.02


def test_load_observations_allows_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text("t,x,z\n0,1,\n0.5,2,3\n1.0,,4\n")
    obs = load_observations(path, ("x", "y", "z"), unknowns=4)
    assert obs.names == ("x", "z") and obs.index == (0, 2) and obs.count == 4
    assert np.isnan(obs.values[0, 1]) and np.isnan(obs.values[2, 0])


@pytest.mark.parametrize("text, unknowns, message", [
    ("x,y\n1,2\n", 0, "no 't' column"),
    ("t,x\n0,1\n0.2,2\n0.1,3\n", 0, "not sorted"),
    ("t,x\n0,1\n0.1,2\n0.1,3\n", 0, "appears twice"),
    ("t,x,w\n0,1,2\n", 0, "'w' is not a component"),
    ("t,x,y\n0,1,\n0.1,2,\n", 0, "'y' has no values"),
    ("t,x\n0,1\n0.1,2\n", 6, "2 observed values but 6"),
    ("t,x\n0,abc\n", 0, "'abc' is not a number"),
])
def test_load_observations_rejects_bad_files(tmp_path: Path, text: str, unknowns: int, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(PinnError, match=message):
        load_observations(path, ("x", "y", "z"), unknowns=unknowns)


# --- the model and the least-squares machinery ---------------------------------------------------------------

def test_parameter_jacobian_of_lorenz_is_the_closed_form() -> None:
    u = torch.randn(7, 3, dtype=torch.float64)
    t = torch.zeros(7, 1, dtype=torch.float64)
    theta = torch.tensor([10.0, 15.0, 8.0 / 3.0], dtype=torch.float64)
    P = parameter_jacobian(lambda th: LORENZ.parametric_rhs(t, u, LORENZ.constants(UNKNOWN_LORENZ, th)), theta)
    x, y, z = u.T
    zero = torch.zeros_like(x)
    expected = torch.stack([torch.stack([y - x, zero, zero], 1), torch.stack([zero, x, zero], 1),
                            torch.stack([zero, zero, -z], 1)], dim=2)
    assert torch.allclose(P, expected, atol=1e-14)


@pytest.fixture
def small_problem() -> JointResidual:
    """Three short windows, two of three components observed, two unknowns: small enough for dense algebra."""
    _, obs = lorenz_data(1.0, observe=("x", "z"))
    traj = WindowedTrajectory(MarchingConfig(window=0.35, features=6, points=7), 0.0, 1.0, 3)
    scale = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    return JointResidual(traj, LORENZ, ("sigma", "beta"), {"rho": 15.0}, data_rows(traj, obs), scale,
                         0.5 * scale, 3.0)


def test_window_linearisation_matches_autograd_jacobian(small_problem: JointResidual) -> None:
    fun = small_problem
    x = torch.randn(fun.size, dtype=torch.float64)
    step = 1e-3 * torch.randn(fun.size, dtype=torch.float64)
    J = torch.func.jacfwd(fun.residual)(x)
    ends = torch.stack([b.end for b in fun.traj.bases])
    dense = float(((J @ step + fun.residual(x)) ** 2).sum())
    assert predicted_cost(fun.linearize(x), step, ends) == pytest.approx(dense, rel=1e-12)


def test_riccati_step_equals_dense_damped_least_squares(small_problem: JointResidual) -> None:
    fun = small_problem
    x = torch.randn(fun.size, dtype=torch.float64)
    blocks = fun.linearize(x)
    ends = torch.stack([b.end for b in fun.traj.bases])
    lam = 1e-2
    step, info = solve_step(blocks, ends, lam)
    J, r = torch.func.jacfwd(fun.residual)(x), fun.residual(x)
    theta_start = torch.cat([torch.sqrt(sum((b.theta ** 2).sum(0) for b in blocks)),
                             torch.sqrt(sum((b.start ** 2).sum(0) for b in blocks))])
    scales = torch.cat([theta_start] + [b.coef.norm(dim=0) for b in blocks])
    A = torch.cat([J, lam ** 0.5 * torch.diag(scales)])
    dense = torch.linalg.lstsq(A, torch.cat([-r, torch.zeros(fun.size, dtype=r.dtype)])[:, None],
                               driver="gelsd").solution[:, 0]
    assert torch.allclose(step, dense, atol=1e-9 * float(dense.abs().max()))
    H = A.T @ A  # the information of (theta, a_0) with every coefficient eliminated: a Schur complement
    n = fun.p + 3
    schur = H[:n, :n] - H[:n, n:] @ torch.linalg.solve(H[n:, n:], H[n:, :n]) - lam * torch.diag(scales[:n] ** 2)
    assert torch.allclose(info, schur, atol=1e-9 * float(schur.abs().max()))


# --- recovery ------------------------------------------------------------------------------------------------

def test_noise_free_lorenz_recovers_constants_on_short_horizon() -> None:
    _, obs = lorenz_data(1.5)
    fit = fit_joint(LORENZ, obs, UNKNOWN_LORENZ, {}, {})
    # measured 5e-12 relative (u0: 2e-11); 1e-9 leaves a margin of 50
    assert relative_error(fit.theta).max() < 1e-9
    assert np.allclose(fit.u0, LORENZ.u0, rtol=1e-9)


def test_standard_errors_shrink_with_the_noise_and_cover_the_truth() -> None:
    fits = {noise: fit_joint(LORENZ, lorenz_data(1.5, noise=noise, seed=4)[1], UNKNOWN_LORENZ, {}, {})
            for noise in (1e-2, 1e-3)}
    ratio = fits[1e-2].stderr / fits[1e-3].stderr
    assert np.all((ratio > 9) & (ratio < 11))  # standard errors scale with the noise (measured 10.00-10.02)
    for fit in fits.values():
        truth = np.array([TRUE_LORENZ[n] for n in UNKNOWN_LORENZ])
        assert np.all(np.abs(fit.theta - truth) < 3 * fit.stderr)
        observed = np.array([0.01 if fit is fits[1e-2] else 0.001])
        rms = np.sqrt(np.mean(lorenz_data(1.5)[1].values ** 2, axis=0))
        assert np.allclose(fit.noise / rms, observed, rtol=0.15)  # noise from the residuals (measured 0-8 % off)


def test_standard_errors_equal_classical_sensitivities_of_the_ode_solution() -> None:
    problem, obs = lorenz_data(1.5, noise=0.01, seed=2)
    fit = fit_joint(LORENZ, obs, UNKNOWN_LORENZ, {}, {})
    # independent check: d u(t_i) / d(theta, u0) by central differences of DOP853 solutions
    base = np.concatenate([fit.theta, fit.u0])

    def solution(v: np.ndarray) -> np.ndarray:
        p = LORENZ.problem(dict(zip(UNKNOWN_LORENZ, v[:3])), u0=v[3:], t1=1.5)
        return dop853(p.rhs, v[3:], obs.t, rtol=1e-12, atol=1e-12)

    S = np.stack([(solution(base + h) - solution(base - h)) / (2 * 1e-5)
                  for h in 1e-5 * np.eye(6)], axis=2)  # (n, 3, 6)
    rows = (S / fit.noise[None, :, None]).reshape(-1, 6)
    classical = np.sqrt(np.diag(np.linalg.inv(rows.T @ rows)))
    # measured agreement 7e-10 relative (finite differences limit it); 1e-6 leaves a margin
    assert np.allclose(np.concatenate([fit.stderr, fit.u0_stderr]), classical, rtol=1e-6)


def test_missing_values_and_a_late_start_are_fitted() -> None:
    _, obs = lorenz_data(2.0)
    values = obs.values.copy()
    values[np.random.default_rng(5).random(values.shape) < 0.3] = np.nan  # 30 % of the cells missing
    late = obs.t >= 0.5
    header = ["t", *obs.names]
    fit = fit_joint(LORENZ, check_observations(header, np.column_stack([obs.t[late], values[late]]),
                                               ("x", "y", "z"), "test"), UNKNOWN_LORENZ, {}, {})
    assert relative_error(fit.theta).max() < 1e-10  # measured 2e-13
    state = reference_solution(LORENZ.problem(TRUE_LORENZ, t1=2.0), np.array([0.0, 0.5]))[1]
    assert np.allclose(fit.u0, state, rtol=1e-10)  # the state at the first observation time, t = 0.5


def test_lorenz_constants_from_x_alone() -> None:
    _, obs = lorenz_data(2.0, observe=("x",))
    fit = fit_joint(LORENZ, obs, UNKNOWN_LORENZ, {}, {})
    assert relative_error(fit.theta).max() < 1e-8  # measured 3e-11
    assert np.allclose(fit.u0, LORENZ.u0, rtol=1e-8)  # y(0), z(0) were never observed


@pytest.mark.slow
def test_oscillator_frequency_found_by_grid_from_x_alone() -> None:
    truth = {"gamma": 0.2, "omega0": 1.0, "omega": 1.3, "amplitude": 1.0}
    problem = OSCILLATOR.problem(truth, t1=20.0)
    header, table = make_observations(problem, 0.1, ["x"], 0.01, 1)
    obs = check_observations(header, table, problem.components, "test")
    names = ("gamma", "omega", "amplitude")
    fit = fit_joint(OSCILLATOR, obs, names, {"omega0": 1.0}, {}, JointFitConfig(max_iter=60))
    assert fit.grid_start is not None and abs(fit.grid_start["omega"] - 1.3) < 0.2
    assert relative_error(fit.theta, names, truth)[0] < 0.02  # gamma within 2 % (measured 0.26 %)


def test_gradient_training_moves_the_constant_toward_the_truth() -> None:
    truth = dict(OSCILLATOR.values)
    problem = OSCILLATOR.problem(truth, t1=6.0)
    header, table = make_observations(problem, 0.1, ["x", "v"], 0.0, 0)
    obs = check_observations(header, table, problem.components, "test")
    known = {k: v for k, v in truth.items() if k != "gamma"}
    fit = fit_gradient(OSCILLATOR, obs, ("gamma",), known, {"gamma": 0.6},
                       GradientFitConfig(width=32, depth=2, epochs=300, lr=3e-3, points=128, log_every=50))
    assert abs(fit.theta[0] - 0.2) < 0.5 * abs(0.6 - 0.2)  # measured: 0.6 -> 0.33 in 300 epochs
    assert len(fit.history) == 6 and math.isfinite(fit.data_loss)


def test_saved_trajectory_csv_round_trip(tmp_path: Path) -> None:
    problem, obs = lorenz_data(1.0)
    header, table = make_observations(problem, 0.05, ["x", "y", "z"], 0.0, 1)
    write_csv(tmp_path / "obs.csv", header, table.T)
    again = load_observations(tmp_path / "obs.csv", problem.components, unknowns=6)
    assert np.array_equal(again.values, obs.values) and np.array_equal(again.t, obs.t)
