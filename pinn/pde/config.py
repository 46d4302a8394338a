"""Settings of the least-squares PDE solver and the progress it reports."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Callable

from pinn.errors import PinnError
from pinn.pde.features import FeatureActivation, FeatureSpec


class InitialState(str, enum.Enum):
    """How a time block starts from the previous block's end (or from u0): built into the trial solution
    (exact; the default), or as weighted rows (u and u_t matched at the block's first time level), which
    passes on values only, not derivatives, and keeps derivative noise from piling up over many blocks of a
    problem second order in time."""

    trial = "trial"
    rows = "rows"


@dataclass(frozen=True)
class LeastSquaresConfig:
    """Settings of the space-time least-squares solver (evolution and steady problems).

    block: time-block length (evolution problems); blocks are marched one after another.
    first_block: length of the first block if > 0 (each next block twice as long, up to ``block``): graded
        blocks resolve an initial layer, such as a kink of u0 smoothed by diffusion.
    cells: initial number of cells along x (uniform unless ``edges`` is given).
    cells_y: number of cells along y (steady 2-D problems).
    edges: optional interior cell edges along x (sorted, strictly inside the interval), overriding ``cells``;
        for a periodic x, the cuts of the ring in [a, b) (include a for an interface at the domain's ends).
    features: random features M per cell; scale: their weights ~ U(-scale, scale); activation: sin or tanh.
    points_x, points_s: Chebyshev-Lobatto collocation nodes per cell along x and along t (or y).
    max_iter, tol: Gauss-Newton iterations per block, stopped when the step is below tol (1 + |c|).
    continuity_weight, boundary_weight: weights of the interface and boundary rows (see pinn.pde.assembly).
    rcond: pivots below rcond times the largest drop their columns (rank-revealing QR).
    initial_state, initial_weight: how a block starts (see InitialState) and the weight of its rows.
    adapt, adapt_tol, adapt_ratio, adapt_fraction, adapt_grading, max_cells, min_width, min_block:
        residual-driven cell splitting and block halving (module docstring); min_block is a fraction of block.
    seed: seed of the random features.
    """

    block: float = 0.05
    cells: int = 8
    cells_y: int = 1
    edges: tuple[float, ...] = ()
    features: int = 100
    scale: float = 1.5
    activation: FeatureActivation = FeatureActivation.sin
    points_x: int = 24
    points_s: int = 12
    max_iter: int = 10
    tol: float = 1e-12
    continuity_weight: float = 10.0
    boundary_weight: float = 10.0
    rcond: float = 1e-15
    initial_state: InitialState = InitialState.trial
    initial_weight: float = 10.0
    adapt: bool = True
    adapt_tol: float = 1e-7
    adapt_ratio: float = 10.0
    adapt_fraction: float = 0.8
    adapt_grading: float = 3.0
    max_cells: int = 64
    min_width: float = 1e-3
    min_block: float = 1.0 / 64
    first_block: float = 0.0
    seed: int = 0

    def validate(self) -> None:
        """Raise PinnError on settings no solve can use."""
        checks = [
            (self.block > 0 and math.isfinite(self.block), f"block must be a positive time, got {self.block}"),
            (self.cells >= 1 and self.cells_y >= 1, "cells and cells_y must be at least 1"),
            (self.features >= 1, f"features must be at least 1, got {self.features}"),
            (math.isfinite(self.scale) and self.scale > 0, f"scale must be positive, got {self.scale}"),
            (self.points_x >= 2 and self.points_s >= 2, "points_x and points_s must be at least 2 (a grid of one "
                                                       "point has no interior)"),
            (self.max_iter >= 1, "max_iter must be at least 1"),
            (all(math.isfinite(v) and v > 0 for v in (self.continuity_weight, self.boundary_weight)),
             "continuity_weight and boundary_weight must be positive"),
            (0 < self.rcond < 1, f"rcond must lie in (0, 1), got {self.rcond}"),
            (self.adapt_ratio > 1 and self.max_cells >= 1 and self.min_width > 0, "adapt_ratio must exceed 1, "
                                                                                  "max_cells >= 1, min_width > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise PinnError(message)
        if any(not math.isfinite(e) for e in self.edges) or list(self.edges) != sorted(set(self.edges)):
            raise PinnError("edges must be finite, strictly increasing")

    @property
    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec(self.features, self.scale, FeatureActivation(self.activation), self.seed)


@dataclass
class SolveProgress:
    """Reported after every Gauss-Newton iteration: block (1-based) of blocks, iteration, cells, and the
    root of the weighted least-squares cost (about the L2 norm of the residual over the block)."""

    block: int
    blocks: int
    iteration: int
    cells: int
    residual: float
    t: float


Progress = Callable[[SolveProgress], None]
