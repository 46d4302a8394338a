"""How many intra-op threads torch should use for a solve, and running a solve with that many.

The marching and identification solves are sequences of small dense problems (a window's least-squares
system has a few hundred rows). Splitting such a problem across threads costs more in synchronisation than
it saves, and when another process is using a core, torch's OpenMP threads wait on each other: measured on
the 2-core development machine, the default Lorenz solve took 2.3 s with torch's default 2 threads next to a
busy-loop process against 0.65 s with one thread (issue 13). So small systems run on one thread;
``benchmarks/thread_threshold.py`` measures where a second thread starts to pay off
(:data:`SMALL_SYSTEM_ENTRIES`).

``torch.set_num_threads`` is process-wide, so :func:`torch_threads` restores the previous value on exit.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

import torch

from pinn.errors import PinnError

SMALL_SYSTEM_ENTRIES = 1_000_000
"""Systems with fewer matrix entries (rows x columns of one least-squares matrix) run on one thread.

Measured by benchmarks/thread_threshold.py (benchmarks/results/thread_threshold.md) on the shared 2-core
development machine (load average 3.7): for the marching kernel (J^T J, Cholesky, solves) two threads gained
at most 1.15x up to J of 360 x 240, 1.36x at 720 x 480, and lost (0.38x) at 1440 x 960; next to a busy-loop
process they never gained. The default Lorenz solve took 0.67 s with one thread and 1.36 s with two (1.2 s
and 6.9 s next to a busy loop). The threshold sits near the measured crossover, 25x above a default marching
window (43,200 entries); rerun the benchmark on the target machine to move it."""


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def solve_threads(system_entries: int, requested: Optional[int] = None) -> Optional[int]:
    """Intra-op threads for a solve whose largest dense system has ``system_entries`` entries.

    ``requested`` (a user's --threads) wins when given (>= 1). Otherwise one thread for small systems, and
    None (leave torch's setting alone) for large ones.
    """
    if requested is not None:
        if requested < 1:
            raise PinnError(f"--threads must be at least 1, got {requested}")
        return int(requested)
    return 1 if system_entries < SMALL_SYSTEM_ENTRIES else None


def threads_per_job(jobs: int, requested: Optional[int] = None, cores: Optional[int] = None) -> int:
    """Intra-op threads for each of ``jobs`` parallel jobs so that jobs x threads <= cores.

    Default: cores // jobs (at least 1). A ``requested`` count that would oversubscribe the cores is an
    error that says what fits.
    """
    cores = available_cores() if cores is None else cores
    if jobs < 1:
        raise PinnError(f"--jobs must be at least 1, got {jobs}")
    if jobs > cores:
        raise PinnError(f"--jobs {jobs} exceeds the {cores} available cores; use --jobs {cores} or fewer")
    fit = max(1, cores // jobs)
    if requested is None:
        return fit
    if requested < 1:
        raise PinnError(f"--threads must be at least 1, got {requested}")
    if requested * jobs > cores:
        raise PinnError(f"--jobs {jobs} x --threads {requested} oversubscribes the {cores} available cores; "
                        f"use --threads {fit} or fewer")
    return int(requested)


@contextmanager
def torch_threads(count: Optional[int]) -> Iterator[int]:
    """Run the body with ``count`` intra-op torch threads, and as many BLAS threads for numpy and scipy
    (threadpoolctl), None: unchanged; restores the previous counts. Yields the torch count in the body."""
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    if count is None:
        yield previous
        return
    with threadpool_limits(limits=int(count)):
        if count == previous:
            yield previous
            return
        torch.set_num_threads(int(count))
        try:
            yield int(count)
        finally:
            torch.set_num_threads(previous)
