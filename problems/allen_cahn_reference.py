"""Reference solution of Allen-Cahn u_t = eps u_xx + 5 u - 5 u^3, eps = 1e-4, x in [-1, 1] periodic,
u0 = x^2 cos(pi x), t in [0, 1] (the benchmark of Raissi et al. 2019 and Wang et al. 2023).

Method (:func:`allen_cahn_reference`): Fourier pseudo-spectral in x with ETDRK4 in t (Kassam & Trefethen,
SIAM J. Sci. Comput. 26, 1214-1233, 2005, whose Allen-Cahn example this is), L = eps d^2/dx^2 integrated
exactly, N(u) = 5 u - 5 u^3 on the grid.

u0 is continuous but its periodic extension has a kink at x = +-1 (u0'(+-1) = -+2), so its Fourier
coefficients fall only like m^-2. Sampling u0 on the grid would alias that tail into the low modes and leave
an error of 2e-5 at t = 0.01 with 4096 points, which later times do not forget. The initial coefficients are
therefore the exact ones, truncated: with u0 = sum_m c_m e^{i pi m x},
c_m = (g(m + 1) + g(m - 1)) / 4, g(0) = 2/3, g(j) = 4 (-1)^j / (pi^2 j^2) (from int_{-1}^{1} x^2 cos(pi j x) dx).
Diffusion removes the truncated tail (mode m decays like exp(-eps pi^2 m^2 t)) before the first output time
0.01; t = 0 itself returns u0 exactly.

Accuracy, by self-convergence on 256 x points at t = 0.01, 0.02, ..., 1 against 8192 points and step 1e-4
(benchmarks/pde_references.py): the default 4096 points and step 2.5e-4 differ by 2.6e-12 max abs and
2.3e-13 relative L2 (the floor: halving the step again changes nothing; perturbations near u = 0 grow like
e^{5t}, so round-off accumulates there); 2048 points leave 4.6e-10 at t = 0.01, step 1e-3 leaves 1e-11.
Check (:func:`allen_cahn_dop853`): the same Fourier semi-discretisation integrated by scipy's DOP853 at
rtol = atol = 1e-13 (steps <= 1e-3) agrees with ETDRK4 to 1e-12 max abs with 512 and 1024 points.
"""

from __future__ import annotations

import numpy as np

from pinn.errors import PinnError
from pinn.pde.spectral import FourierGrid, etdrk4

EPSILON = 1e-4
"""Diffusion coefficient of the benchmark (Raissi et al. 2019; Wang, Sankaran, Wang & Perdikaris 2023)."""
REACTION = 5.0
"""Reaction strength: u_t = eps u_xx + 5 (u - u^3)."""


def allen_cahn_initial(x: np.ndarray) -> np.ndarray:
    """u0(x) = x^2 cos(pi x)."""
    x = np.asarray(x, dtype=float)
    return x ** 2 * np.cos(np.pi * x)


def allen_cahn_initial_series(modes: int) -> np.ndarray:
    """Exact Fourier coefficients c_m (m = 0 .. modes) of u0 = sum_m c_m e^{i pi m x} on [-1, 1]: (modes + 1,)."""
    m = np.arange(modes + 1, dtype=float)

    def g(j: np.ndarray) -> np.ndarray:
        safe = np.where(j == 0, 1.0, j)
        return np.where(j == 0, 2.0 / 3.0, 4.0 * (-1.0) ** np.abs(j) / (np.pi ** 2 * safe ** 2))

    return 0.25 * (g(m + 1) + g(m - 1))


def _grid_and_initial(points: int) -> tuple[FourierGrid, np.ndarray]:
    grid = FourierGrid(points, -1.0, 2.0)
    c = allen_cahn_initial_series(points // 2)
    c[-1] = 0.0  # the Nyquist mode of a truncated series: keep the representation real and symmetric
    return grid, grid.from_series(c)


def _check_grid(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    t = np.asarray(t, dtype=float).ravel()
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t))):
        raise PinnError("x and t must be finite")
    if np.any(t < 0):
        raise PinnError(f"times must be >= 0, got min t = {t.min():g}")
    return x, t


def allen_cahn_reference(x: np.ndarray, t: np.ndarray, points: int = 4096, max_step: float = 2.5e-4,
                         eps: float = EPSILON) -> np.ndarray:
    """u(x, t) by Fourier / ETDRK4 (module docstring); about 5 s of one core with the defaults.

    Args:
        x: positions (p,), any real values (the solution is 2-periodic).
        t: times (q,) >= 0, any order.
        points: Fourier grid points on [-1, 1) (even).
        max_step: the largest ETDRK4 step.
        eps: diffusion coefficient.

    Returns:
        u of shape (q, p): row i is u(x, t[i]) (time down the rows, space along the columns); rows with
        t = 0 are u0(x) exactly.
    """
    x, t = _check_grid(x, t)
    grid, v0 = _grid_and_initial(points)

    def reaction(v: np.ndarray) -> np.ndarray:
        u = grid.inverse(v)
        return grid.transform(REACTION * (u - u ** 3))

    order = np.argsort(t, kind="stable")
    v = etdrk4(-eps * grid.wavenumbers ** 2, reaction, v0, t[order], max_step)
    out = np.empty((t.size, x.size))
    out[order] = grid.evaluate(v, x)
    out[t == 0] = allen_cahn_initial(x)
    return out


def allen_cahn_dop853(x: np.ndarray, t: np.ndarray, points: int = 512, tol: float = 1e-13,
                      max_step: float = 1e-3, eps: float = EPSILON) -> np.ndarray:
    """The check: the same Fourier semi-discretisation du_j/dt = eps (D2 u)_j + 5 (u_j - u_j^3) on the grid,
    integrated by scipy's DOP853 at rtol = atol = ``tol`` from the same truncated initial series.

    ``max_step`` matters: the diffusion eigenvalues reach eps (pi n / 2)^2, and without a cap DOP853's
    error estimate lets it step at its stability limit, where the estimate fails (4e-9 instead of 1e-12
    with 1024 points).

    Returns u of shape (len(t), len(x)) as :func:`allen_cahn_reference` (the t = 0 row is the truncated
    series, not u0, so that the two methods are compared on one semi-discretisation).
    """
    from scipy.integrate import solve_ivp

    x, t = _check_grid(x, t)
    grid, v0 = _grid_and_initial(points)
    symbol = -eps * grid.wavenumbers ** 2

    def rhs(_: float, u: np.ndarray) -> np.ndarray:
        return grid.inverse(symbol * grid.transform(u)) + REACTION * (u - u ** 3)

    order = np.argsort(t, kind="stable")
    sol = solve_ivp(rhs, (0.0, float(t.max(initial=0.0))), grid.inverse(v0), method="DOP853", t_eval=t[order],
                    rtol=tol, atol=tol, max_step=max_step)
    if not sol.success:
        raise PinnError(f"DOP853 failed on the Allen-Cahn semi-discretisation: {sol.message}")
    out = np.empty((t.size, x.size))
    out[order] = grid.evaluate(grid.transform(sol.y.T), x)
    return out
