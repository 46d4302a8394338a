"""The Lorenz system (Lorenz 1963), the lecture notes' chaotic example.

    dx/dt = sigma (y - x)
    dy/dt = x (rho - z) - y
    dz/dt = x y - beta z

Dimensionless. Defaults sigma = 10, rho = 28, beta = 8/3 (Lorenz's values, used in the notes), initial state
(-8, 7, 27) and t in [0, 8] (the notes' horizon). The largest Lyapunov exponent at these values is about 0.906.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from pinn.problem import ODEProblem


@dataclass(frozen=True)
class LorenzParams:
    """Constants of the Lorenz system: Prandtl number sigma, Rayleigh ratio rho, geometric factor beta."""

    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0


def lorenz_rhs(t: torch.Tensor, u: torch.Tensor, p: LorenzParams = LorenzParams()) -> torch.Tensor:
    """(dx/dt, dy/dt, dz/dt) = (sigma (y - x), x (rho - z) - y, x y - beta z); u (n, 3) -> (n, 3)."""
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    return torch.stack((p.sigma * (y - x), x * (p.rho - z) - y, x * y - p.beta * z), dim=1)


def lorenz_problem(params: LorenzParams = LorenzParams(), u0: Sequence[float] = (-8.0, 7.0, 27.0),
                   t0: float = 0.0, t1: float = 8.0) -> ODEProblem:
    """The Lorenz system as an :class:`ODEProblem`; its reference is DOP853 at rtol = atol = 1e-13."""
    return ODEProblem(
        name="lorenz",
        rhs=lambda t, u: lorenz_rhs(t, u, params),
        u0=tuple(float(v) for v in u0),
        t0=float(t0),
        t1=float(t1),
        components=("x", "y", "z"),
        params={"sigma": params.sigma, "rho": params.rho, "beta": params.beta},
    )
