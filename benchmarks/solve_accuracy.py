"""Accuracy and wall time of `pinn solve` (marching vs gradient) for the README's table.

Run: .venv/bin/python benchmarks/solve_accuracy.py [--skip-gradient]
Writes benchmarks/results/solve_accuracy.md and .json. Uses the same defaults as the CLI.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from pinn.choices import Method
from pinn.solve_config import SolveConfig
from pinn.solver import solve
from problems.lorenz import LORENZ
from problems.oscillator import oscillator_problem
from problems.square_wave import SquareWave, drive_aligned_window, square_wave_problem

OUT = Path(__file__).parent / "results"


def row(label: str, problem, cfg: SolveConfig) -> dict:
    start = time.perf_counter()
    result = solve(problem, cfg)
    seconds = time.perf_counter() - start
    m = result.metrics
    print(f"{label:55s} relL2 {m['relative_l2']:.2e}  max|res| {m['max_abs_residual']:.2e}  {seconds:6.1f} s",
          flush=True)
    return {"case": label, "relative_l2": m["relative_l2"], "max_abs_error": m["max_abs_error"],
            "mean_abs_residual": m["mean_abs_residual"], "time_to_1pct": m["time_to_1pct"], "seconds": seconds}


def main() -> None:
    rows = []
    marching = SolveConfig()
    rows.append(row("lorenz IC (-8,7,27), t in [0,8], marching", LORENZ.problem(), marching))
    rng = np.random.default_rng(2026)
    for ic in rng.uniform(-15, 15, size=(5, 3)):
        label = f"lorenz IC ({ic[0]:.2f},{ic[1]:.2f},{ic[2]:.2f}), [0,8], marching"
        rows.append(row(label, LORENZ.problem(u0=ic), marching))
    rows.append(row("lorenz t in [0,20], marching", LORENZ.problem(t1=20.0), marching))
    osc = replace(marching, marching=replace(marching.marching, window=0.5))
    rows.append(row("oscillator cos, t in [0,20], marching", oscillator_problem(), osc))
    notes = SquareWave(period=0.2, width=0.1, fmax=2.0)
    slow = SquareWave(period=6.0, width=3.0, fmax=1.0)
    for wave, n, t1, label in ((notes, 20, 20.0, "square T=0.2 W=0.1 Fmax=2 N=20, [0,20] vs reference 1"),
                               (slow, 50, 30.0, "square T=6 W=3 Fmax=1 N=50, [0,30] vs reference 1"),
                               (notes, 0, 20.0, "square exact wave (N=0), [0,20] vs reference 2")):
        cfg = replace(marching, marching=replace(marching.marching, window=drive_aligned_window(wave.period,
                                                                                                max(n, 1))))
        rows.append(row(label + ", marching", square_wave_problem(wave, n, x0=0.0, t1=t1), cfg))
    if "--skip-gradient" not in sys.argv:
        two = square_wave_problem(notes, 20, x0=0.0, t1=0.4)
        cfg = replace(marching, marching=replace(marching.marching, window=drive_aligned_window(0.2, 20)))
        rows.append(row("square N=20, two periods [0,0.4], marching", two, cfg))
        rows.append(row("square N=20, two periods [0,0.4], gradient", two, SolveConfig(method=Method.gradient)))
        grad = SolveConfig(method=Method.gradient)
        for t1 in (1.0, 2.0, 8.0):
            rows.append(row(f"lorenz t in [0,{t1:g}], marching", LORENZ.problem(t1=t1), marching))
            rows.append(row(f"lorenz t in [0,{t1:g}], gradient (4x64 tanh, Adam 5000 + L-BFGS 1000)",
                            LORENZ.problem(t1=t1), grad))
        rows.append(row("oscillator cos, [0,20], gradient", oscillator_problem(), grad))
    OUT.mkdir(exist_ok=True)
    (OUT / "solve_accuracy.json").write_text(json.dumps(rows, indent=2))
    lines = ["| case | relative L2 error | max abs error | seconds |", "|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['relative_l2']:.1e} | {r['max_abs_error']:.1e} | {r['seconds']:.1f} |"
              for r in rows]
    (OUT / "solve_accuracy.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
