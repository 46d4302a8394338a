"""One ``pinn classify`` run end to end: data, run folder, training, test metrics, figures; and the
re-evaluation of a finished run folder.

Run folder ``<out>/classify-<dataset>-<time>/``: config.json, checkpoint.pt (every epoch), history.csv
(per-epoch train/validation loss and accuracy), metrics.json (test accuracy and loss, per-class accuracy,
confusion matrix, timings), curves.png, confusion.png, samples.png, mistakes.png. Under torchrun only
rank 0 writes.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from rich.console import Console

from pinn.choices import Backend, Device
from pinn.errors import PinnError
from pinn.runs import new_run_dir, write_csv, write_json
from pinn.vision import plots
from pinn.vision.config import ClassifyConfig, config_from_json
from pinn.vision.datasets import ImageSet, describe, load_images
from pinn.vision.distributed import Cluster, setup, teardown, wait_for_all
from pinn.vision.download import one_line
from pinn.vision.models import build_model, count_parameters
from pinn.vision.names import DatasetName
from pinn.vision.train import (
    HISTORY_KEYS,
    load_checkpoint,
    precision_name,
    predict_logits,
    score,
    to_device,
    train_classifier,
)


def compute_device(cfg: ClassifyConfig) -> Device:
    """The device option of ``cfg``, except that the numpy backend always computes on the CPU."""
    return Device.cpu if cfg.backend is Backend.numpy else cfg.device


def load_for(cfg: ClassifyConfig, cluster: Cluster, console: Console | None) -> ImageSet:
    """Load the data set; under torchrun rank 0 goes first so only it downloads and extracts."""
    if cluster.distributed and not cluster.is_main:
        dist.barrier()
    try:
        images = load_images(cfg.dataset, Path(cfg.data_dir) if cfg.data_dir else None, cfg.split_seed,
                             console if cluster.is_main else None)
    finally:
        if cluster.distributed and cluster.is_main:
            dist.barrier()
    return images


def test_metrics(logits: torch.Tensor, y: torch.Tensor, class_names: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, mean cross-entropy, per-class accuracy and confusion matrix (rows true, columns predicted)."""
    loss, accuracy = score(logits, y)
    k = len(class_names)
    pred = logits.argmax(1)
    confusion = torch.bincount(y * k + pred, minlength=k * k).view(k, k).numpy()
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {"test_accuracy": accuracy, "test_loss": loss, "test_errors": int((pred != y).sum()),
            "test_images": len(y), "per_class_accuracy": dict(zip(class_names, per_class.tolist())),
            "confusion_matrix": confusion.tolist()}


def write_figures(run_dir: Path, images: ImageSet, logits: torch.Tensor, history: list[dict], cfg: ClassifyConfig,
                  confusion: np.ndarray) -> None:
    """curves.png, confusion.png, samples.png and mistakes.png."""
    title = f"{cfg.dataset.value}, {cfg.model.value}"
    if history:
        plots.plot_curves(run_dir / "curves.png", history, title)
    plots.plot_confusion(run_dir / "confusion.png", confusion, images.class_names, f"{title}: test set")
    x = images.x_test.numpy()
    y = images.y_test.numpy()
    probs = torch.softmax(logits, 1).numpy()
    plots.plot_samples(run_dir / "samples.png", x, y, probs.argmax(1), images.class_names)
    plots.plot_confident_mistakes(run_dir / "mistakes.png", x, y, probs, images.class_names)


def _sync_buffers(model: torch.nn.Module, cluster: Cluster) -> None:
    """Give every process rank 0's batch-norm statistics before evaluating (they drift apart under DDP)."""
    if cluster.distributed:
        for buffer in model.buffers():
            dist.broadcast(buffer.data, src=0)


def classify(cfg: ClassifyConfig, out_root: Path, console: Console | None = None,
             resume_dir: Path | None = None) -> tuple[Path | None, dict[str, Any]]:
    """Train and evaluate ``cfg``; returns (run folder, metrics) on rank 0 and (None, metrics) elsewhere."""
    started = time.perf_counter()
    cluster = setup(compute_device(cfg))
    try:
        images = load_for(cfg, cluster, console)
        resume = load_checkpoint(resume_dir) if resume_dir is not None else None
        run_dir: Path | None = None
        if cluster.is_main:
            run_dir = (Path(resume_dir) if resume_dir is not None
                       else new_run_dir(out_root, f"classify-{cfg.dataset.value}"))
            write_json(run_dir / "config.json", cfg)
            if console:
                console.print(f"{describe(images)}; model {cfg.model.value} ({cfg.backend.value} backend); "
                              f"{cluster.world_size} process(es) on "
                              f"{cluster.device}, {precision_name(cfg, cluster.device)}; run folder {run_dir}",
                              highlight=False)
                if resume:
                    console.print(f"resuming after epoch {resume['epoch']}")
        outcome = train_classifier(cfg, images, cluster, run_dir, console, resume)
        _sync_buffers(outcome.model, cluster)
        logits = predict_logits(outcome.model, images.x_test, cluster, cfg)
        metrics = test_metrics(logits, images.y_test, images.class_names)
        history = outcome.history
        metrics.update({
            "dataset": cfg.dataset.value, "model": cfg.model.value, "backend": cfg.backend.value,
            "parameters": count_parameters(outcome.model),
            "epochs_run": len(history), "best_epoch": outcome.best_epoch,
            "final_train_accuracy": history[-1]["train_accuracy"] if history else None,
            "final_val_accuracy": history[-1]["val_accuracy"] if history else None,
            "train_seconds": outcome.train_seconds, "train_cpu_seconds": outcome.train_cpu_seconds,
            "images_per_second": (sum(h["images_per_second"] * h["seconds"] for h in history) /
                                  max(sum(h["seconds"] for h in history), 1e-9)) if history else None,
            "total_seconds": time.perf_counter() - started, "processes": cluster.world_size,
            "device": str(cluster.device), "precision": precision_name(cfg, cluster.device)})
        if run_dir is not None:
            write_csv(run_dir / "history.csv", HISTORY_KEYS, [[h[k] for h in history] for k in HISTORY_KEYS])
            write_json(run_dir / "metrics.json", metrics)
            write_figures(run_dir, images, logits, history, cfg, np.array(metrics["confusion_matrix"]))
        wait_for_all(cluster)
        return run_dir, metrics
    finally:
        teardown(cluster)


def saved_config(run_dir: Path, hint: str) -> ClassifyConfig:
    """The ClassifyConfig saved in ``run_dir/config.json``; PinnError (ending in ``hint``) if it is missing,
    not valid JSON, or the folder of another command."""
    from pinn.runs import run_command

    if not (Path(run_dir) / "config.json").is_file():
        raise PinnError(f"{run_dir} has no config.json: {hint}")
    command, data = run_command(run_dir)
    if command != "classify":
        raise PinnError(f"{run_dir} is a {command} run folder, not a classify one: {hint}")
    return config_from_json(data)


def resume_config(run_dir: Path, dataset: DatasetName, epochs: int | None) -> ClassifyConfig:
    """The saved config of ``run_dir`` (which must be a run of ``dataset``), with ``epochs`` if given."""
    cfg = saved_config(run_dir, "give the folder of an earlier 'pinn classify' run")
    if cfg.dataset is not DatasetName(dataset):
        raise PinnError(f"{run_dir} is a {cfg.dataset.value} run, not {DatasetName(dataset).value}")
    return dataclasses.replace(cfg, epochs=epochs).check() if epochs is not None else cfg


def evaluate_run(run_dir: Path, data_dir: Path | None = None, console: Console | None = None) -> dict[str, Any]:
    """Rebuild the network of a run folder from its checkpoint, score it on the test set, write
    evaluation.json into the folder and return the metrics."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PinnError(f"run folder {run_dir} does not exist")
    cfg = saved_config(run_dir, "is it a 'pinn classify' run folder?")
    if data_dir is not None:
        cfg = dataclasses.replace(cfg, data_dir=str(data_dir))
    state = load_checkpoint(run_dir)
    use_cuda = torch.cuda.is_available() and compute_device(cfg) is not Device.cpu
    cluster = Cluster(0, 1, torch.device("cuda" if use_cuda else "cpu"))
    images = load_for(cfg, cluster, console)
    best = state["best"].get("model")
    weights = best if cfg.patience > 0 and best is not None else state["model"]
    c = images.image_shape[0]
    model = build_model(cfg.model, images.image_shape, images.n_classes, [0.0] * c, [1.0] * c, cfg.dropout)
    if cfg.backend is Backend.numpy:
        from pinn.vision.scratch_backend import classifier_from_torch

        model = classifier_from_torch(model)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, PinnError) as exc:
        raise PinnError(f"the checkpoint in {run_dir} does not match model {cfg.model.value}: "
                        f"{one_line(exc)[:200]}") from None
    if cfg.backend is Backend.torch:
        model = to_device(model, cluster.device)
    logits = predict_logits(model, images.x_test, cluster, cfg)
    metrics = test_metrics(logits, images.y_test, images.class_names)
    metrics.update({"dataset": cfg.dataset.value, "model": cfg.model.value, "backend": cfg.backend.value,
                    "epoch": state["epoch"],
                    "weights": "best" if weights is not state["model"] else "last"})
    write_json(run_dir / "evaluation.json", metrics)
    return metrics
