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
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from pinn.choices import Optimizer, Schedule
from pinn.errors import PinnError
from pinn.optim import EpochLoop, l2_penalty, make_lbfgs, make_optimizer, make_scheduler, scheduler_step
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


def batch_size(kind: Optimizer, config: TrainConfig, n: int) -> int:
    """Samples per step out of ``n``: sgd draws mini-batches (256 unless ``config.batch_size`` is given), adam
    and adamw when a batch size below n is given; the gd family, L-BFGS and everything else use all n."""
    if kind.mini_batches or (kind in (Optimizer.adam, Optimizer.adamw, Optimizer.adam_lbfgs)
                             and 0 < config.batch_size < n):
        return max(1, min(config.batch_size or 256, n))
    return n


class _Optimisation:
    """What each epoch of :func:`train_surrogate` does to the weights: shuffled mini-batch (or full-batch)
    first-order steps, then, for lbfgs and adam+lbfgs, full-batch L-BFGS (module docstring)."""

    def __init__(self, model: Scaled, config: TrainConfig, train: tuple[torch.Tensor, ...]) -> None:
        self.model, self.config, self.train = model, config, train
        self.kind = Optimizer(config.optimizer)
        self.adam_epochs = (max(1, int(round(config.adam_fraction * config.epochs)))
                            if self.kind is Optimizer.adam_lbfgs else 0)
        self.sched = None
        if self.kind is Optimizer.lbfgs:
            self.opt = self._lbfgs()
        else:
            self.opt = make_optimizer(self.kind, model.parameters(), config.lr, config.weight_decay, config.momentum)
            self.sched = make_scheduler(config.schedule, self.opt, self.adam_epochs or config.epochs)
        self.n = train[0].shape[0]
        self.batch = batch_size(self.kind, config, self.n)
        self.generator = torch.Generator().manual_seed(config.seed)

    def _lbfgs(self) -> torch.optim.LBFGS:
        return make_lbfgs(self.model.parameters(), lr=1.0, max_iter=self.config.lbfgs_iters,
                          history_size=self.config.lbfgs_history)

    def lbfgs_phase(self, epoch: int) -> bool:
        """Whether epoch ``epoch`` (from 1) is an L-BFGS epoch."""
        return self.kind is Optimizer.lbfgs or (self.kind is Optimizer.adam_lbfgs and epoch > self.adam_epochs)

    @property
    def lr(self) -> float:
        return float(self.opt.param_groups[0]["lr"])

    def epoch(self, epoch: int) -> float:
        """Train one epoch; returns the training loss (the mean over the epoch's batches, or the loss after
        the L-BFGS iterations)."""
        self.model.train()
        return self._lbfgs_epoch() if self.lbfgs_phase(epoch) else self._first_order_epoch()

    def _lbfgs_epoch(self) -> float:
        if not isinstance(self.opt, torch.optim.LBFGS):
            self.opt, self.sched = self._lbfgs(), None
        opt, model = self.opt, self.model

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = _loss(model, *self.train) + l2_penalty(model.parameters(), self.config.weight_decay)
            loss.backward()
            return loss

        before = float(opt.step(closure).detach())
        train_loss = float(closure().detach())
        if train_loss > (1.0 - 1e-3) * before:
            # stalled: the curvature pairs in L-BFGS's memory no longer describe the loss; start afresh
            self.opt = self._lbfgs()
        return train_loss

    def _first_order_epoch(self) -> float:
        n, batch, (hist_all, t_all, nxt_all) = self.n, self.batch, self.train
        order = torch.randperm(n, generator=self.generator) if batch < n else None
        total = 0.0
        for i in range(0, n, batch):
            idx = order[i:i + batch] if order is not None else slice(None)
            self.opt.zero_grad()
            hist = hist_all[idx]
            loss = _loss(self.model, hist, t_all[idx], nxt_all[idx])
            loss.backward()
            self.opt.step()
            total += float(loss.detach()) * hist.shape[0]
        return total / n

    def end_epoch(self, epoch: int, val_loss: float) -> None:
        """Advance the learning-rate schedule (first-order epochs only)."""
        if not self.lbfgs_phase(epoch):
            scheduler_step(self.sched, val_loss)


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
    steps = _Optimisation(model, config, train)
    loop = EpochLoop(lambda: copy.deepcopy(model.state_dict()), model.load_state_dict, config.patience,
                     config.max_seconds)
    for epoch in range(1, config.epochs + 1):
        train_loss = steps.epoch(epoch)
        val_loss = evaluate_loss(model, val)
        steps.end_epoch(epoch, val_loss)
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": steps.lr,
               "seconds": loop.elapsed()}
        if on_epoch is not None:
            on_epoch(epoch, row)
        if not loop.end_epoch(epoch, row, val_loss, losses=(train_loss, val_loss)):
            break
    loop.finish()
    model.eval()
    return TrainResult(model, loop.history, loop.best_epoch, loop.best_score[0], loop.elapsed(), loop.stopped)


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
