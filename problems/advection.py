"""Linear advection on a periodic interval at high speed (Wang et al. 2023's hard case).

    u_t + c u_x = 0,   x in [0, 2 pi) periodic,  t in [0, 1],
    u(x, 0) = sin x,   c = 80,

exact solution u = sin(x - c t) (the initial profile carried at speed c: 80 / (2 pi) = 12.7 periods).
Set-up of S. Wang, S. Sankaran, H. Wang, P. Perdikaris, "An expert's guide to training physics-informed
neural networks" (2023), section 6.1 (their "advection" benchmark with c = 80).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from pinn.errors import PinnError
from pinn.pde.config import LeastSquaresConfig
from pinn.spec import Parameter, PDESpec

if TYPE_CHECKING:
    import torch

    from pinn.pde.problem import Derivatives, PDEProblem


@dataclass(frozen=True)
class AdvectionParams:
    """Advection speed c (any finite real; the default 80 is the benchmark's) and final time t1."""

    speed: float = 80.0
    t1: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.speed):
            raise PinnError(f"advection: the speed must be a finite number, got {self.speed}")
        if not (math.isfinite(self.t1) and self.t1 > 0):
            raise PinnError(f"advection: the final time must be positive, got {self.t1}")


def advection_residual(d: Derivatives, p: Mapping[str, float]) -> torch.Tensor:
    """R = u_t + c u_x."""
    return d.u_t + p["speed"] * d.u_x


def advection_exact(x: torch.Tensor, t: torch.Tensor, speed: float) -> torch.Tensor:
    """u = sin(x - c t)."""
    return (x - speed * t).sin()


def advection_problem(params: AdvectionParams = AdvectionParams()) -> PDEProblem:
    """The advection benchmark as a :class:`PDEProblem` (periodic in x; exact solution attached)."""
    from pinn.pde.problem import Interval, PDEProblem, Periodic

    return PDEProblem(
        name="advection",
        domain=Interval(0.0, 2.0 * math.pi),
        time=Interval(0.0, params.t1),
        residual=advection_residual,
        initial=lambda x: x.sin(),
        boundary=(Periodic("x"),),
        params={"speed": params.speed},
        exact=lambda x, t: advection_exact(x, t, params.speed),
        description=f"u_t + c u_x = 0 on [0, 2 pi) periodic, u0 = sin x, c = {params.speed:g}",
    )


def advection_least_squares(speed: float = 80.0) -> LeastSquaresConfig:
    """Default solver settings for speed c: time blocks short enough that the profile moves at most about
    1.6 rad per block (features resolve a bounded number of oscillations per block)."""
    block = 1.0 / max(1, math.ceil(abs(speed) / 1.6)) if speed else 0.1
    return LeastSquaresConfig(block=block, cells=4, features=100, points_x=20, points_s=12)


LEAST_SQUARES = advection_least_squares()
"""Default solver settings for the benchmark's c = 80: 50 blocks of 4 cells x 100 sine features; relative L2
6.6e-12 in about 1.5 s (benchmarks/pde_accuracy.py)."""


SPEC = PDESpec(
    name="advection",
    title="linear advection, periodic, at high speed",
    equations="u_t + c u_x = 0",
    parameters=(Parameter("speed", 80.0, "Advection speed c (the benchmark's 80).", -1e4, 1e4,
                          plausible=(1.0, 100.0)),),
    build=lambda v: advection_problem(AdvectionParams(speed=v["speed"], t1=v["t1"])),
    least_squares=lambda v: advection_least_squares(v["speed"]),
    domain="x in [0, 2 pi) periodic, t in [0, 1]",
    conditions="u(x, 0) = sin x; periodic in x",
    reference="exact: sin(x - c t)",
    source="Wang, Sankaran, Wang & Perdikaris, 'An expert's guide to training PINNs' (2023)",
)
