"""The Helmholtz equation on [-1, 1]^2 with a manufactured solution (Wang, Teng & Perdikaris 2021).

    u_xx + u_yy + k^2 u = q(x, y)  on [-1, 1]^2,   u = 0 on the boundary,
    u = sin(a1 pi x) sin(a2 pi y),   q = (k^2 - (a1^2 + a2^2) pi^2) u,

defaults k = 1, a1 = 1, a2 = 4 (S. Wang, Y. Teng, P. Perdikaris, "Understanding and mitigating gradient flow
pathologies in physics-informed neural networks", SIAM J. Sci. Comput. 43, A3055-A3081, 2021, section 2.3).
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
class HelmholtzParams:
    """Wave number k and the mode numbers a1 (along x), a2 (along y) of the exact solution."""

    k: float = 1.0
    a1: float = 1.0
    a2: float = 4.0

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.k, self.a1, self.a2)):
            raise PinnError("helmholtz2d: k, a1 and a2 must be finite numbers")
        if self.k < 0:
            raise PinnError(f"helmholtz2d: the wave number k must be >= 0, got {self.k}")


def helmholtz_exact(x: torch.Tensor, y: torch.Tensor, a1: float, a2: float) -> torch.Tensor:
    """u = sin(a1 pi x) sin(a2 pi y)."""
    return (a1 * math.pi * x).sin() * (a2 * math.pi * y).sin()


def helmholtz_residual(d: Derivatives, p: Mapping[str, float]) -> torch.Tensor:
    """R = u_xx + u_yy + k^2 u - q(x, y), q = (k^2 - (a1^2 + a2^2) pi^2) sin(a1 pi x) sin(a2 pi y)."""
    k2 = p["k"] ** 2
    q = (k2 - (p["a1"] ** 2 + p["a2"] ** 2) * math.pi ** 2) * helmholtz_exact(d.x, d.y, p["a1"], p["a2"])
    return d.u_xx + d.u_yy + k2 * d.u - q


def helmholtz2d_problem(params: HelmholtzParams = HelmholtzParams()) -> PDEProblem:
    """The Helmholtz benchmark as a :class:`PDEProblem` (exact solution attached)."""
    from pinn.pde.problem import Dirichlet, Interval, PDEProblem, Rectangle, Side

    return PDEProblem(
        name="helmholtz2d",
        domain=Rectangle(Interval(-1.0, 1.0), Interval(-1.0, 1.0)),
        residual=helmholtz_residual,
        boundary=tuple(Dirichlet(side) for side in Side),
        params={"k": params.k, "a1": params.a1, "a2": params.a2},
        exact=lambda x, y: helmholtz_exact(x, y, params.a1, params.a2),
        description="u_xx + u_yy + k^2 u = q on [-1, 1]^2, u = 0 on the boundary, u = sin(pi x) sin(4 pi y)",
    )


LEAST_SQUARES = LeastSquaresConfig(cells=4, cells_y=4, features=200, scale=3.0, points_x=20, points_s=20)
"""Default solver settings: 4 x 4 cells of 200 sine features, one linear solve; relative L2 1.2e-10 in
about 2 s (benchmarks/pde_accuracy.py)."""


SPEC = PDESpec(
    name="helmholtz2d",
    title="the Helmholtz equation on [-1, 1]^2 (steady, 2-D)",
    equations="u_xx + u_yy + k^2 u = q(x, y)",
    parameters=(Parameter("k", 1.0, "Wave number k.", 0.0, 1e3),
                Parameter("a1", 1.0, "Mode number of the exact solution along x.", -1e3, 1e3, in_rhs=False),
                Parameter("a2", 4.0, "Mode number of the exact solution along y.", -1e3, 1e3, in_rhs=False)),
    build=lambda v: helmholtz2d_problem(HelmholtzParams(k=v["k"], a1=v["a1"], a2=v["a2"])),
    least_squares=lambda v: LEAST_SQUARES,
    domain="(x, y) in [-1, 1]^2",
    conditions="u = 0 on the boundary; q from u = sin(pi x) sin(4 pi y)",
    reference="exact (manufactured solution)",
    source="Wang, Teng & Perdikaris, SIAM J. Sci. Comput. 43 (2021)",
    t1=None,
)
