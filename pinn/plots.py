"""Report figures for a solved ODE: components vs reference, pointwise error, loss history, 3-D phase plot."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pinn.metrics import pointwise_relative_error  # noqa: E402


def plot_components(path: Path, t: np.ndarray, u: np.ndarray, ref: np.ndarray, names: Sequence[str],
                    title: str) -> None:
    """One panel per component: prediction (solid) over reference (dashed)."""
    d = u.shape[1]
    fig, axes = plt.subplots(d, 1, figsize=(8, 2.2 * d + 0.6), sharex=True, squeeze=False)
    for k, ax in enumerate(axes[:, 0]):
        ax.plot(t, ref[:, k], "k--", lw=1.6, label="reference")
        ax.plot(t, u[:, k], "C0", lw=1.0, label="PINN")
        ax.set_ylabel(names[k])
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right")
    axes[0, 0].set_title(title)
    axes[-1, 0].set_xlabel("t")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_error(path: Path, t: np.ndarray, u: np.ndarray, ref: np.ndarray, names: Sequence[str]) -> None:
    """Pointwise absolute error per component and the normalised error, on a log axis."""
    fig, ax = plt.subplots(figsize=(8, 4))
    floor = 1e-17
    for k, name in enumerate(names):
        ax.semilogy(t, np.abs(u[:, k] - ref[:, k]) + floor, lw=0.9, label=f"|{name} - ref|")
    ax.semilogy(t, pointwise_relative_error(u, ref) + floor, "k", lw=1.2, label="||u - ref|| / rms(ref)")
    ax.axhline(0.01, color="r", ls=":", lw=1, label="1%")
    ax.set_xlabel("t")
    ax.set_ylabel("error")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_history(path: Path, history: list[dict], key: str, xkey: str, ylabel: str, xlabel: str) -> None:
    """A quantity of the training history against step (or window) on a log axis."""
    fig, ax = plt.subplots(figsize=(7, 4))
    x = [h[xkey] for h in history]
    y = [max(float(h[key]), 1e-300) for h in history]
    ax.semilogy(x, y, lw=1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_phase_3d(path: Path, u: np.ndarray, ref: np.ndarray, names: Sequence[str], title: str) -> None:
    """The trajectory in 3-D state space (the Lorenz attractor), prediction over reference."""
    fig = plt.figure(figsize=(7, 6))
    ax = fig.add_subplot(projection="3d")
    ax.plot(*ref.T, "k--", lw=1.4, label="reference")
    ax.plot(*u.T, "C0", lw=0.8, label="PINN")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_zlabel(names[2])
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
