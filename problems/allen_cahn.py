"""The Allen-Cahn reaction-diffusion equation with sharp interfaces (Raissi et al. 2019; Wang et al. 2023).

    u_t = eps u_xx + 5 (u - u^3),   x in [-1, 1) periodic,  t in [0, 1],   eps = 1e-4,
    u(x, 0) = x^2 cos(pi x).

The reaction drives u towards +-1 and the small diffusion leaves interfaces of width about sqrt(2 eps / 5)
= 6e-3 between the plateaus; the periodic extension of u0 has a kink at x = +-1 (u0' = -+2 there), which
diffusion smooths over a width sqrt(eps t). Reference: Fourier pseudo-spectral in x with ETDRK4 in t
(Kassam & Trefethen 2005; problems/allen_cahn_reference.py, self-converged to about 1e-12). Set-up of
M. Raissi, P. Perdikaris, G. E. Karniadakis, J. Comput. Phys. 378 (2019), and of S. Wang, S. Sankaran,
H. Wang, P. Perdikaris, "An expert's guide to training PINNs" (2023), whose best figure is 5.37e-5
(PirateNets: 2.24e-5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from pinn.errors import PinnError
from pinn.pde.config import LeastSquaresConfig
from pinn.spec import Parameter, PDESpec
from problems.allen_cahn_reference import allen_cahn_reference

if TYPE_CHECKING:
    import torch

    from pinn.pde.problem import Derivatives, PDEProblem


@dataclass(frozen=True)
class AllenCahnParams:
    """Diffusion eps > 0 (default 1e-4), reaction strength 5 (fixed by the reference), final time t1."""

    eps: float = 1e-4
    t1: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.eps) and self.eps > 0):
            raise PinnError(f"allen-cahn: the diffusion eps must be a positive number, got {self.eps}")
        if not (math.isfinite(self.t1) and self.t1 > 0):
            raise PinnError(f"allen-cahn: the final time must be positive, got {self.t1}")


def allen_cahn_residual(d: Derivatives, p: Mapping[str, float]) -> torch.Tensor:
    """R = u_t - eps u_xx - 5 (u - u^3)."""
    return d.u_t - p["eps"] * d.u_xx - p["reaction"] * (d.u - d.u ** 3)


def allen_cahn_initial_torch(x: torch.Tensor) -> torch.Tensor:
    """u0 = x^2 cos(pi x)."""
    return x ** 2 * (math.pi * x).cos()


def allen_cahn_problem(params: AllenCahnParams = AllenCahnParams()) -> PDEProblem:
    """The Allen-Cahn benchmark as a :class:`PDEProblem`, its reference the Fourier/ETDRK4 solution."""
    from pinn.pde.problem import Interval, PDEProblem, Periodic

    return PDEProblem(
        name="allen-cahn",
        domain=Interval(-1.0, 1.0),
        time=Interval(0.0, params.t1),
        residual=allen_cahn_residual,
        initial=allen_cahn_initial_torch,
        boundary=(Periodic("x"),),
        params={"eps": params.eps, "reaction": 5.0},
        reference=lambda x, t: allen_cahn_reference(np.asarray(x), np.asarray(t), eps=params.eps),
        description=f"u_t = eps u_xx + 5 (u - u^3) on [-1, 1) periodic, eps = {params.eps:g}, "
                    "u0 = x^2 cos(pi x)",
    )


LEAST_SQUARES = LeastSquaresConfig(block=0.05, first_block=0.05 / 64, edges=tuple(np.linspace(-1.0, 1.0, 9)[:-1]),
                                   features=100, points_x=24, points_s=12, adapt=True, min_width=2.5e-4)
"""Default solver settings: relative L2 1.3e-7 in about 70 s of one core (benchmarks/pde_accuracy.py).
8 equal cells with an interface at x = +-1, where the periodic extension of u0 has its kink, split
automatically (down to 2.5e-4 wide) towards the kink and towards the interfaces as they form; the first
block 1/64 of the others, each next one twice as long, to resolve the initial layer that diffusion spreads
from the kink (width sqrt(eps t)). Without the graded start the error is 1e-5, dominated by that layer."""


SPEC = PDESpec(
    name="allen-cahn",
    title="the Allen-Cahn equation, stiff reaction-diffusion, periodic",
    equations="u_t = eps u_xx + 5 (u - u^3)",
    parameters=(Parameter("eps", 1e-4, "Diffusion eps (the benchmark's 1e-4).", 0.0, 1.0, strict=True,
                          plausible=(1e-5, 1e-3)),),
    build=lambda v: allen_cahn_problem(AllenCahnParams(eps=v["eps"], t1=v["t1"])),
    least_squares=lambda v: LEAST_SQUARES,
    domain="x in [-1, 1) periodic, t in [0, 1]",
    conditions="u(x, 0) = x^2 cos(pi x); periodic in x",
    reference="Fourier pseudo-spectral with ETDRK4 (Kassam & Trefethen 2005), converged in modes and step",
    source="Raissi et al. 2019; Wang et al. 2023",
)
