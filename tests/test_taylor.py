"""The Taylor-series reference integrator: Taylor arithmetic, accuracy against closed forms and against
itself in extended precision, and the choice of reference for a problem."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn.errors import PinnError
from pinn.problem import ODEProblem
from pinn.reference import dop853, reference_method, reference_solution
from pinn.taylor import Jet, TaylorUnsupported, taylor_solve
from problems.lorenz import LORENZ


def series(*coefficients: float) -> Jet:
    return Jet(np.array(coefficients, dtype=float).reshape(-1, 1))


def test_jet_products_and_quotients_match_known_series() -> None:
    k = np.arange(8)
    exp_s = Jet((1.0 / np.array([math.factorial(i) for i in k])).reshape(-1, 1))
    square = exp_s * exp_s  # exp(2 s): 2^k / k!
    assert np.allclose(square.c[:, 0], 2.0 ** k / [math.factorial(i) for i in k], rtol=1e-15)
    geometric = 1.0 / series(1, -1, 0, 0, 0, 0, 0, 0)  # 1 / (1 - s) = sum s^k
    assert np.allclose(geometric.c[:, 0], 1.0)


def test_elementary_functions_of_a_series_match_their_taylor_expansions() -> None:
    s = series(0.3, 1, 0, 0, 0, 0, 0, 0)  # 0.3 + s
    k = np.arange(8)
    fact = np.array([math.factorial(i) for i in k], dtype=float)
    assert np.allclose(torch.exp(s).c[:, 0], np.exp(0.3) / fact, rtol=1e-14)
    sin_derivs = np.sin(0.3 + k * np.pi / 2)
    assert np.allclose(torch.sin(s).c[:, 0], sin_derivs / fact, atol=1e-15)
    assert np.allclose(torch.cos(s).c[:, 0], np.cos(0.3 + k * np.pi / 2) / fact, atol=1e-15)


def test_taylor_solves_a_driven_linear_oscillator_to_round_off() -> None:
    # x'' + x = cos(2 t), x(0) = 1, x'(0) = 0: x = (4/3) cos t - (1/3) cos 2t
    def rhs(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return torch.stack((u[:, 1], torch.cos(2.0 * t[:, 0]) - u[:, 0]), dim=1)

    t = np.linspace(0.0, 20.0, 401)
    u = taylor_solve(rhs, np.array([1.0, 0.0]), t)
    exact = np.stack((4 / 3 * np.cos(t) - np.cos(2 * t) / 3, -4 / 3 * np.sin(t) + 2 / 3 * np.sin(2 * t)), axis=1)
    assert np.max(np.abs(u - exact)) < 1e-13  # measured 3e-15


@pytest.mark.slow
def test_lorenz_taylor_agrees_with_its_extended_precision_run() -> None:
    p = LORENZ.problem()
    t = np.linspace(0.0, 2.0, 5)
    float64 = taylor_solve(p.rhs, np.array(p.u0), t)
    extended = taylor_solve(p.rhs, np.array(p.u0), t, order=30, tol=1e-26, digits=28)
    assert np.max(np.abs(float64 - extended)) / np.max(np.abs(extended)) < 1e-13  # measured 5.9e-15


def test_dop853_at_tightest_tolerance_is_less_accurate_than_taylor_on_lorenz() -> None:
    p = LORENZ.problem()
    t = np.linspace(0.0, 8.0, 801)
    taylor = taylor_solve(p.rhs, np.array(p.u0), t)
    dop = dop853(p.rhs, np.array(p.u0), t)
    gap = np.linalg.norm(dop - taylor) / np.linalg.norm(taylor)
    assert 1e-13 < gap < 1e-9  # measured 2.7e-11: DOP853 is the less accurate of the two


def test_reference_choice_prefers_exact_then_taylor_then_dop853() -> None:
    lorenz = LORENZ.problem(t1=1.0)
    assert reference_method(lorenz) == "taylor"

    def unsupported(t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return -torch.tanh(u)

    other = ODEProblem("tanh", unsupported, (1.0,), 0.0, 1.0, ("x",))
    assert reference_method(other) == "dop853"
    t = np.linspace(0.0, 1.0, 11)
    assert np.allclose(reference_solution(other, t), dop853(unsupported, np.array([1.0]), t), atol=1e-14)
    with_exact = ODEProblem("decay", lambda t, u: -u, (1.0,), 0.0, 1.0, ("x",),
                            reference=lambda t: np.exp(-t)[:, None])
    assert reference_method(with_exact) == "exact"


def test_unsupported_operations_and_bad_times_raise_clear_errors() -> None:
    with pytest.raises(TaylorUnsupported, match="tanh"):
        taylor_solve(lambda t, u: torch.tanh(u), np.array([1.0]), np.linspace(0, 1, 3))
    with pytest.raises(PinnError, match="increasing"):
        taylor_solve(lambda t, u: -u, np.array([1.0]), np.array([1.0, 0.0]))


def test_reference_at_times_not_starting_at_t0_starts_from_the_initial_state() -> None:
    p = LORENZ.problem(t1=2.0)
    full = reference_solution(p, np.linspace(0.0, 2.0, 21))
    later = reference_solution(p, np.linspace(1.0, 2.0, 11))
    assert np.allclose(later, full[10:], rtol=0, atol=1e-12)
