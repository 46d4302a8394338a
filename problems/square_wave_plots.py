"""Figures of the square-wave study: partial sums against the wave, and convergence of the driven solution."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from pinn.fourier import GIBBS_FRACTION, FourierSeries, partial_sum
from problems.square_wave import SeriesConvergence, SquareWave, square_wave_scipy


def plot_partial_sums(path: Path, wave: SquareWave, series: FourierSeries, harmonics: Sequence[int]) -> None:
    """Partial sums S_N against the notes' scipy square wave: five periods, and a zoom on the jump at W/2."""
    from pinn.plots import plt

    fig, (top, zoom) = plt.subplots(2, 1, figsize=(9, 7))
    t = np.linspace(0.0, 5.0 * wave.period, 20001)
    half = 0.25 * min(wave.width, wave.period - wave.width)
    tz = np.linspace(0.5 * wave.width - half, 0.5 * wave.width + half, 4001)
    for ax, grid in ((top, t), (zoom, tz)):
        ax.plot(grid, square_wave_scipy(grid, wave), "k", lw=1.5, label="1 + scipy.signal.square (scaled)")
        for n in harmonics:
            ax.plot(grid, partial_sum(series, grid, n), lw=1.0, label=f"N = {n}")
        ax.set_xlabel("t")
        ax.set_ylabel("F(t)")
    for level in (wave.fmax * (1 + GIBBS_FRACTION), -wave.fmax * GIBBS_FRACTION):
        zoom.axhline(level, color="grey", ls=":", lw=1.0)
    top.set_title(f"Square wave T = {wave.period:g}, W = {wave.width:g}, Fmax = {wave.fmax:g} "
                  "and its partial sums")
    zoom.set_title(f"Zoom on the jump at t = W/2: Gibbs overshoot -> {100 * GIBBS_FRACTION:.2f} % of the jump "
                   "(dotted)")
    handles, labels = top.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_convergence(path: Path, study: SeriesConvergence) -> None:
    """Log-log relative L2 error against N with the fitted power laws."""
    from pinn.plots import plt

    fig, ax = plt.subplots(figsize=(7, 5))
    n = study.harmonics.astype(float)
    fine = np.geomspace(n[n >= study.fit_from].min(), n.max(), 100)
    for err, p, c, label in ((study.error_x, study.slope_x, study.coef_x, "x"),
                             (study.error_v, study.slope_v, study.coef_v, "x'"),
                             (study.error_state, study.slope_state, study.coef_state, "(x, x')")):
        (line,) = ax.loglog(n, err, "o", label=f"{label}")
        ax.loglog(fine, c * fine ** p, "--", color=line.get_color(), lw=1.0,
                  label=f"fit {label} (N >= {study.fit_from}): N^{p:.2f}")
    ax.set_xlabel("harmonics N")
    ax.set_ylabel("relative L2 error vs exact square-wave solution")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
