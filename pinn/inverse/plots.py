"""Figures of an identification: the reconstruction against the data, and the constants during the fit."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pinn.inverse.observations import Observations  # noqa: E402


def plot_fit(path: Path, t: np.ndarray, states: np.ndarray, obs: Observations, components: Sequence[str],
             title: str) -> None:
    """One panel per state component: the reconstruction u(t) (line) and the observations (dots)."""
    d = len(components)
    fig, axes = plt.subplots(d, 1, figsize=(8, 2.2 * d + 0.6), sharex=True, squeeze=False)
    for c, name in enumerate(components):
        ax = axes[c, 0]
        ax.plot(t, states[:, c], color="C0", lw=1.5, label="reconstruction")
        if name in obs.names:
            j = obs.names.index(name)
            ax.plot(obs.t, obs.values[:, j], ".", color="C3", ms=4, label="data")
        else:
            ax.text(0.01, 0.9, "unobserved", transform=ax.transAxes, fontsize=8, color="0.4")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("t")
    fig.suptitle(f"{title}: reconstruction against the data")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_history(path: Path, history: list[dict], names: Sequence[str], final: np.ndarray) -> None:
    """Each constant divided by its final estimate, against the iteration (log-scale distance from 1)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    if history:
        it = np.array([h["iteration"] for h in history], dtype=float)
        theta = np.array([h["theta"] for h in history], dtype=float).reshape(len(history), -1)
        for j, name in enumerate(names):
            axes[0].plot(it, theta[:, j], label=name)
            scale = abs(final[j]) if final[j] else 1.0
            axes[1].semilogy(it, np.abs(theta[:, j] - final[j]) / scale + 1e-17, label=name)
        weight = [h.get("weight") for h in history]
        for i in range(1, len(history)):
            if weight[i] != weight[i - 1] and weight[i] is not None:  # a new stage of the weight continuation
                for ax in axes:
                    ax.axvline(it[i], color="0.7", lw=0.6, ls=":")
                axes[0].annotate(f"w={weight[i]:g}", (it[i], 1.0), xycoords=("data", "axes fraction"),
                                 fontsize=6, rotation=90, va="top", color="0.4")
    axes[0].set_title("constants during the fit")
    axes[1].set_title("relative distance from the final estimate")
    for ax in axes:
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
