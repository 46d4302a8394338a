"""Interrupted work: Ctrl-C (SIGINT) and SIGKILL.

Ctrl-C during a solve, a surrogate training, a sweep or a classify run exits with code 130 and one line
that says what was kept; every finished result stays (a sweep's finished points are not redone; a solve
records how far it got); SIGKILL during ``pinn classify`` followed by ``--resume`` loses at most the epoch
that was running.

The solve, the sweeps and SIGKILL go to a real ``pinn`` subprocess at a moment chosen by time. Classify and
surrogate training get a real SIGINT raised in the test's own process at a chosen point of the run (after
the first checkpoint, before the first epoch, once the data set is written): the same signal and handler,
without a second torch start-up (several seconds) and without a race against the clock.
"""

from __future__ import annotations

import csv
import json
import signal
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
import torch
from subprocess_cli import one_error_line, start
from typer.testing import CliRunner

import pinn.surrogate.pipeline
import pinn.vision.train
from cli.main import app


def folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


@pytest.fixture
def ctrl_c_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any, str, str], None]]:
    """``ctrl_c_at(owner, name, when)``: raise a real SIGINT in this process ``when`` ("before" or "after")
    ``owner.name`` first runs, with Python's own Ctrl-C handler installed (it raises KeyboardInterrupt
    wherever the program is); the test's previous handler comes back afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)

    def arm(owner: Any, name: str, when: str) -> None:
        original, calls = getattr(owner, name), []

        def interrupted(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if when == "before" and len(calls) == 1:
                signal.raise_signal(signal.SIGINT)
            result = original(*args, **kwargs)
            if when == "after" and len(calls) == 1:
                signal.raise_signal(signal.SIGINT)
            return result

        monkeypatch.setattr(owner, name, interrupted)

    yield arm
    signal.signal(signal.SIGINT, previous)


def interrupted_run(args: list[str]) -> tuple[int, str]:
    """Exit code and stderr of ``pinn ARGS`` run in this process."""
    try:
        result = CliRunner().invoke(app, [str(a) for a in args])
    except KeyboardInterrupt:  # not pinn's one line and exit 130; and it must not stop the whole test session
        pytest.fail("Ctrl-C escaped pinn's handler as a KeyboardInterrupt")
    return result.exit_code, result.stderr


def test_ctrl_c_during_a_solve_exits_130_and_records_how_far_it_got(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    running = start(["solve", "lorenz", "--t-final", "8", "--window", "0.002", "--tol", "1e-3", "--out", out],
                    tmp_path)
    running.wait_for(lambda: any((f / "config.json").is_file() for f in folders(out)))
    time.sleep(1.5)  # the reference (0.3 s), then 4000 windows of ~2 ms each (8 s): some are done, most are not
    running.signal(signal.SIGINT)
    assert running.finish() == 130
    line = one_error_line(running.stderr)
    (run_dir,) = folders(out)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert line.startswith("pinn: interrupted; ") and "metrics.json records" in line, line
    total = metrics["total"]
    assert metrics["status"] == "interrupted" and metrics["unit"] == "windows" and total == 4000
    assert 0 < metrics["done"] < total and metrics["at"].startswith("t=")
    assert f"{metrics['done']} of {total} windows" in line


def test_ctrl_c_during_surrogate_training_keeps_the_data_set(tmp_path: Path,
                                                            ctrl_c_at: Callable[[Any, str, str], None]) -> None:
    out = tmp_path / "runs"
    ctrl_c_at(pinn.surrogate.pipeline, "fit_surrogate", "before")
    code, stderr = interrupted_run(["surrogate", "train", "lorenz", "--epochs", "3000", "--trajectories", "6",
                                    "--test-trajectories", "1", "--t-final", "2", "--no-reference-span", "--out", out])
    assert code == 130
    line = one_error_line(stderr)
    (run_dir,) = folders(out)
    assert "keeps" in line and "data.npz" in line and "--data" in line, line
    assert json.loads((run_dir / "metrics.json").read_text()) == {"status": "interrupted"}
    with np.load(run_dir / "data.npz") as z:
        assert z["states"].shape[0] == 7  # the finished data set, complete
    assert not list(run_dir.glob(".*.tmp"))


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["key"]: row for row in csv.DictReader(handle)}


SWEEP = ["sweep", "lorenz", "--width", "4", "8", "16", "32", "64", "--epochs", "6", "--trajectories", "6",
         "--test-trajectories", "1", "--t-final", "2", "--horizon", "1"]


@pytest.mark.slow
def test_ctrl_c_during_a_sweep_keeps_finished_points_and_a_rerun_skips_them(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    running = start([*SWEEP, "--out", folder], tmp_path)
    running.wait_for(lambda: (folder / "results.csv").is_file(), timeout=180)
    running.signal(signal.SIGINT)
    assert running.finish() == 130
    line = one_error_line(running.stderr)
    before = _rows(folder / "results.csv")
    assert 1 <= len(before) < 5 and f"keeps {len(before)} of 5 points" in line, line
    again = start([*SWEEP, "--out", folder], tmp_path)
    assert again.finish(timeout=300) == 0, again.stderr
    after = _rows(folder / "results.csv")
    assert len(after) == 5
    for key, row in before.items():  # a finished point is not trained again: its timing and errors are kept
        for column in ("train_seconds", "one_step_median", "val_loss"):
            assert float(after[key][column]) == float(row[column]), (key, column)


@pytest.mark.slow
def test_ctrl_c_to_the_process_group_of_a_parallel_sweep_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    running = start([*SWEEP, "--epochs", "5000", "--jobs", "2", "--out", folder], tmp_path)
    running.wait_for(lambda: (folder / "reference.npz").is_file(), timeout=180)
    time.sleep(4.0)  # the two workers start (a few seconds each) and train their first points
    running.signal(signal.SIGINT, group=True)  # as a terminal's Ctrl-C: the workers get it too
    assert running.finish() == 130
    line = one_error_line(running.stderr)
    assert line.startswith("pinn: interrupted"), line
    assert not (folder / "results.csv").is_file() or "keeps" in line


CLASSIFY = ["classify", "digits", "--model", "notes-digits", "--batch-size", "32"]


def _epochs_printed(lines: list[str]) -> int:
    return sum(1 for line in lines if line.lstrip().startswith("epoch ") and "train loss" in line)


def test_ctrl_c_during_classify_keeps_the_checkpoint_and_names_the_resume_command(
        tmp_path: Path, ctrl_c_at: Callable[[Any, str, str], None]) -> None:
    out = tmp_path / "runs"
    ctrl_c_at(pinn.vision.train, "save_checkpoint", "after")  # during epoch 2
    code, stderr = interrupted_run([*CLASSIFY, "--epochs", "300", "--out", out])
    assert code == 130
    line = one_error_line(stderr)
    (run_dir,) = folders(out)
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert f"keeps checkpoint.pt after epoch {state['epoch']}" in line and "--resume" in line, line
    assert state["epoch"] == 1


@pytest.mark.slow
def test_sigkill_during_classify_then_resume_loses_at_most_the_running_epoch(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    running = start([*CLASSIFY, "--epochs", "300", "--out", out], tmp_path)
    running.wait_for(lambda: _epochs_printed(running.lines) >= 3)
    running.signal(signal.SIGKILL)
    running.finish()
    printed = _epochs_printed(running.lines)
    (run_dir,) = folders(out)
    target = printed + 2
    resumed = start([*CLASSIFY[:2], "--resume", run_dir, "--epochs", target], tmp_path)
    assert resumed.finish(timeout=300) == 0, resumed.stderr
    text = "".join(resumed.lines)
    after = int(text.split("resuming after epoch ")[1].split()[0])
    assert after >= printed, (after, printed)  # every epoch printed before the kill was kept
    with open(run_dir / "history.csv", newline="") as handle:
        epochs = [int(float(row["epoch"])) for row in csv.DictReader(handle)]
    assert epochs == list(range(1, target + 1))


def test_ctrl_c_before_the_first_checkpoint_leaves_no_run_folder(tmp_path: Path,
                                                                 ctrl_c_at: Callable[[Any, str, str], None]) -> None:
    out = tmp_path / "runs"
    ctrl_c_at(pinn.vision.train, "_train_epoch", "before")  # as epoch 1 starts
    code, stderr = interrupted_run([*CLASSIFY[:4], "--epochs", "5", "--out", out])
    assert code == 130
    assert one_error_line(stderr) == "pinn: interrupted; nothing was written"
    assert folders(out) == []
