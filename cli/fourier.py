"""``pinn fourier``: Fourier series of the notes' square wave and how the driven oscillator converges in N.

    pinn fourier square --period 0.2 --width 0.1 --fmax 2 --harmonics 1 5 20 100
    pinn fourier convergence --period 0.2 --width 0.1 --fmax 2 --gamma 0.2 --harmonics 1 2 5 10 20 50 100 200

List options (``--harmonics``) take several values after one flag, or the flag repeated.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Sequence

import numpy as np
import typer
from rich.table import Table
from typer.core import TyperCommand

from cli.console import console, fmt, metrics_table, progress_bar
from pinn.errors import PinnError
from pinn.fourier import (GIBBS_FRACTION, fourier_coefficients, gibbs_overshoot, mean_square,
                          parseval_partial_energies, partial_sum_mean_square)
from pinn.runs import new_run_dir, write_csv, write_json
from problems.square_wave import (SquareWave, series_convergence, square_wave_force, square_wave_problem,
                                  square_wave_series)
from problems.square_wave_plots import plot_convergence, plot_partial_sums

app = typer.Typer(no_args_is_help=True, help="Fourier series of periodic forcings: the notes' square wave.")

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def expand_list_options(args: Sequence[str], names: Sequence[str]) -> list[str]:
    """Rewrite ``--opt a b c`` as ``--opt a --opt b --opt c`` for the list options ``names``.

    Numbers following a list option's first value belong to it; anything else ends the list. (click,
    under typer, gives an option one value per flag.)
    """
    out: list[str] = []
    current: str | None = None
    expecting = False
    for i, token in enumerate(args):
        if token == "--":
            return out + list(args[i:])
        if expecting:
            out.append(token)
            expecting = False
        elif current is not None and _NUMBER.match(token):
            out += [current, token]
        elif token in names:
            current, expecting = token, True
            out.append(token)
        else:
            current = None
            out.append(token)
    return out


class ListOptionCommand(TyperCommand):
    """A command whose ``--harmonics`` option takes several values after one flag."""

    list_options: tuple[str, ...] = ("--harmonics",)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_list_options(args, self.list_options))


Period = Annotated[float, typer.Option("--period", help="Period T of the square wave (notes: 0.2).")]
WidthOpt = Annotated[float, typer.Option("--width", help="Pulse width W, 0 < W < T (notes: 0.1).")]
Fmax = Annotated[float, typer.Option("--fmax", help="Height of the pulse (notes: 2).")]
Out = Annotated[Path, typer.Option("--out", help="Parent folder of the run folder.")]


@dataclass(frozen=True)
class FourierSquareConfig:
    """``pinn fourier square``: the wave, the partial sums N shown, table length, output folder."""

    period: float
    width: float
    fmax: float
    harmonics: tuple[int, ...]
    table_rows: int
    out: Path


@dataclass(frozen=True)
class FourierConvergenceConfig:
    """``pinn fourier convergence``: the wave, the oscillator, the N values, interval, output folder."""

    period: float
    width: float
    fmax: float
    gamma: float
    omega0: float
    x0: float
    v0: float
    harmonics: tuple[int, ...]
    t_final: float
    fit_from: int
    out: Path


def _harmonics(values: Sequence[int] | None, default: Sequence[int]) -> tuple[int, ...]:
    values = tuple(default if not values else values)
    bad = [n for n in values if n < 1]
    if bad:
        raise PinnError(f"--harmonics must be whole numbers >= 1, got {bad[0]}")
    return tuple(sorted(set(values)))


@app.command("square", cls=ListOptionCommand)
def square(
    period: Period = 0.2, width: WidthOpt = 0.1, fmax: Fmax = 2.0,
    harmonics: Annotated[list[int] | None, typer.Option(
        "--harmonics", help="Partial sums to show, N >= 1 (several values after one flag; "
                            "default 1 5 20 100).")] = None,
    table_rows: Annotated[int, typer.Option("--table-rows", min=0, help="Coefficients n = 1..k in the printed "
                                            "table (the CSV holds all).")] = 10,
    out: Out = Path("runs"),
) -> None:
    """Coefficients of the square wave by quadrature and in closed form, partial sums, Gibbs overshoot."""
    wave = SquareWave(period, width, fmax)
    cfg = FourierSquareConfig(period, width, fmax, _harmonics(harmonics, (1, 5, 20, 100)), table_rows, out)
    started = time.perf_counter()
    n_max = max(cfg.harmonics)

    def force(t: np.ndarray) -> np.ndarray:
        return square_wave_force(t, wave)

    jumps = (-0.5 * wave.width, 0.5 * wave.width)
    with console.status(f"quadrature of {2 * n_max + 1} Fourier integrals"):
        quad = fourier_coefficients(force, wave.period, n_max, discontinuities=jumps)
        closed = square_wave_series(wave, n_max)
        f_mean_square = mean_square(force, wave.period, discontinuities=jumps)
    k = min(50, n_max)
    diff = np.abs(np.concatenate(([quad.a0 - closed.a0], quad.cos_coeffs - closed.cos_coeffs,
                                  quad.sin_coeffs - closed.sin_coeffs)))
    diff_50 = np.abs(np.concatenate(([quad.a0 - closed.a0], quad.cos_coeffs[:k] - closed.cos_coeffs[:k],
                                     quad.sin_coeffs[:k] - closed.sin_coeffs[:k]))).max()
    energies = parseval_partial_energies(closed)
    per_n = []
    for n in cfg.harmonics:
        gibbs = gibbs_overshoot(force, closed, n, 0.5 * wave.width)
        per_n.append({"harmonics": n, "gibbs_fraction": gibbs.fraction, "gibbs_peak": gibbs.peak,
                      "gibbs_t_peak": gibbs.t_peak, "parseval_energy": float(energies[n]),
                      "sampled_mean_square": partial_sum_mean_square(closed, n),
                      "energy_captured": float(energies[n] / f_mean_square),
                      "rms_truncation_error": float(np.sqrt(max(f_mean_square - energies[n], 0.0)))})
    seconds = time.perf_counter() - started

    run_dir = new_run_dir(cfg.out, "fourier-square")
    write_json(run_dir / "config.json", cfg)
    n = np.arange(1, n_max + 1)
    write_csv(run_dir / "coefficients.csv",
              ("n", "f_quadrature", "f_closed_form", "g_quadrature", "g_closed_form"),
              (n, quad.cos_coeffs, closed.cos_coeffs, quad.sin_coeffs, closed.sin_coeffs))
    plot_partial_sums(run_dir / "partial_sums.png", wave, closed, cfg.harmonics)
    metrics = {"a0_quadrature": quad.a0, "a0_closed_form": closed.a0,
               "max_coefficient_difference": float(diff.max()),
               "max_coefficient_difference_n_le_50": float(diff_50),
               "max_sine_coefficient": float(np.abs(quad.sin_coeffs).max(initial=0.0)),
               "mean_square": f_mean_square, "mean_square_closed_form": wave.fmax ** 2 * wave.duty,
               "gibbs_limit": GIBBS_FRACTION, "partial_sums": per_n, "seconds": seconds}
    write_json(run_dir / "metrics.json", metrics)

    table = Table(title=f"Fourier coefficients of the square wave (T = {wave.period:g}, W = {wave.width:g}, "
                        f"Fmax = {wave.fmax:g})", header_style="bold")
    for col in ("n", "f_n (quadrature)", "f_n (closed form)", "g_n (quadrature)", "|difference|"):
        table.add_column(col, justify="right")
    table.add_row("0 (a0)", f"{quad.a0:.12g}", f"{closed.a0:.12g}", "-", fmt(abs(quad.a0 - closed.a0), ".1e"))
    shown = sorted(set(range(1, min(cfg.table_rows, n_max) + 1)) | set(cfg.harmonics))
    for k in shown:
        table.add_row(str(k), f"{quad.cos_coeffs[k - 1]:.12g}", f"{closed.cos_coeffs[k - 1]:.12g}",
                      f"{quad.sin_coeffs[k - 1]: .1e}",
                      fmt(abs(quad.cos_coeffs[k - 1] - closed.cos_coeffs[k - 1]), ".1e"))
    console.print(table)
    sums = Table(title="Partial sums S_N", header_style="bold")
    for col in ("N", "Gibbs overshoot (of the jump)", "peak S_N", "energy captured", "rms error F - S_N",
                "Parseval: sampled - coefficients"):
        sums.add_column(col, justify="right")
    for row in per_n:
        sums.add_row(str(row["harmonics"]), f"{100 * row['gibbs_fraction']:.3f} %", f"{row['gibbs_peak']:.6f}",
                     f"{100 * row['energy_captured']:.4f} %", fmt(row["rms_truncation_error"]),
                     fmt(row["sampled_mean_square"] - row["parseval_energy"], ".1e"))
    console.print(sums)
    console.print(metrics_table("Checks", [
        ("max |quadrature - closed form| (a0, f_n, g_n)", fmt(metrics["max_coefficient_difference"], ".2e")),
        ("Gibbs limit Si(pi)/pi - 1/2", f"{100 * GIBBS_FRACTION:.3f} %"),
        ("mean square of F: quadrature / Fmax^2 W/T", f"{f_mean_square:.12g} / {wave.fmax ** 2 * wave.duty:.12g}"),
        ("seconds", f"{seconds:.2f}"), ("run folder", str(run_dir))]))


@app.command("convergence", cls=ListOptionCommand)
def convergence(
    period: Period = 0.2, width: WidthOpt = 0.1, fmax: Fmax = 2.0,
    gamma: Annotated[float, typer.Option("--gamma", help="Damping gamma in x'' + 2 gamma x' + omega0^2 x = F.")]
    = 0.2,
    omega0: Annotated[float, typer.Option("--omega0", help="Natural angular frequency omega0.")] = 1.0,
    x0: Annotated[float, typer.Option("--x0", help="Initial position.")] = 0.0,
    v0: Annotated[float, typer.Option("--v0", help="Initial velocity.")] = 0.0,
    harmonics: Annotated[list[int] | None, typer.Option(
        "--harmonics", help="Truncations N >= 1 to compare (several values after one flag; "
                            "default 1 2 5 10 20 50 100 200).")] = None,
    t_final: Annotated[float, typer.Option("--t-final", help="End of the interval [0, t_final].")] = 20.0,
    fit_from: Annotated[int, typer.Option("--fit-from", help="Fit the power law to N >= this value only.")] = 1,
    out: Out = Path("runs"),
) -> None:
    """Relative L2 error of the N-harmonic oscillator solution against the exact square-wave solution."""
    wave = SquareWave(period, width, fmax)
    cfg = FourierConvergenceConfig(period, width, fmax, gamma, omega0, x0, v0,
                                   _harmonics(harmonics, (1, 2, 5, 10, 20, 50, 100, 200)),
                                   t_final, fit_from, out)
    square_wave_problem(wave, 1, gamma, omega0, x0, v0, t_final)  # validates the oscillator before any work
    if sum(n >= fit_from for n in cfg.harmonics) < 2:
        raise PinnError(f"fitting a slope needs at least two different harmonics N >= {fit_from} (--fit-from)")
    started = time.perf_counter()
    with progress_bar("truncated series vs exact square wave", len(cfg.harmonics)) as update:
        done = []

        def step(n: int) -> None:
            done.append(n)
            update(len(done), status=f"N = {n}")

        study = series_convergence(wave, cfg.harmonics, gamma, omega0, x0, v0, t_final, fit_from,
                                   on_step=step)
    seconds = time.perf_counter() - started

    run_dir = new_run_dir(cfg.out, "fourier-convergence")
    write_json(run_dir / "config.json", cfg)
    write_csv(run_dir / "convergence.csv", ("harmonics", "error_x", "error_v", "error_state",
                                            "local_slope_x", "local_slope_v"),
              (study.harmonics, study.error_x, study.error_v, study.error_state, study.local_slope_x,
               study.local_slope_v))
    plot_convergence(run_dir / "convergence.png", study)
    write_json(run_dir / "metrics.json", {
        "slope_x": study.slope_x, "slope_v": study.slope_v, "slope_state": study.slope_state,
        "coef_x": study.coef_x, "coef_v": study.coef_v, "coef_state": study.coef_state,
        "fit_from": study.fit_from, "samples": study.samples, "seconds": seconds,
        "table": [{"harmonics": int(n), "error_x": ex, "error_v": ev, "error_state": es}
                  for n, ex, ev, es in zip(study.harmonics, study.error_x, study.error_v, study.error_state)]})

    table = Table(title=f"N-harmonic drive vs exact square wave on [0, {t_final:g}] (relative L2, "
                        f"{study.samples} points)", header_style="bold")
    for col in ("N", "error x", "error x'", "error (x, x')", "local slope x", "local slope x'"):
        table.add_column(col, justify="right")
    for i, n in enumerate(study.harmonics):
        table.add_row(str(n), fmt(study.error_x[i]), fmt(study.error_v[i]), fmt(study.error_state[i]),
                      _slope(study.local_slope_x[i]), _slope(study.local_slope_v[i]))
    console.print(table)
    console.print(metrics_table(f"Fitted error ~ c N^p (N >= {study.fit_from})", [
        ("p for x", f"{study.slope_x:.3f}"), ("p for x'", f"{study.slope_v:.3f}"),
        ("p for (x, x')", f"{study.slope_state:.3f}"), ("seconds", f"{seconds:.2f}"),
        ("run folder", str(run_dir))]))


def _slope(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:.3f}"
