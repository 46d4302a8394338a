"""One ``pinn classify`` run end to end: data, run folder, training, test metrics, figures; and the
re-evaluation of a finished run folder.

Run folder ``<out>/classify-<dataset>-<time>/``: config.json, checkpoint.pt (every epoch), history.csv
(per-epoch train/validation loss and accuracy), metrics.json (test accuracy and loss, per-class accuracy,
confusion matrix, timings), curves.png, confusion.png, samples.png, mistakes.png. Under torchrun only
rank 0 writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist
from rich.console import Console

from pinn import checks, files
from pinn.choices import Backend, Device
from pinn.errors import Interrupted, PinnError
from pinn.runs import check_output_root, read_json, run_folder, write_csv, write_json
from pinn.vision import plots
from pinn.vision.config import ClassifyConfig, config_from_json
from pinn.vision.datasets import NOMINAL_SIZES, ImageSet, check_image_counts, data_source, describe, load_images
from pinn.vision.distributed import Cluster, setup, teardown, wait_for_all
from pinn.vision.models import build_model, count_parameters, forward_cost
from pinn.vision.names import DatasetName
from pinn.vision.train import (
    CHECKPOINT,
    HISTORY_KEYS,
    load_checkpoint,
    precision_name,
    predict_logits,
    score,
    status_line,
    to_device,
    train_classifier,
)


def compute_device(cfg: ClassifyConfig) -> Device:
    """The device option of ``cfg``, except that the numpy backend always computes on the CPU."""
    return Device.cpu if cfg.backend is Backend.numpy else cfg.device


def load_for(cfg: ClassifyConfig, cluster: Cluster, console: Console | None) -> ImageSet:
    """Load the data set; under torchrun rank 0 goes first so only it downloads and extracts. PinnError when
    the data hold too few images for a run (see :func:`check_image_counts`)."""
    if cluster.distributed and not cluster.is_main:
        dist.barrier()
    try:
        images = load_images(cfg.dataset, Path(cfg.data_dir) if cfg.data_dir else None, cfg.split_seed,
                             console if cluster.is_main else None)
    finally:
        if cluster.distributed and cluster.is_main:
            dist.barrier()
    check_image_counts(images, cfg.val_fraction)
    return images


def work_estimate(cfg: ClassifyConfig, runs: int = 1) -> dict[str, Any]:
    """The size of ``runs`` trainings of ``cfg`` before any starts, from the published data set sizes:
    parameters, memory in bytes and floating-point operations (a training step costs about 3 forward
    passes, a multiply-add 2 operations)."""
    n_train, n_test, shape = NOMINAL_SIZES[cfg.dataset]
    model = build_model(cfg.model, shape, 10, [0.0] * shape[0], [1.0] * shape[0], cfg.dropout)
    macs, values = forward_cost(model, shape)
    batch = min(cfg.batch_size, n_train)
    flops = runs * (cfg.epochs * n_train * 6.0 * macs + (cfg.epochs + 1) * (n_test + n_train) * 2.0 * macs)
    memory = ((n_train + n_test) * float(np.prod(shape)) * 2 + batch * values * 4.0 * 4
              + count_parameters(model) * 4.0 * 6)
    return {"train_images": n_train, "test_images": n_test, "parameters": count_parameters(model),
            "epochs": cfg.epochs, "steps": runs * cfg.epochs * (n_train // batch), "flops": flops,
            "memory_bytes": memory}


def prepare_classify(cfg: ClassifyConfig, out_root: Path | None, resume_dir: Path | None = None,
                     runs: int = 1) -> dict[str, Any]:
    """Everything checked before any work or run folder: the settings, the output (or resumed) folder, where
    the data come from (without downloading), memory and time (refused with the estimate and the limit)."""
    cfg.check()
    if resume_dir is not None:
        state = load_checkpoint(resume_dir)
        if state["epoch"] > cfg.epochs:
            raise PinnError(f"{resume_dir} has already trained {state['epoch']} epochs; give --epochs "
                            f">= {state['epoch']} to continue")
    elif out_root is not None:
        check_output_root(out_root)
    source = data_source(cfg.dataset, Path(cfg.data_dir) if cfg.data_dir else None)
    estimate = {"data": source, **work_estimate(cfg, runs)}
    checks.memory(estimate["memory_bytes"], "this training", "lower --batch-size or choose a smaller --model")
    gpu = compute_device(cfg) is not Device.cpu and torch.cuda.is_available()
    estimate["seconds_bound"] = checks.budget(estimate.pop("flops"), "this training",
                                              "lower --epochs or choose a smaller --model",
                                              checks.GPU_FLOP_RATE if gpu else checks.FLOP_RATE)
    return estimate


def _resume_note(cfg: ClassifyConfig, run_dir: Path) -> str:
    try:
        epoch = load_checkpoint(run_dir)["epoch"]
    except PinnError:
        return f"{run_dir} holds no finished epoch"
    return (f"{run_dir} keeps checkpoint.pt after epoch {epoch}; continue with: pinn classify {cfg.dataset.value} "
            f"--resume {run_dir}")


@contextlib.contextmanager
def open_run_dir(cfg: ClassifyConfig, out_root: Path, resume_dir: Path | None,
                 is_main: bool = True) -> Iterator[Path | None]:
    """The run folder of a classify run: the resumed one, or a fresh one removed again if the run ends
    before its first checkpoint; Ctrl-C becomes :class:`Interrupted` naming the last finished epoch and
    the command that continues it. Processes other than rank 0 get None."""
    if not is_main:
        yield None
        return
    if resume_dir is not None:
        try:
            yield Path(resume_dir)
        except KeyboardInterrupt:
            raise Interrupted(_resume_note(cfg, Path(resume_dir))) from None
        return
    with run_folder(out_root, f"classify-{cfg.dataset.value}") as run_dir:
        try:
            yield run_dir
        except KeyboardInterrupt:
            if (run_dir / CHECKPOINT).is_file():
                raise Interrupted(_resume_note(cfg, run_dir)) from None
            raise


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
    prepare_classify(cfg, out_root, resume_dir)
    cluster = setup(compute_device(cfg))
    try:
        images = load_for(cfg, cluster, console)
        resume = load_checkpoint(resume_dir) if resume_dir is not None else None
        with open_run_dir(cfg, out_root, resume_dir, cluster.is_main) as run_dir:
            if run_dir is not None:
                write_json(run_dir / "config.json", cfg)
                if console:
                    console.print(f"{describe(images)}; model {cfg.model.value} ({cfg.backend.value} backend); "
                                  f"{cluster.world_size} process(es) on {cluster.device}, "
                                  f"{precision_name(cfg, cluster.device)}; run folder {run_dir}", highlight=False)
                    if resume:
                        console.print(f"resuming after epoch {resume['epoch']}")
            outcome = train_classifier(cfg, images, cluster, run_dir, console, resume)
            shown = console if run_dir is not None else None
            with status_line(shown, f"evaluating on the {len(images.y_test)} test images"):
                _sync_buffers(outcome.model, cluster)
                logits = predict_logits(outcome.model, images.x_test, cluster, cfg)
            metrics = {**test_metrics(logits, images.y_test, images.class_names),
                       **run_summary(cfg, outcome, cluster, started)}
            if run_dir is not None:
                with status_line(shown, "writing the run folder (history, metrics, figures)"):
                    history = outcome.history
                    write_csv(run_dir / "history.csv", HISTORY_KEYS, [[h[k] for h in history] for k in HISTORY_KEYS])
                    write_json(run_dir / "metrics.json", metrics)
                    write_figures(run_dir, images, logits, history, cfg, np.array(metrics["confusion_matrix"]))
        wait_for_all(cluster)
        return run_dir, metrics
    finally:
        teardown(cluster)


def run_summary(cfg: ClassifyConfig, outcome: Any, cluster: Cluster, started: float) -> dict[str, Any]:
    """The training part of metrics.json: model, epochs, timings, throughput, device and precision."""
    history = outcome.history
    return {
        "dataset": cfg.dataset.value, "model": cfg.model.value, "backend": cfg.backend.value,
        "parameters": count_parameters(outcome.model),
        "epochs_run": len(history), "best_epoch": outcome.best_epoch,
        "final_train_accuracy": history[-1]["train_accuracy"] if history else None,
        "final_val_accuracy": history[-1]["val_accuracy"] if history else None,
        "train_seconds": outcome.train_seconds, "train_cpu_seconds": outcome.train_cpu_seconds,
        "images_per_second": (sum(h["images_per_second"] * h["seconds"] for h in history) /
                              max(sum(h["seconds"] for h in history), 1e-9)) if history else None,
        "total_seconds": time.perf_counter() - started, "processes": cluster.world_size,
        "device": str(cluster.device), "precision": precision_name(cfg, cluster.device)}


def saved_config(run_dir: Path, hint: str) -> ClassifyConfig:
    """The ClassifyConfig saved in ``run_dir/config.json``; PinnError (ending in ``hint``) if it is missing,
    and PinnError if it is not valid JSON, or the folder of another command."""
    from pinn.runs import run_command

    path = Path(run_dir) / "config.json"
    if not Path(run_dir).is_dir():
        raise PinnError(f"{run_dir} is not a folder: {hint}")
    if not path.is_file():
        raise PinnError(f"{run_dir} has no config.json: {hint}")
    command, data = run_command(run_dir)
    if command != "classify":
        raise PinnError(f"{run_dir} is a {command} run folder, not a classify one: {hint}")
    return config_from_json(data, str(path))


def resume_config(run_dir: Path, dataset: DatasetName, epochs: int | None) -> ClassifyConfig:
    """The saved config of ``run_dir`` (which must be a run of ``dataset``), with ``epochs`` if given."""
    cfg = saved_config(run_dir, "give the folder of an earlier 'pinn classify' run")
    if cfg.dataset is not DatasetName(dataset):
        raise PinnError(f"{run_dir} is a {cfg.dataset.value} run, not {DatasetName(dataset).value}")
    return dataclasses.replace(cfg, epochs=epochs).check() if epochs is not None else cfg


def evaluation_inputs(run_dir: Path, data_dir: Path | None = None) -> tuple[ClassifyConfig, dict[str, Any], dict]:
    """The saved config, checkpoint and weights of a classify run folder, all checked before any work: the
    config as for a new run, the checkpoint's structure, the weights' names and shapes against the model
    the config builds, and where the test images come from. PinnError naming the file otherwise."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PinnError(f"run folder {run_dir} does not exist")
    cfg = saved_config(run_dir, "is it a 'pinn classify' run folder?")
    if data_dir is not None:
        cfg = dataclasses.replace(cfg, data_dir=str(data_dir))
    state = load_checkpoint(run_dir)
    best = state["best"].get("model")
    weights = best if cfg.patience > 0 and best is not None else state["model"]
    shape = NOMINAL_SIZES[cfg.dataset][2]
    model = build_model(cfg.model, shape, 10, [0.0] * shape[0], [1.0] * shape[0], cfg.dropout)
    files.check_state_dict(model.state_dict(), weights, run_dir / CHECKPOINT)
    data_source(cfg.dataset, Path(cfg.data_dir) if cfg.data_dir else None)
    return cfg, state, weights


def evaluate_run(run_dir: Path, data_dir: Path | None = None, console: Console | None = None) -> dict[str, Any]:
    """Rebuild the network of a run folder from its checkpoint, score it on the test set, write
    evaluation.json into the folder and return the metrics."""
    run_dir = Path(run_dir)
    cfg, state, weights = evaluation_inputs(run_dir, data_dir)
    use_cuda = torch.cuda.is_available() and compute_device(cfg) is not Device.cpu
    cluster = Cluster(0, 1, torch.device("cuda" if use_cuda else "cpu"))
    images = load_for(cfg, cluster, console)
    c = images.image_shape[0]
    model = build_model(cfg.model, images.image_shape, images.n_classes, [0.0] * c, [1.0] * c, cfg.dropout)
    if cfg.backend is Backend.numpy:
        from pinn.vision.scratch_backend import classifier_from_torch

        model = classifier_from_torch(model)
    model.load_state_dict(weights)
    if cfg.backend is Backend.torch:
        model = to_device(model, cluster.device)
    logits = predict_logits(model, images.x_test, cluster, cfg)
    metrics = test_metrics(logits, images.y_test, images.class_names)
    metrics.update({"dataset": cfg.dataset.value, "model": cfg.model.value, "backend": cfg.backend.value,
                    "epoch": state["epoch"],
                    "weights": "best" if weights is not state["model"] else "last"})
    write_json(run_dir / "evaluation.json", metrics)
    return metrics
