"""The run folder of a PDE solve (same layout as the ODE solver's, pinn.runs).

    config.json    problem (name, domain, conditions, parameters) and the PDESolveConfig
    metrics.json   relative L2, max abs error, residual statistics, seconds, per-block history
    model.pt       the fitted solution (features and output layers, or network weights);
                   loads with torch.load(path, weights_only=True)
    solution.npz   x, t (or y), u, reference, residual on the evaluation grid
    fields.png     prediction / reference / log error maps;  snapshots.png (x-t) or surface.png (x-y)
    blocks.png     least-squares residual and cells per time block (evolution problems)
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pinn.errors import PinnError
from pinn.pde.config import PDEMethod, PDESolveCommand, PDESolveConfig
from pinn.pde.solve import PDEResult
from pinn.progress import Reporter
from pinn.runs import save_checkpoint, to_json, write_json
from pinn.threads import torch_threads


def pde_run_config(result: PDEResult, extra: Optional[dict] = None) -> dict:
    """config.json contents: the problem's summary and the solver settings, or the command (``extra``)."""
    return extra if extra is not None else {"problem": result.problem.summary(), "solve": result.config}


def write_pde_run(run_dir: Path | str, result: PDEResult, extra_config: Optional[dict] = None) -> list[Path]:
    """Write the run folder (module docstring) into ``run_dir`` (created if missing); returns the paths."""
    from pinn.pde import plots

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    p = result.problem
    second = "y" if p.steady else "t"
    write_json(run_dir / "config.json", pde_run_config(result, extra_config))
    write_json(run_dir / "metrics.json", {"status": "finished", "problem": p.name, **result.metrics,
                                          "history": result.history})
    save_checkpoint(run_dir / "model.pt", {"method": PDEMethod(result.config.method).value,
                                           "config": to_json(result.config), "problem": p.summary(),
                                           "state": result.state})
    np.savez_compressed(run_dir / "solution.npz", x=result.x, **{second: result.s}, u=result.u,
                        reference=result.reference, residual=result.residual)
    files = [run_dir / n for n in ("config.json", "metrics.json", "model.pt", "solution.npz")]
    rel = result.metrics["relative_l2"]
    title = f"{p.name}: relative L2 error {rel:.2e}"
    plots.plot_fields(run_dir / "fields.png", result.x, result.s, result.u, result.reference, second, title)
    files.append(run_dir / "fields.png")
    if p.steady:
        plots.plot_surface(run_dir / "surface.png", result.x, result.s, result.u, f"{p.name}: prediction")
        files.append(run_dir / "surface.png")
    else:
        plots.plot_snapshots(run_dir / "snapshots.png", result.x, result.s, result.u, result.reference, title)
        files.append(run_dir / "snapshots.png")
        if result.history and "block" in result.history[0]:
            plots.plot_block_history(run_dir / "blocks.png", result.history)
            files.append(run_dir / "blocks.png")
    return files


MAX_UNKNOWNS = 2_000_000
"""More output-layer unknowns in one block than this is a mistake, not a run (the block matrices grow with
their square)."""


def prepare_pde_solve(spec: Any, command: PDESolveCommand) -> tuple[Any, PDESolveConfig, dict[str, Any]]:
    """Validate a PDE solve before any work: the problem at the command's values, the solver settings (the
    problem's measured defaults with the command's overrides), the work estimate and the resources."""
    from pinn import checks
    from pinn.runs import check_output_root

    problem = spec.problem(command.values, command.t1)
    settings = replace(spec.solver_settings(command.values), **dict(command.overrides))
    cfg = PDESolveConfig(method=command.method, least_squares=settings, gradient=command.gradient, grid=command.grid)
    nx, ns = cfg.grid_shape(problem)
    if PDEMethod(cfg.method) is PDEMethod.least_squares:
        ls = settings
        cells = ls.cells * ls.cells_y if problem.steady else max(ls.cells, len(ls.edges) + 1)
        ratio = 1.0 if problem.steady else problem.time.length / ls.block
        if not ratio <= 100_000:  # also catches an overflow to inf
            raise PinnError(f"--block {ls.block:g} cuts t in [0, {problem.time.length:g}] into more than 100,000 "
                            "blocks; use a longer --block")
        blocks = math.ceil(ratio)
        unknowns = cells * ls.features
        rows = cells * ls.points_x * ls.points_s
        estimate = {"method": "least-squares", "blocks": blocks, "cells": cells, "features": ls.features,
                    "unknowns_per_block": unknowns,
                    "memory_bytes": 8.0 * (rows * ls.features * 4 + unknowns * ls.features * 4 + nx * ns * 8)}
        if unknowns > MAX_UNKNOWNS or blocks > 100_000:
            raise PinnError(f"{blocks} blocks of {unknowns:,} unknowns is more than this solver takes; use fewer "
                            "--cells or --features, or a longer --block")
    else:
        g = cfg.gradient
        estimate = {"method": "gradient", "steps": g.epochs + g.lbfgs_iters, "points": g.points,
                    "memory_bytes": 8.0 * (g.points * g.width * g.depth * 40 + nx * ns * 8)}
    checks.memory(estimate["memory_bytes"], "this solve", "lower --features, --cells, --points or --grid")
    check_output_root(command.out)
    return problem, cfg, estimate


def run_pde_solve(spec: Any, command: PDESolveCommand, report: Optional[Reporter] = None) -> tuple[PDEResult, Path]:
    """What ``pinn solve PDE`` does: validate, create the run folder, solve with progress (block, iteration,
    residual), write the run folder; metrics.json records the phase seconds."""
    from pinn.pde.solve import solve_pde
    from pinn.runs import run_folder

    report = report or Reporter()
    problem, cfg, estimate = prepare_pde_solve(spec, command)
    with run_folder(command.out, problem.name) as run_dir:
        write_json(run_dir / "config.json", {"command": "solve", **to_json(command), "resolved": to_json(cfg)})
        total = estimate.get("blocks") or estimate.get("steps")
        unit = "blocks" if estimate["method"] == "least-squares" else "steps"
        with report.phase(f"solving {problem.name} ({estimate['method']}, {unit})", total) as update:
            def progress(p: Any) -> None:
                if hasattr(p, "block"):
                    update(p.block - 1, f"block {p.block} it {p.iteration} cells {p.cells} residual {p.residual:.1e}",
                           max(p.blocks, total or 1))
                else:
                    update(p.step, f"{p.phase} loss {p.loss:.2e}", p.total)

            try:
                with torch_threads(1):  # block solves on a shared or busy machine: one thread is steadiest
                    result = solve_pde(problem, cfg, progress)
            except ValueError as exc:  # scipy's check of its input: NaN or inf reached a factorisation
                if "inf" not in str(exc).lower() and "nan" not in str(exc).lower():
                    raise
                raise PinnError("the solve produced NaN or infinite values: try a shorter --block, more --cells or "
                                "other constants") from None
        with report.phase("writing the run folder"):
            write_pde_run(run_dir, result, {"command": "solve", **to_json(command), "resolved": to_json(cfg)})
        write_json(run_dir / "metrics.json", {"status": "finished", "problem": problem.name, **result.metrics,
                                              "phase_seconds": dict(report.seconds), "history": result.history})
    return result, run_dir
