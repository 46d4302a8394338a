"""``pinn fourier``: Fourier series of the notes' square wave and how the driven oscillator converges in N.

    pinn fourier square --period 0.2 --width 0.1 --fmax 2 --harmonics 1 5 20 100
    pinn fourier convergence --period 0.2 --width 0.1 --fmax 2 --gamma 0.2 --harmonics 1 2 5 10 20 50 100 200
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.console import console, fmt, metrics_table
from cli.options import DryRunOpt, MultiValueCommand, OutOpt, PinnCommandGroup, print_dry_run
from problems.square_wave_study import FourierConvergenceConfig, FourierSquareConfig

app = typer.Typer(cls=PinnCommandGroup, no_args_is_help=True, help="Fourier series of periodic forcings: the notes' square wave.")

Period = Annotated[float, typer.Option("--period", help="Period T of the square wave (notes: 0.2).")]
WidthOpt = Annotated[float, typer.Option("--width", help="Pulse width W, 0 < W < T (notes: 0.1).")]
Fmax = Annotated[float, typer.Option("--fmax", help="Height of the pulse (notes: 2).")]


def _harmonics_option(default: tuple[int, ...], what: str) -> type:
    return Annotated[Optional[list[int]], typer.Option(
        "--harmonics", metavar="N...", show_default=False,
        help=f"{what}, N >= 1, several after one flag [default: {' '.join(map(str, default))}].")]


@app.command("square", cls=MultiValueCommand)
def square(
    period: Period = FourierSquareConfig.period, width: WidthOpt = FourierSquareConfig.width,
    fmax: Fmax = FourierSquareConfig.fmax,
    harmonics: _harmonics_option(FourierSquareConfig.harmonics, "Partial sums to show") = None,
    table_rows: Annotated[int, typer.Option("--table-rows", help="Coefficients n = 1..k in the printed table "
                                            "(the CSV holds all).")] = FourierSquareConfig.table_rows,
    out: OutOpt = Path("runs"), dry_run: DryRunOpt = False,
) -> None:
    """Coefficients of the square wave by quadrature and in closed form, partial sums, Gibbs overshoot."""
    cfg = FourierSquareConfig(period, width, fmax, tuple(sorted(set(harmonics or FourierSquareConfig.harmonics))),
                              table_rows, out)
    _dry_run(cfg) if dry_run else show_square(cfg)


def _dry_run(cfg: FourierSquareConfig | FourierConvergenceConfig) -> None:
    from problems.square_wave_study import prepare_study

    print_dry_run(console, cfg, prepare_study(cfg))


def show_square(cfg: FourierSquareConfig) -> None:
    """Run the square-wave study and print its tables."""
    from rich.table import Table

    from cli.console import RichReporter
    from problems.square_wave_study import square_wave_study

    m, run_dir = square_wave_study(cfg, RichReporter())
    c = m["coefficients"]
    table = Table(title=f"Fourier coefficients of the square wave (T = {cfg.period:g}, W = {cfg.width:g}, "
                        f"Fmax = {cfg.fmax:g})", header_style="bold")
    for col in ("n", "f_n (quadrature)", "f_n (closed form)", "g_n (quadrature)", "|difference|"):
        table.add_column(col, justify="right")
    table.add_row("0 (a0)", f"{m['a0_quadrature']:.12g}", f"{m['a0_closed_form']:.12g}", "-",
                  fmt(abs(m["a0_quadrature"] - m["a0_closed_form"]), ".1e"))
    for k in sorted(set(range(1, min(cfg.table_rows, max(cfg.harmonics)) + 1)) | set(cfg.harmonics)):
        fq, fc = c["f_quadrature"][k - 1], c["f_closed_form"][k - 1]
        table.add_row(str(k), f"{fq:.12g}", f"{fc:.12g}", f"{c['g_quadrature'][k - 1]: .1e}", fmt(abs(fq - fc), ".1e"))
    console.print(table)
    sums = Table(title="Partial sums S_N", header_style="bold")
    for col in ("N", "Gibbs overshoot (of the jump)", "peak S_N", "energy captured", "rms error F - S_N",
                "Parseval: sampled - coefficients"):
        sums.add_column(col, justify="right")
    for row in m["partial_sums"]:
        sums.add_row(str(row["harmonics"]), f"{100 * row['gibbs_fraction']:.3f} %", f"{row['gibbs_peak']:.6f}",
                     f"{100 * row['energy_captured']:.4f} %", fmt(row["rms_truncation_error"]),
                     fmt(row["sampled_mean_square"] - row["parseval_energy"], ".1e"))
    console.print(sums)
    console.print(metrics_table("Checks", [
        ("max |quadrature - closed form| (a0, f_n, g_n)", fmt(m["max_coefficient_difference"], ".2e")),
        ("Gibbs limit Si(pi)/pi - 1/2", f"{100 * m['gibbs_limit']:.3f} %"),
        ("mean square of F: quadrature / Fmax^2 W/T", f"{m['mean_square']:.12g} / {m['mean_square_closed_form']:.12g}"),
        ("seconds", f"{m['seconds']:.2f}"), ("run folder", str(run_dir))]))


@app.command("convergence", cls=MultiValueCommand)
def convergence(
    period: Period = FourierConvergenceConfig.period, width: WidthOpt = FourierConvergenceConfig.width,
    fmax: Fmax = FourierConvergenceConfig.fmax,
    gamma: Annotated[float, typer.Option("--gamma", help="Damping gamma in x'' + 2 gamma x' + omega0^2 x = F.")]
    = FourierConvergenceConfig.gamma,
    omega0: Annotated[float, typer.Option("--omega0", help="Natural angular frequency omega0.")]
    = FourierConvergenceConfig.omega0,
    x0: Annotated[float, typer.Option("--x0", help="Initial position.")] = FourierConvergenceConfig.x0,
    v0: Annotated[float, typer.Option("--v0", help="Initial velocity.")] = FourierConvergenceConfig.v0,
    harmonics: _harmonics_option(FourierConvergenceConfig.harmonics, "Truncations to compare") = None,
    t_final: Annotated[float, typer.Option("--t-final", help="End of the interval [0, t_final].")]
    = FourierConvergenceConfig.t_final,
    fit_from: Annotated[int, typer.Option("--fit-from", help="Fit the power law to N >= this value only.")]
    = FourierConvergenceConfig.fit_from,
    out: OutOpt = Path("runs"), dry_run: DryRunOpt = False,
) -> None:
    """Relative L2 error of the N-harmonic oscillator solution against the exact square-wave solution."""
    cfg = FourierConvergenceConfig(period, width, fmax, gamma, omega0, x0, v0,
                                   tuple(sorted(set(harmonics or FourierConvergenceConfig.harmonics))), t_final,
                                   fit_from, out)
    _dry_run(cfg) if dry_run else show_convergence(cfg)


def show_convergence(cfg: FourierConvergenceConfig) -> None:
    """Run the convergence study and print its table and fitted power laws."""
    import numpy as np
    from rich.table import Table

    from cli.console import RichReporter
    from problems.square_wave_study import convergence_study

    study, run_dir = convergence_study(cfg, RichReporter())

    def slope(value: float) -> str:
        return "-" if not np.isfinite(value) else f"{value:.3f}"

    table = Table(title=f"N-harmonic drive vs exact square wave on [0, {cfg.t_final:g}] (relative L2, "
                        f"{study.samples} points)", header_style="bold")
    for col in ("N", "error x", "error x'", "error (x, x')", "local slope x", "local slope x'"):
        table.add_column(col, justify="right")
    for i, n in enumerate(study.harmonics):
        table.add_row(str(n), fmt(study.error_x[i]), fmt(study.error_v[i]), fmt(study.error_state[i]),
                      slope(study.local_slope_x[i]), slope(study.local_slope_v[i]))
    console.print(table)
    console.print(metrics_table(f"Fitted error ~ c N^p (N >= {study.fit_from})", [
        ("p for x", f"{study.slope_x:.3f}"), ("p for x'", f"{study.slope_v:.3f}"),
        ("p for (x, x')", f"{study.slope_state:.3f}"), ("run folder", str(run_dir))]))
