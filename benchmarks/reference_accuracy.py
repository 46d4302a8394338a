"""How accurate the ODE references are: the order-30 Taylor-series integrator against itself in extended
precision (mpmath, 34 digits), and scipy's DOP853 at its tightest tolerance against the Taylor series.

Run: .venv/bin/python benchmarks/reference_accuracy.py   (about a minute; the 34-digit run dominates)
Writes benchmarks/results/reference_accuracy.md and .json. Lorenz, IC (-8, 7, 27), relative L2 over the
sample times.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from pinn.reference import dop853
from pinn.taylor import taylor_solve
from problems.lorenz import LORENZ

OUT = Path(__file__).parent / "results"


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main() -> None:
    p = LORENZ.problem()
    u0 = np.array(p.u0)
    rows = []
    for t1 in (2.0, 8.0):
        t = np.linspace(0.0, t1, 41)
        start = time.perf_counter()
        taylor = taylor_solve(p.rhs, u0, t)
        taylor_s = time.perf_counter() - start
        start = time.perf_counter()
        extended = taylor_solve(p.rhs, u0, t, order=40, tol=1e-30, digits=34)
        extended_s = time.perf_counter() - start
        start = time.perf_counter()
        dop = dop853(p.rhs, u0, t)
        dop_s = time.perf_counter() - start
        rows.append({"interval": f"[0, {t1:g}]", "taylor_vs_34_digits": relative(taylor, extended),
                     "dop853_vs_34_digits": relative(dop, extended), "taylor_s": taylor_s, "dop853_s": dop_s,
                     "extended_s": extended_s})
        print(rows[-1], flush=True)
    lines = ["| Lorenz interval | Taylor (float64) vs 34 digits | DOP853 (1e-13) vs 34 digits | Taylor s | DOP853 s |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['interval']} | {r['taylor_vs_34_digits']:.1e} | {r['dop853_vs_34_digits']:.1e} | "
              f"{r['taylor_s']:.2f} | {r['dop853_s']:.2f} |" for r in rows]
    OUT.mkdir(exist_ok=True)
    (OUT / "reference_accuracy.md").write_text(
        "# ODE references against the Taylor series in 34-digit arithmetic\n\n" + "\n".join(lines) + "\n")
    (OUT / "reference_accuracy.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
