"""cProfile of the default `pinn solve lorenz` marching solve (Lorenz, IC (-8, 7, 27), t in [0, 8]).

Run: .venv/bin/python benchmarks/profile_marching.py LABEL      (LABEL: before / after)
Writes benchmarks/results/profile_marching_LABEL.txt: the solve's process time, its relative L2 error, and the
top 25 functions by cumulative and by own time. One torch thread (the machine is shared); process time is the
measure, since wall time is inflated by other processes.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402

from pinn.solver import SolveConfig, solve  # noqa: E402
from problems.lorenz import LORENZ  # noqa: E402

OUT = Path(__file__).parent / "results"


def main(label: str) -> None:
    torch.set_num_threads(1)
    problem = LORENZ.problem()
    solve(LORENZ.problem(t1=0.5))  # warm-up: imports and first-call costs stay out of the profile
    profiler = cProfile.Profile()
    start = time.process_time()
    profiler.enable()
    result = solve(problem, SolveConfig())
    profiler.disable()
    cpu = time.process_time() - start
    text = io.StringIO()
    text.write(f"pinn solve lorenz defaults, [0, 8], 1 torch thread: {cpu:.3f} s process time (profiled, "
               f"including the reference solution and the evaluation), relative L2 "
               f"{result.metrics['relative_l2']:.2e}, {len(result.history)} windows\n")
    try:
        from pinn.marching import solve_marching
        start = time.process_time()
        solve_marching(problem, SolveConfig().marching)
        text.write(f"solve_marching alone, not profiled: {time.process_time() - start:.3f} s process time\n")
    except TypeError:
        pass
    text.write("\n")
    for key in ("cumulative", "tottime"):
        text.write(f"--- top 25 by {key} ---\n")
        pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(25)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"profile_marching_{label}.txt"
    path.write_text(text.getvalue())
    print(text.getvalue()[:3000])
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "after")
