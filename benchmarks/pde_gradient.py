"""Error and seconds of the classic gradient PINN (`pinn solve <pde> --method gradient`) on burgers and wave.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pde_gradient.py [burgers|wave ...] [exact|penalty]
(about 5-8 min of one core per run; all four by default)
Writes benchmarks/results/pde_gradient.md and .json (rows of other cases already there are kept).

Settings (the same in benchmarks/deepxde_compare.py): a 4 x 50 tanh network, 2000 interior Sobol points,
100 points on each boundary side, 200 on the initial line, Adam (lr 1e-3) for 5000 steps, then L-BFGS for
up to 3000 iterations, float64. Two variants: ``exact`` (pinn's default: initial state and the u = 0 ends
built into the trial solution) and ``penalty`` (every condition a loss term, as in Raissi et al. 2019 and
DeepXDE). Error: relative L2 on the 256 x 101 grid against the Cole-Hopf reference / exact solution.
Seconds: process time of this single-threaded process (and wall time, inflated on a shared machine).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from pinn.choices import InitialCondition
from pinn.pde.config import PDEGradientConfig, PDEMethod, PDESolveConfig
from pinn.pde.solve import solve_pde
from problems.burgers import burgers_problem
from problems.wave import wave_problem

OUT = Path(__file__).parent / "results"
SETTINGS = PDEGradientConfig(width=50, depth=4, epochs=5000, lbfgs_iters=3000, points=2000, boundary_points=100,
                             initial_points=200, lr=1e-3, seed=0)
PROBLEMS = {"burgers": burgers_problem, "wave": wave_problem}
COMMAND = ("pinn solve {case} --method gradient --units 50 --layers 4 --epochs 5000 --lbfgs-iters 3000 "
           "--points 2000")


def run(case: str, constraints: InitialCondition) -> dict:
    cfg = PDESolveConfig(method=PDEMethod.gradient, gradient=replace(SETTINGS, constraints=constraints))
    wall, cpu = time.perf_counter(), time.process_time()
    result = solve_pde(PROBLEMS[case](), cfg)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    m = result.metrics
    last = result.history[-1] if result.history else {}
    row = {"case": case, "constraints": constraints.value, "relative_l2": m["relative_l2"],
           "max_abs_error": m["max_abs_error"], "rms_residual": m["rms_residual"], "final_loss": last.get("loss"),
           "steps": last.get("step"), "process_seconds": cpu, "wall_seconds": wall,
           "command": COMMAND.format(case=case) + ("" if constraints is InitialCondition.exact else " --ic-mode penalty")}
    print(f"{case:8s} {constraints.value:8s} relL2 {m['relative_l2']:.2e}  max {m['max_abs_error']:.2e}  "
          f"{cpu:6.0f} s cpu  {wall:6.0f} s wall", flush=True)
    return row


def main() -> None:
    torch.set_num_threads(1)
    cases = [a for a in sys.argv[1:] if a in PROBLEMS] or list(PROBLEMS)
    modes = [m for m in InitialCondition if m.value in sys.argv[1:]] or list(InitialCondition)
    OUT.mkdir(exist_ok=True)
    path = OUT / "pde_gradient.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    for case in cases:
        for constraints in modes:
            rows = [r for r in rows if (r["case"], r["constraints"]) != (case, constraints.value)]
            rows.append(run(case, constraints))
            path.write_text(json.dumps(rows, indent=2))
    rows.sort(key=lambda r: (r["case"], r["constraints"]))
    path.write_text(json.dumps(rows, indent=2))
    lines = ["# Gradient-trained PINN on PDEs", "",
             "4 x 50 tanh, 2000 interior + 100 per side + 200 initial points, Adam 5000 steps (lr 1e-3) then "
             "L-BFGS <= 3000 iterations, float64, one thread. Relative L2 on 256 x 101 points. Produced by "
             "`benchmarks/pde_gradient.py`; seconds are process time (wall time in the JSON).", "",
             "| problem | conditions | rel. L2 | max abs error | final loss | seconds |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | {r['constraints']} | {r['relative_l2']:.2e} | {r['max_abs_error']:.2e} | "
              f"{r['final_loss']:.2e} | {r['process_seconds']:.0f} |" for r in rows]
    (OUT / "pde_gradient.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
