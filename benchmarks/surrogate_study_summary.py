"""Summarise a finished `pinn sweep lorenz` folder for the README: per-axis medians and the best points as
markdown (benchmarks/results/surrogate_sweep.md) and the two most telling figures (docs/figures/).

    .venv/bin/python benchmarks/surrogate_study_summary.py runs/sweep-lorenz-full --seconds 540
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from pinn.surrogate.sweep import read_results

AXES = ("width", "depth", "activation", "optimizer", "schedule")


def axis_table(rows: list[dict], axis: str) -> list[str]:
    lines = [f"| {axis} | one-step error, median over the rest | best | VPT (Lyapunov times), median | best | "
             "training s, mean |", "|---|---|---|---|---|---|"]
    values = list(dict.fromkeys(str(r[axis]) for r in rows))
    try:
        values.sort(key=float)
    except ValueError:
        pass
    for value in values:
        sub = [r for r in rows if str(r[axis]) == value]
        one = np.array([r["one_step_median"] for r in sub], dtype=float)
        vpt = np.array([r["vpt_median_lyap"] for r in sub], dtype=float)
        secs = np.array([r["train_seconds"] for r in sub], dtype=float)
        label = value[:-2] if value.endswith(".0") else value
        lines.append(f"| {label} | {np.nanmedian(one):.2e} | {np.nanmin(one):.2e} | {np.nanmedian(vpt):.2f} | "
                     f"{np.nanmax(vpt):.2f} | {np.nanmean(secs):.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seconds", type=float, default=float("nan"), help="measured wall time of the sweep")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/surrogate_sweep.md"))
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    args = parser.parse_args()
    rows = [r for r in read_results(args.folder / "results.csv") if not str(r["stopped"]).startswith("failed")]
    axes = [a for a in AXES if a in rows[0]]
    best = sorted(rows, key=lambda r: r["one_step_median"])[:10]
    lines = [f"Study grid on the Lorenz flow map: {len(rows)} points ({' x '.join(axes)}), each trained for the "
             f"same budget (15 epochs over every 4th training pair, float32, seed 0), `--jobs 2`; wall time "
             f"{args.seconds:.0f} s under the benchmark lock.", ""]
    for axis in axes:
        lines += axis_table(rows, axis) + [""]
    lines += ["Ten best points by one-step error:", "",
              "| " + " | ".join(axes) + " | one-step | VPT (Lyapunov times) | training s |",
              "|" + "---|" * (len(axes) + 3)]
    for r in best:
        vals = [str(r[a])[:-2] if str(r[a]).endswith(".0") else str(r[a]) for a in axes]
        lines.append("| " + " | ".join(vals) + f" | {r['one_step_median']:.2e} | {r['vpt_median_lyap']:.2f} | "
                     f"{r['train_seconds']:.1f} |")
    args.out.write_text("\n".join(lines) + "\n")
    args.figures.mkdir(parents=True, exist_ok=True)
    for name in ("heatmap_depth_width.png", "heatmap_schedule_optimizer.png"):
        if (args.folder / name).is_file():
            shutil.copy(args.folder / name, args.figures / f"surrogate_sweep_{name}")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
