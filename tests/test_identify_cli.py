"""`pinn identify` through typer's CliRunner: a run folder on success, one-line errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cli.main import app
from pinn.inverse.observations import make_observations
from pinn.runs import write_csv
from problems.lorenz import LORENZ


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture
def lorenz_csv(tmp_path: Path) -> Path:
    """Noise-free observations of x, y, z for sigma = 10, rho = 15, beta = 8/3 on [0, 1.5]."""
    problem = LORENZ.problem({"rho": 15.0}, t1=1.5)
    header, table = make_observations(problem, 0.05, ["x", "y", "z"], 0.0, 1)
    path = tmp_path / "obs.csv"
    write_csv(path, header, table.T)
    return path


def only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_identify_lorenz_writes_run_folder(cli: CliRunner, lorenz_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = cli.invoke(app, ["identify", "lorenz", "--data", str(lorenz_csv), "--unknown", "sigma", "rho", "beta",
                              "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "sigma" in result.output and "run folder" in result.output
    run = only_run(out)
    for name in ("config.json", "metrics.json", "model.pt", "fit.csv", "trajectory.csv", "fit.png", "history.png"):
        assert (run / name).stat().st_size > 0, name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["estimates"]["rho"] == pytest.approx(15.0, rel=1e-8)
    assert metrics["estimates"]["sigma"] == pytest.approx(10.0, rel=1e-8)
    assert len(metrics["history"]) > 5 and set(metrics["stderr"]) == {"sigma", "rho", "beta"}
    config = json.loads((run / "config.json").read_text())
    assert config["unknowns"] == ["sigma", "rho", "beta"] and config["method"] == "lm"
    checkpoint = torch.load(run / "model.pt", weights_only=True)
    assert torch.allclose(checkpoint["theta"], torch.tensor([10.0, 15.0, 8 / 3], dtype=torch.float64), rtol=1e-8)
    fit = np.genfromtxt(run / "fit.csv", delimiter=",", names=True)
    assert np.abs(fit["x_fit"] - fit["x_data"]).max() < 1e-6


def test_identify_with_guess_fix_and_adam(cli: CliRunner, lorenz_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = cli.invoke(app, ["identify", "lorenz", "--data", str(lorenz_csv), "--unknown", "rho", "--fix",
                              "beta=2.6666666666666665", "--guess", "rho=20", "--method", "adam", "--epochs", "20",
                              "--width", "16", "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((only_run(out) / "metrics.json").read_text())
    assert metrics["method"] == "adam" and metrics["history"][-1]["iteration"] == 20
    assert metrics["stderr"]["rho"] == "nan"  # no standard errors from gradient training


@pytest.mark.parametrize("csv_text, extra, message", [
    (None, ["--unknown", "sigma", "kappa"], "unknown parameter 'kappa'"),
    ("x,y,z\n0,1,2\n0.1,1,2\n", ["--unknown", "sigma"], "no 't' column"),
    ("t,x\n0,1\n0.2,2\n0.1,3\n0.3,4\n0.4,5\n", ["--unknown", "sigma"], "not sorted"),
    ("t,x\n0,1\n0.1,2\n0.1,3\n0.3,4\n0.4,5\n", ["--unknown", "sigma"], "appears twice"),
    ("t,x\n0,1\n0.1,2\n", ["--unknown", "sigma", "rho", "beta"], "2 observed values but 6"),
    ("t,x,y\n0,1,\n0.1,2,\n0.2,3,\n0.3,4,\n0.4,5,\n0.5,6,\n0.6,7,\n", ["--unknown", "sigma"], "'y' has no values"),
    (None, ["--unknown", "sigma", "--guess", "sigma:3"], "name=value"),
    (None, ["--unknown", "sigma", "--guess", "rho=3"], "only unknown constants take guesses"),
    (None, [], "at least one unknown"),
])
def test_identify_bad_input_is_one_line_exit_2(cli: CliRunner, lorenz_csv: Path, tmp_path: Path,
                                                csv_text: str | None, extra: list[str], message: str) -> None:
    path = lorenz_csv
    if csv_text is not None:
        path = tmp_path / "bad.csv"
        path.write_text(csv_text)
    result = cli.invoke(app, ["identify", "lorenz", "--data", str(path), *extra, "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_identify_missing_data_file(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["identify", "oscillator", "--data", str(tmp_path / "none.csv"), "--unknown", "gamma"])
    assert result.exit_code == 2 and "no observations file" in result.output and "Traceback" not in result.output
