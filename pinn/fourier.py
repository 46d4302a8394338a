"""Fourier series of periodic forcings: coefficients by quadrature, partial sums, Parseval, Gibbs overshoot.

A force of period T (angular frequency w = 2 pi / T) is expanded as in the lecture notes, Eq. (4),

    F(t) = a0 + sum_{n >= 1} [f_n cos(n w t) + g_n sin(n w t)],

with a0 = f_0 / 2 the mean of F and the notes' Eq. (6) over one period starting at ``t_start``:

    a0  = (1/T) int F(t) dt,
    f_n = (2/T) int F(t) cos(n w t) dt,
    g_n = (2/T) int F(t) sin(n w t) dt.

The integrals use scipy's adaptive Gauss-Kronrod quadrature (``scipy.integrate.quad``) with the force's
discontinuities passed as break points, so every sub-integral has a smooth integrand and converges to
round-off. Parseval's identity, (1/T) int F^2 dt = a0^2 + (1/2) sum_n (f_n^2 + g_n^2), checks the
coefficients; near a jump the partial sums overshoot by the Gibbs fraction (1/pi) Si(pi) - 1/2 = 0.0895 of
the jump (Gibbs 1899; Hewitt & Hewitt 1979).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from pinn.errors import PinnError

PeriodicForce = Callable[[np.ndarray], np.ndarray]
"""F(t): t (n,) -> (n,) in float64, periodic with the period given alongside it."""

GIBBS_FRACTION = 0.08948987223608351  # Si(pi) / pi - 1/2, checked against scipy.special.sici in the tests
"""Limit of the partial sums' overshoot at a jump, as a fraction of the jump: Si(pi)/pi - 1/2 = 0.08949."""


@dataclass(frozen=True)
class FourierSeries:
    """Coefficients of F(t) = a0 + sum_{n=1}^{N} [f_n cos(n w t) + g_n sin(n w t)], w = 2 pi / period.

    Attributes:
        period: T, in the force's time units.
        a0: the mean of F (the notes' f_0 / 2).
        cos_coeffs: f_1 ... f_N, shape (N,).
        sin_coeffs: g_1 ... g_N, shape (N,).
    """

    period: float
    a0: float
    cos_coeffs: np.ndarray
    sin_coeffs: np.ndarray

    def __post_init__(self) -> None:
        if not (np.isfinite(self.period) and self.period > 0):
            raise PinnError(f"the period must be positive, got {self.period}")
        if np.shape(self.cos_coeffs) != np.shape(self.sin_coeffs) or np.ndim(self.cos_coeffs) != 1:
            raise PinnError("a Fourier series needs one cosine and one sine coefficient per harmonic")

    @property
    def harmonics(self) -> int:
        """N, the number of harmonics held."""
        return int(np.size(self.cos_coeffs))

    @property
    def omega(self) -> float:
        """Fundamental angular frequency w = 2 pi / T."""
        return 2.0 * np.pi / self.period

    def truncated(self, n_terms: int) -> "FourierSeries":
        """The first ``n_terms`` harmonics (0 <= n_terms <= N)."""
        _check_terms(n_terms, self.harmonics)
        return FourierSeries(self.period, self.a0, self.cos_coeffs[:n_terms], self.sin_coeffs[:n_terms])


def _check_terms(n_terms: int, available: int) -> None:
    if not 0 <= n_terms <= available:
        raise PinnError(f"asked for {n_terms} harmonics but the series holds 0 to {available}")


def fourier_coefficients(force: PeriodicForce, period: float, n_max: int, t_start: float | None = None,
                         discontinuities: Sequence[float] = (), epsabs: float = 1e-13,
                         epsrel: float = 1e-13) -> FourierSeries:
    """a0, f_n, g_n (n = 1..n_max) of a T-periodic force by quadrature of the notes' Eq. (6).

    Args:
        force: F(t), t (k,) -> (k,); called with scalars wrapped as (1,) arrays.
        period: T > 0.
        n_max: number of harmonics N >= 0.
        t_start: the period integrated over is [t_start, t_start + T]; default -T/2 as in the notes.
        discontinuities: times where F jumps (any period; they are folded into the integration window) so
            that quad splits there and integrates smooth pieces only.
        epsabs, epsrel: quad's tolerances.
    Returns:
        The series with ``cos_coeffs`` and ``sin_coeffs`` of shape (n_max,).
    """
    if not (np.isfinite(period) and period > 0):
        raise PinnError(f"the period must be positive, got {period}")
    if n_max < 0:
        raise PinnError(f"the number of harmonics must be >= 0, got {n_max}")
    a = -0.5 * period if t_start is None else float(t_start)
    b = a + period
    breaks = _fold_into_window(discontinuities, a, period)
    w = 2.0 * np.pi / period

    def integral(weight: Callable[[float], float]) -> float:
        from scipy.integrate import quad

        value, _ = quad(lambda s: float(np.asarray(force(np.array([s])))[0]) * weight(s), a, b,
                        points=breaks or None, limit=max(200, 4 * n_max), epsabs=epsabs, epsrel=epsrel)
        return value

    a0 = integral(lambda s: 1.0) / period
    f = np.array([2.0 / period * integral(lambda s, n=n: np.cos(n * w * s)) for n in range(1, n_max + 1)])
    g = np.array([2.0 / period * integral(lambda s, n=n: np.sin(n * w * s)) for n in range(1, n_max + 1)])
    return FourierSeries(float(period), float(a0), f.reshape(n_max), g.reshape(n_max))


def _fold_into_window(points: Sequence[float], a: float, period: float) -> list[float]:
    """The given times shifted by whole periods into the open window (a, a + T), sorted and deduplicated."""
    folded = sorted({a + float(np.mod(p - a, period)) for p in points})
    tol = 1e-12 * period
    return [p for p in folded if a + tol < p < a + period - tol]


def partial_sum(series: FourierSeries, t: np.ndarray, n_terms: int | None = None) -> np.ndarray:
    """S_N(t) = a0 + sum_{n=1}^{N} [f_n cos(n w t) + g_n sin(n w t)]; t (k,) -> (k,).

    ``n_terms`` defaults to all harmonics held. Evaluated harmonic by harmonic so memory stays O(k).
    """
    n_terms = series.harmonics if n_terms is None else n_terms
    _check_terms(n_terms, series.harmonics)
    t = np.asarray(t, dtype=float)
    out = np.full_like(t, series.a0)
    for n in range(1, n_terms + 1):
        phase = n * series.omega * t
        out += series.cos_coeffs[n - 1] * np.cos(phase) + series.sin_coeffs[n - 1] * np.sin(phase)
    return out


def mean_square(force: PeriodicForce, period: float, t_start: float | None = None,
                discontinuities: Sequence[float] = ()) -> float:
    """(1/T) int_period F(t)^2 dt by quadrature (the left side of Parseval's identity)."""
    a = -0.5 * period if t_start is None else float(t_start)
    breaks = _fold_into_window(discontinuities, a, period)
    from scipy.integrate import quad

    value, _ = quad(lambda s: float(np.asarray(force(np.array([s])))[0]) ** 2, a, a + period,
                    points=breaks or None, limit=200, epsabs=1e-13, epsrel=1e-13)
    return value / period


def parseval_partial_energies(series: FourierSeries) -> np.ndarray:
    """a0^2 + (1/2) sum_{n<=N} (f_n^2 + g_n^2) for N = 0..harmonics: shape (harmonics + 1,).

    Entry N is the mean square of the partial sum S_N over a period (orthogonality of the harmonics); it
    increases with N towards the force's mean square (Parseval), and mean_square - entry N is the mean
    square of the truncation error F - S_N (Bessel's equality).
    """
    terms = 0.5 * (series.cos_coeffs ** 2 + series.sin_coeffs ** 2)
    return series.a0 ** 2 + np.concatenate(([0.0], np.cumsum(terms)))


def partial_sum_mean_square(series: FourierSeries, n_terms: int, samples: int | None = None) -> float:
    """(1/T) int_period S_N(t)^2 dt, computed from samples of S_N (not from the coefficients).

    The trapezoid rule on ``samples`` equispaced points of one period is exact for a trigonometric
    polynomial of degree N when samples > 2N, so this is an independent check of
    :func:`parseval_partial_energies`. Default samples = 4N + 8.
    """
    samples = 4 * n_terms + 8 if samples is None else samples
    if samples <= 2 * n_terms:
        raise PinnError(f"need more than {2 * n_terms} samples per period for {n_terms} harmonics")
    t = np.arange(samples) * (series.period / samples)
    return float(np.mean(partial_sum(series, t, n_terms) ** 2))


@dataclass(frozen=True)
class GibbsOvershoot:
    """The partial sum's largest excursion past a jump.

    Attributes:
        n_terms: harmonics in the partial sum.
        t_jump: time of the jump.
        t_peak: time of the largest value of S_N on the high side of the jump.
        peak: S_N(t_peak).
        high: F just on the high side of the jump.
        jump: |F(t_jump+) - F(t_jump-)|.
        fraction: (peak - high) / jump; tends to GIBBS_FRACTION = 0.0895 as N grows.
    """

    n_terms: int
    t_jump: float
    t_peak: float
    peak: float
    high: float
    jump: float
    fraction: float


def gibbs_overshoot(force: PeriodicForce, series: FourierSeries, n_terms: int, t_jump: float,
                    reach: float | None = None, grid: int = 2001) -> GibbsOvershoot:
    """Measure the overshoot of S_N past F's jump at ``t_jump``.

    The maximum of S_N is searched on the high side of the jump, within ``reach`` of it (default: two
    wavelengths of the highest harmonic, 2 T / N, which holds the first Gibbs peak near T / (2 N)),
    first on a grid of ``grid`` points, then refined by bounded scalar minimisation around the best
    grid point.
    """
    _check_terms(n_terms, series.harmonics)
    if n_terms < 1:
        raise PinnError("the Gibbs overshoot needs at least one harmonic")
    eps = 1e-9 * series.period
    left, right = (float(np.asarray(force(np.array([t_jump + s])))[0]) for s in (-eps, eps))
    jump = abs(right - left)
    if jump == 0.0:
        raise PinnError(f"the force does not jump at t = {t_jump}")
    side = 1.0 if right > left else -1.0
    high = max(left, right)
    reach = 2.0 * series.period / n_terms if reach is None else float(reach)
    offsets = np.linspace(0.0, reach, grid)
    t = t_jump + side * offsets
    values = partial_sum(series, t, n_terms)
    k = int(np.argmax(values))
    lo, hi = offsets[max(k - 1, 0)], offsets[min(k + 1, grid - 1)]
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda s: -partial_sum(series, np.array([t_jump + side * s]), n_terms)[0],
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * series.period})
    s_best, peak = (res.x, -res.fun) if -res.fun >= values[k] else (offsets[k], values[k])
    return GibbsOvershoot(n_terms, float(t_jump), float(t_jump + side * s_best), float(peak), high, jump,
                          float((peak - high) / jump))


def power_law_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares fit of log y = log c + p log x; returns (p, c). Used for error ~ c N^p."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2 or np.unique(x[keep]).size < 2:
        raise PinnError("a power-law fit needs at least two distinct positive points")
    p, logc = np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)
    return float(p), float(np.exp(logc))


def local_power_law_slopes(x: Sequence[float], y: Sequence[float]) -> np.ndarray:
    """Slopes log(y_i / y_{i-1}) / log(x_i / x_{i-1}) between successive points: (k,), NaN first.

    NaN also where two x are equal or a y is not positive; shows whether a fitted slope is asymptotic.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    out = np.full(x.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = np.log(y[1:] / y[:-1]) / np.log(x[1:] / x[:-1])
    out[1:] = np.where(np.isfinite(slopes), slopes, np.nan)
    return out
