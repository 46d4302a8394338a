"""An ODE problem: state size, parameters, interval, initial state, right-hand side, reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Optional, Sequence

import numpy as np

from pinn.errors import PinnError

if TYPE_CHECKING:
    import torch

Rhs = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
"""f(t, u): t (n, 1), u (n, d) -> du/dt (n, d), written in torch so autograd can differentiate it."""

Reference = Callable[[np.ndarray], np.ndarray]
"""Exact or reference solution: t (n,) -> u (n, d) in float64."""


@dataclass(frozen=True)
class ODEProblem:
    """A first-order system du/dt = f(t, u), u(t0) = u0, on [t0, t1].

    Higher-order equations are written as first-order systems (x'' = g becomes (x, v)' = (v, g));
    ``order=2`` marks such a system whose first half of the state are positions and second half velocities,
    so a gradient-trained PINN may use the second-order trial solution x0 + v0 (t - t0) + (t - t0)^2 N(t).

    Attributes:
        name: label used for run folders and plots.
        rhs: f(t, u) with t (n, 1) and u (n, d), returning (n, d); must use torch operations only.
        u0: initial state, length d.
        t0, t1: the time interval (same units as the equation's time).
        components: one name per state component, for tables, CSV headers and plot labels.
        params: the equation's constants, recorded in run folders.
        reference: optional exact or reference solution t (n,) -> (n, d); if absent a DOP853
            solution at rtol = atol = 1e-13 is used.
        order: 1, or 2 for a second-order equation written as a first-order system (see above).
        breakpoints: times where f jumps (a discontinuous drive); solvers start a new window there.
        window: a suitable marching window length for the problem's time scales (None: the solver's
            default), used when a solve does not set one.
    """

    name: str
    rhs: Rhs
    u0: tuple[float, ...]
    t0: float
    t1: float
    components: tuple[str, ...]
    params: Mapping[str, float] = field(default_factory=dict)
    reference: Optional[Reference] = None
    order: int = 1
    breakpoints: tuple[float, ...] = ()
    window: Optional[float] = None

    def __post_init__(self) -> None:
        if len(self.u0) != len(self.components):
            raise PinnError(f"{self.name}: initial state has {len(self.u0)} values but the problem has "
                            f"{len(self.components)} components ({', '.join(self.components)})")
        if not np.all(np.isfinite(self.u0)):
            raise PinnError(f"{self.name}: initial state must be finite, got {self.u0}")
        if not (np.isfinite(self.t0) and np.isfinite(self.t1)) or self.t1 <= self.t0:
            raise PinnError(f"{self.name}: the final time ({self.t1}) must be greater than the initial time "
                            f"({self.t0})")
        if self.order not in (1, 2) or (self.order == 2 and self.dim % 2):
            raise PinnError(f"{self.name}: order must be 1, or 2 with an even state size")
        if self.window is not None and not (np.isfinite(self.window) and self.window > 0):
            raise PinnError(f"{self.name}: the suggested window must be positive, got {self.window}")

    @property
    def dim(self) -> int:
        """Number of state components d."""
        return len(self.u0)

    def u0_tensor(self, dtype: Optional["torch.dtype"] = None, device: "str | torch.device" = "cpu") -> "torch.Tensor":
        """The initial state as a (1, d) tensor (float64 unless ``dtype`` is given)."""
        import torch

        return torch.tensor([self.u0], dtype=dtype or torch.float64, device=device)

    def with_interval(self, t0: float, t1: float, u0: Sequence[float] | None = None) -> "ODEProblem":
        """A copy on another interval (and optionally from another initial state)."""
        from dataclasses import replace

        return replace(self, t0=t0, t1=t1, u0=tuple(self.u0 if u0 is None else map(float, u0)))
