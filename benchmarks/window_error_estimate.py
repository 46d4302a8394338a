"""How well each marching window's error estimate and sensitivity match the truth (calibrates pinn.marching).

For every accepted window of an error-controlled march, the window's exact solution from its own start u(a)
(order-30 Taylor series for Lorenz, the closed form for the oscillators) gives
  - the true RMS error inside the window (201 equispaced times), against the estimate h rms(defect) / 10;
  - the true error of the end state handed to the next window, as a fraction of the interior error;
  - the true sensitivity du(b)/du(a) (central differences of the exact flow), against the fit's.

Run: .venv/bin/python benchmarks/window_error_estimate.py
Writes benchmarks/results/window_error_estimate.md and .json. One torch thread.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pinn.marching import MarchingSolution, solve_marching  # noqa: E402
from pinn.solve_config import ErrorControl, MarchingConfig
from pinn.taylor import taylor_solve  # noqa: E402
from pinn.window_fit import DEFECT_TO_ERROR  # noqa: E402
from problems.lorenz import LORENZ  # noqa: E402
from problems.oscillator import OscillatorParams, oscillator_exact, oscillator_problem  # noqa: E402
from problems.square_wave import SquareWave, square_wave_drive  # noqa: E402

OUT = Path(__file__).parent / "results"


def lorenz_flow(problem):
    return lambda u_a, a, times: taylor_solve(problem.rhs, u_a, np.concatenate([[a], times]))[1:]


def oscillator_flow(params):
    return lambda u_a, a, times: oscillator_exact(params, u_a[0], u_a[1], times, a)


def study(label: str, problem, flow, tol: float) -> dict:
    sol = solve_marching(problem, MarchingConfig(error_control=ErrorControl.window), tol=tol)
    rows = []
    for w in sol.windows:
        u_a = w.u_a.numpy()
        times = np.linspace(w.a, w.b, 201)
        approx = MarchingSolution(sol.net, [w])(times)
        exact = flow(u_a, w.a, times)
        interior = float(np.sqrt(np.mean(np.sum((approx - exact) ** 2, axis=1))))
        handed_on = float(np.linalg.norm(w.u_b.numpy() - exact[-1]))
        eps = 1e-6 * max(1.0, float(np.abs(u_a).max()))
        cols = [(flow(u_a + eps * e, w.a, times[-1:])[0] - flow(u_a - eps * e, w.a, times[-1:])[0]) / (2 * eps)
                for e in np.eye(u_a.size)]
        S_true = np.stack(cols, axis=1)
        s_err = float(np.linalg.norm(w.sensitivity.numpy() - S_true) / np.linalg.norm(S_true))
        rows.append((w.b - w.a, w.error, interior, handed_on, s_err))
    r = np.array(rows)
    floor = 1e-14 * float(np.sqrt(np.mean([w.mean_square for w in sol.windows])))
    resolved = r[:, 2] > 10 * floor  # windows whose error is above round-off
    ratio = r[resolved, 1] / r[resolved, 2]
    handed = r[resolved, 3] / r[resolved, 2]
    q = lambda x, p: float(np.percentile(x, p)) if x.size else float("nan")  # noqa: E731
    out = {"case": label, "tol": tol, "windows": int(r.shape[0]), "resolved_windows": int(resolved.sum()),
           "h_median": float(np.median(r[:, 0])),
           "estimate_over_true_interior": {"p10": q(ratio, 10), "median": q(ratio, 50), "p90": q(ratio, 90),
                                           "min": q(ratio, 0)},
           "handed_on_over_interior": {"median": q(handed, 50), "p90": q(handed, 90), "max": q(handed, 100)},
           "sensitivity_relative_error": {"median": float(np.median(r[:, 4])), "max": float(r[:, 4].max())}}
    print(json.dumps(out))
    return out


def main() -> None:
    torch.set_num_threads(1)
    wave = SquareWave(0.2, 0.1, 2.0)
    square = OscillatorParams(0.2, 1.0, square_wave_drive(wave, 20))
    cases = [("lorenz [0, 8]", LORENZ.problem(), lorenz_flow(LORENZ.problem())),
             ("oscillator cos [0, 20]", oscillator_problem(), oscillator_flow(OscillatorParams())),
             ("square wave N=20 [0, 4]", oscillator_problem(square, 0.0, 0.0, 0.0, 4.0), oscillator_flow(square))]
    results = [study(label, p, flow, tol) for label, p, flow in cases for tol in (1e-6, 1e-9, 1e-12)]
    OUT.mkdir(exist_ok=True)
    (OUT / "window_error_estimate.json").write_text(json.dumps(results, indent=2))
    lines = [f"Window error estimate h rms(defect) / {DEFECT_TO_ERROR:g} against the true RMS error inside each "
             "window (windows above round-off only), the end-state error as a fraction of the interior error, "
             "and the relative error of the window sensitivity du(b)/du(a). ErrorControl.window marches.", "",
             "| case | tol | windows (resolved) | median h | estimate / true: p10 / median / p90 | end / interior: "
             "median / p90 | sensitivity error: median / max |", "|---|---|---|---|---|---|---|"]
    for o in results:
        e, h, s = o["estimate_over_true_interior"], o["handed_on_over_interior"], o["sensitivity_relative_error"]
        lines.append(f"| {o['case']} | {o['tol']:.0e} | {o['windows']} ({o['resolved_windows']}) | "
                     f"{o['h_median']:.3g} | {e['p10']:.2g} / {e['median']:.2g} / {e['p90']:.2g} | "
                     f"{h['median']:.2g} / {h['p90']:.2g} | {s['median']:.1e} / {s['max']:.1e} |")
    (OUT / "window_error_estimate.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
