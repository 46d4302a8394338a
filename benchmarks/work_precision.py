"""Work-precision diagram: relative L2 error against seconds for `pinn solve` (marching, error-controlled windows)
at several tolerances and for scipy's DOP853, RK45 and Radau at several rtol, on Lorenz [0, 8] and [0, 20], the
cosine-driven oscillator and the README's square-wave case, in one run.

Run: .venv/bin/python benchmarks/work_precision.py [--quick | --replot]  (about 25 minutes; --replot redraws
the figure from the saved json)
Writes benchmarks/results/work_precision.json and .md and docs/figures/work_precision.png, and prints the ratio of
pinn's time to DOP853's at relative L2 errors 1e-8 and 1e-10, each method's time read off its work-precision
curve (log-log interpolation along the cheapest runs reaching each error).

Conditions: one thread (OMP/MKL and torch pinned to 1); seconds are process time (CPU seconds of this process),
the best of three runs, so that other processes on a shared machine inflate them little; rerun on a quiet
machine for wall time. Errors are measured on 4001 evenly spaced times against the reference of
pinn.reference.reference_solution (Taylor series for Lorenz, closed forms for the oscillators). The pinn time
is the whole solve (all passes) plus evaluating the solution on the grid; scipy's includes its dense output on
the grid (t_eval). scipy runs twice per setting: with a right-hand side written in numpy (what a scipy user
writes; the baseline of the ratios) and with the problem's torch right-hand side wrapped for scipy (the same
function pinn calls). atol = rtol. On Lorenz [0, 20] float64 rounding alone, amplified by the chaos, limits any
solver (and the reference) to about 1e-8: pinn refuses tighter tolerances there with a PinnError.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from pinn.errors import PinnError  # noqa: E402
from pinn.marching import solve_marching  # noqa: E402
from pinn.metrics import relative_l2  # noqa: E402
from pinn.problem import ODEProblem  # noqa: E402
from pinn.reference import numpy_rhs, reference_solution  # noqa: E402
from pinn.solve_config import ErrorControl, MarchingConfig
from problems.lorenz import LORENZ  # noqa: E402
from problems.oscillator import OscillatorParams, oscillator_problem  # noqa: E402
from problems.square_wave import SquareWave, square_wave_drive, square_wave_problem  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
FIGURE = ROOT / "docs" / "figures" / "work_precision.png"
TARGETS = (1e-8, 1e-10)
REPEATS = 3


def lorenz_numpy() -> Callable[[float, np.ndarray], np.ndarray]:
    """The registry's Lorenz right-hand side on numpy arrays (it indexes and multiplies only), for scipy."""
    values = LORENZ.values

    def f(t: float, u: np.ndarray) -> np.ndarray:
        return np.array(LORENZ.rhs(np.array([[t]]), u[None, :], values))[:, 0]
    return f


def oscillator_numpy(p: OscillatorParams) -> Callable[[float, np.ndarray], np.ndarray]:
    def f(t: float, u: np.ndarray) -> np.ndarray:
        force = p.drive.numpy(np.array([t]))[0]
        return np.array([u[1], force - 2.0 * p.gamma * u[1] - p.omega0 ** 2 * u[0]])
    return f


def cases() -> list[tuple[str, ODEProblem, Callable]]:
    wave = SquareWave(0.2, 0.1, 2.0)
    square = OscillatorParams(0.2, 1.0, square_wave_drive(wave, 20))
    return [("Lorenz [0, 8]", LORENZ.problem(), lorenz_numpy()),
            ("Lorenz [0, 20]", LORENZ.problem(t1=20.0), lorenz_numpy()),
            ("oscillator, cos drive [0, 20]", oscillator_problem(), oscillator_numpy(OscillatorParams())),
            ("oscillator, square wave N=20 [0, 20]", square_wave_problem(wave, 20, x0=0.0, t1=20.0),
             oscillator_numpy(square))]


def best_time(run: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    """Best process time of REPEATS runs and the last result."""
    best, out = math.inf, None
    for _ in range(REPEATS):
        start = time.process_time()
        out = run()
        best = min(best, time.process_time() - start)
    return best, out


def pinn_runs(problem: ODEProblem, t: np.ndarray, ref: np.ndarray, control: ErrorControl,
              tols: list[float]) -> list[dict]:
    rows = []
    cfg = MarchingConfig(error_control=control)
    for tol in tols:
        try:
            seconds, (u, sol) = best_time(lambda: _pinn(problem, cfg, tol, t))
        except PinnError as exc:
            print(f"  pinn {control.value:8s} tol {tol:.0e}: PinnError: {exc}", flush=True)
            rows.append({"tol": tol, "error": None, "seconds": None, "refused": str(exc)})
            continue
        err = relative_l2(u, ref)
        print(f"  pinn {control.value:8s} tol {tol:.0e}: error {err:.2e}  {seconds * 1e3:8.1f} ms  "
              f"{len(sol.windows)} windows, {sol.passes} pass(es)", flush=True)
        rows.append({"tol": tol, "error": err, "seconds": seconds, "windows": len(sol.windows),
                     "passes": sol.passes, "estimate": sol.error_estimate})
    return rows


def _pinn(problem: ODEProblem, cfg: MarchingConfig, tol: float, t: np.ndarray):
    sol = solve_marching(problem, cfg, tol=tol)
    return sol(t), sol


def scipy_runs(problem: ODEProblem, f: Callable, t: np.ndarray, ref: np.ndarray, method: str,
               rtols: list[float], label: str) -> list[dict]:
    rows = []
    for rtol in rtols:
        def run() -> np.ndarray:
            sol = solve_ivp(f, (problem.t0, problem.t1), np.array(problem.u0, dtype=float), method=method,
                            rtol=rtol, atol=rtol, t_eval=t)
            if not sol.success:
                raise RuntimeError(sol.message)
            return sol.y.T
        seconds, u = best_time(run)
        err = relative_l2(u, ref)
        print(f"  {label:18s} rtol {rtol:.0e}: error {err:.2e}  {seconds * 1e3:8.1f} ms", flush=True)
        rows.append({"rtol": rtol, "error": err, "seconds": seconds})
    return rows


def time_to_error(rows: list[dict], target: float) -> float:
    """Seconds to reach relative L2 <= target on a work-precision curve: log-log interpolation between the
    cheapest runs on either side of the target (NaN if no run reaches it)."""
    pts = sorted((r["error"], r["seconds"]) for r in rows if r.get("error") is not None)
    front = []  # cheapest runs, error increasing and time decreasing
    for err, sec in pts:
        if not front or sec < front[-1][1]:
            front.append((err, sec))
    if not front or front[0][0] > target:
        return math.nan
    if front[-1][0] <= target:
        return front[-1][1]
    for (e1, s1), (e2, s2) in zip(front[:-1], front[1:]):
        if e1 <= target <= e2:
            w = math.log(target / e1) / math.log(e2 / e1)
            return math.exp((1 - w) * math.log(s1) + w * math.log(s2))
    return math.nan


def plot(results: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"pinn (interval)": ("C3", "o", "-"), "pinn (window)": ("C1", "s", "--"),
              "DOP853": ("C0", "^", "-"), "RK45": ("C2", "v", "-"), "Radau": ("C4", "D", "-"),
              "DOP853 (torch f)": ("C0", "^", ":")}
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    for ax, (case, methods) in zip(axes.ravel(), results.items()):
        for name, rows in methods.items():
            pts = [(r["error"], r["seconds"]) for r in rows if r.get("error") is not None]  # in tolerance order
            if not pts or name not in styles:
                continue
            color, marker, line = styles[name]
            ax.loglog([p[0] for p in pts], [p[1] for p in pts], line, color=color, marker=marker, ms=4,
                      label=name)
        for target in TARGETS:
            ax.axvline(target, color="0.7", lw=0.8, ls=":")
        ax.set_title(case, fontsize=10)
        ax.set_xlabel("relative L2 error")
        ax.set_ylabel("seconds (process time, 1 thread)")
        ax.grid(True, which="major", alpha=0.3)
        ax.invert_xaxis()
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Work-precision: pinn solve (error-controlled marching, --tol 1e-4 ... 1e-12) vs scipy "
                 "(rtol 1e-4 ... 1e-13, numpy f unless noted)")
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=120)
    plt.close(fig)


def main() -> None:
    if "--replot" in sys.argv:  # redraw the figure from the saved results
        plot(json.loads((RESULTS / "work_precision.json").read_text())["results"])
        return
    quick = "--quick" in sys.argv
    torch.set_num_threads(1)
    print(f"threads: torch {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; "
          f"seconds = best of {REPEATS} process times", flush=True)
    tols = [1e-4, 1e-6, 1e-8, 1e-10] if quick else [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12]
    rtols = [1e-4, 1e-7, 1e-10, 1e-13] if quick else [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12,
                                                      1e-13]
    results: dict = {}
    for case, problem, f_numpy in cases():
        print(case, flush=True)
        t = np.linspace(problem.t0, problem.t1, 4001)
        ref = reference_solution(problem, t)
        methods = {"pinn (interval)": pinn_runs(problem, t, ref, ErrorControl.interval, tols),
                   "pinn (window)": pinn_runs(problem, t, ref, ErrorControl.window, tols)}
        for method in ("DOP853", "RK45", "Radau"):
            usable = [r for r in rtols if r >= {"DOP853": 0, "RK45": 1e-10, "Radau": 1e-10}[method]]
            methods[method] = scipy_runs(problem, f_numpy, t, ref, method, usable, method)
        methods["DOP853 (torch f)"] = scipy_runs(problem, numpy_rhs(problem.rhs), t, ref, "DOP853", rtols,
                                                 "DOP853 (torch f)")
        results[case] = methods
    summary = []
    for case, methods in results.items():
        base = {target: time_to_error(methods["DOP853"], target) for target in TARGETS}
        base_torch = {target: time_to_error(methods["DOP853 (torch f)"], target) for target in TARGETS}
        for name in ("pinn (interval)", "pinn (window)"):
            row = {"case": case, "method": name}
            for target in TARGETS:
                mine = time_to_error(methods[name], target)
                row[f"seconds_{target:.0e}"] = mine
                row[f"dop853_seconds_{target:.0e}"] = base[target]
                row[f"ratio_{target:.0e}"] = mine / base[target]
                row[f"ratio_torch_f_{target:.0e}"] = mine / base_torch[target]
            summary.append(row)
    lines = ["| case | pinn mode | time to 1e-8 (ms) | / DOP853 | / DOP853 torch f | time to 1e-10 (ms) | / DOP853 "
             "| / DOP853 torch f |", "|---|---|---|---|---|---|---|---|"]
    for r in summary:
        cells = []
        for target in TARGETS:
            key = f"{target:.0e}"
            cells += [f"{r[f'seconds_{key}'] * 1e3:.0f}", f"{r[f'ratio_{key}']:.2f}", f"{r[f'ratio_torch_f_{key}']:.2f}"]
        lines.append(f"| {r['case']} | {r['method']} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print("\nTime to relative L2 error, read off each work-precision curve (nan: not reached):\n" + table)
    header = (f"One thread (torch, OMP, MKL pinned to 1). Seconds: best of {REPEATS} process times. "
              "DOP853 baseline: scipy with a numpy right-hand side, atol = rtol.\n\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "work_precision.md").write_text(header + table + "\n")
    (RESULTS / "work_precision.json").write_text(json.dumps({"results": results, "summary": summary}, indent=2))
    plot(results)
    print(f"wrote {RESULTS / 'work_precision.md'}, {RESULTS / 'work_precision.json'}, {FIGURE}")


if __name__ == "__main__":
    main()
