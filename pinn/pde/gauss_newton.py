"""Gauss-Newton / Levenberg-Marquardt on the output layers of a patch of cells.

The same iteration as the ODE solver's window fit (pinn.marching.solve_window), on block-sparse rows: the
Jacobian of the weighted residual with respect to the output layers is exact (feature derivatives in closed
form, partials of the residual by forward mode), so near the solution the cost falls quadratically.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from pinn.errors import PinnError
from pinn.pde.assembly import Patch
from pinn.pde.config import LeastSquaresConfig


def gauss_newton(patch: Patch, coef: torch.Tensor, linear: bool, cfg: LeastSquaresConfig,
                 report: Callable[[int, float], None]) -> tuple[torch.Tensor, int, float, list[float]]:
    """Minimise the patch's weighted cost over the coefficients c (cells, M).

    Each iteration solves the linearised problem min ||J d + r|| (pinn.pde.assembly.Patch.step) and takes
    c + d if it lowers the cost; otherwise Levenberg-Marquardt damping (rows sqrt(lambda) I) is raised tenfold
    and the step retried. A linear residual needs exactly one step. Stops when the step is below
    tol (1 + |c|), when a step lowers the cost by less than 10% (its round-off floor), or after max_iter.
    ``report(iteration, cost)`` after each step. Returns c, iterations, cost (weighted sum of squares) and each
    cell's weighted residual norm (the adaptivity indicator).
    """
    rows, cost, indicator = patch.rows(coef)
    damping = 0.0
    it = rejected = 0
    for it in range(1, (1 if linear else cfg.max_iter) + 1):
        step = patch.step(rows, damping)
        trial = coef + step
        new_rows, new_cost, new_ind = patch.rows(trial)
        if not math.isfinite(new_cost):
            raise PinnError("the residual became NaN: try shorter --block or more --cells")
        if new_cost <= cost or linear:
            small = float(step.norm()) <= cfg.tol * (1.0 + float(trial.norm()))
            stalled = new_cost > 0.9 * cost  # the cost is at its floor
            coef, rows, cost, indicator = trial, new_rows, new_cost, new_ind
            rejected = 0
            damping = damping / 10.0 if damping > 1e-14 else 0.0
            report(it, cost)
            if small or stalled:
                break
        else:
            rejected += 1
            if rejected >= 3 or new_cost < 1.001 * cost:
                break  # the cost sits at its round-off floor: steps no longer lower it
            damping = max(10.0 * damping, 1e-10)
            report(it, new_cost)
    return coef, it, cost, indicator
