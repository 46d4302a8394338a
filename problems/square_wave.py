"""The damped oscillator driven by a periodic square wave (lecture notes, "Final words on Fourier Transforms").

    x'' + 2 gamma x' + omega0^2 x = F(t),

with F the even square wave of period T, width W and height Fmax centred on t = 0:

    F(t) = Fmax  if k T - W/2 <= t < k T + W/2 for some integer k   (|t mod T| < W/2),   else 0,

whose Fourier series (notes, with the coefficients of Eq. (6)) is

    F(t) = a0 + sum_{n>=1} (2 Fmax / (pi n)) sin(pi n W / T) cos(2 pi n t / T),   a0 = Fmax W / T.

It equals (Fmax / 2) (1 + scipy.signal.square(2 pi t / T + pi W / T, duty=W/T)), the notes' scipy wave.
Notes' values: T = 0.2, W = 0.1, Fmax = 2 (dimensionless time, omega0 = 1); gamma = 0.2, x(0) = x'(0) = 0,
t in [0, 20].

Two exact references:
  1. the N-harmonic truncated series as drive: transient + steady state of each harmonic, in closed form
     (``problems.oscillator.oscillator_exact``);
  2. the true wave: F is constant (c = 0 or Fmax) between jumps, so on each interval
     x = c / omega0^2 + homogeneous solution, started from the state carried across the previous jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np

from pinn.errors import PinnError
from pinn.fourier import FourierSeries, local_power_law_slopes, power_law_fit
from pinn.metrics import relative_l2
from pinn.problem import ODEProblem
from pinn.spec import stack_components
from problems.oscillator import (
    HarmonicDrive,
    OscillatorParams,
    homogeneous,
    oscillator_exact,
    oscillator_from_drive,
    oscillator_rhs,
)

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class SquareWave:
    """Even square wave: height ``fmax`` for |t - k T| < W/2, zero elsewhere.

    Attributes:
        period: T > 0 (time units of the equation; notes: 0.2).
        width: W, time spent at ``fmax`` per period, 0 < W < T (notes: 0.1).
        fmax: height of the pulse (notes: 2).
    """

    period: float = 0.2
    width: float = 0.1
    fmax: float = 2.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.period) and self.period > 0):
            raise PinnError(f"square wave: the period must be positive, got {self.period}")
        if not (math.isfinite(self.width) and 0 < self.width < self.period):
            raise PinnError(f"square wave: the width must lie strictly between 0 and the period "
                            f"({self.period}), got {self.width}")
        if not math.isfinite(self.fmax):
            raise PinnError(f"square wave: the height fmax must be finite, got {self.fmax}")

    @property
    def omega(self) -> float:
        """Fundamental angular frequency 2 pi / T."""
        return 2.0 * math.pi / self.period

    @property
    def duty(self) -> float:
        """Fraction of a period at ``fmax``: W / T."""
        return self.width / self.period


def square_wave_force(t: np.ndarray, wave: SquareWave) -> np.ndarray:
    """The true (discontinuous) wave F(t): t (n,) -> (n,) float64.

    F = fmax on [k T - W/2, k T + W/2) for integer k, else 0: right-continuous, so F at a jump time from
    :func:`square_wave_jumps` (the same floating-point expressions) is the value on the interval that
    starts there, as a solver restarting at that breakpoint needs. Same as scipy's pulse (closed left).
    """
    t = np.asarray(t, dtype=float)
    half = 0.5 * wave.width
    k = np.round(t / wave.period)
    high = np.zeros(t.shape, dtype=bool)
    for dk in (-1.0, 0.0, 1.0):  # t / T rounds to the nearest centre up to one period either way
        centre = (k + dk) * wave.period
        high |= (centre - half <= t) & (t < centre + half)
    return np.where(high, wave.fmax, 0.0)


def square_wave_force_torch(t: "torch.Tensor", wave: SquareWave) -> "torch.Tensor":
    """The true wave in torch: t (n, 1) -> (n,), same dtype and device as t (piecewise constant in t).

    Same rule as :func:`square_wave_force` (bit-identical in float64).
    """
    if t.ndim != 2 or t.shape[1] != 1:
        raise PinnError(f"square_wave_force_torch expects t of shape (n, 1), got {tuple(t.shape)}")
    import torch

    t = t[:, 0]
    half = 0.5 * wave.width
    k = torch.round(t / wave.period)
    high = torch.zeros_like(t, dtype=torch.bool)
    for dk in (-1.0, 0.0, 1.0):
        centre = (k + dk) * wave.period
        high |= (centre - half <= t) & (t < centre + half)
    return high.to(t.dtype) * wave.fmax


def square_wave_scipy(t: np.ndarray, wave: SquareWave) -> np.ndarray:
    """The notes' construction, (Fmax/2) (1 + scipy.signal.square(2 pi t/T + pi W/T, duty=W/T)): (n,).

    Equal to :func:`square_wave_force` except exactly at the jumps (scipy's pulse is closed on the left).
    """
    phase = wave.omega * np.asarray(t, dtype=float) + math.pi * wave.duty
    from scipy import signal

    return 0.5 * wave.fmax * (1.0 + signal.square(phase, duty=wave.duty))


def square_wave_jumps(wave: SquareWave, t0: float, t1: float) -> tuple[float, ...]:
    """Jump times k T - W/2 (up) and k T + W/2 (down) strictly inside (t0, t1), sorted.

    Jumps within 1e-12 T of an end are left out, so no interval of rounding-error length is created.
    Computed as ``k * period -+ width / 2`` in float64, the expressions :func:`square_wave_force` compares
    against, so the force at a returned time is the value after the jump.
    """
    tol = 1e-12 * wave.period
    half = 0.5 * wave.width
    k_lo = math.floor((t0 - half) / wave.period) - 1
    k_hi = math.ceil((t1 + half) / wave.period) + 1
    times = []
    for k in range(k_lo, k_hi + 1):
        for s in (k * wave.period - half, k * wave.period + half):
            if t0 + tol < s < t1 - tol:
                times.append(s)
    return tuple(sorted(times))


def square_wave_coefficients(wave: SquareWave, n_max: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Closed-form a0, f_n, g_n (n = 1..n_max): a0 = Fmax W/T, f_n = 2 Fmax sin(pi n W/T) / (pi n), g_n = 0.

    Returns (a0, f (n_max,), g (n_max,)); g vanishes because the wave is even.
    """
    if n_max < 0:
        raise PinnError(f"the number of harmonics must be >= 0, got {n_max}")
    n = np.arange(1, n_max + 1, dtype=float)
    f = 2.0 * wave.fmax / (math.pi * n) * np.sin(math.pi * n * wave.duty)
    return wave.fmax * wave.duty, f, np.zeros(n_max)


def square_wave_series(wave: SquareWave, n_max: int) -> FourierSeries:
    """The closed-form coefficients as a :class:`pinn.fourier.FourierSeries`."""
    a0, f, g = square_wave_coefficients(wave, n_max)
    return FourierSeries(wave.period, a0, f, g)


def square_wave_drive(wave: SquareWave, harmonics: int) -> HarmonicDrive:
    """The N-harmonic partial sum of the wave as an oscillator drive (angular frequencies 2 pi n / T)."""
    if harmonics < 0:
        raise PinnError(f"the number of harmonics must be >= 0, got {harmonics}")
    a0, f, g = square_wave_coefficients(wave, harmonics)
    freqs = tuple(float(wave.omega * n) for n in range(1, harmonics + 1))
    return HarmonicDrive(float(a0), freqs, tuple(map(float, f)), tuple(map(float, g)))


def _check_oscillator(gamma: float, omega0: float) -> None:
    if not (math.isfinite(gamma) and gamma >= 0 and math.isfinite(omega0) and omega0 > 0):
        raise PinnError(f"the oscillator needs gamma >= 0 and omega0 > 0, got gamma = {gamma}, "
                        f"omega0 = {omega0}")


def square_wave_exact(wave: SquareWave, gamma: float, omega0: float, x0: float, v0: float,
                      t: np.ndarray) -> np.ndarray:
    """Exact (x, v) of x'' + 2 gamma x' + omega0^2 x = F(t) for the true wave, x(0) = x0, x'(0) = v0.

    Between consecutive jumps F = c is constant, so x = c / omega0^2 + x_h(t - a) with x_h the homogeneous
    solution from (x(a) - c / omega0^2, x'(a)); x and x' are continuous across each jump (F is bounded).

    Args:
        t: (n,) times >= 0, any order.
    Returns:
        (n, 2) float64: x and x' at ``t``.
    """
    _check_oscillator(gamma, omega0)
    t = np.asarray(t, dtype=float)
    if t.ndim != 1:
        raise PinnError(f"square_wave_exact expects t of shape (n,), got {t.shape}")
    if t.size == 0:
        return np.empty((0, 2))
    if t.min() < 0:
        raise PinnError("square_wave_exact starts at t = 0; got negative times")
    t_end = float(t.max())
    starts = np.array((0.0,) + square_wave_jumps(wave, 0.0, t_end))
    ends = np.append(starts[1:], t_end)
    level = square_wave_force(0.5 * (starts + ends), wave)  # (m,) the constant force on each interval
    x_start, v_start = np.empty(starts.size), np.empty(starts.size)
    x, v = float(x0), float(v0)
    k2 = omega0 ** 2
    for i in range(starts.size):
        x_start[i], v_start[i] = x, v
        if i + 1 < starts.size:
            xh, vh = homogeneous(gamma, omega0, x - level[i] / k2, v, np.array([ends[i] - starts[i]]))
            x, v = level[i] / k2 + xh[0], vh[0]
    idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, starts.size - 1)
    offset = level[idx] / k2
    xh, vh = homogeneous(gamma, omega0, x_start[idx] - offset, v_start[idx], t - starts[idx])
    return np.stack((offset + xh, vh), axis=1)


def drive_aligned_window(period: float, harmonics: int, max_window: float = 0.5,
                         periods_per_window: float = 2.5) -> float:
    """Marching window for a periodic drive of ``period`` with ``harmonics`` Fourier terms.

    The window divides the drive period exactly (windows stay aligned to the drive, and to its jumps when
    those sit at fractions of the period), is at most ``max_window``, and holds at most ``periods_per_window``
    periods of the highest harmonic, which the window's random features can then resolve.
    """
    longest = min(max_window, period * periods_per_window / max(1, harmonics))
    if longest >= period:
        return period * np.floor(longest / period)
    return period / np.ceil(period / longest)


def square_wave_problem(wave: SquareWave, harmonics: int, gamma: float = 0.2, omega0: float = 1.0,
                        x0: float = 0.0, v0: float = 0.0, t1: float = 20.0) -> ODEProblem:
    """The square-wave-driven oscillator on [0, t1] as a first-order system in (x, v).

    harmonics >= 1: the drive is the N-harmonic partial sum (smooth), reference 1 (closed form).
    harmonics == 0: the drive is the true discontinuous wave, reference 2 (piecewise closed form), and
        ``breakpoints`` lists the jump times in (0, t1) so solvers can restart there.
    Parameters recorded in ``params``: gamma, omega0, period, width, fmax, harmonics.
    """
    if isinstance(harmonics, bool) or int(harmonics) != harmonics or harmonics < 0:
        raise PinnError(f"--harmonics must be a whole number >= 0 (0 = the exact square wave), got {harmonics}")
    harmonics = int(harmonics)
    _check_oscillator(gamma, omega0)
    record = {"forcing": "square", "gamma": float(gamma), "omega0": float(omega0), "period": wave.period,
              "width": wave.width, "fmax": wave.fmax, "harmonics": harmonics}
    if harmonics >= 1:
        base = oscillator_from_drive(square_wave_drive(wave, harmonics), gamma, omega0, x0, v0, t1)
        return replace(base, name="oscillator-square", params=record,
                       window=drive_aligned_window(wave.period, harmonics))
    constants = {"gamma": float(gamma), "omega0": float(omega0)}

    def force(t: "torch.Tensor") -> "torch.Tensor":
        return square_wave_force_torch(t, wave)

    return ODEProblem(
        name="oscillator-square",
        rhs=lambda t, u: stack_components(oscillator_rhs(t, u, constants, force)),
        u0=(float(x0), float(v0)),
        t0=0.0,
        t1=float(t1),
        components=("x", "v"),
        params=record,
        reference=lambda t: square_wave_exact(wave, gamma, omega0, x0, v0, t),
        order=2,
        breakpoints=square_wave_jumps(wave, 0.0, float(t1)),
        window=drive_aligned_window(wave.period, 1),
    )


@dataclass(frozen=True)
class SeriesConvergence:
    """How the N-harmonic solution approaches the true square-wave solution on [0, t1].

    Attributes:
        harmonics: the N values, (k,).
        error_x: relative L2 error of x, (k,).
        error_v: relative L2 error of x', (k,).
        error_state: relative L2 error of (x, x') together, (k,).
        slope_x, slope_v, slope_state: fitted p in error ~ c N^p (log-log least squares over N >= fit_from).
        coef_x, coef_v, coef_state: the matching c.
        local_slope_x, local_slope_v: slopes between successive N, (k,), NaN first (asymptotic rates:
            about -2.5 and -1.5).
        fit_from: smallest N used in the fits.
        samples: number of equispaced times the errors were measured on.
    """

    harmonics: np.ndarray
    error_x: np.ndarray
    error_v: np.ndarray
    error_state: np.ndarray
    slope_x: float
    slope_v: float
    slope_state: float
    coef_x: float
    coef_v: float
    coef_state: float
    local_slope_x: np.ndarray
    local_slope_v: np.ndarray
    fit_from: int
    samples: int


def series_convergence(wave: SquareWave, harmonics: Sequence[int], gamma: float = 0.2, omega0: float = 1.0,
                       x0: float = 0.0, v0: float = 0.0, t1: float = 20.0, fit_from: int = 1,
                       points_per_wavelength: int = 16,
                       on_step: Optional[Callable[[int], None]] = None) -> SeriesConvergence:
    """Relative L2 error of reference 1 (N harmonics) against reference 2 (true wave) for each N.

    Errors are measured on an equispaced grid of [0, t1] with ``points_per_wavelength`` samples per
    wavelength of harmonic max(N) + 1, the slowest harmonic each truncation leaves out (at least 20001
    points), and a non-integer number of samples per drive period. Expected rates from the tail of the
    series (|f_n| ~ 1/n, response ~ 1/n^2, speed ~ 1/n): error of x ~ N^-2.5, of x' ~ N^-1.5. The power
    laws are fitted to the N >= ``fit_from`` (small N are pre-asymptotic, and for W = T/2 the even
    harmonics vanish so N = 2 repeats N = 1). ``on_step(N)`` is called after each N (progress reporting).
    """
    ns = [int(n) for n in harmonics]
    if not ns or min(ns) < 1:
        raise PinnError("the convergence study needs harmonics >= 1, for example 1 2 5 10 20 50")
    fitted = np.array(ns) >= fit_from
    if np.unique(np.array(ns)[fitted]).size < 2:
        raise PinnError(f"fitting a slope needs at least two different harmonics N >= {fit_from}")
    _check_oscillator(gamma, omega0)
    if not (math.isfinite(t1) and t1 > 0):
        raise PinnError(f"the final time must be positive, got {t1}")
    periods = t1 / wave.period
    # A grid commensurate with the period aliases harmonics n and M - n coherently (M points per period),
    # which biased the x' error at N = 200 by 1%; a golden-ratio fraction per period avoids it.
    per_period = math.floor(max(points_per_wavelength * (max(ns) + 1), 20000 / periods)) + 0.381966
    samples = int(round(per_period * periods)) + 1
    t = np.linspace(0.0, t1, samples)
    exact = square_wave_exact(wave, gamma, omega0, x0, v0, t)
    errors = np.empty((len(ns), 3))
    for i, n in enumerate(ns):
        approx = oscillator_exact(OscillatorParams(gamma, omega0, square_wave_drive(wave, n)), x0, v0, t)
        errors[i] = (relative_l2(approx[:, 0], exact[:, 0]), relative_l2(approx[:, 1], exact[:, 1]),
                     relative_l2(approx, exact))
        if on_step is not None:
            on_step(n)
    fits = [power_law_fit(np.array(ns)[fitted], errors[fitted, j]) for j in range(3)]
    return SeriesConvergence(np.array(ns), errors[:, 0], errors[:, 1], errors[:, 2],
                             fits[0][0], fits[1][0], fits[2][0], fits[0][1], fits[1][1], fits[2][1],
                             local_power_law_slopes(ns, errors[:, 0]), local_power_law_slopes(ns, errors[:, 1]),
                             int(fit_from), samples)
