"""The one-dimensional wave equation with two standing modes (Wang, Yu & Perdikaris 2022).

    u_tt = c^2 u_xx,   x in [0, 1],  t in [0, 1],   c = 2,
    u(0, t) = u(1, t) = 0,
    u(x, 0) = sin(pi x) + a sin(4 pi x),  u_t(x, 0) = 0,   a = 0.5,

exact solution u = sin(pi x) cos(c pi t) + a sin(4 pi x) cos(4 c pi t) (d'Alembert / separation of
variables). Set-up of S. Wang, X. Yu, P. Perdikaris, "When and why PINNs fail to train: a neural tangent
kernel perspective", J. Comput. Phys. 449, 110768 (2022), section 7.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from pinn.errors import PinnError
from pinn.pde.config import InitialState, LeastSquaresConfig
from pinn.spec import Parameter, PDESpec

if TYPE_CHECKING:
    import torch

    from pinn.pde.problem import Derivatives, PDEProblem


@dataclass(frozen=True)
class WaveParams:
    """Wave speed c > 0, amplitude a of the fast mode, final time t1."""

    c: float = 2.0
    fast_amplitude: float = 0.5
    t1: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.c) and self.c > 0):
            raise PinnError(f"wave: the wave speed c must be a positive number, got {self.c}")
        if not math.isfinite(self.fast_amplitude):
            raise PinnError("wave: the amplitude must be a finite number")
        if not (math.isfinite(self.t1) and self.t1 > 0):
            raise PinnError(f"wave: the final time must be positive, got {self.t1}")


def wave_residual(d: Derivatives, p: Mapping[str, float]) -> torch.Tensor:
    """R = u_tt - c^2 u_xx."""
    return d.u_tt - p["c"] ** 2 * d.u_xx


def wave_exact(x: torch.Tensor, t: torch.Tensor, c: float, a: float) -> torch.Tensor:
    """u = sin(pi x) cos(c pi t) + a sin(4 pi x) cos(4 c pi t)."""
    pi = math.pi
    return (pi * x).sin() * (c * pi * t).cos() + a * (4 * pi * x).sin() * (4 * c * pi * t).cos()


def wave_problem(params: WaveParams = WaveParams()) -> PDEProblem:
    """The wave benchmark as a :class:`PDEProblem` (second order in time; exact solution attached)."""
    from pinn.pde.problem import Dirichlet, Interval, PDEProblem

    c, a = params.c, params.fast_amplitude
    return PDEProblem(
        name="wave",
        domain=Interval(0.0, 1.0),
        time=Interval(0.0, params.t1),
        residual=wave_residual,
        initial=lambda x: wave_exact(x, 0.0 * x, c, a),
        initial_velocity=lambda x: 0.0 * x,
        boundary=(Dirichlet("left"), Dirichlet("right")),
        params={"c": c, "fast_amplitude": a},
        exact=lambda x, t: wave_exact(x, t, c, a),
        description="u_tt = 4 u_xx on [0, 1], u = 0 at both ends, u0 = sin(pi x) + 0.5 sin(4 pi x), u_t(x, 0) = 0",
    )


LEAST_SQUARES = LeastSquaresConfig(block=0.1, cells=4, features=150, scale=2.0, points_x=24, points_s=16,
                                   initial_state=InitialState.rows)
"""Default solver settings: 10 blocks of 4 cells x 150 sine features, each block starting from the previous
one's u and u_t as weighted rows (carrying u_xx and u_txx in the trial solution amplified their noise
from block to block); relative L2 2e-12 in about 1 s (benchmarks/pde_accuracy.py)."""


SPEC = PDESpec(
    name="wave",
    title="the wave equation, two standing modes",
    equations="u_tt = c^2 u_xx",
    parameters=(Parameter("c", 2.0, "Wave speed c (2, so u_tt = 4 u_xx).", 1e-3, 1e3,
                          plausible=(0.5, 4.0)),
                Parameter("fast_amplitude", 0.5, "Amplitude of the fast mode sin(4 pi x) cos(4 c pi t).", -1e6, 1e6,
                          in_rhs=False)),
    build=lambda v: wave_problem(WaveParams(c=v["c"], fast_amplitude=v["fast_amplitude"], t1=v["t1"])),
    least_squares=lambda v: LEAST_SQUARES,
    domain="x in [0, 1], t in [0, 1]",
    conditions="u(x, 0) = sin(pi x) + 0.5 sin(4 pi x), u_t(x, 0) = 0; u(0, t) = u(1, t) = 0",
    reference="exact: sin(pi x) cos(2 pi t) + 0.5 sin(4 pi x) cos(8 pi t)",
    source="Wang, Yu & Perdikaris, J. Comput. Phys. 449 (2022)",
)
