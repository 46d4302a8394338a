"""Fourier pseudo-spectral solutions of periodic semilinear PDEs u_t = L u + N(u), ETDRK4 in time.

Used to compute reference solutions independently of any network. On a periodic interval [a, a + P) the
solution is a real trigonometric polynomial u(x) = sum_m c_m exp(i k_m (x - a)), k_m = 2 pi m / P, held as
its ``numpy.fft.rfft`` coefficients v_m = n c_m (m = 0 .. n/2) on n equispaced points. A linear operator L
that is diagonal in this basis (any constant-coefficient differential operator) is given by its symbol
L(k) (``-nu k^2`` for nu u_xx); N(u) is evaluated pseudo-spectrally and may be de-aliased by zero padding.

Time stepping is the fourth-order exponential time-differencing Runge-Kutta scheme ETDRK4 of Cox & Matthews
(J. Comput. Phys. 176, 430-455, 2002), with the phi-function coefficients evaluated by the contour-integral
means of Kassam & Trefethen (SIAM J. Sci. Comput. 26, 1214-1233, 2005), which removes the cancellation of
the explicit formulas for small |h L|. The linear part is integrated exactly, so stiff diffusion costs
nothing; the error is O(h^4) in the step h and spectral in the number of points n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from pinn.errors import PinnError

Nonlinear = Callable[[np.ndarray], np.ndarray]
"""N in spectral space: rfft coefficients v (n//2 + 1,) -> rfft coefficients of N(u) (n//2 + 1,)."""


@dataclass(frozen=True)
class FourierGrid:
    """n equispaced points x_j = start + j P / n (j = 0 .. n-1) on the periodic interval [start, start + P).

    ``n`` must be even (so the Nyquist mode is a single real cosine).
    """

    n: int
    start: float
    period: float

    def __post_init__(self) -> None:
        if self.n < 4 or self.n % 2:
            raise PinnError(f"a Fourier grid needs an even number of points >= 4, got {self.n}")
        if not (np.isfinite(self.period) and self.period > 0):
            raise PinnError(f"the period must be a positive number, got {self.period}")

    @property
    def x(self) -> np.ndarray:
        """Grid points (n,)."""
        return self.start + self.period * np.arange(self.n) / self.n

    @property
    def wavenumbers(self) -> np.ndarray:
        """k_m = 2 pi m / P for m = 0 .. n/2, (n//2 + 1,)."""
        return 2.0 * np.pi / self.period * np.arange(self.n // 2 + 1)

    def transform(self, u: np.ndarray) -> np.ndarray:
        """rfft coefficients of grid values u (..., size) with size >= n (a padded grid), truncated to the
        n//2 + 1 modes of this grid and scaled to its normalisation: (..., n//2 + 1)."""
        size = u.shape[-1]
        return np.fft.rfft(u, axis=-1)[..., : self.n // 2 + 1] * (self.n / size)

    def inverse(self, v: np.ndarray, size: Optional[int] = None) -> np.ndarray:
        """Grid values of the trigonometric polynomial with coefficients v (..., n//2 + 1), on ``size``
        equispaced points (default n; size = 3n/2 or 2n de-aliases quadratic or cubic products): (..., size)."""
        size = self.n if size is None else int(size)
        if size == self.n:
            return np.fft.irfft(v, n=self.n, axis=-1)
        padded = np.zeros(v.shape[:-1] + (size // 2 + 1,), dtype=complex)
        padded[..., : self.n // 2 + 1] = v
        padded[..., self.n // 2] *= 0.5  # the Nyquist cosine splits between modes +-n/2 on a finer grid
        return np.fft.irfft(padded, n=size, axis=-1) * (size / self.n)

    def derivative(self, v: np.ndarray, order: int = 1) -> np.ndarray:
        """Coefficients of d^order u / dx^order; the Nyquist mode is dropped for odd orders (its derivative
        is not a real function on the grid)."""
        out = (1j * self.wavenumbers) ** order * v
        if order % 2:
            out[..., -1] = 0.0
        return out

    def from_series(self, c: np.ndarray) -> np.ndarray:
        """rfft coefficients from the complex Fourier coefficients c_m of u(x) = sum_m c_m exp(i k_m x)
        (m = 0 .. n/2, real u so c_-m = conj(c_m)), for example exact coefficients of an initial state:
        truncation instead of interpolation, so a kink in u0 does not alias into the low modes."""
        c = np.asarray(c, dtype=complex)
        if c.shape[-1] != self.n // 2 + 1:
            raise PinnError(f"expected {self.n // 2 + 1} coefficients for n = {self.n}, got {c.shape[-1]}")
        return self.n * c * np.exp(1j * self.wavenumbers * self.start)

    def evaluate(self, v: np.ndarray, x: np.ndarray, chunk: int = 512) -> np.ndarray:
        """The trigonometric polynomial with coefficients v (..., n//2 + 1) at arbitrary points x (p,):
        returns (..., p). Exact trigonometric interpolation, O(p n) work."""
        x = np.asarray(x, dtype=float).ravel()
        weights = np.full(self.n // 2 + 1, 2.0)
        weights[0] = weights[-1] = 1.0  # mode 0 and the Nyquist cosine appear once
        scaled = v * weights / self.n
        out = np.empty(v.shape[:-1] + (x.size,))
        for i in range(0, x.size, chunk):
            phase = np.exp(1j * np.outer(self.wavenumbers, x[i:i + chunk] - self.start))  # (modes, p)
            out[..., i:i + chunk] = (scaled @ phase).real
        return out


def etdrk4_coefficients(hl: np.ndarray, contour_points: int = 64) -> tuple[np.ndarray, ...]:
    """ETDRK4 coefficients for the diagonal h L (modes,): (e^{hL}, e^{hL/2}, Q, f1, f2, f3) divided by h.

    Q = (e^{hL/2} - 1)/L, f1 = (-4 - hL + e^{hL}(4 - 3hL + (hL)^2)) / (h^2 L^3), f2 = (2 + hL + e^{hL}(hL - 2))
    / (h^2 L^3), f3 = (-4 - 3hL - (hL)^2 + e^{hL}(4 - hL)) / (h^2 L^3), each evaluated as the mean over
    ``contour_points`` points of a circle of radius 1 about hL (Cauchy's integral formula), so that small
    |hL| loses no digits (Kassam & Trefethen 2005, section 2). The returned Q, f1, f2, f3 are the above
    divided by h (multiply by h to use); the exponentials are exact.
    """
    hl = np.asarray(hl, dtype=complex)
    roots = np.exp(2j * np.pi * (np.arange(contour_points) + 0.5) / contour_points)
    z = hl[..., None] + roots  # (modes, M)
    ez = np.exp(z)
    ez2 = np.exp(z / 2)
    q = np.mean((ez2 - 1.0) / z, axis=-1)
    f1 = np.mean((-4.0 - z + ez * (4.0 - 3.0 * z + z ** 2)) / z ** 3, axis=-1)
    f2 = np.mean((2.0 + z + ez * (z - 2.0)) / z ** 3, axis=-1)
    f3 = np.mean((-4.0 - 3.0 * z - z ** 2 + ez * (4.0 - z)) / z ** 3, axis=-1)
    return np.exp(hl), np.exp(hl / 2), q, f1, f2, f3


def etdrk4(linear: np.ndarray, nonlinear: Nonlinear, v0: np.ndarray, times: np.ndarray, max_step: float,
           t0: float = 0.0, contour_points: int = 64,
           progress: Optional[Callable[[float], None]] = None) -> np.ndarray:
    """Integrate v' = L v + N(v) (L diagonal) from v(t0) = v0 and return v at each of ``times``.

    Args:
        linear: the diagonal of L, (modes,) (real for dissipative operators, complex for dispersive ones).
        nonlinear: N(v) -> (modes,) in the same basis.
        v0: the state at t0, (modes,).
        times: nondecreasing output times >= t0, (p,).
        max_step: the largest step h; each gap between outputs is split into equal steps <= max_step,
            so every output time is hit exactly.
        contour_points: points on each Cauchy contour for the phi functions.
        progress: called with the current time after each output.

    Returns:
        (p, modes) complex array: v at each output time.
    """
    times = np.asarray(times, dtype=float).ravel()
    if times.size and (np.any(np.diff(times) < 0) or times[0] < t0):
        raise PinnError(f"output times must be nondecreasing and >= t0 = {t0}")
    if not max_step > 0:
        raise PinnError(f"the time step must be positive, got {max_step}")
    linear = np.asarray(linear)
    real = np.isrealobj(linear)
    v = np.array(v0, dtype=complex)
    out = np.empty((times.size, v.size), dtype=complex)
    coeffs: dict[float, tuple[np.ndarray, ...]] = {}
    t = t0
    for i, target in enumerate(times):
        gap = target - t
        steps = int(np.ceil(gap / max_step - 1e-9)) if gap > 0 else 0
        if steps:
            h = gap / steps
            key = round(h, 14)
            if key not in coeffs:
                e, e2, q, f1, f2, f3 = etdrk4_coefficients(h * linear, contour_points)
                if real:
                    e, e2, q, f1, f2, f3 = (a.real for a in (e, e2, q, f1, f2, f3))
                coeffs[key] = (e, e2, h * q, h * f1, h * f2, h * f3)
            e, e2, q, f1, f2, f3 = coeffs[key]
            for _ in range(steps):
                nv = nonlinear(v)
                a = e2 * v + q * nv
                na = nonlinear(a)
                b = e2 * v + q * na
                nb = nonlinear(b)
                c = e2 * a + q * (2.0 * nb - nv)
                nc = nonlinear(c)
                v = e * v + f1 * nv + 2.0 * f2 * (na + nb) + f3 * nc
            if not np.all(np.isfinite(v)):
                raise PinnError(f"the spectral solution blew up before t = {target:g}; reduce the time step")
        t = target
        out[i] = v
        if progress is not None:
            progress(t)
    return out
