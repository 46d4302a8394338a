"""The PDE references: the Fourier / ETDRK4 solver, Cole-Hopf for Burgers and Fourier / ETDRK4 for Allen-Cahn,
each checked against a second, independent method with thresholds from measured runs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from pinn.errors import PinnError
from pinn.pde.spectral import FourierGrid, etdrk4, etdrk4_coefficients
from problems.allen_cahn_reference import (
    allen_cahn_dop853,
    allen_cahn_initial,
    allen_cahn_initial_series,
    allen_cahn_reference,
)
from problems.burgers_reference import NU, burgers_cole_hopf, burgers_fourier

# ---- the spectral machinery -------------------------------------------------------------------------------

def test_fourier_derivative_and_evaluation_are_exact_for_trigonometric_polynomials() -> None:
    grid = FourierGrid(32, -1.0, 2.0)
    u = np.sin(3 * np.pi * grid.x) + 0.25 * np.cos(7 * np.pi * grid.x)
    v = grid.transform(u)
    ux = grid.inverse(grid.derivative(v))
    assert np.abs(ux - (3 * np.pi * np.cos(3 * np.pi * grid.x) - 1.75 * np.pi * np.sin(7 * np.pi * grid.x))).max() < 1e-12
    x = np.linspace(-3.0, 3.0, 97)  # off the grid and outside one period
    assert np.abs(grid.evaluate(v, x) - (np.sin(3 * np.pi * x) + 0.25 * np.cos(7 * np.pi * x))).max() < 1e-13
    fine = grid.inverse(v, size=64)  # zero-padded: the same polynomial on a finer grid
    assert np.abs(fine[::2] - u).max() < 1e-14


def test_series_coefficients_map_to_grid_values() -> None:
    grid = FourierGrid(16, 0.3, 2.0)  # a start that makes the phase factors complex
    c = np.zeros(9, dtype=complex)
    c[0], c[2] = 0.5, 0.25 - 0.5j  # u = 0.5 + 2 Re((0.25 - 0.5j) e^{2 i pi x})
    u = 0.5 + 0.5 * np.cos(2 * np.pi * grid.x) + np.sin(2 * np.pi * grid.x)
    assert np.abs(grid.inverse(grid.from_series(c)) - u).max() < 1e-14


def test_contour_phi_functions_match_closed_forms() -> None:
    # for |hL| >= 1 the explicit formulas lose nothing, so they judge the contour means
    z = np.array([-30.0, -5.0, -1.0, 1.0, 2.0, -3.0 + 4.0j])
    e, e2, q, f1, f2, f3 = etdrk4_coefficients(z)
    assert np.allclose(e, np.exp(z), rtol=1e-15) and np.allclose(e2, np.exp(z / 2), rtol=1e-15)
    assert np.allclose(q, (np.exp(z / 2) - 1) / z, rtol=1e-13)
    assert np.allclose(f1, (-4 - z + np.exp(z) * (4 - 3 * z + z ** 2)) / z ** 3, rtol=1e-12)
    assert np.allclose(f2, (2 + z + np.exp(z) * (z - 2)) / z ** 3, rtol=1e-12)
    assert np.allclose(f3, (-4 - 3 * z - z ** 2 + np.exp(z) * (4 - z)) / z ** 3, rtol=1e-12)
    # at hL -> 0 the limits are Q/h = 1/2, f1 = f2 = f3 = 1/6 (Kassam & Trefethen 2005), where the formulas fail
    _, _, q0, g1, g2, g3 = etdrk4_coefficients(np.array([1e-10]))
    assert abs(q0[0] - 0.5) < 1e-9 and max(abs(g1[0] - 1 / 6), abs(g2[0] - 1 / 6), abs(g3[0] - 1 / 6)) < 1e-9


def test_etdrk4_is_fourth_order_on_stiff_bernoulli_equations() -> None:
    # v' = lam v + v^2 per component has 1/v = (1/v0 + 1/lam) e^{-lam t} - 1/lam
    lam = np.array([-1.0, -50.0, -200.0, -0.5 + 3.0j])
    v0 = np.array([0.5, 2.0, 1.0, 0.3 + 0.1j])
    exact = 1.0 / ((1 / v0 + 1 / lam) * np.exp(-lam * 1.0) - 1 / lam)
    steps = np.array([0.1, 0.05, 0.025, 0.0125])
    errors = [np.abs(etdrk4(lam, lambda v: v ** 2, v0, np.array([1.0]), h)[0] - exact).max() for h in steps]
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert 3.7 < slope < 4.5, (slope, errors)  # measured 4.0


def test_etdrk4_rejects_decreasing_times() -> None:
    with pytest.raises(PinnError):
        etdrk4(np.array([-1.0]), lambda v: v, np.array([1.0 + 0j]), np.array([0.5, 0.2]), 0.1)


# ---- Burgers: Cole-Hopf against adaptive quadrature and against a Fourier / ETDRK4 solve -------------------

def test_cole_hopf_quadrature_is_converged_in_its_step() -> None:
    x = np.linspace(-1, 1, 101)
    t = np.array([0.05, 0.3, 0.5, 1.0])
    assert np.abs(burgers_cole_hopf(x, t, step=0.2) - burgers_cole_hopf(x, t)).max() < 1e-14  # measured 1e-15


def test_cole_hopf_matches_adaptive_quadrature_at_the_front() -> None:
    def direct(x: float, t: float) -> float:
        a, reach = np.sqrt(4 * NU * t), 1 / (2 * np.pi * NU)
        z = np.linspace(-12, 12, 48001)
        peak = np.max(-z ** 2 - reach * np.cos(np.pi * (x - a * z)))
        def g(s: float, weight: int) -> float:
            y = x - a * s
            return np.sin(np.pi * y) ** weight * np.exp(-s * s - reach * np.cos(np.pi * y) - peak)
        kw = dict(epsabs=0.0, epsrel=1e-13, limit=400)
        return -integrate.quad(g, -12, 12, args=(1,), **kw)[0] / integrate.quad(g, -12, 12, args=(0,), **kw)[0]

    points = [(0.003, 0.5), (-0.01, 1.0), (0.2, 1.0), (0.9, 0.1)]
    ours = [burgers_cole_hopf(np.array([x]), np.array([t]))[0, 0] for x, t in points]
    assert max(abs(o - direct(x, t)) for o, (x, t) in zip(ours, points)) < 1e-14  # measured 8e-16


def test_cole_hopf_meets_initial_and_boundary_conditions() -> None:
    x = np.linspace(-1, 1, 201)
    u = burgers_cole_hopf(x, np.array([0.0, 0.4, 1.0]))
    assert u.shape == (3, 201)
    assert np.abs(u[0] + np.sin(np.pi * x)).max() < 1e-15
    assert np.abs(u[:, [0, -1]]).max() < 1e-14
    assert np.abs(u + u[:, ::-1]).max() < 1e-14  # odd in x


def test_cole_hopf_agrees_with_fourier_etdrk4() -> None:
    x = np.linspace(-1, 1, 256)
    t = np.array([0.25, 0.5])
    diff = np.abs(burgers_cole_hopf(x, t) - burgers_fourier(x, t, points=2048, max_step=1e-4)).max()
    assert diff < 5e-12, diff  # measured 1.5e-12 (2e-13 with step 5e-5); 1024 points leave 1e-7


def test_burgers_reference_rejects_bad_viscosity() -> None:
    with pytest.raises(PinnError):
        burgers_cole_hopf(np.zeros(3), np.ones(2), nu=-1.0)


# ---- Allen-Cahn: ETDRK4 against DOP853 on the same semi-discretisation, and convergence in modes -----------

def test_allen_cahn_initial_series_is_exact() -> None:
    c = allen_cahn_initial_series(6)
    for m in range(7):
        direct = 0.5 * integrate.quad(lambda x: allen_cahn_initial(x) * np.cos(np.pi * m * x), -1, 1,
                                      epsabs=0.0, epsrel=1e-12, limit=200)[0]
        assert abs(c[m] - direct) < 1e-14


def test_allen_cahn_etdrk4_agrees_with_dop853() -> None:
    x = np.linspace(-1, 1, 128)
    t = np.linspace(0.1, 1.0, 10)
    diff = np.abs(allen_cahn_reference(x, t, points=256, max_step=1e-3) - allen_cahn_dop853(x, t, points=256)).max()
    assert diff < 3e-11, diff  # measured 9.2e-12 (ETDRK4 step error; step 2e-3 gives 1.4e-10)


def test_allen_cahn_converges_in_modes() -> None:
    x = np.linspace(-1, 1, 201)
    t = np.array([0.02, 0.1, 0.25])
    u1, u2, u4 = (allen_cahn_reference(x, t, points=n, max_step=1e-3) for n in (1024, 2048, 4096))
    coarse, fine = np.abs(u1 - u2).max(), np.abs(u2 - u4).max()
    assert fine < 1e-10 and coarse / fine > 1e3, (coarse, fine)  # measured 2.9e-7 and 3.0e-11


def test_allen_cahn_reference_starts_at_u0_and_is_periodic() -> None:
    x = np.array([-1.0, -0.3, 0.0, 0.6, 1.0])
    u = allen_cahn_reference(x, np.array([0.0, 0.5]), points=512, max_step=1e-3)
    assert np.array_equal(u[0], allen_cahn_initial(x))
    assert abs(u[1, 0] - u[1, -1]) < 1e-14
