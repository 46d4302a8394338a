"""Report figures for a solved PDE: prediction / reference / error maps and snapshots against the reference.

Evolution problems: x horizontal, t vertical; prediction and reference share one colour scale, the error is
shown as |u - ref| on a logarithmic scale. Steady 2-D problems: the same maps over (x, y), plus a surface.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402


def plot_fields(path: Path, x: np.ndarray, s: np.ndarray, u: np.ndarray, ref: np.ndarray, s_label: str,
                title: str) -> None:
    """Three maps side by side: prediction, reference (shared linear colour scale) and |error| (log)."""
    lo, hi = float(min(u.min(), ref.min())), float(max(u.max(), ref.max()))
    err = np.abs(u - ref)
    floor = max(float(err[err > 0].min()) if np.any(err > 0) else 1e-17, 1e-17)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    extent = (x[0], x[-1], s[0], s[-1])
    for ax, data, name in ((axes[0], u, "prediction"), (axes[1], ref, "reference")):
        im = ax.imshow(data, origin="lower", aspect="auto", extent=extent, vmin=lo, vmax=hi, cmap="RdBu_r")
        ax.set_title(name)
        ax.set_xlabel("x")
        ax.set_ylabel(s_label)
    fig.colorbar(im, ax=axes[:2], label="u", shrink=0.9)
    im = axes[2].imshow(np.maximum(err, floor), origin="lower", aspect="auto", extent=extent, cmap="magma",
                        norm=LogNorm(vmin=floor, vmax=max(float(err.max()), floor * 10)))
    axes[2].set_title("|prediction - reference|")
    axes[2].set_xlabel("x")
    axes[2].set_ylabel(s_label)
    fig.colorbar(im, ax=axes[2], label="absolute error")
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_snapshots(path: Path, x: np.ndarray, t: np.ndarray, u: np.ndarray, ref: np.ndarray, title: str,
                   count: int = 5) -> None:
    """u(x) at ``count`` evenly spread times (solid) over the reference (dashed), and the error at those times."""
    picks = np.unique(np.linspace(0, len(t) - 1, count).round().astype(int))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, constrained_layout=True)
    for n, i in enumerate(picks):
        colour = f"C{n}"
        top.plot(x, ref[i], "k--", lw=1.6)
        top.plot(x, u[i], color=colour, lw=1.0, label=f"t = {t[i]:.3g}")
        bottom.semilogy(x, np.abs(u[i] - ref[i]) + 1e-17, color=colour, lw=0.9)
    top.plot([], [], "k--", label="reference")
    top.set_ylabel("u")
    top.legend(fontsize=8, ncol=2)
    top.grid(alpha=0.3)
    top.set_title(title)
    bottom.set_xlabel("x")
    bottom.set_ylabel("|u - reference|")
    bottom.grid(alpha=0.3, which="both")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_surface(path: Path, x: np.ndarray, y: np.ndarray, u: np.ndarray, title: str) -> None:
    """The steady solution u(x, y) as a 3-D surface."""
    xx, yy = np.meshgrid(x, y)
    fig = plt.figure(figsize=(7, 5.5))
    ax = fig.add_subplot(projection="3d")
    stride = max(1, len(x) // 80)
    ax.plot_surface(xx, yy, u, cmap="RdBu_r", rstride=stride, cstride=stride, linewidth=0)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("u")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_block_history(path: Path, history: list[dict]) -> None:
    """Least-squares residual norm and cell count per time block."""
    blocks = [h["block"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.semilogy(blocks, [max(h["residual"], 1e-300) for h in history], "o-", ms=3, label="residual norm")
    ax.set_xlabel("time block")
    ax.set_ylabel("weighted residual norm")
    ax.grid(alpha=0.3, which="both")
    twin = ax.twinx()
    twin.step(blocks, [h["cells"] for h in history], "C1", where="mid", label="cells")
    twin.set_ylabel("cells", color="C1")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
