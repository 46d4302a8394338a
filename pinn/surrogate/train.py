"""Training a surrogate network on one-step pairs: set up, loop over epochs, validate, stop early.

Loss: the mean over samples and components of e^2 with e = (u_pred - u_{t+1}) / (dt * r_std), the
one-step error in units of the training set's rate spread (the same for every model form, so losses are
comparable). ``gd``, ``gd-momentum`` and ``nesterov`` take one full-batch step per epoch; ``sgd`` and
``sgd-momentum`` draw shuffled mini-batches; ``adam``/``adamw`` use mini-batches unless ``batch_size`` is 0;
``lbfgs`` runs ``lbfgs_iters`` full-batch iterations per epoch (its memory is cleared when an epoch
gains less than 0.1%); ``adam+lbfgs`` spends the first
``adam_fraction`` of the epochs in Adam and the rest in L-BFGS. The learning-rate schedule advances once
per epoch. Training keeps the weights with the lowest validation loss and stops after ``patience``
epochs without improvement, at ``max_seconds``, or when the loss stops being finite.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from pinn.choices import Optimizer, Schedule
from pinn.errors import PinnError
from pinn.optim import make_optimizer, make_scheduler, scheduler_step
from pinn.surrogate.data import TrajectoryData, flow_pairs, unrolled_windows, windows
from pinn.surrogate.models import ModelSpec, Scaled, SurrogateKind, build_model


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the network itself is a :class:`ModelSpec`).

    stride: keep every stride-th one-step pair of the training trajectories (neighbours are near copies);
    dense: but keep every pair of the first ``dense`` steps (MLP only; the fast transients from the box of
    initial states are seen once per trajectory);
    val_stride: the same for validation; lbfgs_history: curvature pairs L-BFGS keeps; weight_decay: L2
    strength lambda; patience: epochs without a better validation loss before stopping (0 = never stop
    early); max_seconds: wall-clock budget (0 = none); unroll: k of the multi-step loss (the mean of the
    scaled errors over k free steps from each training sample, predictions fed back; 1 = one-step pairs).
    """

    optimizer: Optimizer = Optimizer.adam_lbfgs
    lr: float = 3e-3
    schedule: Schedule = Schedule.none
    weight_decay: float = 0.0
    momentum: float = 0.9
    epochs: int = 200
    batch_size: int = 0
    lbfgs_iters: int = 20
    lbfgs_history: int = 50
    adam_fraction: float = 0.3
    patience: int = 0
    stride: int = 1
    dense: int = 0
    val_stride: int = 4
    seed: int = 0
    max_seconds: float = 0.0
    unroll: int = 1

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise PinnError(f"epochs must be >= 1, got {self.epochs}")
        if self.lr <= 0 or not math.isfinite(self.lr):
            raise PinnError(f"the learning rate must be positive, got {self.lr}")
        if self.batch_size < 0 or self.stride < 1 or self.val_stride < 1:
            raise PinnError("batch_size must be >= 0 and the strides >= 1")
        if self.weight_decay < 0:
            raise PinnError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.unroll < 1:
            raise PinnError(f"unroll must be >= 1, got {self.unroll}")
        if not 0.0 < self.adam_fraction < 1.0:
            raise PinnError(f"adam_fraction must be in (0, 1), got {self.adam_fraction}")


@dataclass
class TrainResult:
    """The best model (by validation loss), the per-epoch history and how training ended."""

    model: Scaled
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val: float = math.inf
    seconds: float = 0.0
    stopped: str = "epochs"


def training_tensors(data: TrajectoryData, spec: ModelSpec, which: str, stride: int, dense: int = 0,
                     unroll: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(history (k, w, d), t (k, 1), next (k, d)) tensors of one subset in the model's dtype; with
    ``unroll`` > 1 the targets are the next ``unroll`` states, (k, unroll, d)."""
    states = data.subset(which)
    if unroll > 1:
        hist, t, nxt = unrolled_windows(states, data.t, spec.window, unroll, stride)
    elif spec.kind is SurrogateKind.mlp:
        u, t, nxt = flow_pairs(states, data.t, stride, dense)
        hist = u[:, None, :]
    else:
        hist, t, nxt = windows(states, data.t, spec.window, stride)
    dtype = spec.precision.torch
    return (torch.as_tensor(hist, dtype=dtype), torch.as_tensor(t, dtype=dtype),
            torch.as_tensor(nxt, dtype=dtype))


def _lbfgs(model: Scaled, config: TrainConfig) -> torch.optim.LBFGS:
    """L-BFGS with a strong-Wolfe line search, ``lbfgs_iters`` iterations per step, ``lbfgs_history`` pairs."""
    return torch.optim.LBFGS(list(model.parameters()), lr=1.0, max_iter=config.lbfgs_iters,
                             history_size=config.lbfgs_history, tolerance_grad=1e-12, tolerance_change=1e-15,
                             line_search_fn="strong_wolfe")


def _loss(model: Scaled, hist: torch.Tensor, t: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
    """Mean squared scaled one-step error; with targets (b, k, d) the mean over k free steps."""
    if nxt.ndim == 2:
        return model.scaled_error(model.predict_next(hist, t), nxt).pow(2).mean()
    total = hist.new_zeros(())
    for j in range(nxt.shape[1]):
        pred = model.predict_next(hist, t + j * model.dt)
        total = total + model.scaled_error(pred, nxt[:, j]).pow(2).mean()
        hist = torch.cat((hist[:, 1:], pred[:, None, :]), dim=1)
    return total / nxt.shape[1]


def evaluate_loss(model: Scaled, tensors: tuple[torch.Tensor, ...], chunk: int = 65536) -> float:
    """Mean loss over a subset, in eval mode and without gradients."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        hist, t, nxt = tensors
        for i in range(0, hist.shape[0], chunk):
            sl = slice(i, i + chunk)
            total += float(_loss(model, hist[sl], t[sl], nxt[sl])) * hist[sl].shape[0]
            count += hist[sl].shape[0]
    model.train(was_training)
    return total / max(count, 1)


EpochCallback = Callable[[int, dict[str, float]], None]


def train_surrogate(data: TrajectoryData, spec: ModelSpec, config: TrainConfig,
                    on_epoch: Optional[EpochCallback] = None, init: Optional[Scaled] = None) -> TrainResult:
    """Train the network ``spec`` on ``data``'s training trajectories (see the module docstring).

    ``on_epoch(epoch, row)`` is called after each epoch with the history row (train_loss, val_loss, lr,
    seconds). ``init``: continue from this model's weights instead of a fresh network. Returns the weights
    with the lowest validation loss (by the loss being trained, one-step or k-step).
    """
    if spec.dim != data.dim:
        raise PinnError(f"the model has {spec.dim} components but the data have {data.dim}")
    torch.manual_seed(config.seed)
    model = build_model(spec, data.normaliser)
    if init is not None:
        model.load_state_dict(init.state_dict())
    train = training_tensors(data, spec, "train", config.stride, config.dense, config.unroll)
    val = training_tensors(data, spec, "val", config.val_stride, 0, config.unroll)
    n = train[0].shape[0]
    kind = Optimizer(config.optimizer)
    adam_epochs = max(1, int(round(config.adam_fraction * config.epochs))) if kind is Optimizer.adam_lbfgs else 0
    if kind is Optimizer.lbfgs:
        opt = _lbfgs(model, config)
    else:
        opt = make_optimizer(kind, model.parameters(), config.lr, config.weight_decay, config.momentum)
    sched = make_scheduler(config.schedule, opt, adam_epochs or config.epochs) if kind is not Optimizer.lbfgs else None
    if kind.mini_batches or (kind in (Optimizer.adam, Optimizer.adamw, Optimizer.adam_lbfgs)
                             and 0 < config.batch_size < n):
        batch = max(1, min(config.batch_size or 256, n))
    else:
        batch = n
    generator = torch.Generator().manual_seed(config.seed)

    result = TrainResult(model=model)
    best_state = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    stale = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        lbfgs_phase = kind is Optimizer.lbfgs or (kind is Optimizer.adam_lbfgs and epoch > adam_epochs)
        if lbfgs_phase:
            if not isinstance(opt, torch.optim.LBFGS):
                opt, sched = _lbfgs(model, config), None

            def closure() -> torch.Tensor:
                opt.zero_grad()
                loss = _loss(model, *train)
                if config.weight_decay > 0:
                    loss = loss + config.weight_decay * sum(p.pow(2).sum() for p in model.parameters())
                loss.backward()
                return loss

            before = float(opt.step(closure).detach())
            train_loss = float(closure().detach())
            if train_loss > (1.0 - 1e-3) * before:
                # stalled: the curvature pairs in L-BFGS's memory no longer describe the loss; start afresh
                opt = _lbfgs(model, config)
        else:
            order = torch.randperm(n, generator=generator) if batch < n else None
            total = 0.0
            for i in range(0, n, batch):
                idx = order[i:i + batch] if order is not None else slice(None)
                opt.zero_grad()
                hist = train[0][idx]
                loss = _loss(model, hist, train[1][idx], train[2][idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * hist.shape[0]
            train_loss = total / n
        val_loss = evaluate_loss(model, val)
        if not lbfgs_phase:
            scheduler_step(sched, val_loss)
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
               "lr": float(opt.param_groups[0]["lr"]), "seconds": time.perf_counter() - start}
        result.history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row)
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            result.stopped = "diverged"
            break
        if val_loss < result.best_val:
            result.best_val, result.best_epoch, stale = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if config.patience and stale >= config.patience:
                result.stopped = "early-stopping"
                break
        if config.max_seconds and time.perf_counter() - start >= config.max_seconds:
            result.stopped = "time-budget"
            break
    model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - start
    return result


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable scalars."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))



def train_multistep(data: TrajectoryData, spec: ModelSpec, config: TrainConfig,
                    on_epoch: Optional[EpochCallback] = None) -> TrainResult:
    """Multi-step training as a curriculum: the first half of ``config.epochs`` with the one-step loss, the
    second half with the loss over ``config.unroll`` free steps, continuing from the one-step weights (a
    k-step loss from random weights is dominated by exploding rollouts). The second stage uses L-BFGS
    when the first used it (lbfgs, adam+lbfgs), else the same optimizer at a tenth of the learning rate.
    With unroll = 1 this is :func:`train_surrogate`. History rows carry the epoch count across stages.
    """
    from dataclasses import replace

    if config.unroll <= 1:
        return train_surrogate(data, spec, config, on_epoch)
    first = max(1, config.epochs // 2)
    budget = config.max_seconds / 2 if config.max_seconds else 0.0
    stage1 = train_surrogate(data, spec, replace(config, unroll=1, epochs=first, max_seconds=budget), on_epoch)
    kind = Optimizer(config.optimizer)
    later = (replace(config, optimizer=Optimizer.lbfgs) if kind in (Optimizer.lbfgs, Optimizer.adam_lbfgs)
             else replace(config, lr=config.lr / 10))
    offset = len(stage1.history)

    def shifted(epoch: int, row: dict[str, float]) -> None:
        row["epoch"] = epoch + offset
        if on_epoch is not None:
            on_epoch(epoch + offset, row)

    stage2 = train_surrogate(data, spec, replace(later, epochs=max(1, config.epochs - first), max_seconds=budget),
                             shifted, init=stage1.model)
    stage2.history = stage1.history + stage2.history
    stage2.best_epoch += offset
    stage2.seconds += stage1.seconds
    return stage2
