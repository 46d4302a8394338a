"""Residual-driven refinement of the cells of a time block.

After a block is solved, cell k's share of the weighted residual integral is eta_k^2 (the sum over its
collocation points of w R^2) and its residual density eta_k^2 / h_k. When the block's residual norm exceeds
``adapt_tol`` and the largest density exceeds ``adapt_ratio`` times the median, the fewest cells holding
``adapt_fraction`` of the squared residual (largest first, Doerfler marking) are bisected, and any cell more
than ``adapt_grading`` times wider than a neighbour is bisected too, so widths shrink geometrically towards
a front. The block is solved again on the new cells and the split kept when the cost falls at least
fourfold (the residual norm halves); repeated while it pays off, down to ``min_width``, up to ``max_cells``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from pinn.pde.config import LeastSquaresConfig


def bisect_cell(x0: float, x1: float, seam: Optional[tuple[float, float]]) -> float:
    """The point that splits [x0, x1]: its midpoint, moved by a quarter of the width when the midpoint would
    fall on the seam of a periodic interval (a + k L, seam = (a, L)), so that the seam stays inside a cell."""
    mid = 0.5 * (x0 + x1)
    if seam is not None:
        a, length = seam
        nearest = a + length * round((mid - a) / length)
        if abs(mid - nearest) < 0.25 * (x1 - x0) and x0 < nearest < x1:
            mid = nearest + (0.25 if mid >= nearest else -0.25) * (x1 - x0)
    return mid


def split_cells(edges: np.ndarray, indicator: list[float], cfg: LeastSquaresConfig,
                 seam: Optional[tuple[float, float]] = None) -> Optional[np.ndarray]:
    """Residual-driven bisection of cells (module docstring); None when no cell qualifies.

    Gate: some cell's residual density (its squared residual share over its width) exceeds ``adapt_ratio``
    times the median density. Marking: the fewest cells, largest share first, that hold half of the block's
    squared residual (Doerfler marking), each bisected while wider than ``2 min_width``. Grading: any cell more
    than ``adapt_grading`` times wider than a neighbour is bisected as well, so cell widths change
    geometrically towards a front.
    """
    widths = np.diff(edges)
    share = np.asarray(indicator) ** 2
    density = share / widths
    if density.max() <= cfg.adapt_ratio * float(np.median(density)):
        return None
    marked = set()
    total = 0.0
    for k in np.argsort(-share):
        if total >= cfg.adapt_fraction * share.sum():
            break
        total += share[k]
        if widths[k] / 2 >= cfg.min_width:
            marked.add(int(k))
    if not marked:
        return None
    new = list(edges) + [bisect_cell(edges[k], edges[k + 1], seam) for k in marked]
    new = np.array(sorted(new))
    while True:  # grading
        w = np.diff(new)
        too_wide = [k for k in range(len(w)) if (k > 0 and w[k] > cfg.adapt_grading * w[k - 1])
                    or (k < len(w) - 1 and w[k] > cfg.adapt_grading * w[k + 1])]
        if not too_wide:
            break
        new = np.array(sorted(list(new) + [bisect_cell(new[k], new[k + 1], seam) for k in too_wide]))
    if len(new) - 1 > cfg.max_cells:
        return None
    return new


def refined_start(old: np.ndarray, new: np.ndarray, coef: torch.Tensor) -> torch.Tensor:
    """Starting coefficients on split cells: zero for new cells, the old ones where a cell is unchanged."""
    out = torch.zeros(len(new) - 1, coef.shape[1], dtype=coef.dtype)
    for k in range(len(new) - 1):
        j = np.nonzero(np.isclose(old[:-1], new[k]) & np.isclose(old[1:], new[k + 1]))[0]
        if j.size:
            out[k] = coef[j[0]]
    return out
