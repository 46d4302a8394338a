"""Both backends on one recipe: ``pinn classify compare DATASET``.

For every seed the same configuration is trained once with torch and once with numpy: same data split,
epochs, batches in the same order, same initial weights, same schedule; only the framework that computes
the network and its step differs. Each training writes its usual run folder (under ``torch/`` and
``numpy/``); the comparison folder adds compare.json, compare.csv and compare.md with the test accuracy,
the training time (wall clock, and CPU time of this process, which other programs on a busy machine do not
inflate when both frameworks run on one thread) and the numpy / torch time ratio. Before
training, both backends score the test set with the same initial weights; the largest logit difference
(relative to the largest logit) shows that they compute the same function to round-off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from rich.console import Console

from pinn import checks
from pinn.choices import Backend
from pinn.errors import PinnError
from pinn.files import write_text
from pinn.runs import run_folder, to_json, write_csv, write_json
from pinn.vision.config import ClassifyConfig
from pinn.vision.datasets import ImageSet
from pinn.vision.distributed import Cluster
from pinn.vision.experiment import classify, load_for, prepare_classify
from pinn.vision.models import build_model
from pinn.vision.train import channel_stats, predict_logits

ROW_KEYS = ("seed", "test_accuracy", "train_seconds", "cpu_seconds", "total_seconds")


def forward_agreement(cfg: ClassifyConfig, images: ImageSet) -> float:
    """max |logits_numpy - logits_torch| / max |logits_torch| on the test images, both backends holding the
    same initial weights (the torch network in float32, evaluation mode)."""
    from pinn.vision.scratch_backend import classifier_from_torch

    torch.manual_seed(cfg.seed)
    mean, std = channel_stats(images.x_train)
    model = build_model(cfg.model, images.image_shape, images.n_classes, mean, std, cfg.dropout)
    twin = classifier_from_torch(model)
    cpu = Cluster(0, 1, torch.device("cpu"))
    reference = predict_logits(model, images.x_test, cpu)
    numpy_logits = predict_logits(twin, images.x_test, cpu)
    return float((numpy_logits - reference).abs().max() / reference.abs().max())


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per backend: mean and standard deviation of the test accuracy, mean times, and the numpy / torch ratio
    of the mean training times (wall and CPU)."""
    out: dict[str, dict[str, float]] = {}
    for backend in Backend:
        mine = [r for r in rows if r["backend"] == backend.value]
        if not mine:
            continue
        acc = [r["test_accuracy"] for r in mine]
        out[backend.value] = {"runs": len(mine), "test_accuracy_mean": statistics.fmean(acc),
                              "test_accuracy_std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
                              **{f"{k}_mean": statistics.fmean(r[k] for r in mine)
                                 for k in ("train_seconds", "cpu_seconds", "total_seconds")}}
    if {"torch", "numpy"} <= set(out):
        for k in ("train_seconds", "cpu_seconds"):
            out["numpy"][f"{k}_ratio"] = out["numpy"][f"{k}_mean"] / max(out["torch"][f"{k}_mean"], 1e-12)
        out["numpy"]["accuracy_difference_points"] = 100 * (out["numpy"]["test_accuracy_mean"]
                                                             - out["torch"]["test_accuracy_mean"])
    return out


def markdown(cfg: ClassifyConfig, summary: dict[str, dict[str, float]], agreement: float) -> str:
    """The comparison as a markdown table."""
    lines = [f"{cfg.dataset.value}, model {cfg.model.value}: {cfg.epochs} epochs, batch {cfg.batch_size}, "
             f"{cfg.optimizer.value} lr {cfg.lr:g}, L2 {cfg.l2:g}; torch precision "
             f"{'mixed (amp)' if cfg.amp else 'float32'}, numpy float32.",
             f"Initial weights copied: max |logit difference| / max |logit| = {agreement:.1e}.", "",
             "| backend | runs | test accuracy (mean +- sd) | training s (wall) | training s (CPU) | total s | "
             "ratio to torch (wall / CPU) |", "|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        ratio = (f"{s['train_seconds_ratio']:.2f} / {s['cpu_seconds_ratio']:.2f}" if "train_seconds_ratio" in s
                 else "1")
        lines.append(f"| {name} | {s['runs']} | {100 * s['test_accuracy_mean']:.2f} % +- "
                     f"{100 * s['test_accuracy_std']:.2f} | {s['train_seconds_mean']:.1f} | "
                     f"{s['cpu_seconds_mean']:.1f} | {s['total_seconds_mean']:.1f} | {ratio} |")
    return "\n".join(lines) + "\n"


def compare_backends(cfg: ClassifyConfig, seeds: Sequence[int], out_root: Path,
                     console: Console | None = None) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    """Train ``cfg`` with both backends for each of ``seeds``; returns (folder, one row per run, summary).
    ``console`` shows which run is training (the runs' own epoch lines are not printed)."""
    seeds = check_seeds(seeds)
    cfg = dataclasses.replace(cfg, backend=Backend.numpy).check()  # both backends must build the model
    prepare_classify(cfg, out_root, runs=2 * len(seeds))
    images = load_for(cfg, Cluster(0, 1, torch.device("cpu")), console)
    agreement = forward_agreement(cfg, images)
    with run_folder(out_root, f"compare-{cfg.dataset.value}") as run_dir:
        return _compare_into(run_dir, cfg, seeds, images, agreement, console)


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The distinct seeds, each in [0, 2^32 - 1], at least one and at most 100."""
    seeds = list(dict.fromkeys(seeds))
    if not seeds:
        raise PinnError("give at least one --seeds value")
    checks.count("seeds", len(seeds), 1, 100)
    for seed in seeds:
        checks.seed("seeds", seed)
    return [int(s) for s in seeds]


def _compare_into(run_dir: Path, cfg: ClassifyConfig, seeds: list[int], images: Any, agreement: float,
                  console: Console | None) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    write_json(run_dir / "config.json", {**to_json(cfg), "backend": "torch and numpy", "seeds": seeds})
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        for backend in Backend:
            run_cfg = dataclasses.replace(cfg, seed=seed, backend=backend)
            status = console.status(f"{backend.value}, seed {seed}: training") if console else contextlib.nullcontext()
            with status:
                folder, metrics = classify(run_cfg, run_dir / backend.value)
            rows.append({"backend": backend.value, "seed": seed, "test_accuracy": metrics["test_accuracy"],
                         "train_seconds": metrics["train_seconds"], "cpu_seconds": metrics["train_cpu_seconds"],
                         "total_seconds": metrics["total_seconds"], "run": str(folder)})
            if console:
                console.print(f"{backend.value:<6} seed {seed}: test accuracy {metrics['test_accuracy']:.2%}, "
                              f"training {metrics['train_seconds']:.1f} s ({metrics['train_cpu_seconds']:.1f} s CPU)")
    summary = {"backends": summarise(rows), "forward_agreement": agreement, "torch_threads": torch.get_num_threads()}
    write_json(run_dir / "compare.json", {"rows": rows, **summary})
    for backend in Backend:
        mine = [r for r in rows if r["backend"] == backend.value]
        write_csv(run_dir / f"compare_{backend.value}.csv", ROW_KEYS, [np.array([r[k] for r in mine]) for k in ROW_KEYS])
    write_text(run_dir / "compare.md", markdown(cfg, summary["backends"], agreement))
    return run_dir, rows, summary
