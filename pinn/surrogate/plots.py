"""Figures for surrogates: rollout vs reference, attractor overlay, error growth against e^(lambda t),
component histograms, training curves, and sweep heat maps and bars. Each function writes one PNG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from pinn.surrogate.evaluate import Evaluation
    from pinn.surrogate.runs import RolloutResult


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_rollout(t: np.ndarray, pred: np.ndarray, true: np.ndarray, components: Sequence[str], path: Path,
                 vpt: float | None = None) -> Path:
    """One panel per component: free rollout (dashed) over the reference. t (n,), pred/true (n, d)."""
    d = true.shape[1]
    fig, axes = plt.subplots(d, 1, figsize=(9, 2.2 * d), sharex=True, squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(t, true[:, i], "k-", lw=1.2, label="reference")
        ax.plot(t, pred[:, i], "C3--", lw=1.2, label="surrogate")
        if vpt is not None:
            ax.axvline(t[0] + vpt, color="C0", lw=0.8, ls=":", label="valid prediction time")
        ax.set_ylabel(components[i] if i < len(components) else f"u{i}")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("t")
    return _save(fig, path)


def plot_attractor(pred: np.ndarray, true: np.ndarray, components: Sequence[str], path: Path) -> Path:
    """3-D overlay of the predicted and reference trajectories (phase plane for d = 2). (n, d) each."""
    fig = plt.figure(figsize=(6.5, 5.5))
    if true.shape[1] >= 3:
        ax = fig.add_subplot(projection="3d")
        ax.plot(*true[:, :3].T, "k-", lw=0.4, alpha=0.7, label="reference")
        ax.plot(*pred[:, :3].T, "C3-", lw=0.4, alpha=0.7, label="surrogate")
        ax.set_xlabel(components[0]), ax.set_ylabel(components[1]), ax.set_zlabel(components[2])
    else:
        ax = fig.add_subplot()
        ax.plot(true[:, 0], true[:, 1], "k-", lw=0.6, label="reference")
        ax.plot(pred[:, 0], pred[:, 1], "C3--", lw=0.6, label="surrogate")
        ax.set_xlabel(components[0]), ax.set_ylabel(components[1])
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_error_growth(t: np.ndarray, error: np.ndarray, lyapunov: float, path: Path,
                      threshold: float = 0.4) -> Path:
    """Normalised error of each rollout (thin) and their median (thick) on a log axis, with the slope
    e^(lambda t) drawn through the median's early values, and the VPT threshold. error (b, n)."""
    tt = t - t[0]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    err = np.where(np.isfinite(error), error, np.nan)
    floor = 1e-16
    for row in err:
        ax.semilogy(tt, np.maximum(row, floor), color="0.6", lw=0.5)
    med = np.nanmedian(err, axis=0)
    ax.semilogy(tt, np.maximum(med, floor), "C3-", lw=2, label="median")
    k0 = min(max(1, int(0.05 * tt.size)), tt.size - 1)
    anchor = med[k0] if np.isfinite(med[k0]) and med[k0] > 0 else 1e-6
    ax.semilogy(tt, anchor * np.exp(lyapunov * (tt - tt[k0])), "C0--", lw=1.2,
                label=f"e^({lyapunov:.3f} t)")
    ax.axhline(threshold, color="k", ls=":", lw=1, label=f"threshold {threshold}")
    later = err[:, 1:] if err.shape[1] > 1 else err  # the first sample is the exact initial state
    low = np.nanmin(later[later > 0]) if np.any(later > 0) else floor
    ax.set_ylim(max(floor, low / 2), 10)
    ax.set_xlabel("t (from the start of the rollout)")
    ax.set_ylabel("||u_pred - u_true|| / rms ||u_true||")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_histograms(stats: dict[str, Any], components: Sequence[str], path: Path) -> Path:
    """Densities of each component of the long rollouts against the reference (from attractor_statistics)."""
    d = len(stats["edges"])
    fig, axes = plt.subplots(1, d, figsize=(4 * d, 3.2), squeeze=False)
    for i, ax in enumerate(axes[0]):
        edges = stats["edges"][i]
        mid = 0.5 * (edges[1:] + edges[:-1])
        ax.plot(mid, stats["true"][i], "k-", lw=1.5, label="reference")
        ax.plot(mid, stats["pred"][i], "C3--", lw=1.5, label="surrogate")
        ax.set_xlabel(components[i] if i < len(components) else f"u{i}")
        ax.set_title(f"W1/sigma = {stats['w1'][i]:.3g}", fontsize=9)
    axes[0, 0].set_ylabel("density")
    axes[0, 0].legend(fontsize=8)
    return _save(fig, path)


def shown_channels(d: int, max_panels: int = 4) -> np.ndarray:
    """Indices of the components drawn for a d-dimensional observation: all if d <= max_panels, else
    max_panels spread evenly (first and last included)."""
    return np.arange(d) if d <= max_panels else np.unique(np.linspace(0, d - 1, max_panels).round().astype(int))


def _histogram_subset(stats: dict[str, Any], idx: np.ndarray) -> dict[str, Any]:
    return {**stats, **{k: [stats[k][i] for i in idx] for k in ("edges", "pred", "true", "w1")}}


def plot_evaluation(folder: Path, evaluation: "Evaluation", components: Sequence[str], lyapunov: float) -> None:
    """The test-set figures of a training run: rollout.png and attractor.png of the median rollout (by VPT),
    error_growth.png of all rollouts against e^(max(lambda, 0) t), histograms.png (a high-dimensional
    observation shows a few of its channels, :func:`shown_channels`)."""
    i = int(np.argsort(evaluation.vpt_norm)[len(evaluation.vpt_norm) // 2])  # the median rollout
    idx = shown_channels(evaluation.true.shape[-1])
    names = [components[k] for k in idx]
    pred, true = evaluation.pred[i][:, idx], evaluation.true[i][:, idx]
    plot_rollout(evaluation.t, pred, true, names, folder / "rollout.png", vpt=float(evaluation.vpt_norm[i]))
    plot_attractor(pred, true, names, folder / "attractor.png")
    plot_error_growth(evaluation.t, evaluation.error, max(lyapunov, 0.0), folder / "error_growth.png")
    plot_histograms(_histogram_subset(evaluation.histograms, idx), names, folder / "histograms.png")


def plot_rollout_run(folder: Path, result: "RolloutResult", components: Sequence[str], lyapunov: float) -> None:
    """The figures of one free rollout (see :func:`pinn.surrogate.runs.rollout_run`): rollout.png,
    attractor.png, error_growth.png against e^(max(lambda, 0) t), histograms.png."""
    idx = shown_channels(result.true.shape[-1])
    names = [components[k] for k in idx]
    pred, true = result.pred[0][:, idx], result.true[0][:, idx]
    plot_rollout(result.t, pred, true, names, folder / "rollout.png", vpt=result.vpt)
    plot_attractor(pred, true, names, folder / "attractor.png")
    plot_error_growth(result.tt, result.error, max(lyapunov, 0.0), folder / "error_growth.png")
    plot_histograms(_histogram_subset(result.stats, idx), names, folder / "histograms.png")


def plot_training(history: Sequence[dict[str, float]], path: Path) -> Path:
    """Training and validation loss per epoch on a log axis."""
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = [h["epoch"] for h in history]
    ax.semilogy(epochs, [h["train_loss"] for h in history], label="train")
    ax.semilogy(epochs, [h["val_loss"] for h in history], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (normalised one-step error squared)")
    ax.legend()
    return _save(fig, path)


def _groups(rows: Sequence[dict[str, Any]], keys: Sequence[str], metric: str) -> dict[tuple, list[float]]:
    out: dict[tuple, list[float]] = {}
    for row in rows:
        value = float(row[metric])
        out.setdefault(tuple(str(row[k]) for k in keys), []).append(value)
    return out


def _ordered(values: list[str]) -> list[str]:
    try:
        return sorted(set(values), key=float)
    except ValueError:
        return list(dict.fromkeys(values))


def plot_sweep_heatmap(rows: Sequence[dict[str, Any]], x_axis: str, y_axis: str, metric: str, path: Path,
                       log: bool = True) -> Path:
    """Heat map of ``metric`` over two axes, each cell the median over the other axes (annotated)."""
    groups = _groups(rows, (y_axis, x_axis), metric)
    xs = _ordered([str(r[x_axis]) for r in rows])
    ys = _ordered([str(r[y_axis]) for r in rows])
    grid = np.full((len(ys), len(xs)), np.nan)
    for (yv, xv), values in groups.items():
        finite = [v for v in values if np.isfinite(v)]
        grid[ys.index(yv), xs.index(xv)] = np.median(finite) if finite else np.nan
    shown = np.log10(grid) if log else grid
    fig, ax = plt.subplots(figsize=(1.3 * len(xs) + 3, 0.8 * len(ys) + 2))
    im = ax.imshow(shown, cmap="viridis_r" if log else "viridis", aspect="auto")
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(x_axis)
    ax.set_ylabel(y_axis)
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):
                r, g, b, _ = im.cmap(im.norm(shown[i, j]))
                ink = "k" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "w"
                ax.text(j, i, f"{grid[i, j]:.2g}", ha="center", va="center", fontsize=8, color=ink)
    fig.colorbar(im, ax=ax, label=f"log10 {metric} (median)" if log else f"{metric} (median)")
    return _save(fig, path)


def plot_sweep_bars(rows: Sequence[dict[str, Any]], axis: str, metric: str, path: Path, log: bool = True) -> Path:
    """Bars of ``metric`` for each value of one axis: median over the other axes, with the best as a dot."""
    groups = _groups(rows, (axis,), metric)
    keys = _ordered([str(r[axis]) for r in rows])
    med, best = [], []
    for k in keys:
        finite = [v for v in groups[(k,)] if np.isfinite(v)]
        med.append(np.median(finite) if finite else np.nan)
        best.append(min(finite) if finite and log else (max(finite) if finite else np.nan))
    fig, ax = plt.subplots(figsize=(1.2 * len(keys) + 3, 4))
    ax.bar(range(len(keys)), med, color="C0", label="median over the other axes")
    ax.plot(range(len(keys)), best, "C3o", label="best")
    ax.set_xticks(range(len(keys)), keys)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(axis)
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    return _save(fig, path)
