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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

import numpy as np

from pinn.errors import PinnError
from pinn.problem import ODEProblem
from pinn.spec import ODESpec, Parameter, SurrogateSettings, stack_components

if TYPE_CHECKING:
    import torch


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

    def torch(self, t: "torch.Tensor") -> "torch.Tensor":
        """F(t) for t (n, 1) -> (n,)."""
        import torch

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


def oscillator_rhs(t: Any, u: Any, p: Mapping[str, Any], drive: Optional[Callable[[Any], Any]] = None) -> tuple:
    """(x, v)' = (v, F(t) - 2 gamma v - omega0^2 x): t (n, 1), u (n, 2) -> two (n,) components.

    F(t) = amplitude cos(omega t) from ``p`` unless ``drive`` gives F: t (n, 1) -> (n,) (a Fourier series or
    the discontinuous square wave).
    """
    x, v = u[:, 0], u[:, 1]
    force = drive(t) if drive is not None else p["amplitude"] * (p["omega"] * t[:, 0]).cos()
    return v, force - 2.0 * p["gamma"] * v - p["omega0"] ** 2 * x


def oscillator_problem(params: OscillatorParams = OscillatorParams(), x0: float = 1.0, v0: float = 0.0,
                       t0: float = 0.0, t1: float = 20.0) -> ODEProblem:
    """The oscillator driven by ``params.drive`` as a first-order system in (x, v), with its closed form."""
    if params.gamma < 0 or params.omega0 <= 0:
        raise PinnError("the oscillator needs gamma >= 0 and omega0 > 0")
    record = {"gamma": params.gamma, "omega0": params.omega0}
    if len(params.drive.freqs) == 1 and params.drive.a0 == 0 and params.drive.sin_amps[0] == 0:
        record.update(omega=params.drive.freqs[0], amplitude=params.drive.cos_amps[0])
    else:
        record.update(harmonics=len(params.drive.freqs))
    return ODEProblem(
        name="oscillator",
        rhs=lambda t, u: stack_components(oscillator_rhs(t, u, record, params.drive.torch)),
        u0=(float(x0), float(v0)),
        t0=float(t0),
        t1=float(t1),
        components=("x", "v"),
        params=record,
        reference=lambda t: oscillator_exact(params, x0, v0, t, t0),
        order=2,
        window=0.5,
    )


def oscillator_from_drive(drive: HarmonicDrive, gamma: float = 0.2, omega0: float = 1.0,
                          x0: float = 0.0, v0: float = 0.0, t1: float = 20.0,
                          breakpoints: Sequence[float] = ()) -> ODEProblem:
    """Convenience: the oscillator driven by ``drive`` (see :func:`oscillator_problem`)."""
    prob = oscillator_problem(OscillatorParams(gamma, omega0, drive), x0, v0, 0.0, t1)
    return replace(prob, breakpoints=tuple(breakpoints))


class Forcing(str, enum.Enum):
    """Drive of the oscillator: a cosine, or the notes' square wave (Fourier series or exact)."""

    cos = "cos"
    square = "square"


def _build(spec: ODESpec, values: Mapping[str, Any], u0: Optional[Sequence[float]], t0: float,
           t1: float) -> ODEProblem:
    """The cosine-driven problem (the spec's right-hand side, closed form) or the square-wave-driven one."""
    if Forcing(values["forcing"]) is Forcing.square:
        from problems.square_wave import SquareWave, square_wave_problem

        if t0 != 0.0:
            raise PinnError("the square-wave drive starts at t = 0; leave --t0 at 0")
        x0, v0 = u0 if u0 is not None else (0.0, 0.0)
        wave = SquareWave(values["period"], values["width"], values["fmax"])
        return square_wave_problem(wave, values["harmonics"], values["gamma"], values["omega0"], x0, v0, t1)
    x0, v0 = u0 if u0 is not None else spec.u0
    drive = cosine_drive(values["amplitude"], values["omega"])
    return oscillator_problem(OscillatorParams(values["gamma"], values["omega0"], drive), x0, v0, t0, t1)


def _relations(values: Mapping[str, Any]) -> None:
    if Forcing(values["forcing"]) is Forcing.square and not values["width"] < values["period"]:
        raise PinnError(f"oscillator: the square wave's --width ({values['width']:g}) must be shorter than its "
                        f"--period ({values['period']:g})")


OSCILLATOR = ODESpec(
    name="oscillator",
    title="the damped driven oscillator, cosine or square-wave drive (the notes' RK4 and Fourier examples)",
    equations="x'' + 2 gamma x' + omega0^2 x = F(t),  F = amplitude cos(omega t) or the notes' square wave",
    rhs=oscillator_rhs,
    components=("x", "v"),
    parameters=(
        Parameter("forcing", Forcing.cos, "cos: amplitude cos(omega t); square: the notes' square wave (its "
                  "Fourier series, or the exact discontinuous wave with --harmonics 0).", choices=Forcing,
                  in_rhs=False),
        Parameter("gamma", 0.2, "Damping gamma (notes: 0.2).", 0.0, 1e3, plausible=(0.0, 1.0)),
        Parameter("omega0", 1.0, "Natural angular frequency omega0 (notes: 1; at least 1e-6, so that omega0^2 "
                  "stays a normal number).", 1e-6, 1e3, plausible=(0.2, 3.0), grid=20),
        Parameter("omega", 0.5, "cos: drive angular frequency (notes: 0.5).", 0.0, 1e3, strict=True,
                  plausible=(0.1, 3.0), grid=20),
        Parameter("amplitude", 1.0, "cos: drive amplitude F (notes: 1).", -1e6, 1e6, plausible=(-5.0, 5.0)),
        Parameter("period", 0.2, "square: period T (notes: 0.2).", 0.0, 1e6, strict=True, in_rhs=False),
        Parameter("width", 0.1, "square: pulse width W, 0 < W < T (notes: 0.1).", 0.0, 1e6, strict=True,
                  in_rhs=False),
        Parameter("fmax", 2.0, "square: height of the pulse (notes: 2).", -1e6, 1e6, in_rhs=False),
        Parameter("harmonics", 20, "square: Fourier terms N (0 = the exact discontinuous wave).", 0, 2000,
                  integer=True, in_rhs=False),
    ),
    u0=(1.0, 0.0),
    t1=20.0,
    source="the lecture notes' RK4 and Fourier-series examples",
    order=2,
    window=0.5,
    identify_window=1.0,
    build=_build,
    relations=_relations,
    surrogate=SurrogateSettings(trajectories=20, test_trajectories=5, dt=0.01, t_final=20.0, box=(-2.0, 2.0),
                                substeps=10, horizon=40.0, lyapunov=0.0, drive_freqs=(0.5,)),
    identifiable_note="identification uses the cosine drive",
    initial_state_note="x(0) = 1, x'(0) = 0 (cosine drive); x(0) = 0, x'(0) = 0 (square drive)",
)
