"""Figures of a classification run: learning curves, confusion matrix, sample predictions, confident
mistakes, and the annotated (eta, lambda) heat maps of a grid search. Each function writes one PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _show_image(ax, image: np.ndarray) -> None:
    """image: (C, H, W) uint8; grey for one channel, RGB for three."""
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray_r" if image.shape[1] <= 8 else "gray", vmin=0, vmax=255,
                  interpolation="nearest")
    else:
        ax.imshow(np.transpose(image, (1, 2, 0)), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_curves(path: Path, history: Sequence[dict], title: str) -> None:
    """Accuracy and cross-entropy per epoch for the training batches and the validation set."""
    epochs = [h["epoch"] for h in history]
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
    for key, ax in (("accuracy", ax_acc), ("loss", ax_loss)):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], "o-", ms=3, label="train")
        val = np.array([h[f"val_{key}"] for h in history], dtype=float)
        if np.isfinite(val).any():
            ax.plot(epochs, val, "s-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_loss.set_yscale("log")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(path: Path, confusion: np.ndarray, class_names: Sequence[str], title: str) -> None:
    """Counts of (true row, predicted column), coloured by the share of each true class."""
    k = len(class_names)
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * k, 0.8 + 0.6 * k))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if confusion[i, j]:
                ax.text(j, i, str(int(confusion[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _image_grid(path: Path, images: np.ndarray, captions: Sequence[str], wrong: Sequence[bool],
                title: str) -> None:
    n = len(images)
    cols = int(np.ceil(np.sqrt(max(n, 1))))
    rows = int(np.ceil(max(n, 1) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.7 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, caption, bad in zip(axes.ravel(), images, captions, wrong):
        ax.axis("on")
        _show_image(ax, image)
        ax.set_title(caption, fontsize=7, color="crimson" if bad else "black")
    if n == 0:
        axes[0, 0].text(0.5, 0.5, "none", ha="center", va="center")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_samples(path: Path, images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                 class_names: Sequence[str], n: int = 25) -> None:
    """The first ``n`` test images with true and predicted labels (mistakes in red). images: (N, C, H, W)."""
    n = min(n, len(images))
    captions = [f"true {class_names[t]}\npred {class_names[p]}" for t, p in zip(y_true[:n], y_pred[:n])]
    _image_grid(path, images[:n], captions, list(y_true[:n] != y_pred[:n]), "test images")


def plot_confident_mistakes(path: Path, images: np.ndarray, y_true: np.ndarray, probs: np.ndarray,
                            class_names: Sequence[str], n: int = 16) -> None:
    """The ``n`` wrongly classified test images with the highest predicted probability. probs: (N, K)."""
    pred = probs.argmax(1)
    wrong = np.flatnonzero(pred != y_true)
    order = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:n]
    captions = [f"pred {class_names[pred[i]]} ({probs[i, pred[i]]:.0%})\ntrue {class_names[y_true[i]]}"
                for i in order]
    _image_grid(path, images[order], captions, [True] * len(order), "most confidently wrong test images")


def plot_heatmap(path: Path, values: np.ndarray, lrs: Sequence[float], l2s: Sequence[float], title: str,
                 diverged: np.ndarray | None = None) -> None:
    """Annotated heat map of values (n_lr, n_l2): learning rate eta on the y axis, L2 lambda on the x axis;
    cells flagged in ``diverged`` (n_lr, n_l2) get a '*' (their training loss became non-finite)."""
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 + 0.9 * len(l2s)), max(3.5, 1.2 + 0.8 * len(lrs))))
    image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(len(lrs)):
        for j in range(len(l2s)):
            v = values[i, j]
            mark = "*" if diverged is not None and diverged[i, j] else ""
            ax.text(j, i, ("nan" if not np.isfinite(v) else f"{v:.3f}") + mark, ha="center", va="center",
                    fontsize=8, color="black" if np.isfinite(v) and v > 0.6 else "white")
    if diverged is not None and diverged.any():
        title += "\n(* training diverged)"
    ax.set_xticks(range(len(l2s)), [f"{v:g}" for v in l2s])
    ax.set_yticks(range(len(lrs)), [f"{v:g}" for v in lrs])
    ax.set_xlabel(r"$\lambda$ (L2 strength)")
    ax.set_ylabel(r"$\eta$ (learning rate)")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
