"""Reference solvers and closed forms against each other and against theory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinn.reference import dop853, rk4
from problems.lorenz import LORENZ
from problems.van_der_pol import VAN_DER_POL
from problems.oscillator import (
    OscillatorParams,
    cosine_drive,
    homogeneous,
    oscillator_exact,
    oscillator_problem,
    steady_state_amplitude,
)


def test_lorenz_rhs_matches_the_equations_term_by_term() -> None:
    # sigma (y - x), x (rho - z) - y, x y - beta z at random states and constants, where no term vanishes
    # (the notes' code has sigma (x - y)); a sign or a constant swapped in any term fails
    rng = np.random.default_rng(7)
    u = rng.uniform(-20, 20, size=(50, 3))
    p = {"sigma": 9.3, "rho": 27.1, "beta": 2.4}
    x, y, z = u.T
    f = LORENZ.parametric_rhs(torch.zeros(50, 1), torch.tensor(u), p).numpy()
    expected = np.stack((p["sigma"] * (y - x), x * (p["rho"] - z) - y, x * y - p["beta"] * z), axis=1)
    assert np.allclose(f, expected, rtol=1e-15, atol=1e-12)
    at_defaults = LORENZ.problem().rhs(torch.zeros(1, 1), torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64))
    assert at_defaults[0].tolist() == pytest.approx([10.0, 28.0 - 3.0 - 2.0, 2.0 - 8.0])


def test_van_der_pol_limit_cycle_has_the_known_period_and_amplitude() -> None:
    # mu = 1: period 6.6632868593 and max |x| 2.0086198 on the limit cycle (Hairer, Norsett & Wanner, Solving
    # ODEs I, Sec. I.16; Grasman 1987); the cycle attracts within ~20 time units from (2, 0)
    problem = VAN_DER_POL.problem({"mu": 1.0}, t1=60.0)
    t = np.linspace(0.0, 60.0, 60001)
    x = dop853(problem.rhs, np.array(problem.u0), t)[:, 0]
    late = t > 30.0
    up = np.nonzero(late[1:] & (x[:-1] < 0) & (x[1:] >= 0))[0]
    crossings = t[up] - x[up] * (t[up + 1] - t[up]) / (x[up + 1] - x[up])  # linear interpolation
    assert np.diff(crossings).mean() == pytest.approx(6.6632868593, abs=1e-6)  # measured error 5e-9
    assert np.abs(x[late]).max() == pytest.approx(2.0086198, abs=1e-6)  # measured error 6e-8 (grid step 1e-3)


def test_rk4_is_fourth_order() -> None:
    problem = oscillator_problem(t1=4.0)
    errors = []
    for k in (4, 5, 6, 7):
        t = np.linspace(0.0, 4.0, 4 * 2 ** k + 1)
        u = rk4(problem.rhs, torch.tensor(problem.u0), t).numpy()
        errors.append(np.abs(u[-1] - problem.reference(t[-1:])[0]).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 14) & (ratios < 18)), ratios
    slope = np.polyfit(np.log([2.0 ** -k for k in (4, 5, 6, 7)]), np.log(errors), 1)[0]
    assert 3.8 < slope < 4.2


def test_rk4_many_initial_states_agree_with_dop853() -> None:
    rng = np.random.default_rng(0)
    u0 = rng.uniform(-15, 15, size=(5, 3))
    t = np.linspace(0.0, 1.0, 1001)
    rhs = LORENZ.problem().rhs
    batch = rk4(rhs, torch.tensor(u0), t).numpy()
    assert batch.shape == (5, 1001, 3)
    for j in range(5):
        ref = dop853(rhs, u0[j], t)
        assert np.abs(batch[j] - ref).max() / np.abs(ref).max() < 1e-6  # measured 5e-8 with dt = 1e-3


@pytest.mark.parametrize("gamma", [0.2, 1.0, 2.5])  # under-, critically and over-damped
def test_oscillator_closed_form_matches_dop853(gamma: float) -> None:
    params = OscillatorParams(gamma=gamma, drive=cosine_drive(1.0, 0.5))
    problem = oscillator_problem(params, 1.0, 0.0, 0.0, 20.0)
    t = np.linspace(0.0, 20.0, 2001)
    exact = oscillator_exact(params, 1.0, 0.0, t)
    ref = dop853(problem.rhs, np.array(problem.u0), t)
    assert np.abs(exact - ref).max() < 1e-9  # measured 1.6e-12 at gamma = 0.2


def test_exact_oscillator_solution_has_zero_residual() -> None:
    params = OscillatorParams()
    t = np.linspace(0.5, 19.5, 200)
    h = 1e-4
    u = oscillator_exact(params, 1.0, 0.0, t)
    # fourth-order central difference of the exact solution against f(t, u)
    du = (-oscillator_exact(params, 1.0, 0.0, t + 2 * h) + 8 * oscillator_exact(params, 1.0, 0.0, t + h)
          - 8 * oscillator_exact(params, 1.0, 0.0, t - h) + oscillator_exact(params, 1.0, 0.0, t - 2 * h)) / (12 * h)
    problem = oscillator_problem(params)
    f = problem.rhs(torch.tensor(t).reshape(-1, 1), torch.tensor(u)).numpy()
    assert np.abs(du - f).max() < 1e-9


def test_steady_state_amplitude_has_the_squared_term() -> None:
    # 1 / sqrt((w0^2 - w^2)^2 + (2 gamma w)^2): at resonance w = w0 = 1 it is 1 / (2 gamma)
    assert steady_state_amplitude(0.2, 1.0, 1.0) == pytest.approx(2.5)
    assert steady_state_amplitude(0.2, 1.0, 0.5) == pytest.approx(1.0 / np.sqrt(0.75 ** 2 + 0.2 ** 2))


def test_homogeneous_solution_meets_its_initial_conditions() -> None:
    for gamma in (0.1, 1.0, 3.0):
        x, v = homogeneous(gamma, 1.0, 0.7, -0.3, np.array([0.0]))
        assert x[0] == pytest.approx(0.7, abs=1e-15)
        assert v[0] == pytest.approx(-0.3, abs=1e-15)


def test_lorenz_problem_rejects_a_wrong_initial_state() -> None:
    from pinn.errors import PinnError

    with pytest.raises(PinnError, match="needs 3 values"):
        LORENZ.problem(u0=(1.0, 2.0))
    with pytest.raises(PinnError, match="greater than"):
        LORENZ.problem(t1=-1.0)


def test_reference_integrators_stop_early_when_the_solution_blows_up() -> None:
    # u' = u^2, u(0) = 1 blows up at t = 1; both references must stop with one clear error, not grind on
    from pinn.errors import PinnError
    from pinn.taylor import taylor_solve

    def explosive(t, u):
        return u * u

    t = np.linspace(0.0, 2.0, 11)
    with pytest.raises(PinnError, match="blows up"):
        dop853(explosive, np.array([1.0]), t)
    with pytest.raises(PinnError, match="blows up"):
        taylor_solve(explosive, np.array([1.0]), t)


def test_dop853_stops_after_its_evaluation_budget() -> None:
    from pinn.errors import PinnError

    with pytest.raises(PinnError, match="evaluations"):
        dop853(lambda t, u: -1e6 * (u - torch.cos(t)), np.array([0.0]), np.linspace(0, 10, 3), max_evaluations=2000)
