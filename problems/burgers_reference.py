"""Reference solutions of viscous Burgers u_t + u u_x = nu u_xx on x in [-1, 1], u0 = -sin(pi x), u(+-1, t) = 0.

Two independent methods:

- :func:`burgers_cole_hopf` (the reference): the Cole-Hopf transform u = -2 nu phi_x / phi with phi_t = nu
  phi_xx turns the initial value problem into a ratio of heat-kernel integrals (Cole 1951, Hopf 1950; the
  form used by Basdevant et al., Computers & Fluids 14, 23-41, 1986, for this very case),

      u(x, t) = - int sin(pi (x - eta)) f(x - eta) G(eta) d eta / int f(x - eta) G(eta) d eta,
      f(y) = exp(-cos(pi y) / (2 pi nu)),   G(eta) = exp(-eta^2 / (4 nu t)).

  With eta = sqrt(4 nu t) z both integrands are exp(E(z)) times a bounded factor, E(z) = -z^2 - R cos(pi (x -
  sqrt(4 nu t) z)), R = 1 / (2 pi nu) (= 50 for nu = 0.01/pi). They are entire functions with Gaussian decay,
  so the trapezoidal rule on a uniform z grid converges geometrically (Trefethen & Weideman, SIAM Review 56,
  385-458, 2014); E is shifted by its maximum at each (x, t) so the e^{+-50} range of f never overflows, and
  the z range |z| <= sqrt(2 R + 50) holds everything above e^{-50} of the peak (E <= R - z^2 and
  max E >= E(0) >= -R). E'' = -2 + 2 pi t cos(.) does not depend on nu, so a fixed step h = 0.05 resolves
  the peaks (width >= 1/sqrt(2 + 2 pi t)) for every viscosity. Measured accuracy (benchmarks/pde_references.py,
  256 x points, t in {0.01, ..., 1}): step 0.2, 0.1 and 0.05 agree with step 0.025 to 1e-15 (round-off);
  scipy's adaptive ``quad`` at rtol 1e-13 agrees to 8e-16 at points at and next to the front.
- :func:`burgers_fourier` (the check): u is odd and 2-periodic for all t (u0 is, and Burgers preserves both),
  so u(+-1, t) = 0 holds automatically and the Dirichlet problem equals the periodic one on [-1, 1). Fourier
  pseudo-spectral in x, ETDRK4 in t (:mod:`pinn.pde.spectral`), N(u) = -(u^2 / 2)_x. With 2048 points and step
  5e-5 it agrees with the Cole-Hopf values to 8.8e-13 max abs / 1.4e-13 relative L2 on 256 x points at
  t = 0.01, 0.02, ..., 1 (4096 points change nothing); 1024 points leave 1e-7 at the front, step 1e-4
  leaves 1e-11.
"""

from __future__ import annotations

import numpy as np

from pinn.errors import PinnError
from pinn.pde.spectral import FourierGrid, etdrk4

NU = 0.01 / np.pi
"""The standard viscosity 0.01/pi (Raissi, Perdikaris & Karniadakis, J. Comput. Phys. 378, 686-707, 2019)."""


def _check_grid(x: np.ndarray, t: np.ndarray, nu: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    t = np.asarray(t, dtype=float).ravel()
    if not (np.isfinite(nu) and nu > 0):
        raise PinnError(f"the viscosity nu must be a positive number, got {nu}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t))):
        raise PinnError("x and t must be finite")
    if np.any(t < 0):
        raise PinnError(f"times must be >= 0, got min t = {t.min():g}")
    return x, t


def burgers_cole_hopf(x: np.ndarray, t: np.ndarray, nu: float = NU, step: float = 0.05) -> np.ndarray:
    """The exact solution by trapezoidal quadrature of the Cole-Hopf integrals (module docstring).

    Args:
        x: positions (p,), any real values (the solution is 2-periodic and odd in x).
        t: times (q,), >= 0.
        nu: viscosity > 0.
        step: the trapezoidal step in the scaled variable z (0.05 is converged to round-off).

    Returns:
        u of shape (q, p): row i is u(x, t[i]) (time down the rows, space along the columns).
    """
    x, t = _check_grid(x, t, nu)
    reach = 1.0 / (2.0 * np.pi * nu)
    half = np.sqrt(2.0 * reach + 50.0)
    z = np.arange(-np.ceil(half / step), np.ceil(half / step) + 1) * step  # symmetric, includes 0
    out = np.empty((t.size, x.size))
    for i, ti in enumerate(t):
        y = x[:, None] - np.sqrt(4.0 * nu * ti) * z[None, :]  # (p, nz)
        exponent = -z ** 2 - reach * np.cos(np.pi * y)
        weight = np.exp(exponent - exponent.max(axis=1, keepdims=True))
        out[i] = -(np.sin(np.pi * y) * weight).sum(axis=1) / weight.sum(axis=1)
    return out


def burgers_fourier(x: np.ndarray, t: np.ndarray, nu: float = NU, points: int = 2048,
                    max_step: float = 5e-5) -> np.ndarray:
    """The same solution by a Fourier pseudo-spectral / ETDRK4 solve of the 2-periodic problem (the check).

    Args:
        x: positions (p,); t: times (q,) >= 0; nu: viscosity > 0.
        points: Fourier grid points on [-1, 1) (even); max_step: the largest ETDRK4 step.

    Returns:
        u of shape (q, p), rows are times, as :func:`burgers_cole_hopf`.
    """
    x, t = _check_grid(x, t, nu)
    grid = FourierGrid(points, -1.0, 2.0)
    order = np.argsort(t, kind="stable")

    def advection(v: np.ndarray) -> np.ndarray:
        u = grid.inverse(v)
        return -0.5 * grid.derivative(grid.transform(u * u))

    v0 = grid.transform(-np.sin(np.pi * grid.x))
    v = etdrk4(-nu * grid.wavenumbers ** 2, advection, v0, t[order], max_step)
    out = np.empty((t.size, x.size))
    out[order] = grid.evaluate(v, x)
    return out
