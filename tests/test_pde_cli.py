"""`pinn solve <pde>` through typer's CliRunner: run folders, dry runs, reruns and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli.main import app


def only_run(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_solve_heat_writes_the_run_folder_at_solver_accuracy(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", "heat", "--t-final", "0.2", "--kappa", "0.2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = only_run(tmp_path)
    for name in ("config.json", "metrics.json", "model.pt", "solution.npz", "fields.png", "snapshots.png"):
        assert (run / name).stat().st_size > 0, name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["relative_l2"] < 1e-9 and metrics["grid"] == [256, 101]  # measured 1.5e-12
    assert set(metrics["phase_seconds"]) and metrics["status"] == "finished"
    config = json.loads((run / "config.json").read_text())
    assert config["command"] == "solve" and config["values"] == {"kappa": 0.2}
    assert config["resolved"]["least_squares"]["features"] == 100
    data = np.load(run / "solution.npz")
    assert data["u"].shape == (101, 256) and float(data["t"][-1]) == pytest.approx(0.2)


def test_steady_problem_takes_cells_and_no_final_time(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", "helmholtz2d", "--cells", "3", "--features", "150", "--grid", "41", "41",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((only_run(tmp_path) / "metrics.json").read_text())
    assert metrics["relative_l2"] < 1e-5 and metrics["grid"] == [41, 41]  # 3 x 3 cells of 150: measured 8.9e-7
    no_time = runner.invoke(app, ["solve", "helmholtz2d", "--t-final", "1", "--dry-run"])
    assert no_time.exit_code == 2


def test_pde_dry_run_and_rerun(runner, tmp_path: Path) -> None:
    dry = runner.invoke(app, ["solve", "burgers", "--dry-run", "--out", str(tmp_path / "none")])
    assert dry.exit_code == 0 and "blocks 20" in dry.output and not (tmp_path / "none").exists()
    first = runner.invoke(app, ["solve", "advection", "--speed", "4", "--t-final", "0.25", "--cells", "2",
                                "--features", "60", "--grid", "64", "21", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    run = only_run(tmp_path)
    again = runner.invoke(app, ["rerun", str(run)])
    assert again.exit_code == 0, again.output
    copy = next(p for p in tmp_path.iterdir() if p.is_dir() and p != run)
    assert np.array_equal(np.load(copy / "solution.npz")["u"], np.load(run / "solution.npz")["u"])


@pytest.mark.parametrize("args, fragment", [
    (["solve", "burgers", "--nu", "-1"], "--nu"),
    (["solve", "burgers", "--nu", "nan"], "--nu"),
    (["solve", "heat", "--t-final", "0"], "--t-final"),
    (["solve", "heat", "--grid", "1", "101"], "--grid"),
    (["solve", "wave", "--features", "0"], "features"),
    (["solve", "schrodinger"], "unknown problem"),
])
def test_bad_pde_input_is_one_line_and_exit_2(runner, tmp_path: Path, args: list[str], fragment: str) -> None:
    result = runner.invoke(app, args + ["--out", str(tmp_path)] if len(args) > 2 else args)
    assert result.exit_code == 2, result.output
    assert fragment in result.output and len(result.output.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_simulate_then_identify_recovers_the_diffusivity(runner, tmp_path: Path) -> None:
    obs = tmp_path / "obs.npz"
    made = runner.invoke(app, ["simulate", "heat", "--nx", "48", "--every", "0.05", "--t-final", "0.5",
                               "--kappa", "0.12", "--out", str(obs)])
    assert made.exit_code == 0, made.output
    data = np.load(obs)
    assert data["u"].shape == (11, 48)
    result = runner.invoke(app, ["identify", "heat", "--data", str(obs), "--unknown", "kappa", "--out",
                                 str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((only_run(tmp_path / "runs") / "metrics.json").read_text())
    estimate = metrics["estimates"]["kappa"] if "estimates" in metrics else metrics["parameters"]["kappa"]["estimate"]
    assert abs(estimate - 0.12) / 0.12 < 1e-6  # noise-free data: measured below 1e-8


@pytest.mark.parametrize("args, fragment", [
    (["simulate", "burgers", "--out", "obs.csv"], ".npz"),
    (["simulate", "burgers", "--nx", "1", "--out", "o.npz"], "--nx"),
    (["identify", "burgers", "--data", "missing.npz", "--unknown", "nu"], "no observations file"),
    (["identify", "burgers", "--data", "missing.npz", "--unknown", "kappa"], "kappa"),
])
def test_bad_pde_observation_input_is_one_line(runner, tmp_path: Path, args: list[str], fragment: str) -> None:
    result = runner.invoke(app, [str(tmp_path / a) if a.endswith((".npz", ".csv")) else a for a in args])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and len(result.output.strip().splitlines()) == 1
