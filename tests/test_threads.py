"""The thread policy: one intra-op thread for small solves, never more jobs x threads than cores, and the
process-wide setting restored after a solve."""

from __future__ import annotations

import pytest
import torch

from pinn.errors import PinnError
from pinn.marching import window_system_entries
from pinn.solve_config import MarchingConfig
from pinn.solver import SolveConfig, solve
from pinn.threads import SMALL_SYSTEM_ENTRIES, solve_threads, threads_per_job, torch_threads
from problems.lorenz import LORENZ


def test_small_systems_get_one_thread_and_large_ones_are_left_alone() -> None:
    default = window_system_entries(3, MarchingConfig())
    assert default < SMALL_SYSTEM_ENTRIES
    assert solve_threads(default) == 1
    assert solve_threads(SMALL_SYSTEM_ENTRIES) is None


def test_a_requested_thread_count_wins() -> None:
    assert solve_threads(10, requested=3) == 3
    with pytest.raises(PinnError, match="--threads"):
        solve_threads(10, requested=0)


@pytest.mark.parametrize("jobs, requested, cores, expected", [(1, None, 2, 2), (2, None, 2, 1), (3, None, 8, 2),
                                                              (2, 1, 2, 1), (4, 2, 8, 2)])
def test_jobs_times_threads_fit_the_cores(jobs: int, requested, cores: int, expected: int) -> None:
    threads = threads_per_job(jobs, requested, cores)
    assert threads == expected and jobs * threads <= cores


@pytest.mark.parametrize("jobs, requested, cores", [(2, 2, 2), (3, None, 2), (0, None, 2)])
def test_oversubscription_is_refused(jobs: int, requested, cores: int) -> None:
    with pytest.raises(PinnError):
        threads_per_job(jobs, requested, cores)


def test_torch_threads_restores_the_previous_count_even_on_error() -> None:
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with pytest.raises(RuntimeError):
        with torch_threads(target) as inside:
            assert torch.get_num_threads() == target == inside
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_solve_runs_small_windows_on_one_thread_and_restores_the_setting() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen: list[int] = []
    try:
        solve(LORENZ.problem(t1=0.5), SolveConfig(eval_points=2001),
              progress=lambda p: seen.append(torch.get_num_threads()))
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
        seen.clear()
        solve(LORENZ.problem(t1=0.5), SolveConfig(eval_points=2001, threads=2),
              progress=lambda p: seen.append(torch.get_num_threads()))
        assert set(seen) == {2}
    finally:
        torch.set_num_threads(before)
