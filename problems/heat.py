"""The heat equation with two decaying Fourier modes (the issue's benchmark set-up).

    u_t = kappa u_xx,   x in [0, 1],  t in [0, 1],
    u(0, t) = u(1, t) = 0,
    u(x, 0) = sin(pi x) + 0.5 sin(3 pi x),

exact solution u = exp(-kappa pi^2 t) sin(pi x) + 0.5 exp(-9 kappa pi^2 t) sin(3 pi x) (separation of
variables). Default kappa = 0.1 (dimensionless diffusivity; the set-up of issue 17's problem table).
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
class HeatParams:
    """Diffusivity kappa > 0 and final time t1."""

    kappa: float = 0.1
    t1: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.kappa) and self.kappa > 0):
            raise PinnError(f"heat: the diffusivity kappa must be a positive number, got {self.kappa}")
        if not (math.isfinite(self.t1) and self.t1 > 0):
            raise PinnError(f"heat: the final time must be positive, got {self.t1}")


def heat_residual(d: Derivatives, p: Mapping[str, float]) -> torch.Tensor:
    """R = u_t - kappa u_xx."""
    return d.u_t - p["kappa"] * d.u_xx


def heat_exact(x: torch.Tensor, t: torch.Tensor, kappa: float) -> torch.Tensor:
    """u = exp(-kappa pi^2 t) sin(pi x) + 0.5 exp(-9 kappa pi^2 t) sin(3 pi x)."""
    k = kappa * math.pi ** 2
    return (-k * t).exp() * (math.pi * x).sin() + 0.5 * (-9.0 * k * t).exp() * (3 * math.pi * x).sin()


def heat_problem(params: HeatParams = HeatParams()) -> PDEProblem:
    """The heat benchmark as a :class:`PDEProblem` (exact solution attached)."""
    from pinn.pde.problem import Dirichlet, Interval, PDEProblem

    return PDEProblem(
        name="heat",
        domain=Interval(0.0, 1.0),
        time=Interval(0.0, params.t1),
        residual=heat_residual,
        initial=lambda x: heat_exact(x, 0.0 * x, params.kappa),
        boundary=(Dirichlet("left"), Dirichlet("right")),
        params={"kappa": params.kappa},
        exact=lambda x, t: heat_exact(x, t, params.kappa),
        description="u_t = kappa u_xx on [0, 1], u = 0 at both ends, u0 = sin(pi x) + 0.5 sin(3 pi x)",
    )


LEAST_SQUARES = LeastSquaresConfig(block=0.1, cells=4, features=100, points_x=24, points_s=12)
"""Default solver settings: 10 blocks of 4 cells x 100 sine features; relative L2 1.0e-12 in about 2 s
(benchmarks/pde_accuracy.py)."""


SPEC = PDESpec(
    name="heat",
    title="the heat equation, two decaying modes",
    equations="u_t = kappa u_xx",
    parameters=(Parameter("kappa", 0.1, "Diffusivity kappa (issue 17's set-up: 0.1).", 0.0, 1e3, strict=True,
                          plausible=(0.01, 1.0)),),
    build=lambda v: heat_problem(HeatParams(kappa=v["kappa"], t1=v["t1"])),
    least_squares=lambda v: LEAST_SQUARES,
    domain="x in [0, 1], t in [0, 1]",
    conditions="u(x, 0) = sin(pi x) + 0.5 sin(3 pi x); u(0, t) = u(1, t) = 0",
    reference="exact (separation of variables)",
    source="issue 17's benchmark table",
)
