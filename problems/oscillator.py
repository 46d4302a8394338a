"""The damped driven oscillator of the lecture notes, x'' + 2 gamma x' + omega0^2 x = F(t).

Dimensionless (time in units of 1 / omega0, the notes use omega0 = 1). The drive is a Fourier series
F(t) = a0 + sum_n [f_n cos(n w t) + g_n sin(n w t)]; the cosine drive F cos(Omega t) is the one-term case.
Defaults from the notes' RK4 example: gamma = 0.2, Omega = 0.5, F = 1, x(0) = 1, x'(0) = 0, t in [0, 20].

Exact solution: transient + steady state. Each harmonic cos(W t) (or sin) gives the steady response
cos(W t - delta) / sqrt((omega0^2 - W^2)^2 + (2 gamma W)^2), delta = atan2(2 gamma W, omega0^2 - W^2); the
constant a0 gives a0 / omega0^2. The transient solves the homogeneous equation with the initial conditions
minus the steady state's, in closed form for under-, critically and over-damped cases.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.problem import ODEProblem


@dataclass(frozen=True)
class HarmonicDrive:
    """F(t) = a0 + sum_k [cos_amp_k cos(freq_k t) + sin_amp_k sin(freq_k t)] (angular frequencies freq_k)."""

    a0: float = 0.0
    freqs: tuple[float, ...] = ()
    cos_amps: tuple[float, ...] = ()
    sin_amps: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not len(self.freqs) == len(self.cos_amps) == len(self.sin_amps):
            raise PinnError("HarmonicDrive needs one cosine and one sine amplitude per frequency")

    def torch(self, t: torch.Tensor) -> torch.Tensor:
        """F(t) for t (n, 1) -> (n,)."""
        t = t[:, 0]
        if not self.freqs:
            return torch.full_like(t, self.a0)
        w = torch.tensor(self.freqs, dtype=t.dtype, device=t.device)
        fa = torch.tensor(self.cos_amps, dtype=t.dtype, device=t.device)
        ga = torch.tensor(self.sin_amps, dtype=t.dtype, device=t.device)
        phase = t[:, None] * w[None, :]
        return self.a0 + torch.cos(phase) @ fa + torch.sin(phase) @ ga

    def numpy(self, t: np.ndarray) -> np.ndarray:
        """F(t) for t (n,) -> (n,)."""
        phase = np.outer(t, self.freqs)
        return self.a0 + np.cos(phase) @ np.asarray(self.cos_amps) + np.sin(phase) @ np.asarray(self.sin_amps)


def cosine_drive(amplitude: float, omega: float) -> HarmonicDrive:
    """F(t) = amplitude cos(omega t)."""
    return HarmonicDrive(0.0, (float(omega),), (float(amplitude),), (0.0,))


@dataclass(frozen=True)
class OscillatorParams:
    """Damping gamma (x'' + 2 gamma x' + omega0^2 x = F), natural frequency omega0, and the drive."""

    gamma: float = 0.2
    omega0: float = 1.0
    drive: HarmonicDrive = field(default_factory=lambda: cosine_drive(1.0, 0.5))


def steady_state_amplitude(gamma: float, omega0: float, w: float | np.ndarray) -> float | np.ndarray:
    """Response per unit drive at angular frequency w: 1 / sqrt((omega0^2 - w^2)^2 + (2 gamma w)^2)."""
    return 1.0 / np.sqrt((omega0 ** 2 - w ** 2) ** 2 + (2.0 * gamma * w) ** 2)


def steady_state(p: OscillatorParams, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Particular (steady-state) solution x_p(t) and its derivative for the harmonic drive: (n,), (n,)."""
    t = np.asarray(t, dtype=float)
    x = np.full_like(t, p.drive.a0 / p.omega0 ** 2)
    v = np.zeros_like(t)
    for w, fa, ga in zip(p.drive.freqs, p.drive.cos_amps, p.drive.sin_amps):
        amp = steady_state_amplitude(p.gamma, p.omega0, w)
        delta = np.arctan2(2.0 * p.gamma * w, p.omega0 ** 2 - w ** 2)
        ph = w * t - delta
        x += amp * (fa * np.cos(ph) + ga * np.sin(ph))
        v += amp * w * (-fa * np.sin(ph) + ga * np.cos(ph))
    return x, v


def homogeneous(gamma: float, omega0: float, x0: float, v0: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solution of x'' + 2 gamma x' + omega0^2 x = 0 with x(0) = x0, x'(0) = v0: x(t), x'(t)."""
    t = np.asarray(t, dtype=float)
    disc = gamma ** 2 - omega0 ** 2
    decay = np.exp(-gamma * t)
    if abs(disc) < 1e-14:  # critically damped: (c1 + c2 t) e^{-gamma t}
        c1, c2 = x0, v0 + gamma * x0
        x = (c1 + c2 * t) * decay
        v = (c2 - gamma * (c1 + c2 * t)) * decay
    elif disc < 0:  # underdamped
        wd = np.sqrt(-disc)
        c1, c2 = x0, (v0 + gamma * x0) / wd
        cos, sin = np.cos(wd * t), np.sin(wd * t)
        x = decay * (c1 * cos + c2 * sin)
        v = decay * ((-gamma * c1 + wd * c2) * cos + (-gamma * c2 - wd * c1) * sin)
    else:  # overdamped: two real exponentials
        s = np.sqrt(disc)
        r1, r2 = -gamma + s, -gamma - s
        c1 = (v0 - r2 * x0) / (r1 - r2)
        c2 = x0 - c1
        x = c1 * np.exp(r1 * t) + c2 * np.exp(r2 * t)
        v = c1 * r1 * np.exp(r1 * t) + c2 * r2 * np.exp(r2 * t)
    return x, v


def oscillator_exact(p: OscillatorParams, x0: float, v0: float, t: np.ndarray, t0: float = 0.0) -> np.ndarray:
    """Closed-form (x, v) at times t for the harmonic drive: transient + steady state, (n, 2)."""
    t = np.asarray(t, dtype=float)
    xp0, vp0 = steady_state(p, np.array([t0]))
    xh, vh = homogeneous(p.gamma, p.omega0, x0 - xp0[0], v0 - vp0[0], t - t0)
    xp, vp = steady_state(p, t)
    return np.stack((xh + xp, vh + vp), axis=1)


def oscillator_rhs(t: torch.Tensor, u: torch.Tensor, p: OscillatorParams) -> torch.Tensor:
    """(x, v)' = (v, F(t) - 2 gamma v - omega0^2 x); t (n, 1), u (n, 2) -> (n, 2)."""
    x, v = u[:, 0], u[:, 1]
    return torch.stack((v, p.drive.torch(t) - 2.0 * p.gamma * v - p.omega0 ** 2 * x), dim=1)


def oscillator_problem(params: OscillatorParams = OscillatorParams(), x0: float = 1.0, v0: float = 0.0,
                       t0: float = 0.0, t1: float = 20.0) -> ODEProblem:
    """The driven oscillator as a first-order system in (x, v) with its closed-form reference."""
    if params.gamma < 0 or params.omega0 <= 0:
        raise PinnError("the oscillator needs gamma >= 0 and omega0 > 0")
    record = {"gamma": params.gamma, "omega0": params.omega0}
    if len(params.drive.freqs) == 1 and params.drive.a0 == 0 and params.drive.sin_amps[0] == 0:
        record.update(omega=params.drive.freqs[0], amplitude=params.drive.cos_amps[0])
    else:
        record.update(harmonics=len(params.drive.freqs))
    return ODEProblem(
        name="oscillator",
        rhs=lambda t, u: oscillator_rhs(t, u, params),
        u0=(float(x0), float(v0)),
        t0=float(t0),
        t1=float(t1),
        components=("x", "v"),
        params=record,
        reference=lambda t: oscillator_exact(params, x0, v0, t, t0),
        order=2,
    )


def oscillator_from_drive(drive: HarmonicDrive, gamma: float = 0.2, omega0: float = 1.0,
                          x0: float = 0.0, v0: float = 0.0, t1: float = 20.0,
                          breakpoints: Sequence[float] = ()) -> ODEProblem:
    """Convenience: the oscillator driven by ``drive`` (see :func:`oscillator_problem`)."""
    from dataclasses import replace

    prob = oscillator_problem(OscillatorParams(gamma, omega0, drive), x0, v0, 0.0, t1)
    return replace(prob, breakpoints=tuple(breakpoints))


class Forcing(str, enum.Enum):
    """Drive of the oscillator: a cosine, or the notes' square wave (Fourier series or exact)."""

    cos = "cos"
    square = "square"
