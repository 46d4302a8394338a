"""The PDE problem description and the benchmark problems: residuals vanish on exact solutions, fields and
linearity are detected, bad input raises PinnError."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn.errors import PinnError
from pinn.pde import (
    Derivatives,
    Dirichlet,
    Field,
    Interval,
    LeastSquaresConfig,
    Neumann,
    PDEProblem,
    PDESolveConfig,
    Periodic,
    Rectangle,
    derivatives_by_autograd,
    solve_pde,
)
from problems.advection import advection_problem
from problems.allen_cahn import AllenCahnParams, allen_cahn_problem, allen_cahn_residual
from problems.burgers import BurgersParams, burgers_problem, burgers_residual
from problems.heat import HeatParams, heat_problem
from problems.helmholtz2d import helmholtz2d_problem
from problems.poisson2d import poisson2d_problem
from problems.wave import WaveParams, wave_problem

EXACT = {"heat": heat_problem, "advection": advection_problem, "wave": wave_problem,
         "poisson2d": poisson2d_problem, "helmholtz2d": helmholtz2d_problem}


def _points(problem: PDEProblem, n: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    a, s = problem.x_interval, problem.second_interval
    return (a.a + a.length * torch.rand(n, generator=gen, dtype=torch.float64),
            s.a + s.length * torch.rand(n, generator=gen, dtype=torch.float64))


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_solution_zeroes_the_residual(name: str) -> None:
    problem = EXACT[name]()
    x, s = _points(problem)
    d = derivatives_by_autograd(problem.exact, x, s, steady=problem.steady)
    r = problem.evaluate_residual(d)
    scale = max(float(torch.abs(f).max()) for f in (d.u, d.u_xx) if f is not None)
    assert float(r.abs().max()) < 1e-12 * max(1.0, scale) * 1e2  # round-off of terms up to ~1e3


def test_burgers_residual_vanishes_on_the_viscous_shock() -> None:
    # u = c - A tanh(A (x - c t) / (2 nu)) solves u_t + u u_x = nu u_xx exactly (travelling viscous shock)
    nu, c, amp = 0.01 / math.pi, 0.3, 0.8
    problem = burgers_problem(BurgersParams(nu=nu))
    x, t = _points(problem)
    d = derivatives_by_autograd(lambda x, t: c - amp * torch.tanh(amp * (x - c * t) / (2 * nu)), x, t)
    assert float(burgers_residual(d, problem.params).abs().max()) < 1e-9  # terms reach |u_xx| ~ 1e4


def test_allen_cahn_residual_vanishes_on_the_stationary_front() -> None:
    # u = tanh(k x), k^2 = 5 / (2 eps), is a steady solution of u_t = eps u_xx + 5 (u - u^3)
    eps = 1e-4
    problem = allen_cahn_problem(AllenCahnParams(eps=eps))
    x, t = _points(problem)
    k = math.sqrt(5.0 / (2.0 * eps))
    d = derivatives_by_autograd(lambda x, t: torch.tanh(k * x) + 0.0 * t, x, t)
    assert float(allen_cahn_residual(d, problem.params).abs().max()) < 1e-10


def test_used_fields_and_linearity_are_detected() -> None:
    assert burgers_problem().used_fields() == (Field.u, Field.u_t, Field.u_x, Field.u_xx)
    assert not burgers_problem().is_linear()
    assert heat_problem().is_linear() and wave_problem().is_linear() and poisson2d_problem().is_linear()
    assert wave_problem().time_order == 2 and heat_problem().time_order == 1 and poisson2d_problem().time_order == 0
    assert not allen_cahn_problem().is_linear()


def test_advection_exact_solution_is_periodic_to_round_off() -> None:
    problem = advection_problem()
    t = torch.linspace(0, 1, 50, dtype=torch.float64)
    left = problem.exact(torch.zeros_like(t), t)
    right = problem.exact(torch.full_like(t, 2 * math.pi), t)
    assert float((left - right).abs().max()) < 1e-12


@pytest.mark.parametrize("make", [
    lambda: BurgersParams(nu=-0.1), lambda: BurgersParams(nu=float("nan")), lambda: HeatParams(kappa=0.0),
    lambda: WaveParams(c=-1.0), lambda: AllenCahnParams(eps=-1e-4), lambda: Interval(1.0, 0.0),
    lambda: Interval(0.0, 0.0), lambda: Interval(0.0, float("inf")),
])
def test_bad_parameters_raise(make) -> None:
    with pytest.raises(PinnError):
        make()


def _heat_like(**changes) -> PDEProblem:
    spec = dict(name="h", domain=Interval(0, 1), residual=lambda d, p: d.u_t - d.u_xx,
                boundary=(Dirichlet("left"), Dirichlet("right")), time=Interval(0, 1), initial=torch.sin)
    spec.update(changes)
    return PDEProblem(**spec)


@pytest.mark.parametrize("changes, message", [
    (dict(params={"nu": float("nan")}), "not a finite"),
    (dict(boundary=(Dirichlet("left"),)), "missing"),
    (dict(boundary=(Dirichlet("left"), Dirichlet("right"), Neumann("right"))), "given twice"),
    (dict(boundary=(Dirichlet("left"), Dirichlet("top"))), "does not exist"),
    (dict(time=None), "time interval"),
    (dict(initial=None), "initial state"),
])
def test_bad_problem_descriptions_raise(changes: dict, message: str) -> None:
    with pytest.raises(PinnError, match=message):
        _heat_like(**changes)


def test_second_order_residual_needs_an_initial_velocity() -> None:
    with pytest.raises(PinnError, match="initial_velocity"):
        _heat_like(residual=lambda d, p: d.u_tt - d.u_xx).used_fields()


def test_residual_of_the_wrong_shape_is_rejected() -> None:
    problem = _heat_like(residual=lambda d, p: (d.u_t - d.u_xx).sum())
    with pytest.raises(PinnError, match="one value per point"):
        problem.used_fields()


@pytest.mark.parametrize("settings, message", [
    (dict(grid=(1, 101)), "at least 2"),
    (dict(least_squares=dict(points_x=1)), "at least 2"),
    (dict(least_squares=dict(block=float("nan"))), "block"),
    (dict(least_squares=dict(scale=float("nan"))), "scale"),
    (dict(least_squares=dict(features=0)), "features"),
])
def test_bad_solver_settings_raise_when_the_config_is_built(settings: dict, message: str) -> None:
    with pytest.raises(PinnError, match=message):
        inner = settings.get("least_squares")
        cfg = PDESolveConfig(**{**settings, **({"least_squares": LeastSquaresConfig(**inner)} if inner else {})})
        solve_pde(heat_problem(HeatParams(t1=0.1)), cfg)


def test_steady_problem_checks() -> None:
    square = Rectangle(Interval(0, 1), Interval(0, 1))
    with pytest.raises(PinnError, match="steady"):
        PDEProblem("p", square, lambda d, p: d.u_xx + d.u_yy, (Periodic("x"), Periodic("y")), time=Interval(0, 1))
    problem = PDEProblem("p", square, lambda d, p: d.u_xx + d.u_yy, (Periodic("x"), Periodic("y")))
    assert problem.steady and problem.used_fields() == (Field.u_xx, Field.u_yy)


def test_exact_on_grid_rows_are_times() -> None:
    problem = heat_problem()
    x, t = np.linspace(0, 1, 7), np.linspace(0, 1, 3)
    u = problem.exact_on_grid(x, t)
    assert u.shape == (3, 7)
    np.testing.assert_allclose(u[0], np.sin(np.pi * x) + 0.5 * np.sin(3 * np.pi * x), atol=1e-15)


def test_derivatives_object_fields() -> None:
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    d = derivatives_by_autograd(lambda x, y: x ** 3 * y ** 2, x, x, steady=True)
    assert isinstance(d, Derivatives) and d.t is None and d.u_t is None
    torch.testing.assert_close(d.u_xy, 6 * x ** 2 * x)
    torch.testing.assert_close(d.u_xx, 6 * x * x ** 2)
