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

from pathlib import Path
from typing import Optional

import numpy as np

from pinn.pde.config import PDEMethod
from pinn.pde.solve import PDEResult
from pinn.runs import save_checkpoint, to_json, write_json


def pde_run_config(result: PDEResult, extra: Optional[dict] = None) -> dict:
    """config.json contents."""
    return {"problem": result.problem.summary(), "solve": result.config, **(extra or {})}


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
