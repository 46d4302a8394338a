"""Viscous Burgers' equation with a steepening front (Raissi, Perdikaris & Karniadakis 2019).

    u_t + u u_x = nu u_xx,   x in [-1, 1],  t in [0, 1],   nu = 0.01 / pi,
    u(x, 0) = -sin(pi x),   u(-1, t) = u(1, t) = 0.

The two halves of the sine run into each other at x = 0 and form a front of width about nu / |u| = 3e-3 by
t = 0.4 (steepest slope |u_x| about 150 near t = 0.5), which then decays slowly. Reference: the Cole-Hopf
integrals by trapezoidal quadrature (problems/burgers_reference.py, accurate to round-off, checked against a
Fourier/ETDRK4 solve). Set-up of M. Raissi, P. Perdikaris, G. E. Karniadakis, J. Comput. Phys. 378,
686-707 (2019), section 3.1 (their figure: relative L2 6.7e-4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from pinn.errors import PinnError
from pinn.pde.config import LeastSquaresConfig
from pinn.spec import Parameter, PDESpec
from problems.burgers_reference import burgers_cole_hopf

if TYPE_CHECKING:
    import torch

    from pinn.pde.problem import Derivatives, PDEProblem


@dataclass(frozen=True)
class BurgersParams:
    """Viscosity nu > 0 (default 0.01/pi) and final time t1."""

    nu: float = 0.01 / math.pi
    t1: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.nu) and self.nu > 0):
            raise PinnError(f"burgers: the viscosity nu must be a positive number, got {self.nu}")
        if not (math.isfinite(self.t1) and self.t1 > 0):
            raise PinnError(f"burgers: the final time must be positive, got {self.t1}")


def burgers_residual(d: Derivatives, p: Mapping[str, float]) -> torch.Tensor:
    """R = u_t + u u_x - nu u_xx."""
    return d.u_t + d.u * d.u_x - p["nu"] * d.u_xx


def burgers_initial(x: torch.Tensor) -> torch.Tensor:
    """u0 = -sin(pi x)."""
    return -(math.pi * x).sin()


def burgers_problem(params: BurgersParams = BurgersParams()) -> PDEProblem:
    """The Burgers benchmark as a :class:`PDEProblem`, its reference the Cole-Hopf solution."""
    from pinn.pde.problem import Dirichlet, Interval, PDEProblem

    return PDEProblem(
        name="burgers",
        domain=Interval(-1.0, 1.0),
        time=Interval(0.0, params.t1),
        residual=burgers_residual,
        initial=burgers_initial,
        boundary=(Dirichlet("left"), Dirichlet("right")),
        params={"nu": params.nu},
        reference=lambda x, t: burgers_cole_hopf(np.asarray(x), np.asarray(t), params.nu),
        description=f"u_t + u u_x = nu u_xx on [-1, 1], nu = {params.nu:.6g}, u0 = -sin(pi x), u(+-1, t) = 0",
    )


LEAST_SQUARES = LeastSquaresConfig(block=0.05, cells=8, features=100, points_x=24, points_s=12, adapt=True)
"""Default solver settings: 8 equal cells to start, split automatically towards the front as it forms
(about 20 cells from t = 0.4 on, the smallest 1/128 wide at x = 0); relative L2 2.5e-10 to 3.0e-9 over
feature seeds 0, 1, 2 in about 12 s (benchmarks/pde_accuracy.py)."""


SPEC = PDESpec(
    name="burgers",
    title="viscous Burgers' equation with a steep front (Raissi et al.'s benchmark)",
    equations="u_t + u u_x = nu u_xx",
    parameters=(Parameter("nu", 0.01 / math.pi, "Viscosity nu (Raissi et al. 2019: 0.01/pi).", 1e-5, 10.0,
                          plausible=(1e-3, 1e-2), shown="0.01/pi"),),
    build=lambda v: burgers_problem(BurgersParams(nu=v["nu"], t1=v["t1"])),
    least_squares=lambda v: LEAST_SQUARES,
    domain="x in [-1, 1], t in [0, 1]",
    conditions="u(x, 0) = -sin(pi x); u(-1, t) = u(1, t) = 0",
    reference="Cole-Hopf integrals by quadrature (round-off accurate; checked against a Fourier/ETDRK4 solve)",
    source="Raissi, Perdikaris & Karniadakis, J. Comput. Phys. 378 (2019)",
)
