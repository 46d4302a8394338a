"""Accuracy and time of `pinn solve` on the ODE problems (default settings vs the classic gradient PINN).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/solve_accuracy.py [--skip-gradient]
Writes benchmarks/results/solve_accuracy.md and .json. Every row uses the command's defaults (error-controlled
windows at tol 1e-10); errors are relative L2 on 4001 times against the reference the row names (closed form,
the order-30 Taylor series, or DOP853). Seconds: wall time of the solve, one torch thread. With
--skip-gradient the gradient-PINN rows (minutes each) are carried over from the previous results file.
The last row times the whole demo command, `pinn solve lorenz --epochs 5000`, start-up and figures included.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from pinn.choices import Method
from pinn.reference import reference_method
from pinn.solve_config import SolveConfig
from pinn.solver import solve
from problems.lorenz import LORENZ
from problems.oscillator import OSCILLATOR
from problems.square_wave import SquareWave, square_wave_problem
from problems.van_der_pol import VAN_DER_POL

OUT = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def row(label: str, problem, cfg: SolveConfig = SolveConfig()) -> dict:
    start = time.perf_counter()
    result = solve(problem, cfg)
    seconds = time.perf_counter() - start
    m = result.metrics
    print(f"{label:60s} relL2 {m['relative_l2']:.2e}  {seconds:6.2f} s", flush=True)
    return {"case": label, "relative_l2": m["relative_l2"], "max_abs_error": m["max_abs_error"],
            "error_estimate": m.get("error_estimate"), "reference": reference_method(problem),
            "windows": m.get("windows"), "seconds": seconds}


def default_rows() -> list[dict]:
    rows = [row("lorenz IC (-8,7,27), t in [0,8]", LORENZ.problem())]
    rng = np.random.default_rng(2026)
    for ic in rng.uniform(-15, 15, size=(5, 3)):
        rows.append(row(f"lorenz IC ({ic[0]:.2f},{ic[1]:.2f},{ic[2]:.2f}), [0,8]", LORENZ.problem(u0=ic)))
    rows.append(row("lorenz t in [0,20], --tol 1e-6", LORENZ.problem(t1=20.0), SolveConfig(tol=1e-6)))
    rows.append(row("oscillator cos, t in [0,20]", OSCILLATOR.problem()))
    rows.append(row("van-der-pol mu=1, t in [0,15]", VAN_DER_POL.problem()))
    notes, slow = SquareWave(0.2, 0.1, 2.0), SquareWave(6.0, 3.0, 1.0)
    for wave, n, t1, label in ((notes, 20, 20.0, "square T=0.2 W=0.1 Fmax=2 N=20, [0,20]"),
                               (slow, 50, 30.0, "square T=6 W=3 Fmax=1 N=50, [0,30]"),
                               (notes, 0, 20.0, "square exact wave (N=0), [0,20]")):
        rows.append(row(label, square_wave_problem(wave, n, x0=0.0, t1=t1)))
    return rows


def gradient_rows(fast_only: bool = False) -> list[dict]:
    """The classic gradient PINN beside the default on the same short problems (minutes each); with
    ``fast_only`` only the default rows."""
    grad = SolveConfig(method=Method.gradient)
    rows = []
    for t1 in (1.0, 2.0, 8.0):
        rows.append(row(f"lorenz t in [0,{t1:g}], default", LORENZ.problem(t1=t1)))
        if not fast_only:
            rows.append(row(f"lorenz t in [0,{t1:g}], gradient PINN (4x64 tanh, Adam 5000 + L-BFGS 1000)",
                            LORENZ.problem(t1=t1), grad))
    two = square_wave_problem(SquareWave(0.2, 0.1, 2.0), 20, x0=0.0, t1=0.4)
    rows.append(row("square N=20, two periods [0,0.4], default", two))
    if not fast_only:
        rows.append(row("square N=20, two periods [0,0.4], gradient PINN", two, grad))
        rows.append(row("oscillator cos, [0,20], gradient PINN", OSCILLATOR.problem(), grad))
    return rows


def demo_row() -> dict:
    start = time.perf_counter()
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "pinn"), "solve", "lorenz", "--epochs", "5000", "--out",
                          str(ROOT / "runs" / "benchmark-demo")], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"the demo command failed: {out.stderr}")
    print(f"{'demo command (whole process)':60s} {seconds:6.2f} s")
    return {"case": "demo: pinn solve lorenz --epochs 5000 (whole command)", "seconds": seconds}


def main() -> None:
    torch.set_num_threads(1)
    rows = default_rows()
    if "--skip-gradient" in sys.argv:
        rows += gradient_rows(fast_only=True)
        old = json.loads((OUT / "solve_accuracy.json").read_text())
        stamp = "" if isinstance(old, dict) else " (carried over from the 2026-11-26 run)"
        old_rows = old.get("rows", []) if isinstance(old, dict) else old
        rows += [{**r, "case": r["case"] + stamp} for r in old_rows if "gradient" in r["case"]]
    else:
        rows += gradient_rows()
    rows.append(demo_row())
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    (OUT / "solve_accuracy.json").write_text(json.dumps({"date": stamp, "machine": platform.platform(),
                                                          "rows": rows}, indent=2))
    lines = [f"Measured {stamp} on {platform.platform()}, one torch thread.", "",
             "| case | relative L2 error | max abs error | solver's estimate | reference | seconds |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if "relative_l2" not in r:
            lines.append(f"| {r['case']} | - | - | - | - | {r['seconds']:.2f} |")
            continue
        est = f"{r['error_estimate']:.1e}" if r.get("error_estimate") is not None else "-"
        lines.append(f"| {r['case']} | {r['relative_l2']:.1e} | {r['max_abs_error']:.1e} | {est} | "
                     f"{r.get('reference', '-')} | {r['seconds']:.2f} |")
    (OUT / "solve_accuracy.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
