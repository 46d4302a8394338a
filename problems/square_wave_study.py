"""The two studies of ``pinn fourier``: the square wave's Fourier series, and how the oscillator driven by
its N-harmonic partial sum converges to the solution for the true wave.

Each is a frozen config (saved as config.json) and one function that does the work and writes the run
folder; the command line only prints what they return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pinn import checks
from pinn.errors import PinnError
from pinn.fourier import GIBBS_FRACTION
from pinn.progress import Reporter
from problems.square_wave import SquareWave


def _check_wave(period: float, width: float, fmax: float) -> None:
    """The wave's own checks, plus sizes the studies can compute with: a period up to 1e6 and a height with
    1e-100 <= |fmax| <= 1e100 (the energies divide by fmax^2, which must stay a normal number)."""
    checks.positive("period", period, 1e6)
    if not (isinstance(fmax, (int, float)) and 1e-100 <= abs(fmax) <= 1e100):
        raise PinnError(f"--fmax must be a number with 1e-100 <= |fmax| <= 1e100, got {fmax!r}")
    SquareWave(period, width, fmax)


def _check_harmonics(harmonics: tuple[int, ...]) -> None:
    if not harmonics:
        raise PinnError("--harmonics needs at least one value")
    for n in harmonics:
        checks.count("harmonics", n, 1, 100_000)


@dataclass(frozen=True)
class FourierSquareConfig:
    """``pinn fourier square``: the wave (period, width, fmax), the partial sums N shown, how many
    coefficients the printed table lists, and the parent folder of the run folder."""

    period: float = 0.2
    width: float = 0.1
    fmax: float = 2.0
    harmonics: tuple[int, ...] = (1, 5, 20, 100)
    table_rows: int = 10
    out: Path = Path("runs")

    def __post_init__(self) -> None:
        _check_wave(self.period, self.width, self.fmax)
        _check_harmonics(self.harmonics)
        checks.count("table_rows", self.table_rows, 0, 100_000)


@dataclass(frozen=True)
class FourierConvergenceConfig:
    """``pinn fourier convergence``: the wave, the oscillator (gamma, omega0, initial state), the N values,
    the interval [0, t_final], the smallest N of the power-law fit, the parent folder of the run folder."""

    period: float = 0.2
    width: float = 0.1
    fmax: float = 2.0
    gamma: float = 0.2
    omega0: float = 1.0
    x0: float = 0.0
    v0: float = 0.0
    harmonics: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200)
    t_final: float = 20.0
    fit_from: int = 1
    out: Path = Path("runs")

    def __post_init__(self) -> None:
        _check_wave(self.period, self.width, self.fmax)
        _check_harmonics(self.harmonics)
        checks.number("gamma", self.gamma, 0.0, 1e3)
        checks.number("omega0", self.omega0, 1e-6, 1e3)  # omega0^2 divides: keep it a normal number
        checks.number("x0", self.x0, -1e12, 1e12)
        checks.number("v0", self.v0, -1e12, 1e12)
        checks.positive("t_final", self.t_final, 1e5)
        checks.count("fit_from", self.fit_from, 1, 100_000)
        if len({n for n in self.harmonics if n >= self.fit_from}) < 2:
            raise PinnError(f"fitting a slope needs at least two different harmonics N >= {self.fit_from} "
                            "(--fit-from)")


def work_estimate(cfg: FourierSquareConfig | FourierConvergenceConfig) -> dict[str, Any]:
    """The size of a study before it starts: samples, memory in bytes and floating-point operations (the
    quadrature of one coefficient counted as 1e6, a Python step over one interval of the wave as 2e3)."""
    n_max = max(cfg.harmonics)
    if isinstance(cfg, FourierSquareConfig):
        plotted = (20001 + 4001) * len(cfg.harmonics)
        return {"coefficients": 2 * n_max + 1, "partial_sums": len(cfg.harmonics),
                "flops": (2 * n_max + 2) * 1e6 + (2001 + 4 * n_max + plotted) * n_max * len(cfg.harmonics) * 4.0,
                "memory_bytes": 8.0 * (plotted + 2001 + 4 * n_max) * 6 + 8.0 * n_max * 20}
    periods = cfg.t_final / cfg.period
    samples = checks.whole(max(16 * (n_max + 1), 20000 / periods)) * periods + 1
    jumps = 2.0 * periods
    return {"samples": samples, "wave_intervals": jumps, "truncations": len(cfg.harmonics),
            "flops": samples * sum(cfg.harmonics) * 40.0 + jumps * 2e3 + samples * len(cfg.harmonics) * 100.0,
            "memory_bytes": 8.0 * samples * 2 * 10 + 8.0 * jumps * 8}


def prepare_study(cfg: FourierSquareConfig | FourierConvergenceConfig) -> dict[str, Any]:
    """Check a study before any work or run folder: the output folder, and its memory and time."""
    from pinn.runs import check_output_root

    check_output_root(cfg.out)
    estimate = work_estimate(cfg)
    checks.memory(estimate["memory_bytes"], "this study", "lower --harmonics or --t-final, or lengthen --period")
    estimate["seconds_bound"] = checks.budget(estimate.pop("flops"), "this study",
                                              "lower --harmonics or --t-final, or lengthen --period")
    return estimate


def square_wave_study(cfg: FourierSquareConfig, report: Optional[Reporter] = None) -> tuple[dict[str, Any], Path]:
    """Coefficients by quadrature and in closed form, Gibbs overshoot and Parseval per N, into a run folder
    (config.json, coefficients.csv, metrics.json, partial_sums.png); returns the metrics and the folder."""
    from pinn.fourier import (
        fourier_coefficients,
        mean_square,
        parseval_partial_energies,
    )
    from problems.square_wave import square_wave_force, square_wave_series

    report = report or Reporter()
    prepare_study(cfg)
    wave = SquareWave(cfg.period, cfg.width, cfg.fmax)
    started = time.perf_counter()
    n_max = max(cfg.harmonics)
    jumps = (-0.5 * wave.width, 0.5 * wave.width)

    def force(t: np.ndarray) -> np.ndarray:
        return square_wave_force(t, wave)

    with report.phase(f"quadrature of {2 * n_max + 1} Fourier integrals"):
        quad = fourier_coefficients(force, wave.period, n_max, discontinuities=jumps)
        closed = square_wave_series(wave, n_max)
        f_mean_square = mean_square(force, wave.period, discontinuities=jumps)
    diff = np.abs(np.concatenate(([quad.a0 - closed.a0], quad.cos_coeffs - closed.cos_coeffs,
                                  quad.sin_coeffs - closed.sin_coeffs)))
    k = min(50, n_max)
    energies = parseval_partial_energies(closed)
    with report.phase("Gibbs overshoot and Parseval per partial sum", len(cfg.harmonics)) as update:
        per_n = _partial_sums(force, closed, cfg.harmonics, 0.5 * wave.width, energies, f_mean_square, update)
    diff_50 = np.concatenate(([quad.a0 - closed.a0], quad.cos_coeffs[:k] - closed.cos_coeffs[:k],
                              quad.sin_coeffs[:k] - closed.sin_coeffs[:k]))
    metrics = {"a0_quadrature": quad.a0, "a0_closed_form": closed.a0,
               "max_coefficient_difference": float(diff.max()),
               "max_coefficient_difference_n_le_50": float(np.abs(diff_50).max()),
               "max_sine_coefficient": float(np.abs(quad.sin_coeffs).max(initial=0.0)),
               "mean_square": f_mean_square, "mean_square_closed_form": wave.fmax ** 2 * wave.duty,
               "gibbs_limit": GIBBS_FRACTION, "partial_sums": per_n, "seconds": time.perf_counter() - started,
               "coefficients": {"n": list(range(1, n_max + 1)), "f_quadrature": quad.cos_coeffs.tolist(),
                                "f_closed_form": closed.cos_coeffs.tolist(), "g_quadrature": quad.sin_coeffs.tolist()}}
    with report.phase("writing the run folder"):
        run_dir = _write_square_run(cfg, wave, quad, closed, metrics)
    return metrics, run_dir


def _partial_sums(force: Any, closed: Any, harmonics: tuple[int, ...], t_jump: float, energies: np.ndarray,
                  f_mean_square: float, update: Any) -> list[dict[str, float]]:
    """Gibbs overshoot at the jump, Parseval energy and truncation error of each partial sum S_N."""
    from pinn.fourier import gibbs_overshoot, partial_sum_mean_square

    rows = []
    for i, n in enumerate(harmonics):
        gibbs = gibbs_overshoot(force, closed, n, t_jump)
        rows.append({"harmonics": n, "gibbs_fraction": gibbs.fraction, "gibbs_peak": gibbs.peak,
                     "gibbs_t_peak": gibbs.t_peak, "parseval_energy": float(energies[n]),
                     "sampled_mean_square": partial_sum_mean_square(closed, n),
                     "energy_captured": float(energies[n] / f_mean_square),
                     "rms_truncation_error": float(np.sqrt(max(f_mean_square - energies[n], 0.0)))})
        update(i + 1, f"N = {n}")
    return rows


def _write_square_run(cfg: FourierSquareConfig, wave: SquareWave, quad: Any, closed: Any,
                      metrics: dict[str, Any]) -> Path:
    from pinn.runs import run_folder, write_csv, write_json
    from problems.square_wave_plots import plot_partial_sums

    with run_folder(cfg.out, "fourier-square") as run_dir:
        write_json(run_dir / "config.json", {"command": "fourier-square", **vars(cfg)})
        n = np.arange(1, len(closed.cos_coeffs) + 1)
        write_csv(run_dir / "coefficients.csv", ("n", "f_quadrature", "f_closed_form", "g_quadrature",
                                                 "g_closed_form"),
                  (n, quad.cos_coeffs, closed.cos_coeffs, quad.sin_coeffs, closed.sin_coeffs))
        plot_partial_sums(run_dir / "partial_sums.png", wave, closed, cfg.harmonics)
        write_json(run_dir / "metrics.json", {k: v for k, v in metrics.items() if k != "coefficients"})
    return run_dir


def convergence_study(cfg: FourierConvergenceConfig, report: Optional[Reporter] = None) -> tuple[Any, Path]:
    """Relative L2 error of the N-harmonic solution against the exact square-wave solution for each N, with
    fitted power laws, into a run folder (config.json, convergence.csv, metrics.json, convergence.png)."""
    from pinn.runs import run_folder, write_csv, write_json
    from problems.square_wave import series_convergence
    from problems.square_wave_plots import plot_convergence

    report = report or Reporter()
    prepare_study(cfg)
    wave = SquareWave(cfg.period, cfg.width, cfg.fmax)
    started = time.perf_counter()
    with report.phase("truncated series vs exact square wave", len(cfg.harmonics)) as update:
        done: list[int] = []

        def step(n: int) -> None:
            done.append(n)
            update(len(done), f"N = {n}")

        study = series_convergence(wave, cfg.harmonics, cfg.gamma, cfg.omega0, cfg.x0, cfg.v0, cfg.t_final,
                                   cfg.fit_from, on_step=step)
    seconds = time.perf_counter() - started
    with run_folder(cfg.out, "fourier-convergence") as run_dir, report.phase("writing the run folder"):
        write_json(run_dir / "config.json", {"command": "fourier-convergence", **vars(cfg)})
        write_csv(run_dir / "convergence.csv", ("harmonics", "error_x", "error_v", "error_state",
                                                "local_slope_x", "local_slope_v"),
                  (study.harmonics, study.error_x, study.error_v, study.error_state, study.local_slope_x,
                   study.local_slope_v))
        plot_convergence(run_dir / "convergence.png", study)
        write_json(run_dir / "metrics.json", {
            "slope_x": study.slope_x, "slope_v": study.slope_v, "slope_state": study.slope_state,
            "coef_x": study.coef_x, "coef_v": study.coef_v, "coef_state": study.coef_state,
            "fit_from": study.fit_from, "samples": study.samples, "seconds": seconds,
            "phase_seconds": dict(report.seconds),
            "table": [{"harmonics": int(n), "error_x": ex, "error_v": ev, "error_state": es}
                      for n, ex, ev, es in zip(study.harmonics, study.error_x, study.error_v, study.error_state)]})
    return study, run_dir
