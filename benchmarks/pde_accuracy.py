"""Accuracy and cost of the default PDE solve (space-time least squares) on every benchmark problem.

    .venv/bin/python benchmarks/pde_accuracy.py [--only heat burgers ...] [--seeds 0 1 2]

Each problem is solved with its default settings (``LEAST_SQUARES`` in problems/<name>.py) and measured on
the issue's evaluation grid (256 x 101 in x, t; 201 x 201 for the 2-D problems) against its exact solution
or reference (Cole-Hopf quadrature for Burgers, Fourier/ETDRK4 for Allen-Cahn). Burgers is repeated over
three feature seeds. Writes benchmarks/results/pde_accuracy.{md,json}. ``seconds`` is the wall-clock time of
the solve (pinn.pde.solve_pde), ``cpu_seconds`` the process time of the whole call (solve, evaluation on the
grid, reference), single-threaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402

from pinn.pde import PDESolveConfig, solve_pde  # noqa: E402
from problems import advection, allen_cahn, burgers, heat, helmholtz2d, poisson2d, wave  # noqa: E402

# name -> (problem builder, default settings, the target relative L2, target seconds)
PROBLEMS = {
    "heat": (heat.heat_problem, heat.LEAST_SQUARES, 1e-9, 60),
    "advection": (advection.advection_problem, advection.LEAST_SQUARES, 1e-6, 60),
    "wave": (wave.wave_problem, wave.LEAST_SQUARES, 1e-7, 60),
    "poisson2d": (poisson2d.poisson2d_problem, poisson2d.LEAST_SQUARES, 1e-8, 60),
    "helmholtz2d": (helmholtz2d.helmholtz2d_problem, helmholtz2d.LEAST_SQUARES, 1e-8, 60),
    "burgers": (burgers.burgers_problem, burgers.LEAST_SQUARES, 1e-7, 120),
    "allen-cahn": (allen_cahn.allen_cahn_problem, allen_cahn.LEAST_SQUARES, 1e-5, 600),
}


def run(name: str, seed: int) -> dict:
    build, cfg, target, target_seconds = PROBLEMS[name]
    cfg = dataclasses.replace(cfg, seed=seed)
    start = time.process_time()
    result = solve_pde(build(), PDESolveConfig(least_squares=cfg))
    cpu = time.process_time() - start
    m = result.metrics
    return {"problem": name, "seed": seed, "grid": m["grid"], "relative_l2": m["relative_l2"],
            "max_abs_error": m["max_abs_error"], "rms_residual": m["rms_residual"], "seconds": m["seconds"],
            "cpu_seconds": cpu, "blocks": m["blocks"], "cells_final": m["cells_final"],
            "target_relative_l2": target, "target_seconds": target_seconds,
            "meets_target": bool(m["relative_l2"] <= target and m["seconds"] <= target_seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2], help="feature seeds for burgers")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "pde_accuracy"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in args.only:
        for seed in (args.seeds if name == "burgers" else [0]):
            row = run(name, seed)
            rows.append(row)
            print(f"{name:12s} seed {seed}: relative L2 {row['relative_l2']:.2e}, max abs {row['max_abs_error']:.2e}, "
                  f"{row['seconds']:.1f} s wall, {row['cpu_seconds']:.1f} s cpu", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.platform(), "processor": platform.processor(), "torch_threads": 1,
            "date": time.strftime("%Y-%m-%d %H:%M")}
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = ["# PDE accuracy: default space-time least-squares solve", "",
             f"{meta['date']}, {meta['machine']}, one thread. Relative L2 and max abs error on the evaluation grid "
             "against the exact solution or reference; seconds = wall-clock solve, cpu = process time of the "
             "whole call (solve + evaluation + reference). Reproduce: `.venv/bin/python benchmarks/pde_accuracy.py`.",
             "", "| problem | seed | grid | relative L2 | max abs error | seconds | cpu s | blocks | cells | target |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['problem']} | {r['seed']} | {r['grid'][0]} x {r['grid'][1]} | {r['relative_l2']:.2e} | "
                     f"{r['max_abs_error']:.2e} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['blocks']} | "
                     f"{r['cells_final']} | <= {r['target_relative_l2']:.0e} in {r['target_seconds']} s: "
                     f"{'met' if r['meets_target'] else 'MISSED'} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
