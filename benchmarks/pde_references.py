"""Self-convergence and cross-checks of the PDE references (Burgers by Cole-Hopf, Allen-Cahn by ETDRK4).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pde_references.py     (about 2 minutes on one core)
Writes benchmarks/results/pde_references.md and .json. Grid: 256 points on [-1, 1], t = 0.01, 0.02, ..., 1
(t = 0 is the initial state in both references). Seconds are process time of this single-threaded process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from problems.allen_cahn_reference import allen_cahn_dop853, allen_cahn_reference
from problems.burgers_reference import burgers_cole_hopf, burgers_fourier

OUT = Path(__file__).parent / "results"
X = np.linspace(-1.0, 1.0, 256)
T = np.linspace(0.01, 1.0, 100)


def compare(label: str, u: np.ndarray, ref: np.ndarray, seconds: float) -> dict:
    d = u - ref
    row = {"case": label, "max_abs": float(np.abs(d).max()),
           "relative_l2": float(np.linalg.norm(d) / np.linalg.norm(ref)),
           "max_abs_at_t": float(T[np.argmax(np.abs(d).max(axis=1))]), "seconds": seconds}
    print(f"{label:62s} max {row['max_abs']:.2e}  relL2 {row['relative_l2']:.2e}  {seconds:6.1f} s", flush=True)
    return row


def timed(fn, *args, **kw) -> tuple[np.ndarray, float]:
    start = time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - start


def main() -> None:
    rows: dict[str, list[dict]] = {"burgers": [], "allen_cahn": []}
    fine, _ = timed(burgers_cole_hopf, X, T, step=0.025)
    for step in (0.2, 0.1, 0.05):
        u, s = timed(burgers_cole_hopf, X, T, step=step)
        rows["burgers"].append(compare(f"Cole-Hopf trapezoid step {step} vs step 0.025", u, fine, s))
    for points, dt in ((1024, 1e-4), (2048, 1e-4), (2048, 5e-5), (4096, 5e-5)):
        u, s = timed(burgers_fourier, X, T, points=points, max_step=dt)
        rows["burgers"].append(compare(f"Fourier/ETDRK4 {points} points, step {dt:g} vs Cole-Hopf", u, fine, s))

    best, s = timed(allen_cahn_reference, X, T, points=8192, max_step=1e-4)
    print(f"Allen-Cahn 8192 points, step 1e-4: {s:.1f} s")
    for points, dt in ((2048, 1e-3), (4096, 1e-3), (4096, 5e-4), (4096, 2.5e-4), (8192, 5e-4)):
        u, s = timed(allen_cahn_reference, X, T, points=points, max_step=dt)
        tag = " (default)" if (points, dt) == (4096, 2.5e-4) else ""
        rows["allen_cahn"].append(compare(f"ETDRK4 {points} points, step {dt:g}{tag} vs 8192 / 1e-4", u, best, s))
    for points in (512, 1024):
        etd, _ = timed(allen_cahn_reference, X, T, points=points, max_step=2.5e-4)
        u, s = timed(allen_cahn_dop853, X, T, points=points)
        rows["allen_cahn"].append(compare(f"DOP853 (tol 1e-13) vs ETDRK4, same {points}-point semi-discretisation",
                                          u, etd, s))

    OUT.mkdir(exist_ok=True)
    (OUT / "pde_references.json").write_text(json.dumps(rows, indent=2))
    lines = ["# PDE references: self-convergence and second methods", "",
             "256 points on [-1, 1], t = 0.01 ... 1 (100 times); process seconds of one core. "
             "Produced by `benchmarks/pde_references.py`.", ""]
    for name, title in (("burgers", "Burgers, nu = 0.01/pi (Cole-Hopf quadrature)"),
                        ("allen_cahn", "Allen-Cahn (Fourier / ETDRK4)")):
        lines += [f"## {title}", "", "| comparison | max abs | rel. L2 | worst t | seconds |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r['case']} | {r['max_abs']:.1e} | {r['relative_l2']:.1e} | {r['max_abs_at_t']:.2f} | "
                  f"{r['seconds']:.1f} |" for r in rows[name]]
        lines.append("")
    (OUT / "pde_references.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
