"""problems.square_wave: the wave, its two exact oscillator references against DOP853, the convergence study
in N, and `pinn fourier` through the CLI (including its failure paths).

Thresholds come from measured runs (float64) with the margins stated beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pinn.errors import PinnError
from pinn.fourier import partial_sum
from pinn.metrics import relative_l2
from pinn.reference import dop853
from problems.oscillator import OscillatorParams, oscillator_exact
from problems.square_wave import (
    SquareWave,
    series_convergence,
    square_wave_coefficients,
    square_wave_drive,
    square_wave_exact,
    square_wave_force,
    square_wave_force_torch,
    square_wave_jumps,
    square_wave_problem,
    square_wave_scipy,
    square_wave_series,
)

NOTES_WAVE = SquareWave(period=0.2, width=0.1, fmax=2.0)
SLOW_WAVE = SquareWave(period=6.0, width=3.0, fmax=1.0)
ODD_WAVE = SquareWave(period=1.0, width=0.3, fmax=-1.5)


@pytest.fixture(autouse=True)
def _seed() -> None:
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def pinn_app():
    from cli.main import app

    return app


@pytest.mark.parametrize("period, width", [(0.2, 0.2), (0.2, 0.3), (-0.2, 0.1), (0.0, 0.1), (0.2, 0.0),
                                           (0.2, -0.1), (float("nan"), 0.1)])
def test_invalid_square_wave_is_a_one_line_error(period: float, width: float) -> None:
    with pytest.raises(PinnError) as info:
        SquareWave(period, width, 2.0)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("wave", [NOTES_WAVE, SLOW_WAVE, ODD_WAVE, SquareWave(0.7, 0.13, 1.0)])
def test_wave_matches_the_notes_scipy_construction_and_torch(wave: SquareWave) -> None:
    t = np.random.uniform(-3 * wave.period, 40 * wave.period, 20000)
    jumps = np.array(square_wave_jumps(wave, -4 * wave.period, 41 * wave.period))
    away = np.min(np.abs(t[:, None] - jumps[None, :]), axis=1) > 1e-9 * wave.period
    f = square_wave_force(t, wave)
    assert np.array_equal(f[away], square_wave_scipy(t[away], wave))
    assert np.array_equal(f, square_wave_force_torch(torch.tensor(t)[:, None], wave).numpy())
    assert set(np.unique(f)) == {0.0, wave.fmax}
    assert np.mean(f == wave.fmax) == pytest.approx(wave.width / wave.period, abs=0.02)


@pytest.mark.parametrize("wave", [NOTES_WAVE, ODD_WAVE])
def test_force_at_each_jump_time_is_the_value_after_the_jump(wave: SquareWave) -> None:
    jumps = np.array(square_wave_jumps(wave, 0.0, 40.0))
    delta = 1e-9 * wave.period
    before, at, after = (square_wave_force(jumps + s, wave) for s in (-delta, 0.0, delta))
    assert np.all(before != after) and np.array_equal(at, after)
    assert np.array_equal(at, square_wave_force_torch(torch.tensor(jumps)[:, None], wave).numpy())


def test_jump_times_of_the_notes_wave() -> None:
    jumps = square_wave_jumps(NOTES_WAVE, 0.0, 20.0)
    assert len(jumps) == 200
    assert jumps[:3] == pytest.approx((0.05, 0.15, 0.25)) and jumps[-1] == pytest.approx(19.95)
    assert square_wave_jumps(SLOW_WAVE, 0.0, 30.0) == pytest.approx((1.5, 4.5, 7.5, 10.5, 13.5, 16.5, 19.5, 22.5,
                                                                    25.5, 28.5))
    assert square_wave_jumps(NOTES_WAVE, 0.05, 0.15) == ()  # ends excluded


def test_closed_form_coefficients_and_drive() -> None:
    a0, f, g = square_wave_coefficients(NOTES_WAVE, 5)
    assert a0 == 1.0 and not np.any(g)
    assert f == pytest.approx([4 / np.pi, 0.0, -4 / (3 * np.pi), 0.0, 4 / (5 * np.pi)], abs=1e-15)
    drive = square_wave_drive(NOTES_WAVE, 30)
    assert drive.freqs[0] == pytest.approx(2 * np.pi / 0.2) and len(drive.freqs) == 30
    t = np.linspace(-1, 1, 777)
    assert np.abs(drive.numpy(t) - partial_sum(square_wave_series(NOTES_WAVE, 30), t)).max() < 1e-13
    with pytest.raises(PinnError):
        square_wave_drive(NOTES_WAVE, -1)


# reference 1: truncated-series drive, closed form vs DOP853 (rtol = atol = 1e-13)
@pytest.mark.parametrize("wave, harmonics, gamma, omega0, x0, v0, t1", [
    (NOTES_WAVE, 20, 0.2, 1.0, 0.0, 0.0, 1.0),     # notes' drive (DOP853 over [0, 20] takes ~30 s)
    (SLOW_WAVE, 50, 0.2, 1.0, 0.0, 0.0, 12.0),     # the slow drive
    (ODD_WAVE, 7, 2.0, 1.0, 0.5, -1.0, 6.0),        # overdamped, W/T = 0.3, negative height
])
def test_reference_1_matches_dop853(wave, harmonics, gamma, omega0, x0, v0, t1) -> None:
    problem = square_wave_problem(wave, harmonics, gamma, omega0, x0, v0, t1)
    t = np.linspace(0.0, t1, 1001)
    exact = problem.reference(t)
    numeric = dop853(problem.rhs, np.array(problem.u0), t)
    # measured max |difference| 6e-14 (all three cases below 3e-13)
    assert np.abs(exact - numeric).max() < 1e-9
    assert relative_l2(numeric, exact) < 1e-9
    assert problem.breakpoints == () and problem.params["harmonics"] == harmonics


@pytest.mark.slow
# reference 2: the true wave, piecewise closed form vs DOP853 restarted at every jump
@pytest.mark.parametrize("wave, gamma, omega0, x0, v0, t1", [
    (NOTES_WAVE, 0.2, 1.0, 0.0, 0.0, 2.0),       # 20 jumps (the full [0, 20] has 200 and takes ~25 s)
    (SLOW_WAVE, 0.2, 1.0, 0.0, 0.0, 30.0),
    (ODD_WAVE, 1.0, 1.0, 0.5, -1.0, 3.0),         # critically damped
    (ODD_WAVE, 2.0, 1.0, 0.5, -1.0, 3.0),         # overdamped
    (ODD_WAVE, 0.05, 3.0, 0.5, -1.0, 3.0),        # light damping, omega0 = 3
])
def test_reference_2_matches_dop853_with_breakpoints(wave, gamma, omega0, x0, v0, t1) -> None:
    problem = square_wave_problem(wave, 0, gamma, omega0, x0, v0, t1)
    assert problem.breakpoints == square_wave_jumps(wave, 0.0, t1)
    t = np.linspace(0.0, t1, 1001)
    exact = problem.reference(t)
    numeric = dop853(problem.rhs, np.array(problem.u0), t, breakpoints=problem.breakpoints)
    # measured max |difference| 9e-13 (notes' wave), 4e-13 to 9e-13 for the others
    assert np.abs(exact - numeric).max() < 1e-9
    assert relative_l2(numeric, exact) < 1e-9


def test_reference_2_holds_the_initial_state_and_is_continuous_at_jumps() -> None:
    u = square_wave_exact(ODD_WAVE, 0.3, 1.2, 0.7, -0.4, np.array([0.0]))
    assert u[0, 0] == 0.7 and u[0, 1] == -0.4
    jumps = np.array(square_wave_jumps(ODD_WAVE, 0.0, 10.0))
    eps = 1e-10
    left = square_wave_exact(ODD_WAVE, 0.3, 1.2, 0.7, -0.4, jumps - eps)
    right = square_wave_exact(ODD_WAVE, 0.3, 1.2, 0.7, -0.4, jumps + eps)
    assert np.abs(left - right).max() < 1e-8  # x'' is bounded, so the state moves O(eps) across a jump
    t = np.random.uniform(0.0, 10.0, 50)
    shuffled = square_wave_exact(ODD_WAVE, 0.3, 1.2, 0.7, -0.4, t)
    ordered = square_wave_exact(ODD_WAVE, 0.3, 1.2, 0.7, -0.4, np.sort(t))
    assert np.array_equal(shuffled[np.argsort(t)], ordered)


def test_square_wave_problem_records_the_wave_and_rejects_negative_harmonics() -> None:
    problem = square_wave_problem(NOTES_WAVE, 20)
    assert problem.params == {"forcing": "square", "gamma": 0.2, "omega0": 1.0, "period": 0.2, "width": 0.1,
                              "fmax": 2.0, "harmonics": 20}
    t = np.linspace(0, 20, 501)
    expected = oscillator_exact(OscillatorParams(0.2, 1.0, square_wave_drive(NOTES_WAVE, 20)), 0.0, 0.0, t)
    assert np.array_equal(problem.reference(t), expected)
    exact_wave = square_wave_problem(NOTES_WAVE, 0)
    assert len(exact_wave.breakpoints) == 200 and exact_wave.order == 2 and exact_wave.u0 == (0.0, 0.0)
    tt = torch.tensor([[0.0], [0.07]], dtype=torch.float64)
    rhs = exact_wave.rhs(tt, torch.zeros(2, 2, dtype=torch.float64))
    assert rhs[:, 1].tolist() == [2.0, 0.0]
    for bad in (-1, 1.5):
        with pytest.raises(PinnError, match="harmonics"):
            square_wave_problem(NOTES_WAVE, bad)
    with pytest.raises(PinnError, match="gamma"):
        square_wave_problem(NOTES_WAVE, 0, gamma=-0.1)


def test_truncated_series_solution_converges_to_the_square_wave_solution() -> None:
    study = series_convergence(NOTES_WAVE, [5, 10, 20, 40, 80], t1=4.0, fit_from=10)
    assert np.all(np.diff(study.error_x) < 0) and np.all(np.diff(study.error_state) < 0)
    # tail of the series: |f_n| ~ 1/n, x responds ~ 1/n^2, so the x error ~ N^-2.5, x' ~ N^-1.5
    # measured slopes over N >= 10: -2.50 (x), -1.50 (x')
    assert study.slope_x == pytest.approx(-2.5, abs=0.15)
    assert study.slope_v == pytest.approx(-1.5, abs=0.15)
    assert study.error_state[-1] < 1e-4
    with pytest.raises(PinnError, match="two different"):
        series_convergence(NOTES_WAVE, [5, 10], fit_from=10)


def _run_folder(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def test_cli_fourier_square_writes_its_run_folder(cli_runner, pinn_app, tmp_path: Path) -> None:
    result = cli_runner.invoke(pinn_app, ["fourier", "square", "--period", "0.2", "--width", "0.1", "--fmax", "2",
                                          "--harmonics", "1", "5", "20", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Gibbs" in result.output
    run = _run_folder(tmp_path)
    for name in ("config.json", "metrics.json", "coefficients.csv", "partial_sums.png"):
        assert (run / name).stat().st_size > 0, name
    config = json.loads((run / "config.json").read_text())
    assert config["harmonics"] == [1, 5, 20] and config["period"] == 0.2
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["max_coefficient_difference"] < 1e-10  # measured 2e-15
    gibbs = {row["harmonics"]: row["gibbs_fraction"] for row in metrics["partial_sums"]}
    assert gibbs[20] == pytest.approx(0.0899, abs=1e-3)
    data = np.genfromtxt(run / "coefficients.csv", delimiter=",", names=True)
    assert data.shape == (20,) and np.abs(data["f_quadrature"] - data["f_closed_form"]).max() < 1e-10


def test_cli_fourier_convergence_writes_table_and_slope(cli_runner, pinn_app, tmp_path: Path) -> None:
    result = cli_runner.invoke(pinn_app, ["fourier", "convergence", "--harmonics", "5", "10", "20", "40",
                                          "--t-final", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = _run_folder(tmp_path)
    for name in ("config.json", "metrics.json", "convergence.csv", "convergence.png"):
        assert (run / name).stat().st_size > 0, name
    metrics = json.loads((run / "metrics.json").read_text())
    assert [row["harmonics"] for row in metrics["table"]] == [5, 10, 20, 40]
    assert -3.0 < metrics["slope_x"] < -2.0  # measured -2.3 over N = 5..40 on [0, 2]


@pytest.mark.parametrize("args, message", [
    (["fourier", "square", "--period", "0.2", "--width", "0.2"], "width"),
    (["fourier", "square", "--period", "0.2", "--width", "0.5"], "width"),
    (["fourier", "square", "--period", "-0.2", "--width", "0.1"], "period"),
    (["fourier", "square", "--harmonics", "5", "-1"], "harmonics"),
    (["fourier", "square", "--harmonics", "-3"], "harmonics"),
    (["fourier", "convergence", "--harmonics", "1", "-2", "5"], "harmonics"),
    (["fourier", "convergence", "--period", "-1"], "period"),
    (["fourier", "convergence", "--harmonics", "5"], "two different"),
])
def test_cli_fourier_bad_input_is_one_line_and_exit_code_2(cli_runner, pinn_app, tmp_path: Path,
                                                           args: list[str], message: str) -> None:
    result = cli_runner.invoke(pinn_app, args + ["--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not any(tmp_path.iterdir())  # nothing half-written
