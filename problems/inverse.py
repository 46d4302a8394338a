"""Parametric forms of the Lorenz system and the cosine-driven oscillator, for ``pinn identify``.

Each is a :class:`pinn.inverse.ParametricODE`: the right-hand side takes the constants by name (as tensors
when they are estimated), and every constant has a plausible range, searched for default initial guesses.

Lorenz (see :mod:`problems.lorenz`): dx/dt = sigma (y - x), dy/dt = x (rho - z) - y, dz/dt = x y - beta z.
Defaults sigma = 10, rho = 28, beta = 8/3 (Lorenz 1963), initial state (-8, 7, 27), t in [0, 8].
Ranges: sigma in [1, 30], rho in [1, 50], beta in [0.5, 5], which hold the values studied in the literature.

Driven oscillator (see :mod:`problems.oscillator`): x'' + 2 gamma x' + omega0^2 x = amplitude cos(omega t),
as the first-order system (x, v)' = (v, amplitude cos(omega t) - 2 gamma v - omega0^2 x). Defaults gamma = 0.2,
omega0 = 1, omega = 0.5, amplitude = 1, x(0) = 1, v(0) = 0, t in [0, 20] (the lecture notes' example).
Ranges: gamma in [0, 1] (up to overdamped), omega0 in [0.2, 3], omega in [0.1, 3], amplitude in [-5, 5].
The frequencies enter nonlinearly, so the initial search tries 20 values of each across its range (steps of
about 0.15 < pi / 20, so that one value lies within reach of the true frequency for records up to about 20
time units long); the other constants enter linearly and start at the centre of their range.
"""

from __future__ import annotations

from typing import Mapping

import torch

from pinn.inverse.model import ParametricODE


def lorenz_parametric_rhs(t: torch.Tensor, u: torch.Tensor, p: Mapping[str, torch.Tensor | float]) -> torch.Tensor:
    """(sigma (y - x), x (rho - z) - y, x y - beta z): t (n, 1), u (n, 3) -> (n, 3)."""
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    return torch.stack((p["sigma"] * (y - x), x * (p["rho"] - z) - y, x * y - p["beta"] * z), dim=1)


def driven_oscillator_rhs(t: torch.Tensor, u: torch.Tensor, p: Mapping[str, torch.Tensor | float]) -> torch.Tensor:
    """(v, amplitude cos(omega t) - 2 gamma v - omega0^2 x): t (n, 1), u (n, 2) -> (n, 2)."""
    x, v = u[:, 0], u[:, 1]
    drive = p["amplitude"] * torch.cos(p["omega"] * t[:, 0])
    return torch.stack((v, drive - 2.0 * p["gamma"] * v - p["omega0"] ** 2 * x), dim=1)


LORENZ = ParametricODE(
    name="lorenz",
    rhs=lorenz_parametric_rhs,
    components=("x", "y", "z"),
    values={"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0},
    ranges={"sigma": (1.0, 30.0), "rho": (1.0, 50.0), "beta": (0.5, 5.0)},
    u0=(-8.0, 7.0, 27.0),
    t0=0.0,
    t1=8.0,
    window=0.2,
    equations="x' = sigma (y - x), y' = x (rho - z) - y, z' = x y - beta z",
)

OSCILLATOR = ParametricODE(
    name="oscillator",
    rhs=driven_oscillator_rhs,
    components=("x", "v"),
    values={"gamma": 0.2, "omega0": 1.0, "omega": 0.5, "amplitude": 1.0},
    ranges={"gamma": (0.0, 1.0), "omega0": (0.2, 3.0), "omega": (0.1, 3.0), "amplitude": (-5.0, 5.0)},
    u0=(1.0, 0.0),
    t0=0.0,
    t1=20.0,
    window=1.0,
    order=2,
    grid={"omega": 20, "omega0": 20},
    equations="x'' + 2 gamma x' + omega0^2 x = amplitude cos(omega t), v = x'",
)

PARAMETRIC_PROBLEMS: dict[str, ParametricODE] = {m.name: m for m in (LORENZ, OSCILLATOR)}
"""The identifiable problems by name."""
