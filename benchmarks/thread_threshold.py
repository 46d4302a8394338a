"""When does a second intra-op thread pay off, and what does it cost when another process is busy?

Part 1 (kernel): the marching solver's per-window linear algebra, J^T J, its Cholesky factor and a solve, for
least-squares matrices J of m = 1.5 n rows and n columns, timed with 1 and with 2 torch threads. The size at
which two threads become faster is what pinn.threads.SMALL_SYSTEM_ENTRIES should be.
Part 2 (solve): the default `pinn solve lorenz` marching solve (pinn.solver.solve, Lorenz [0, 8]) with 1 thread
and with torch's default thread count.
Part 3 (control): work that has nothing to do with pinn or torch threads, a pure-Python loop and a
single-threaded NumPy matrix product, timed the same way: how much this machine itself slows one thread
down when the other core spins.
Each part runs twice: as is, and with a busy-loop process (`python -c "while True: pass"`) started by this
script and stopped at the end of the part, the situation of issue 13.

Run: .venv/bin/python benchmarks/thread_threshold.py
Writes benchmarks/results/thread_threshold.md and .json. Wall-clock seconds (perf_counter; threads make
process time meaningless), the best of several runs; the load average at the start is recorded, because on a
shared machine "as is" is not idle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import torch

from pinn.marching import window_system_entries
from pinn.solve_config import MarchingConfig
from pinn.solver import SolveConfig, solve
from pinn.threads import SMALL_SYSTEM_ENTRIES
from problems.lorenz import LORENZ

OUT = Path(__file__).parent / "results"
SIZES = (30, 66, 120, 240, 480, 960)


@contextmanager
def busy_core(on: bool) -> Iterator[None]:
    """A spin-loop process for the duration of the block (when ``on``)."""
    if not on:
        yield
        return
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        spin.terminate()
        spin.wait()


def best_wall(run: Callable[[], object], repeats: int, budget_s: float = 20.0) -> float:
    best, start = float("inf"), time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return best


def kernel_seconds(n: int, threads: int) -> float:
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    J = torch.randn(int(1.5 * n), n, generator=gen, dtype=torch.float64)
    rhs = torch.randn(int(1.5 * n), 1, generator=gen, dtype=torch.float64)

    def step() -> None:
        L = torch.linalg.cholesky(J.T @ J)
        for _ in range(4):  # chord iterations reuse the factor
            torch.cholesky_solve(J.T @ rhs, L)

    reps = max(3, int(2e8 / (n ** 3 + 1e5)))
    return best_wall(step, reps) * 1.0


def solve_seconds(threads: int | None) -> float:
    default = torch.get_num_threads()
    cfg = SolveConfig(threads=threads or default)
    solve(LORENZ.problem(t1=0.5), cfg)  # warm-up
    return best_wall(lambda: solve(LORENZ.problem(), cfg), 3, budget_s=120.0)


def python_loop() -> int:
    total = 0
    for i in range(2_000_000):
        total += i * i
    return total


def numpy_matmul() -> float:
    import numpy as np
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).normal(size=(400, 400))
    b = a
    with threadpool_limits(limits=1):
        for _ in range(20):
            b = a @ b / 20.0
    return float(b[0, 0])


CONTROLS = {"pure-Python loop (2e6 multiply-adds)": python_loop,
            "NumPy 400 x 400 matrix products (one BLAS thread)": numpy_matmul}


def main() -> None:
    default_threads = torch.get_num_threads()
    load = os.getloadavg()[0]
    print(f"cores {os.cpu_count()}, torch default threads {default_threads}, load average {load:.2f}", flush=True)
    kernel = []
    solves = []
    controls = []
    for busy in (False, True):
        with busy_core(busy):
            for n in SIZES:
                one, two = kernel_seconds(n, 1), kernel_seconds(n, 2)
                row = {"busy": busy, "n": n, "entries": int(1.5 * n) * n, "one_thread_ms": one * 1e3,
                       "two_threads_ms": two * 1e3, "speedup": one / two}
                print(row, flush=True)
                kernel.append(row)
            torch.set_num_threads(default_threads)
            one, many = solve_seconds(1), solve_seconds(None)
            row = {"busy": busy, "one_thread_s": one, "default_threads": default_threads, "default_threads_s": many}
            print(row, flush=True)
            solves.append(row)
            for name, work in CONTROLS.items():
                row = {"busy": busy, "work": name, "seconds": best_wall(work, 7)}
                print(row, flush=True)
                controls.append(row)
    torch.set_num_threads(default_threads)
    OUT.mkdir(exist_ok=True)
    (OUT / "thread_threshold.json").write_text(json.dumps({"load_average": load, "kernel": kernel,
                                                          "solve": solves, "control": controls}, indent=2))
    lines = [f"Load average at start {load:.2f} on {os.cpu_count()} cores (shared machine). Wall seconds, best of "
             "several runs. Busy = a `while True: pass` process running alongside.", "",
             "Kernel: J^T J, Cholesky and 4 solves for J of 1.5 n x n.", "",
             "| other core | n | entries of J | 1 thread (ms) | 2 threads (ms) | speed-up of 2 threads |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {'busy' if r['busy'] else 'as is'} | {r['n']} | {r['entries']} | {r['one_thread_ms']:.3f} | "
              f"{r['two_threads_ms']:.3f} | {r['speedup']:.2f} |" for r in kernel]
    lines += ["", f"Default `pinn solve lorenz` marching solve (window system {window_system_entries(3, MarchingConfig())}"
              f" entries; threshold {SMALL_SYSTEM_ENTRIES}):", "",
              "| other core | 1 thread (s) | torch default threads | default threads (s) |", "|---|---|---|---|"]
    lines += [f"| {'busy' if r['busy'] else 'as is'} | {r['one_thread_s']:.3f} | {r['default_threads']} | "
              f"{r['default_threads_s']:.3f} |" for r in solves]
    idle = {r["work"]: r["seconds"] for r in controls if not r["busy"]}
    lines += ["", "Control (not pinn): single-threaded work, best of 7, beside the same spin loop:", "",
              "| work | as is (s) | busy (s) | busy / as is |", "|---|---|---|---|"]
    lines += [f"| {r['work']} | {idle[r['work']]:.4f} | {r['seconds']:.4f} | {r['seconds'] / idle[r['work']]:.2f} |"
              for r in controls if r["busy"]]
    one = {r["busy"]: r["one_thread_s"] for r in solves}
    lines += ["", f"Default solve (1 thread) busy / as is: {one[True] / one[False]:.2f}."]
    (OUT / "thread_threshold.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
