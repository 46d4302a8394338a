"""An ODE with named constants, some of them unknown: the model that identification fits.

The right-hand side takes the constants as a mapping of scalar tensors, f(t, u, p), so that the unknown ones
can be differentiated (forward-mode) and trained; the known ones are plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import torch

from pinn.errors import PinnError
from pinn.problem import ODEProblem

ParametricRhs = Callable[[torch.Tensor, torch.Tensor, Mapping[str, torch.Tensor | float]], torch.Tensor]
"""f(t, u, p): t (n, 1), u (n, d), p name -> scalar (tensor or float) -> du/dt (n, d), in torch operations."""


@dataclass(frozen=True)
class ParametricODE:
    """du/dt = f(t, u; p) with named constants p, for simulation and identification.

    Attributes:
        name: problem name (``pinn identify <name>``).
        rhs: f(t, u, p), see :data:`ParametricRhs`.
        components: one name per state component (CSV column names).
        values: default value of every constant, by name (the order is the order of reports).
        ranges: plausible interval (low, high) of each constant; the default initial guess is its centre.
        grid: for constants that enter f nonlinearly (a frequency), how many evenly spaced values of the
            range the initial search tries (default 1: the centre alone suffices for a constant that f
            depends on linearly, because a Gauss-Newton step solves for it exactly).
        u0, t0, t1: default initial state and interval (what ``pinn simulate`` uses).
        window: default window length of the identification's piecewise trajectory (a fraction of the
            fastest time scale of the dynamics).
        order: as in :class:`pinn.problem.ODEProblem`.
        equations: the equations in words, for help texts.
    """

    name: str
    rhs: ParametricRhs
    components: tuple[str, ...]
    values: Mapping[str, float]
    ranges: Mapping[str, tuple[float, float]]
    u0: tuple[float, ...]
    t0: float = 0.0
    t1: float = 1.0
    window: float = 0.2
    order: int = 1
    grid: Mapping[str, int] = field(default_factory=dict)
    equations: str = ""

    def __post_init__(self) -> None:
        if len(self.u0) != len(self.components):
            raise PinnError(f"{self.name}: initial state has {len(self.u0)} values for {len(self.components)} "
                            "components")
        missing = [k for k in self.values if k not in self.ranges]
        if missing:
            raise PinnError(f"{self.name}: no plausible range given for {', '.join(missing)}")
        if any(lo >= hi for lo, hi in self.ranges.values()):
            raise PinnError(f"{self.name}: every plausible range needs low < high")

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of all constants, in report order."""
        return tuple(self.values)

    @property
    def dim(self) -> int:
        """State size d."""
        return len(self.components)

    def check_unknowns(self, unknowns: Sequence[str]) -> tuple[str, ...]:
        """The unknown names, validated: each a constant of this problem, no repeats."""
        unknowns = tuple(unknowns)
        bad = [u for u in unknowns if u not in self.values]
        if bad:
            raise PinnError(f"unknown parameter {', '.join(repr(b) for b in bad)} for {self.name}: "
                            f"choose among {', '.join(self.parameters)}")
        if len(set(unknowns)) != len(unknowns):
            raise PinnError(f"a parameter is listed twice in the unknowns ({', '.join(unknowns)})")
        return unknowns

    def constants(self, unknowns: Sequence[str], theta: torch.Tensor,
                  known: Optional[Mapping[str, float]] = None) -> dict[str, torch.Tensor | float]:
        """All constants: the unknown ones from ``theta`` (p,), the others from ``known`` or the defaults."""
        out: dict[str, torch.Tensor | float] = {k: float(v) for k, v in self.values.items()}
        out.update({k: float(v) for k, v in (known or {}).items()})
        for i, name in enumerate(unknowns):
            out[name] = theta[i]
        return out

    def problem(self, values: Optional[Mapping[str, float]] = None, u0: Optional[Sequence[float]] = None,
                t0: Optional[float] = None, t1: Optional[float] = None) -> ODEProblem:
        """The plain :class:`ODEProblem` at given constants (defaults for those not given)."""
        p = {k: float(v) for k, v in self.values.items()}
        p.update({k: float(v) for k, v in (values or {}).items()})
        return ODEProblem(name=self.name, rhs=lambda t, u: self.rhs(t, u, p),
                          u0=tuple(float(v) for v in (self.u0 if u0 is None else u0)),
                          t0=float(self.t0 if t0 is None else t0), t1=float(self.t1 if t1 is None else t1),
                          components=self.components, params=p, order=self.order)


def parameter_jacobian(rhs: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor) -> torch.Tensor:
    """Sensitivities df/dtheta_j of g(theta) = f(t, u; theta) at fixed t, u: returns (n, d, p).

    ``rhs`` maps theta (p,) to f (n, d); one forward-mode product per unknown constant.
    """
    cols = []
    for j in range(theta.numel()):
        tangent = torch.zeros_like(theta)
        tangent[j] = 1.0
        _, jv = torch.func.jvp(rhs, (theta,), (tangent,))
        cols.append(jv)
    if not cols:
        n, d = rhs(theta).shape
        return torch.zeros(n, d, 0, dtype=theta.dtype)
    return torch.stack(cols, dim=2)
