"""``pinn classify`` through the real command line: run folder, evaluate, resume, grid, torchrun, bad input."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(app, ["classify", *map(str, args)])
        return result, result.output  # stdout and stderr as the user sees them

    return invoke


def only_run(folder: Path) -> Path:
    (run,) = [p for p in folder.iterdir() if p.is_dir()]
    return run


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    """One short digits run shared by the tests that read its folder."""
    out = tmp_path_factory.mktemp("runs")
    result = CliRunner().invoke(app, ["classify", "digits", "--epochs", "3", "--val-fraction", "0.1", "--out",
                                      str(out)])
    assert result.exit_code == 0, result.output
    return only_run(out)


def test_digits_run_writes_the_whole_run_folder(digits_run):
    for name in ("config.json", "metrics.json", "history.csv", "checkpoint.pt", "curves.png", "confusion.png",
                 "samples.png", "mistakes.png"):
        assert (digits_run / name).stat().st_size > 0, name
    metrics = json.loads((digits_run / "metrics.json").read_text())
    # Measured: 3 epochs of digits-cnn with 10 % held out reach 98.6 % (seeds 0-2) on the 360 test images.
    assert metrics["test_accuracy"] >= 0.95
    assert len(metrics["per_class_accuracy"]) == 10 and np.array(metrics["confusion_matrix"]).sum() == 360
    with open(digits_run / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(float(r["epoch"])) for r in rows] == [1, 2, 3]
    assert all(0 < float(r["val_accuracy"]) <= 1 for r in rows)
    assert json.loads((digits_run / "config.json").read_text())["model"] == "digits-cnn"


def test_evaluate_reloads_the_checkpoint_and_reproduces_the_test_accuracy(cli, digits_run):
    result, text = cli("evaluate", digits_run)
    assert result.exit_code == 0, text
    evaluation = json.loads((digits_run / "evaluation.json").read_text())
    metrics = json.loads((digits_run / "metrics.json").read_text())
    assert evaluation["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-9)
    assert "test accuracy" in text


def test_resume_continues_a_run_to_more_epochs(cli, tmp_path):
    result, text = cli("digits", "--model", "notes-digits", "--epochs", "1", "--out", tmp_path)
    assert result.exit_code == 0, text
    run = only_run(tmp_path)
    result, text = cli("digits", "--resume", run, "--epochs", "3")
    assert result.exit_code == 0, text
    assert "resuming after epoch 1" in text
    with open(run / "history.csv") as handle:
        assert [int(float(r["epoch"])) for r in csv.DictReader(handle)] == [1, 2, 3]


def test_grid_accepts_several_values_after_one_flag(cli, tmp_path):
    result, text = cli("digits", "--model", "notes-digits", "--epochs", "2", "--grid-lr", "0.01", "0.1",
                       "--grid-l2", "1e-4,1e-2", "--out", tmp_path)
    assert result.exit_code == 0, text
    run = only_run(tmp_path)
    with open(run / "grid.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((float(r["eta"]), float(r["lambda"])) for r in rows) == [(0.01, 1e-4), (0.01, 1e-2),
                                                                           (0.1, 1e-4), (0.1, 1e-2)]
    assert (run / "grid_train.png").exists() and (run / "grid_test.png").exists()
    assert "best cell" in text


def test_cifar10_from_a_local_archive_runs_end_to_end(cli, tmp_path, monkeypatch):
    from test_vision_data import cifar_binary_archive

    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    cifar_binary_archive(tmp_path / "data" / "cifar-10-binary.tar.gz", np.random.default_rng(0), per_batch=8)
    result, text = cli("cifar10", "--model", "notes-cifar", "--epochs", "1", "--batch-size", "8", "--data-dir",
                       tmp_path / "data", "--out", tmp_path / "runs")
    assert result.exit_code == 0, text
    run = only_run(tmp_path / "runs")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_images"] == 8 and list(metrics["per_class_accuracy"])[0] == "airplane"
    assert (run / "samples.png").stat().st_size > 0


def _corrupt_fashion(folder: Path) -> Path:
    folder.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / f"{stem}.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20))
    return folder


@pytest.mark.parametrize("case", ["unknown data set", "unknown model", "missing data folder", "corrupt idx",
                                  "truncated cifar archive", "not a run folder", "bad lr", "lbfgs",
                                  "resume of another data set", "resume with new settings", "grid without l2"])
def test_bad_input_is_one_line_and_exit_code_2(cli, tmp_path, case, digits_run, monkeypatch):
    args = {
        "unknown data set": ["mnist"],
        "unknown model": ["digits", "--model", "resnet50"],
        "missing data folder": ["fashion-mnist", "--data-dir", tmp_path / "nowhere"],
        "corrupt idx": ["fashion-mnist", "--data-dir", "CORRUPT"],
        "truncated cifar archive": ["cifar10", "--data-dir", "ARCHIVE"],
        "not a run folder": ["evaluate", tmp_path],
        "bad lr": ["digits", "--lr", "-1", "--out", tmp_path],
        "lbfgs": ["digits", "--optimizer", "lbfgs", "--out", tmp_path],
        "resume of another data set": ["fashion-mnist", "--resume", digits_run],
        "resume with new settings": ["digits", "--resume", digits_run, "--lr", "0.1"],
        "grid without l2": ["digits", "--grid-lr", "0.1", "--out", tmp_path],
    }[case]
    if "CORRUPT" in args:
        args[args.index("CORRUPT")] = _corrupt_fashion(tmp_path / "fashion")
    if "ARCHIVE" in args:
        (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 100)
        monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
        args[args.index("ARCHIVE")] = tmp_path
    result, text = cli(*args)
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pinn: error:"), text
    if case == "truncated cifar archive":
        assert not any((tmp_path / "cache" / "cifar10").iterdir())  # no half-extracted folder


@pytest.mark.slow
def test_torchrun_with_two_processes_completes_and_only_rank_0_writes(tmp_path):
    launcher = tmp_path / "pinn_entry.py"
    launcher.write_text("from cli.main import main\nmain()\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(launcher),
           "classify", "digits", "--epochs", "2", "--out", str(tmp_path / "runs")]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = only_run(tmp_path / "runs")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["processes"] == 2
    # Measured: 2 epochs of digits-cnn reach 98.3-99.2 % in one process; two processes share each batch.
    assert metrics["test_accuracy"] >= 0.94
    assert done.stdout.count("test accuracy") == 1  # one summary: only rank 0 prints
    assert "Warning" not in done.stderr
