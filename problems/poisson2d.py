"""The Poisson equation on the unit square with a two-scale manufactured solution (issue 17's set-up).

    -(u_xx + u_yy) = f(x, y)  on [0, 1]^2,   u = 0 on the boundary,
    u = sin(2 pi x) sin(2 pi y) + a sin(8 pi x) sin(8 pi y),   a = 0.1,
    f = 8 pi^2 sin(2 pi x) sin(2 pi y) + 128 pi^2 a sin(8 pi x) sin(8 pi y)

(f follows from u; the second mode makes the solution multi-scale). Dimensionless.
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
class PoissonParams:
    """Amplitude a of the fine mode sin(8 pi x) sin(8 pi y)."""

    fine_amplitude: float = 0.1

    def __post_init__(self) -> None:
        if not math.isfinite(self.fine_amplitude):
            raise PinnError(f"poisson2d: the amplitude must be a finite number, got {self.fine_amplitude}")


def poisson_exact(x: torch.Tensor, y: torch.Tensor, a: float) -> torch.Tensor:
    """u = sin(2 pi x) sin(2 pi y) + a sin(8 pi x) sin(8 pi y)."""
    pi = math.pi
    return (2 * pi * x).sin() * (2 * pi * y).sin() + a * (8 * pi * x).sin() * (8 * pi * y).sin()


def poisson_source(x: torch.Tensor, y: torch.Tensor, a: float) -> torch.Tensor:
    """f = -(u_xx + u_yy) = 8 pi^2 sin(2 pi x) sin(2 pi y) + 128 pi^2 a sin(8 pi x) sin(8 pi y)."""
    pi = math.pi
    return (8 * pi ** 2 * (2 * pi * x).sin() * (2 * pi * y).sin()
            + 128 * pi ** 2 * a * (8 * pi * x).sin() * (8 * pi * y).sin())


def poisson_residual(d: Derivatives, p: Mapping[str, float]) -> torch.Tensor:
    """R = -(u_xx + u_yy) - f(x, y)."""
    return -(d.u_xx + d.u_yy) - poisson_source(d.x, d.y, p["fine_amplitude"])


def poisson2d_problem(params: PoissonParams = PoissonParams()) -> PDEProblem:
    """The Poisson benchmark as a :class:`PDEProblem` (exact solution attached)."""
    from pinn.pde.problem import Dirichlet, Interval, PDEProblem, Rectangle, Side

    return PDEProblem(
        name="poisson2d",
        domain=Rectangle(Interval(0.0, 1.0), Interval(0.0, 1.0)),
        residual=poisson_residual,
        boundary=tuple(Dirichlet(side) for side in Side),
        params={"fine_amplitude": params.fine_amplitude},
        exact=lambda x, y: poisson_exact(x, y, params.fine_amplitude),
        description="-(u_xx + u_yy) = f on [0, 1]^2, u = 0 on the boundary, "
                    "u = sin(2 pi x) sin(2 pi y) + 0.1 sin(8 pi x) sin(8 pi y)",
    )


LEAST_SQUARES = LeastSquaresConfig(cells=4, cells_y=4, features=300, scale=3.0, points_x=25, points_s=25)
"""Default solver settings: 4 x 4 cells of 300 sine features, one linear solve; relative L2 1.3e-10 in
about 6 s (benchmarks/pde_accuracy.py)."""


SPEC = PDESpec(
    name="poisson2d",
    title="the Poisson equation on the unit square (steady, 2-D)",
    equations="-(u_xx + u_yy) = f(x, y)",
    parameters=(Parameter("fine_amplitude", 0.1, "Amplitude of the fine mode sin(8 pi x) sin(8 pi y) in u.",
                          -1e6, 1e6, in_rhs=False),),
    build=lambda v: poisson2d_problem(PoissonParams(fine_amplitude=v["fine_amplitude"])),
    least_squares=lambda v: LEAST_SQUARES,
    domain="(x, y) in [0, 1]^2",
    conditions="u = 0 on the boundary; f from u = sin(2 pi x) sin(2 pi y) + 0.1 sin(8 pi x) sin(8 pi y)",
    reference="exact (manufactured solution)",
    source="issue 17's benchmark table",
    t1=None,
)
