"""Grid search over the learning rate eta and the L2 strength lambda, as in the lecture notes.

For every (eta, lambda) a fresh network is trained on the whole training set (no validation share, no
early stopping) and scored on the training and the test set. A diverging cell (non-finite loss) is kept and
flagged, with the accuracy its network then has. Under torchrun the cells are shared out among the
processes (cell c goes to rank c mod W), each training alone, since the cells are independent.
The run folder gets grid.csv and the annotated heat maps grid_train.png and grid_test.png.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pinn import checks
from pinn.errors import PinnError
from pinn.runs import run_folder, to_json, write_csv, write_json
from pinn.vision.config import ClassifyConfig
from pinn.vision.distributed import Cluster, all_sum, setup, teardown, wait_for_all
from pinn.vision.experiment import compute_device, load_for, prepare_classify
from pinn.vision.plots import plot_heatmap
from pinn.vision.train import predict_logits, score, train_classifier


@dataclass(frozen=True)
class GridResult:
    """Accuracies per cell, arrays (n_lr, n_l2) indexed [i, j] for (lrs[i], l2s[j])."""

    lrs: tuple[float, ...]
    l2s: tuple[float, ...]
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    train_loss: np.ndarray
    diverged: np.ndarray
    seconds: np.ndarray

    def best(self) -> tuple[float, float, float]:
        """(eta, lambda, test accuracy) of the best cell (ties: the higher training accuracy)."""
        order = np.lexsort((-np.nan_to_num(self.train_accuracy.ravel()), -np.nan_to_num(self.test_accuracy.ravel())))
        i, j = np.unravel_index(order[0], self.test_accuracy.shape)
        return self.lrs[i], self.l2s[j], float(self.test_accuracy[i, j])


MAX_AXIS = 100
"""Values per grid axis at most (10,000 trainings is a mistake, not a study)."""


def check_grid(lrs: Sequence[float], l2s: Sequence[float]) -> None:
    """Both axes need 1 to MAX_AXIS values: finite eta in (0, 1000] and lambda in [0, 1000]."""
    if not lrs or not l2s:
        raise PinnError("a grid search needs both --grid-lr and --grid-l2 values")
    for name, values, low in (("grid_lr", lrs, 0.0), ("grid_l2", l2s, None)):
        checks.count(name, len(values), 1, MAX_AXIS)
        for value in values:
            if low is None:
                checks.number(name, value, 0.0, 1e3)
            else:
                checks.positive(name, value, 1e3)


@contextlib.contextmanager
def _main_run_folder(is_main: bool, out_root: Path, name: str) -> Iterator[Path | None]:
    if not is_main:
        yield None
        return
    with run_folder(out_root, name) as run_dir:
        yield run_dir


def grid_search(cfg: ClassifyConfig, images, lrs: Sequence[float], l2s: Sequence[float], cluster: Cluster,
                console: Console | None = None) -> GridResult:
    """Train one network per (eta, lambda) and score it on the training and the test set."""
    check_grid(lrs, l2s)
    shape = (len(lrs), len(l2s))
    table = torch.zeros(5, *shape, dtype=torch.float64)  # train acc, test acc, train loss, diverged, seconds
    alone = Cluster(0, 1, cluster.device)
    cells = [(i, j) for i in range(shape[0]) for j in range(shape[1])]
    columns = (TextColumn("[bold]grid"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[last]}"),
               TimeElapsedColumn())
    show = console is not None and cluster.is_main
    with Progress(*columns, console=console, disable=not show, transient=True) as progress:
        task = progress.add_task("grid", total=len(cells), last="")
        for c, (i, j) in enumerate(cells):
            if c % cluster.world_size != cluster.rank:
                continue
            cell = dataclasses.replace(cfg, lr=float(lrs[i]), l2=float(l2s[j]), val_fraction=0.0, patience=0)
            start = time.perf_counter()
            outcome = train_classifier(cell, images, alone, stop_on_divergence=False)
            train_loss, train_acc = score(predict_logits(outcome.model, images.x_train, alone), images.y_train)
            _, test_acc = score(predict_logits(outcome.model, images.x_test, alone), images.y_test)
            table[:, i, j] = torch.tensor([train_acc, test_acc, train_loss, float(outcome.diverged),
                                           time.perf_counter() - start], dtype=torch.float64)
            note = " diverged" if outcome.diverged else ""
            progress.update(task, advance=cluster.world_size,
                            last=f"eta {lrs[i]:g} lambda {l2s[j]:g}: train {train_acc:.3f} test {test_acc:.3f}{note}")
            if show:
                console.print(f"eta {lrs[i]:<8g} lambda {l2s[j]:<8g} train {train_acc:.4f}  test {test_acc:.4f}"
                              f"{note}  {time.perf_counter() - start:.1f} s", highlight=False)
    table = all_sum(table, cluster).numpy()
    return GridResult(tuple(float(v) for v in lrs), tuple(float(v) for v in l2s), table[0], table[1], table[2],
                      table[3].astype(bool), table[4])


def write_grid(run_dir: Path, result: GridResult, title: str) -> None:
    """grid.csv (one row per cell) and the heat maps grid_train.png, grid_test.png."""
    eta, lam = np.meshgrid(result.lrs, result.l2s, indexing="ij")
    write_csv(run_dir / "grid.csv", ["eta", "lambda", "train_accuracy", "test_accuracy", "train_loss", "diverged",
                                     "seconds"],
              [eta, lam, result.train_accuracy, result.test_accuracy, result.train_loss,
               result.diverged.astype(float), result.seconds])
    plot_heatmap(run_dir / "grid_train.png", result.train_accuracy, result.lrs, result.l2s,
                 f"{title}: training accuracy", result.diverged)
    plot_heatmap(run_dir / "grid_test.png", result.test_accuracy, result.lrs, result.l2s, f"{title}: test accuracy",
                 result.diverged)


def run_grid(cfg: ClassifyConfig, lrs: Sequence[float], l2s: Sequence[float], out_root: Path,
             console: Console | None = None) -> tuple[Path | None, GridResult]:
    """The whole grid command: data, run folder (rank 0), search, CSV, heat maps and a grid.json summary."""
    check_grid(lrs, l2s)
    prepare_classify(cfg, out_root, runs=len(lrs) * len(l2s))
    started = time.perf_counter()
    cluster = setup(compute_device(cfg))
    try:
        images = load_for(cfg, cluster, console)
        with _main_run_folder(cluster.is_main, out_root, f"grid-{cfg.dataset.value}") as run_dir:
            if run_dir is not None:
                write_json(run_dir / "config.json", {**to_json(cfg), "grid_lr": list(lrs), "grid_l2": list(l2s)})
            result = grid_search(cfg, images, lrs, l2s, cluster, console)
            if run_dir is not None:
                write_grid(run_dir, result, f"{cfg.dataset.value}, {cfg.model.value}")
                eta, lam, acc = result.best()
                write_json(run_dir / "grid.json", {"best_eta": eta, "best_lambda": lam, "best_test_accuracy": acc,
                                                   "cells": result.test_accuracy.size,
                                                   "diverged_cells": int(result.diverged.sum()),
                                                   "total_seconds": time.perf_counter() - started})
        wait_for_all(cluster)
        return run_dir, result
    finally:
        teardown(cluster)
