"""`pinn solve`, `pinn simulate` and `pinn problems` through typer's CliRunner, including failure paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cli.main import app


def run_folder(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def test_solve_lorenz_writes_every_artifact(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", "lorenz", "--ic", "-8", "7", "27", "--t-final", "1", "--epochs", "50",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = run_folder(tmp_path)
    for name in ("config.json", "metrics.json", "model.pt", "solution.csv", "components.png", "error.png",
                 "loss.png", "attractor.png"):
        assert (run / name).stat().st_size > 0, name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["relative_l2"] < 1e-9 and metrics["eval_points"] >= 2000
    assert len(metrics["history"]) == metrics["windows"] >= 2  # error-controlled windows
    assert metrics["error_estimate"] < 1e-10 and metrics["reference"] == "taylor"
    config = json.loads((run / "config.json").read_text())
    assert config["solve"]["method"] == "marching" and config["u0"] == [-8.0, 7.0, 27.0]
    ckpt = torch.load(run / "model.pt", weights_only=True)
    assert ckpt["method"] == "marching" and ckpt["state"]["coef"].shape[0] == metrics["windows"]
    data = np.genfromtxt(run / "solution.csv", delimiter=",", names=True)
    assert data.dtype.names == ("t", "x_pred", "y_pred", "z_pred", "x_ref", "y_ref", "z_ref")
    assert np.abs(data["x_pred"] - data["x_ref"]).max() < 1e-8  # full precision in the CSV


def test_solve_oscillator_gradient_method(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", "oscillator", "--forcing", "cos", "--t-final", "2", "--method",
                                 "gradient", "--epochs", "60", "--lbfgs-iters", "40", "--units", "32",
                                 "--layers", "2", "--points", "128", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = run_folder(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["relative_l2"] < 1e-3  # measured 9.2e-5 (Adam 60 + L-BFGS 40; 1.4e-5 after 200 + 100)
    assert not (run / "attractor.png").exists()
    ckpt = torch.load(run / "model.pt", weights_only=True)
    assert ckpt["method"] == "gradient" and "net.out.weight" in ckpt["state"]


def test_problems_lists_the_catalogue(runner) -> None:
    result = runner.invoke(app, ["problems"])
    assert result.exit_code == 0
    assert "lorenz" in result.output and "oscillator" in result.output and "8/3" in result.output
    assert "van-der-pol" in result.output


def test_dry_run_validates_prints_the_work_and_creates_nothing(runner, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = runner.invoke(app, ["solve", "lorenz", "--t-final", "2", "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "windows 20" in result.output and "dry run" in result.output
    assert not out.exists()
    bad = runner.invoke(app, ["solve", "lorenz", "--window", "inf", "--dry-run", "--out", str(out)])
    assert bad.exit_code == 2 and "--window" in bad.output and not out.exists()


@pytest.mark.parametrize("args, message", [
    (["solve", "pendulum"], "unknown problem 'pendulum'"),
    (["solve", "lorenz", "--ic", "1", "2"], "--ic"),
    (["solve", "lorenz", "--epochs", "0"], "--epochs"),
    (["solve", "lorenz", "--epochs", "-5"], "--epochs"),
    (["solve", "lorenz", "--t-final", "0"], "final time"),
    (["solve", "oscillator", "--t-final", "-3"], "final time"),
    (["solve", "lorenz", "--method", "magic"], "--method"),
])
def test_bad_input_gives_one_line_and_exit_code_2(runner, tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, args + ["--out", str(tmp_path)] if len(args) > 2 else args)
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert "Traceback" not in text
    assert len(text.splitlines()) == 1, text
    assert message in text


def test_nan_during_training_keeps_the_last_good_checkpoint(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", "lorenz", "--t-final", "1", "--method", "gradient", "--optimizer", "gd",
                                 "--lr", "1e6", "--epochs", "200", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "diverged" in result.output and "Traceback" not in result.output
    run = run_folder(tmp_path)
    ckpt = torch.load(run / "model.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in ckpt["state"].values() if v.is_floating_point())
    assert json.loads((run / "metrics.json").read_text())["status"] == "diverged"


def test_simulate_writes_the_notes_data_set(runner, tmp_path: Path) -> None:
    out = tmp_path / "lorenz.npz"
    result = runner.invoke(app, ["simulate", "lorenz", "--trajectories", "3", "--dt", "0.01", "--t-final", "1",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = np.load(out)
    assert data["states"].shape == (3, 101, 3)
    assert np.all(np.abs(data["states"][:, 0]) <= 15.0)


def test_simulate_writes_observations_csv(runner, tmp_path: Path) -> None:
    out = tmp_path / "obs.csv"
    result = runner.invoke(app, ["simulate", "lorenz", "--t-final", "3", "--rho", "15", "--observe", "x,z",
                                 "--every", "0.05", "--noise", "0.01", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text().splitlines()[0]
    assert header == "t,x,z"
    assert len(out.read_text().splitlines()) == 62


def test_simulate_rejects_an_unknown_format(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "lorenz", "--out", str(tmp_path / "x.txt")])
    assert result.exit_code == 2 and "must end in" in result.output


def test_rerun_repeats_a_solve_into_a_new_folder_with_an_identical_solution(runner, tmp_path: Path) -> None:
    first = runner.invoke(app, ["solve", "van-der-pol", "--t-final", "2", "--mu", "1.5", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    original = run_folder(tmp_path)
    again = runner.invoke(app, ["rerun", str(original)])
    assert again.exit_code == 0, again.output
    folders = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(folders) == 2
    copy = next(p for p in folders if p != original)
    assert (copy / "solution.csv").read_bytes() == (original / "solution.csv").read_bytes()
    assert json.loads((copy / "config.json").read_text())["values"] == {"mu": 1.5}


def test_run_folders_of_the_wrong_kind_are_named_in_one_line(runner, tmp_path: Path) -> None:
    folder = tmp_path / "fake"
    folder.mkdir()
    (folder / "config.json").write_text('{"command": "fourier-square", "period": 0.2}')
    result = runner.invoke(app, ["rerun", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a folder" in result.output
    (folder / "config.json").write_text("{not json")
    result = runner.invoke(app, ["rerun", str(folder)])
    assert result.exit_code == 2 and "not valid JSON" in result.output and len(result.output.strip().splitlines()) == 1
    (folder / "config.json").write_text('{"command": "solve", "problem": "lorenz", "solve": {"method": "magic"}}')
    result = runner.invoke(app, ["rerun", str(folder)])
    assert result.exit_code == 2 and "magic" in result.output
