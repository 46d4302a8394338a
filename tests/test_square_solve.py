"""The marching PINN on the square-wave drive: the Fourier-series drive and the exact discontinuous wave."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import app
from pinn.choices import Method
from pinn.solve_config import GradientConfig, MarchingConfig, SolveConfig
from pinn.solver import solve
from problems.square_wave import SquareWave, drive_aligned_window, square_wave_problem

NOTES_WAVE = SquareWave(period=0.2, width=0.1, fmax=2.0)


def test_drive_aligned_window_divides_the_period_and_resolves_the_harmonics() -> None:
    w = drive_aligned_window(0.2, 20)
    assert 0.2 / w == pytest.approx(round(0.2 / w))
    assert 20 * w / 0.2 <= 2.5
    slow = drive_aligned_window(6.0, 50, max_window=0.5)
    assert slow <= 0.5 and 6.0 / slow == pytest.approx(round(6.0 / slow))


def test_series_drive_over_two_periods_matches_reference_1() -> None:
    problem = square_wave_problem(NOTES_WAVE, 20, t1=0.4)
    result = solve(problem, SolveConfig(marching=MarchingConfig(window=drive_aligned_window(0.2, 20))))
    # measured: relative L2 4.1e-13, max |residual| 3.3e-10
    assert result.metrics["relative_l2"] < 1e-10
    assert result.metrics["max_abs_residual"] < 1e-7


def test_exact_square_wave_over_two_periods_matches_reference_2() -> None:
    problem = square_wave_problem(NOTES_WAVE, 0, t1=0.4)
    assert len(problem.breakpoints) == 4
    result = solve(problem, SolveConfig(marching=MarchingConfig(window=drive_aligned_window(0.2, 1))))
    # measured: relative L2 1.2e-14 over [0, 20]
    assert result.metrics["relative_l2"] < 1e-10


def test_gradient_pinn_on_two_drive_periods() -> None:
    problem = square_wave_problem(NOTES_WAVE, 20, t1=0.4)
    cfg = SolveConfig(method=Method.gradient,
                      gradient=GradientConfig(width=32, depth=2, epochs=300, lbfgs_iters=100, points=256))
    result = solve(problem, cfg)
    assert result.metrics["relative_l2"] < 0.1  # measured 1.8e-2 in 3.5 s


def test_cli_square_drive_writes_a_run(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", "oscillator", "--forcing", "square", "--period", "0.2", "--width", "0.1",
                                 "--fmax", "2", "--harmonics", "5", "--t-final", "0.6", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = next(tmp_path.iterdir())
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    assert metrics["relative_l2"] < 1e-10
    assert config["values"]["harmonics"] == 5 and config["resolved"]["marching"]["window"] is None
    assert metrics["windows"] >= 6  # error-controlled, breaking at the drive's jumps is not needed for N = 5


@pytest.mark.parametrize("args", [["--width", "0.2"], ["--period", "-1"], ["--harmonics", "-2"]])
def test_cli_rejects_bad_square_waves(runner, tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["solve", "oscillator", "--forcing", "square", *args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not any(tmp_path.iterdir())
