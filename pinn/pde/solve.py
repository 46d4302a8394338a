"""One entry point for PDEs: solve a :class:`PDEProblem` by either method and measure it on a grid.

    result = solve_pde(problem, PDESolveConfig())          # space-time least squares (the default)
    write_pde_run(run_dir, result)                         # config.json, metrics.json, model.pt, figures

The prediction, the reference and the PDE residual are evaluated on a uniform grid of ``grid`` points:
x by t (256 x 101 by default) for evolution problems, x by y (201 x 201) for steady ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from pinn.errors import PinnError
from pinn.metrics import relative_l2
from pinn.pde.config import PDEMethod, PDESolveConfig, SolveProgress
from pinn.pde.problem import PDEProblem
from pinn.pde.spacetime import solve_space_time
from pinn.pde.steady import solve_steady

if TYPE_CHECKING:
    pass


@dataclass
class PDEResult:
    """A finished solve on the evaluation grid: x (nx,), s (ns,) = t or y, u / reference / residual (ns, nx)."""

    problem: PDEProblem
    config: PDESolveConfig
    x: np.ndarray
    s: np.ndarray
    u: np.ndarray
    reference: np.ndarray
    residual: np.ndarray
    metrics: dict
    history: list[dict]
    seconds: float
    state: dict


def evaluation_grid(problem: PDEProblem, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Uniform x (nx,) and t or y (ns,) covering the domain, ends included."""
    xi, si = problem.x_interval, problem.second_interval
    return np.linspace(xi.a, xi.b, shape[0]), np.linspace(si.a, si.b, shape[1])


def field_metrics(u: np.ndarray, ref: np.ndarray, residual: np.ndarray) -> dict:
    """Relative L2 and max abs error of u against ref, and the residual's RMS, mean |R| and max |R|."""
    return {
        "relative_l2": relative_l2(u, ref),
        "max_abs_error": float(np.abs(u - ref).max()),
        "rms_residual": float(np.sqrt(np.mean(residual ** 2))),
        "mean_abs_residual": float(np.abs(residual).mean()),
        "max_abs_residual": float(np.abs(residual).max()),
    }


def solve_pde(problem: PDEProblem, cfg: PDESolveConfig = PDESolveConfig(),
              progress: Optional[Callable[[SolveProgress], None]] = None) -> PDEResult:
    """Solve ``problem`` with ``cfg`` and compare with its exact or reference solution on the grid.

    ``progress`` receives a :class:`SolveProgress` (block, iteration, residual) for the least-squares
    method, and the gradient trainer's :class:`pinn.train.TrainState` for the gradient method.
    ``seconds`` counts the solve only (not the reference or the evaluation), in wall-clock time.
    """
    shape = cfg.grid_shape(problem)
    x, s = evaluation_grid(problem, shape)
    start = time.perf_counter()
    method = PDEMethod(cfg.method)
    if method is PDEMethod.least_squares:
        solver = solve_steady if problem.steady else solve_space_time
        solution = solver(problem, cfg.least_squares, progress)
        history = [{"block": n + 1, "t_start": b.t0, "t_end": b.t1, "cells": len(b.edges) - 1,
                    "iterations": b.iterations, "residual": b.residual, "refinements": b.refinements,
                    "cpu_seconds": b.seconds} for n, b in enumerate(solution.blocks)]
    else:
        from pinn.pde.gradient import solve_gradient

        solution = solve_gradient(problem, cfg.gradient, progress=progress)
        history = solution.history
    seconds = time.perf_counter() - start
    u = solution.evaluate(x, s)[(0, 0)]
    if not np.all(np.isfinite(u)):
        raise PinnError("the solution contains NaN: try shorter blocks or more cells")
    residual = solution.residual(x, s)
    ref = problem.exact_on_grid(x, s)
    metrics = {"grid": list(shape), **field_metrics(u, ref, residual), "seconds": seconds}
    if method is PDEMethod.least_squares:
        metrics["blocks"] = len(solution.blocks)
        metrics["cells_final"] = int(len(solution.blocks[-1].edges) - 1) if not problem.steady else \
            int(cfg.least_squares.cells * cfg.least_squares.cells_y)
        metrics["unknowns_per_block"] = metrics["cells_final"] * cfg.least_squares.features
    return PDEResult(problem, cfg, x, s, u, ref, residual, metrics, history, seconds, solution.state_dict())
