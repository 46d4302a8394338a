"""The classifier training loop: set up, loop over epochs, log, checkpoint; and batched evaluation.

The loop is shared by both backends (:mod:`pinn.vision.backend`): a backend supplies only the network and
its training step (:class:`Trainer`; torch here, NumPy in :mod:`pinn.vision.scratch_backend`), and both
see the same batches in the same order, the same augmentations and the same learning-rate schedule.

Minimises the mean cross-entropy of softmax(logits) (optionally label-smoothed) plus
lambda * sum ||W||^2 over convolution kernels and dense weights, by mini-batch steps of a framework
optimizer with a per-batch learning-rate schedule. Each epoch draws its batch order, augmentations and
dropout from seeds derived from (seed, epoch), so a run resumed from a checkpoint retraces the run that was
interrupted. Under torchrun every global batch is split across the processes, whose gradients DDP averages.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from pinn import files
from pinn.choices import Backend, Schedule
from pinn.errors import PinnError
from pinn.optim import make_optimizer, make_scheduler, scheduler_step
from pinn.runs import save_checkpoint, to_json
from pinn.vision.augment import augment
from pinn.vision.config import ClassifyConfig
from pinn.vision.datasets import ImageSet, split_validation
from pinn.vision.distributed import Cluster, all_sum, gather_rows
from pinn.vision.models import build_model, penalized_weights

CHECKPOINT = "checkpoint.pt"
# train_loss/train_accuracy: running means over the epoch's (augmented, label-smoothed) batches;
# val_loss/val_accuracy: plain cross-entropy and accuracy of the held-out images after the epoch.
HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                "images_per_second")


@dataclass
class Outcome:
    """A trained model (a torch module, or a NumPy network behind the same interface) and its record: one
    dict per epoch with the keys of HISTORY_KEYS."""

    model: Any
    history: list[dict[str, float]]
    best_epoch: int
    train_seconds: float
    diverged: bool = False
    train_cpu_seconds: float = 0.0  # CPU time of this process in the training steps (this session only)


def channel_stats(x: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 images x: (n, C, H, W), on the [0, 1] scale."""
    xf = x.float().div_(255.0)
    mean = xf.mean(dim=(0, 2, 3))
    std = xf.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return mean.tolist(), std.tolist()


def as_input(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 images (B, C, H, W) -> float in [0, 1] on ``device``, channels-last (faster convolutions)."""
    return x.to(device, non_blocking=True).float().div_(255.0).contiguous(memory_format=torch.channels_last)


def to_device(model: nn.Module, device: torch.device) -> nn.Module:
    """Move to ``device`` in channels-last layout. Kernels with one input channel are kept contiguous: for
    them both layouts are valid and autograd returns contiguous gradients, which DDP's buckets must match."""
    model = model.to(device, memory_format=torch.channels_last)
    for param in model.parameters():
        if param.dim() == 4 and param.shape[1] == 1:
            param.data = torch.empty(param.shape, dtype=param.dtype, device=param.device).copy_(param.data)
    return model


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX-BF16), with which oneDNN runs bf16
    convolutions faster than float32 (measured 1.4-1.7x on this project's CPU); elsewhere bf16 is emulated."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def _autocast(cfg: ClassifyConfig, device: torch.device):
    """Mixed precision when ``cfg.amp``: on CUDA bf16 where supported, else fp16 with loss scaling; on a CPU
    with native bf16 instructions bf16. Weights, optimizer state and the loss stay float32."""
    if cfg.amp and device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype), dtype
    if cfg.amp and device.type == "cpu" and cpu_has_native_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16), torch.bfloat16
    return contextlib.nullcontext(), None


def precision_name(cfg: ClassifyConfig, device: torch.device) -> str:
    """'float32', or the autocast type used for convolutions and dense layers; 'float32 (numpy)' for the
    numpy backend."""
    if cfg.backend is Backend.numpy:
        return "float32 (numpy)"
    dtype = _autocast(cfg, device)[1]
    return "float32" if dtype is None else f"mixed {str(dtype).removeprefix('torch.')}"


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, cluster: Cluster, cfg: ClassifyConfig | None = None,
                   batch: int = 1000) -> torch.Tensor:
    """Logits (n, K) on the CPU for uint8 images x (n, C, H, W); under torchrun each process scores a
    strided share and the shares are gathered."""
    was_training = model.training
    model.eval()
    mine = x[cluster.rank::cluster.world_size]
    amp, _ = _autocast(cfg, cluster.device) if cfg else (contextlib.nullcontext(), None)
    out = []
    for start in range(0, len(mine), batch):
        with amp:
            out.append(model(as_input(mine[start:start + batch], cluster.device)).float())
    n_classes = model[-1].out_features if isinstance(model, nn.Sequential) else None
    logits = torch.cat(out) if out else torch.empty(0, n_classes or 0, device=cluster.device)
    model.train(was_training)
    return gather_rows(logits, len(x), cluster).cpu()


def score(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of logits (n, K) against labels (n,); NaN for an empty set."""
    if len(y) == 0:
        return math.nan, math.nan
    loss = F.cross_entropy(logits, y).item()
    return loss, (logits.argmax(1) == y).float().mean().item()


def _scheduler(cfg: ClassifyConfig, opt: torch.optim.Optimizer, steps_per_epoch: int):
    """Warmup (linear from lr/10) followed by the framework schedule over the remaining steps."""
    total = cfg.epochs * steps_per_epoch
    warm = min(int(round(cfg.warmup_epochs * steps_per_epoch)), total - 1)
    if cfg.schedule is Schedule.plateau:
        return make_scheduler(cfg.schedule, opt, cfg.epochs, patience=max(1, cfg.patience // 2 or 3))
    main = make_scheduler(cfg.schedule, opt, max(1, total - warm))
    if warm <= 0:
        return main
    ramp = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=warm)
    if main is None:
        return ramp
    return torch.optim.lr_scheduler.SequentialLR(opt, [ramp, main], milestones=[warm])


def _fast_forward(scheduler, cfg: ClassifyConfig, epochs_done: int, steps_per_epoch: int,
                  history: list[dict[str, float]]) -> None:
    """Replay the schedule of the finished epochs (after --resume, possibly with more epochs)."""
    if scheduler is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for epoch in range(epochs_done):
            if cfg.schedule is Schedule.plateau:
                scheduler_step(scheduler, history[epoch]["val_loss"])
            else:
                for _ in range(steps_per_epoch):
                    scheduler.step()


def _epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    return (seed * 1_000_003 + epoch * 7919 + rank * 104_729) % (2**63 - 1)


class Trainer(Protocol):
    """What the shared training loop needs from a backend: the network and its training step.

    ``model`` is called on float images (b, C, H, W) in [0, 1] and returns logits (b, K); it has
    ``train()``/``eval()``, ``state_dict()``/``load_state_dict()`` (torch tensors, nn.Sequential's keys) and
    ``parameters()``. Everything else of a run (data, batches, augmentation, validation, history, early
    stopping, checkpoints) is the loop's.
    """

    model: Any

    def start_epoch(self, seed: int) -> None:
        """Seed the epoch's dropout draws."""

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimizer step on images x (b, C, H, W) and labels y (b,); returns the batch's mean
        cross-entropy (without the L2 term) and the logits (b, K), both detached."""

    def end_epoch(self, metric: float) -> None:
        """Advance a reduce-on-plateau schedule with the epoch's validation (or training) loss."""

    @property
    def lr(self) -> float:
        """The current learning rate."""

    def optimizer_state(self) -> dict[str, Any]:
        """The optimizer's state for the checkpoint (tensors and plain values only)."""

    def resume(self, checkpoint: dict[str, Any], history: list[dict[str, float]]) -> None:
        """Load weights and optimizer state of ``checkpoint`` and replay the schedule of its epochs."""


class TorchTrainer:
    """The torch backend: the network on its device, the framework optimizer and schedule, mixed precision,
    and DistributedDataParallel under torchrun."""

    def __init__(self, cfg: ClassifyConfig, images: ImageSet, mean: list[float], std: list[float],
                 cluster: Cluster, steps_per_epoch: int) -> None:
        self.cfg, self.steps_per_epoch = cfg, steps_per_epoch
        model = build_model(cfg.model, images.image_shape, images.n_classes, mean, std, cfg.dropout)
        self.model = to_device(model, cluster.device)
        self.opt = make_optimizer(cfg.optimizer, self.model.parameters(), cfg.lr, weight_decay=0.0,
                                  momentum=cfg.momentum)
        self.scheduler = _scheduler(cfg, self.opt, steps_per_epoch)
        self.net = self.model
        if cluster.distributed:
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=[cluster.device.index]
                                                           if cluster.device.type == "cuda" else None)
        self.amp, amp_dtype = _autocast(cfg, cluster.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
        self.weights = penalized_weights(self.model)

    def start_epoch(self, seed: int) -> None:
        torch.manual_seed(seed)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        with self.amp:
            logits = self.net(x)  # (b, K)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
        objective = loss + cfg.l2 * sum(w.square().sum() for w in self.weights) if cfg.l2 > 0 else loss
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(objective).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        if cfg.schedule is not Schedule.plateau and self.scheduler is not None:
            self.scheduler.step()
        return loss.detach(), logits.detach()

    def end_epoch(self, metric: float) -> None:
        if self.cfg.schedule is Schedule.plateau:
            scheduler_step(self.scheduler, metric)

    @property
    def lr(self) -> float:
        return self.opt.param_groups[0]["lr"]

    def optimizer_state(self) -> dict[str, Any]:
        return self.opt.state_dict()

    def resume(self, checkpoint: dict[str, Any], history: list[dict[str, float]]) -> None:
        self.model.load_state_dict(checkpoint["model"])
        self.opt.load_state_dict(checkpoint["optimizer"])
        _fast_forward(self.scheduler, self.cfg, checkpoint["epoch"], self.steps_per_epoch, history)


def make_trainer(cfg: ClassifyConfig, images: ImageSet, mean: list[float], std: list[float], cluster: Cluster,
                 steps_per_epoch: int) -> Trainer:
    """The backend of ``cfg``: its network (initial weights drawn from the current torch seed, identical
    for both backends) and its training step."""
    if cfg.backend is Backend.numpy:
        from pinn.vision.scratch_backend import NumpyTrainer

        return NumpyTrainer(cfg, images, mean, std, cluster, steps_per_epoch)
    return TorchTrainer(cfg, images, mean, std, cluster, steps_per_epoch)


@dataclass
class _Run:
    """A training run set up: the backend, the split data, the batch plan, the record so far."""

    trainer: Any
    x_fit: torch.Tensor
    y_fit: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    batch: int
    steps: int
    history: list[dict[str, float]]
    best: dict[str, Any]


def _set_up(cfg: ClassifyConfig, images: ImageSet, cluster: Cluster, resume: dict[str, Any] | None) -> _Run:
    """Data split, backend (network, optimizer, schedule) and, when resuming, the checkpoint's state."""
    x_fit, y_fit, x_val, y_val = split_validation(images.x_train, images.y_train, cfg.val_fraction, cfg.seed)
    if min(len(y_fit), cfg.batch_size) < cluster.world_size:
        raise PinnError(f"a batch of {min(len(y_fit), cfg.batch_size)} images cannot be shared by "
                        f"{cluster.world_size} processes: raise --batch-size")
    x_fit, y_fit = x_fit.to(cluster.device), y_fit.to(cluster.device)  # uint8: even CIFAR-10 is 150 MB
    torch.manual_seed(cfg.seed)
    mean, std = channel_stats(x_fit)
    batch = min(cfg.batch_size, len(y_fit))
    steps = len(y_fit) // batch
    trainer = make_trainer(cfg, images, mean, std, cluster, steps)
    run = _Run(trainer, x_fit, y_fit, x_val, y_val, batch, steps, [],
               {"epoch": 0, "val_accuracy": -1.0, "val_loss": math.inf, "model": None})
    if resume is not None:
        run.history = list(resume["history"])[: resume["epoch"]]
        run.best = dict(resume["best"])
        files.check_state_dict(trainer.model.state_dict(), resume["model"],
                               f"the checkpoint resumed ({cfg.model.value})")
        try:
            trainer.resume(resume, run.history)
        except (KeyError, ValueError, RuntimeError, TypeError, IndexError) as exc:
            raise PinnError(f"the checkpoint's optimizer state does not fit --optimizer {cfg.optimizer.value} and "
                            f"this model ({type(exc).__name__}); train again") from None
    return run


def _train_epoch(run: _Run, cfg: ClassifyConfig, cluster: Cluster, epoch: int, progress: Progress,
                 show: bool) -> tuple[torch.Tensor, float, float]:
    """One pass over the batches; returns the summed (loss, correct, count) over all processes, the wall and
    CPU seconds. Stops early on a non-finite loss (a single process)."""
    trainer, aug = run.trainer, cfg.augmentation
    trainer.start_epoch(_epoch_seed(cfg.seed, epoch, cluster.rank))  # dropout draws
    order = torch.randperm(len(run.y_fit), generator=torch.Generator().manual_seed(_epoch_seed(cfg.seed, epoch)))
    order = order.to(cluster.device)
    gen = torch.Generator(device=cluster.device).manual_seed(_epoch_seed(cfg.seed, epoch, cluster.rank) + 1)
    task = progress.add_task(f"epoch {epoch + 1}/{cfg.epochs}", total=run.steps, loss=math.nan, acc=0.0, ips=0.0)
    loss_sum = torch.zeros((), device=cluster.device)  # sum of per-image losses on this process
    correct = torch.zeros((), device=cluster.device, dtype=torch.long)
    count = 0
    trainer.model.train()
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(run.steps):
        idx = order[step * run.batch:(step + 1) * run.batch][cluster.rank::cluster.world_size]
        x = as_input(run.x_fit[idx], cluster.device)  # (b, C, H, W) in [0, 1]
        y = run.y_fit[idx].to(cluster.device, non_blocking=True)
        if aug.active:
            x = augment(x, aug, gen)
        loss, logits = trainer.step(x, y)
        loss_sum += loss * len(y)
        correct += (logits.argmax(1) == y).sum()
        count += len(y)
        if step % 10 == 0 or step == run.steps - 1:
            mean_loss = loss_sum.item() / count
            # a single process may stop at once; under DDP all processes must finish the epoch together
            if not math.isfinite(mean_loss) and not cluster.distributed:
                break
            if show:
                rate = count * cluster.world_size / (time.perf_counter() - start)
                progress.update(task, completed=step + 1, loss=mean_loss, acc=correct.item() / count, ips=rate)
    sums = torch.tensor([loss_sum.item(), correct.item(), count], dtype=torch.float64)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    progress.remove_task(task)
    return all_sum(sums, cluster), seconds, cpu_seconds


def _record_epoch(run: _Run, cfg: ClassifyConfig, cluster: Cluster, epoch: int, totals: torch.Tensor,
                  seconds: float) -> dict[str, float]:
    """Validate, step a plateau schedule, append the epoch's record and keep the best epoch."""
    model = run.trainer.model
    val_loss, val_acc = (score(predict_logits(model, run.x_val, cluster, cfg), run.y_val) if len(run.y_val)
                         else (math.nan, math.nan))
    train_loss = totals[0].item() / totals[2].item()
    run.trainer.end_epoch(val_loss if math.isfinite(val_loss) else train_loss)
    record = {"epoch": epoch + 1, "train_loss": train_loss, "train_accuracy": totals[1].item() / totals[2].item(),
              "val_loss": val_loss, "val_accuracy": val_acc, "lr": run.trainer.lr, "seconds": seconds,
              "images_per_second": totals[2].item() / seconds}
    run.history.append(record)
    best = run.best
    better = val_acc > best["val_accuracy"] or (val_acc == best["val_accuracy"] and val_loss < best["val_loss"])
    if math.isfinite(val_acc) and better:
        run.best = {"epoch": epoch + 1, "val_accuracy": val_acc, "val_loss": val_loss,
                    "model": copy.deepcopy(model.state_dict()) if cfg.patience > 0 else None}
    return record


def _log(console: Console, cfg: ClassifyConfig, record: dict[str, float]) -> None:
    val = (f"  val loss {record['val_loss']:.4f} acc {record['val_accuracy']:.2%}"
           if math.isfinite(record["val_accuracy"]) else "")
    console.print(f"epoch {int(record['epoch']):>3}/{cfg.epochs}  train loss {record['train_loss']:.4f} "
                  f"acc {record['train_accuracy']:.2%}{val}  lr {record['lr']:.2e}  "
                  f"{record['images_per_second']:.0f} img/s  {record['seconds']:.1f} s", highlight=False)


def status_line(console: Console | None, text: str) -> contextlib.AbstractContextManager:
    """A rich status line naming the phase, or nothing when there is no console (other ranks, the library)."""
    return console.status(text) if console is not None else contextlib.nullcontext()


def train_classifier(cfg: ClassifyConfig, images: ImageSet, cluster: Cluster, run_dir: Path | None = None,
                     console: Console | None = None, resume: dict[str, Any] | None = None,
                     stop_on_divergence: bool = True) -> Outcome:
    """Train the model of ``cfg`` on ``images.x_train`` (less the validation share) with its backend.

    Writes ``run_dir/checkpoint.pt`` after every epoch (main process only, when run_dir is given) before
    the epoch's line is printed, so a printed epoch is never lost; ``resume`` is a loaded checkpoint to
    continue from. A non-finite loss ends training: with ``stop_on_divergence`` it raises PinnError (the
    last good checkpoint stays), else the outcome is flagged.
    """
    show = console is not None and cluster.is_main
    with status_line(console if show else None, "preparing the training split and the model"):
        run = _set_up(cfg, images, cluster, resume)
    model = run.trainer.model
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.2%}  {task.fields[ips]:.0f} img/s"),
               TimeElapsedColumn())
    train_seconds, train_cpu_seconds, diverged = sum(h["seconds"] for h in run.history), 0.0, False
    with Progress(*columns, console=console, disable=not show, transient=True) as progress:
        for epoch in range(len(run.history), cfg.epochs):
            totals, seconds, cpu_seconds = _train_epoch(run, cfg, cluster, epoch, progress, show)
            diverged = not math.isfinite(totals[0].item())
            if diverged:
                if stop_on_divergence:
                    raise PinnError(f"training diverged (non-finite loss) in epoch {epoch + 1}: lower --lr "
                                    f"(now {cfg.lr:g}) or --l2; the checkpoint of the last good epoch is kept")
                break
            train_seconds += seconds
            train_cpu_seconds += cpu_seconds
            record = _record_epoch(run, cfg, cluster, epoch, totals, seconds)
            if run_dir is not None and cluster.is_main:
                save_checkpoint(run_dir / CHECKPOINT, {
                    "model": model.state_dict(), "optimizer": run.trainer.optimizer_state(), "epoch": epoch + 1,
                    "history": run.history, "best": run.best, "config": to_json(cfg)})
            if show:
                _log(console, cfg, record)
            if cfg.patience > 0 and math.isfinite(record["val_accuracy"]) and \
                    epoch + 1 - run.best["epoch"] >= cfg.patience:
                if show:
                    console.print(f"early stop: no better validation accuracy since epoch {run.best['epoch']}")
                break
    if cfg.patience > 0 and run.best.get("model") is not None:
        model.load_state_dict(run.best["model"])
    best_epoch = run.best["epoch"] if run.best["epoch"] else len(run.history)
    return Outcome(model, run.history, best_epoch, train_seconds, diverged, train_cpu_seconds)


def load_checkpoint(run_dir: Path) -> dict[str, Any]:
    """The checkpoint of a run folder, loaded with ``weights_only=True`` (tensors and plain data only) and
    checked: model weights (a mapping of tensors), optimizer state, the number of finished epochs, and a
    history with one record per finished epoch. PinnError naming the file for anything else."""
    path = Path(run_dir) / CHECKPOINT
    if not Path(run_dir).is_dir():
        raise PinnError(f"{run_dir} is not a folder: give the folder of an earlier 'pinn classify' run")
    if not path.is_file():
        raise PinnError(f"{run_dir} has no {CHECKPOINT}: is it a 'pinn classify' run folder?")
    state = files.load_checkpoint(path, ("model", "optimizer", "epoch", "history", "best"), "classify checkpoint")
    epoch = files.require(state, "epoch", int, path)
    history, best = files.require(state, "history", list, path), files.require(state, "best", dict, path)
    model = files.require(state, "model", dict, path, "the model weights")
    files.require(state, "optimizer", dict, path, "the optimizer state")
    if not 0 <= epoch <= len(history) or any(not isinstance(h, dict) or any(
            not isinstance(h.get(k), (int, float)) for k in HISTORY_KEYS) for h in history[:epoch]):
        raise PinnError(f"{path}: the history does not record the {epoch} finished epochs; train again")
    if any(not isinstance(v, torch.Tensor) for v in model.values()):
        raise PinnError(f"{path}: the model weights are not all tensors")
    if not isinstance(best.get("epoch", 0), int) or not isinstance(best.get("model") or {}, dict):
        raise PinnError(f"{path}: the record of the best epoch is malformed")
    best.setdefault("epoch", 0)
    best.setdefault("val_accuracy", -1.0)
    best.setdefault("val_loss", math.inf)
    best.setdefault("model", None)
    return state
