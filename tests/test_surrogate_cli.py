"""`pinn surrogate train|rollout` and `pinn sweep` through typer's CliRunner, failure paths included."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()
TINY = ["--trajectories", "4", "--test-trajectories", "2", "--t-final", "1", "--horizon", "1"]


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert fragment in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.fixture(scope="module")
def lorenz_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    result = invoke("surrogate", "train", "lorenz", "--epochs", "3", "--width", "8", "--depth", "1", *TINY,
                    "--out", out)
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    return folder


def test_train_writes_a_complete_run_folder(lorenz_run):
    for name in ("config.json", "model.pt", "data.npz", "metrics.json", "history.csv", "rollout.png",
                 "attractor.png", "error_growth.png", "histograms.png", "training.png"):
        assert (lorenz_run / name).is_file(), name
    metrics = json.loads((lorenz_run / "metrics.json").read_text())
    assert metrics["n_test"] == 2 and metrics["lyapunov"] == pytest.approx(0.906)
    config = json.loads((lorenz_run / "config.json").read_text())
    assert config["problem"] == "lorenz" and config["options"]["form"] == "residual"


def test_rollout_from_a_given_initial_state(lorenz_run):
    result = invoke("surrogate", "rollout", lorenz_run, "--ic", "1", "1", "1", "--t-final", "0.5")
    assert result.exit_code == 0, result.output
    (folder,) = lorenz_run.glob("rollout-*")
    with open(folder / "rollout.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["t", "x_pred", "y_pred", "z_pred"] and len(rows) == 52
    assert [float(v) for v in rows[1][4:7]] == [1.0, 1.0, 1.0]


def test_rollout_failures_are_one_line(lorenz_run, tmp_path):
    assert_one_line_error(invoke("surrogate", "rollout", lorenz_run, "--problem", "oscillator"), "not oscillator")
    assert_one_line_error(invoke("surrogate", "rollout", lorenz_run, "--ic", "1", "1"), "needs 3 values")
    assert_one_line_error(invoke("surrogate", "rollout", tmp_path), "not a surrogate run folder")
    assert_one_line_error(invoke("surrogate", "train", "pendulum"), "unknown problem")


@pytest.mark.parametrize("extra", [["--model", "sindy"], ["--model", "gru", "--window", "3", "--epochs", "1"],
                                   ["--model", "rnn", "--backend", "numpy", "--window", "3", "--epochs", "1"]])
def test_train_sindy_and_recurrent(tmp_path, extra):
    result = invoke("surrogate", "train", "lorenz", *extra, *TINY, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    (folder,) = tmp_path.iterdir()
    assert (folder / "metrics.json").is_file()
    rolled = invoke("surrogate", "rollout", folder, "--ic", "1", "-2", "3", "--t-final", "0.5")
    assert rolled.exit_code == 0, rolled.output


def test_numpy_backend_is_for_the_from_scratch_recurrent_nets_only():
    assert_one_line_error(invoke("surrogate", "train", "lorenz", "--model", "mlp", "--backend", "numpy"),
                          "--backend numpy")


def test_oscillator_surrogate_sees_the_drive(tmp_path):
    result = invoke("surrogate", "train", "oscillator", "--epochs", "2", "--width", "8", "--depth", "1",
                    "--trajectories", "3", "--test-trajectories", "1", "--t-final", "2", "--horizon", "2",
                    "--out", tmp_path)
    assert result.exit_code == 0, result.output
    (folder,) = tmp_path.iterdir()
    assert json.loads((folder / "config.json").read_text())["data"]["drive_freqs"] == [0.5]
    result = invoke("surrogate", "rollout", folder, "--t-final", "1")
    assert result.exit_code == 0, result.output


def test_sweep_command_runs_and_resumes(tmp_path):
    args = ["sweep", "lorenz", "--width", "4", "8", "--optimizer", "sgd", "adam", "--epochs", "1",
            "--trajectories", "4", "--test-trajectories", "2", "--t-final", "1", "--horizon", "1",
            "--out", tmp_path / "s"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    table = (tmp_path / "s" / "results.csv").read_text()
    assert table.count("\n") == 5 and "width=8|optimizer=adam" in table
    assert (tmp_path / "s" / "results.md").is_file()
    again = invoke(*args)
    assert again.exit_code == 0 and (tmp_path / "s" / "results.csv").read_text() == table


def test_sweep_bad_grids_are_one_line():
    assert_one_line_error(invoke("sweep", "lorenz", "--width", "--depth", "1"), "no values")
    assert_one_line_error(invoke("sweep", "lorenz", "--colour", "red"), "--colour")
    assert_one_line_error(invoke("sweep", "lorenz", "--epochs", "2"), "at least one grid axis")
    assert_one_line_error(invoke("sweep", "lorenz", "--activation", "swish"), "swish")
    assert_one_line_error(invoke("sweep", "lorenz", "--width", "4", "--jobs", "64"), "--jobs")
    assert_one_line_error(invoke("sweep", "lorenz", "--width", "4", "--heatmap", "width,colour"), "--heatmap")


FAST = ["--trajectories", "4", "--test-trajectories", "2", "--t-final", "2", "--horizon", "2", "--no-reference-span"]


@pytest.fixture(scope="module")
def polynomial_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("poly")
    result = invoke("surrogate", "train", "lorenz", "--model", "polynomial", "--degree", "4", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    return folder


def test_polynomial_flow_map_run_records_its_selection(polynomial_run):
    metrics = json.loads((polynomial_run / "metrics.json").read_text())
    assert metrics["features"] in (10, 20, 35) and metrics["one_step_median"] < 1e-4
    assert "phase_seconds" in metrics and any("least squares" in k for k in metrics["phase_seconds"])
    assert (polynomial_run / "selection.csv").read_text().count("\n") == 3 * 6 + 1  # degrees 2-4 x 6 ridges
    result = invoke("surrogate", "rollout", polynomial_run, "--t-final", "0.5")
    assert result.exit_code == 0, result.output


def test_reservoir_run_reports_its_tuned_settings(tmp_path):
    result = invoke("surrogate", "train", "lorenz", "--model", "reservoir", "--reservoir-size", "40", "--warmup",
                    "30", "--trials", "2", *FAST, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "reservoir settings: spectral_radius" in result.output
    (folder,) = tmp_path.iterdir()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["warmup_steps"] == 29 and set(metrics["reservoir"]) >= {"spectral_radius", "leak", "ridge"}
    result = invoke("surrogate", "rollout", folder, "--t-final", "1")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args,fragment", [
    (["--model", "random-features", "--features", "0"], "--features must be a whole number in [1, 1000000]"),
    (["--model", "polynomial", "--ridge", "-1"], "--ridge must be a number in [0, 1e+12]"),
    (["--model", "reservoir", "--leak", "1.5"], "--leak must be a number in (0, 1]"),
    (["--model", "autoencoder"], "add --observe lifted128"),
    (["--observe", "lifted128"], "is for --model autoencoder"),
    (["--model", "lstm", "--window", "500", "--horizon", "1"], "--horizon 1.0 must exceed"),
    (["--model", "sindy", "--unroll", "3"], "--unroll"),
])
def test_bad_options_are_one_line_before_any_work(tmp_path, args, fragment):
    assert_one_line_error(invoke("surrogate", "train", "lorenz", *args, "--out", tmp_path), fragment)
    assert not any(tmp_path.iterdir())  # no run folder was created


def test_a_run_folder_of_another_model_type_is_one_line(polynomial_run, tmp_path):
    import shutil

    fake = tmp_path / "fake"
    shutil.copytree(polynomial_run, fake)
    config = json.loads((fake / "config.json").read_text())
    config["model"] = "reservoir"
    (fake / "config.json").write_text(json.dumps(config))
    assert_one_line_error(invoke("surrogate", "rollout", fake), "does not hold a reservoir surrogate")
    config["model"] = "mlp"
    (fake / "config.json").write_text(json.dumps(config))
    assert_one_line_error(invoke("surrogate", "rollout", fake), "does not hold a mlp surrogate")
    (fake / "config.json").write_text(json.dumps({"problem": "lorenz", "method": "marching"}))
    assert_one_line_error(invoke("surrogate", "rollout", fake), "not a surrogate run folder")


def test_autoencoder_run_on_lifted_observations(tmp_path):
    result = invoke("surrogate", "train", "lorenz", "--model", "autoencoder", "--observe", "lifted128", "--epochs",
                    "3", "--width", "8", *FAST, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    (folder,) = tmp_path.iterdir()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert {"latent_affine_residual", "latent_field_error", "val_reconstruction"} <= set(metrics)
    assert (folder / "equations.txt").read_text().startswith("z1' =")
    result = invoke("surrogate", "rollout", folder, "--t-final", "0.5")
    assert result.exit_code == 0, result.output
    with open(next(folder.glob("rollout-*")) / "rollout.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[1] == "x0_pred" and len(header) == 1 + 2 * 128 + 1  # forecasts in the 128-dim space
