"""Optimizers and learning-rate schedules, chosen by name (str Enums shared with the CLI)."""

from __future__ import annotations

import enum
from typing import Iterable

import torch


class Optimizer(str, enum.Enum):
    """Optimizers: plain gradient descent, with momentum or Nesterov momentum, Adam, AdamW, L-BFGS, and
    Adam followed by L-BFGS. ``gd``/``sgd`` differ only in batching, which the caller decides: ``gd`` uses
    the full batch, ``sgd`` mini-batches."""

    gd = "gd"
    gd_momentum = "gd-momentum"
    sgd = "sgd"
    sgd_momentum = "sgd-momentum"
    nesterov = "nesterov"
    adam = "adam"
    adamw = "adamw"
    lbfgs = "lbfgs"
    adam_lbfgs = "adam+lbfgs"

    @property
    def mini_batches(self) -> bool:
        """Whether this choice draws mini-batches (stochastic gradient descent)."""
        return self in (Optimizer.sgd, Optimizer.sgd_momentum)


class Schedule(str, enum.Enum):
    """Learning-rate schedules: constant, step decay, exponential decay, cosine annealing, reduce on plateau."""

    none = "none"
    constant = "constant"
    step = "step"
    exponential = "exponential"
    cosine = "cosine"
    plateau = "plateau"


def make_optimizer(kind: Optimizer, params: Iterable[torch.nn.Parameter], lr: float,
                   weight_decay: float = 0.0, momentum: float = 0.9) -> torch.optim.Optimizer:
    """The torch optimizer for ``kind`` (for ``adam+lbfgs`` the Adam phase; see :func:`make_lbfgs`).

    ``weight_decay`` is the L2 strength lambda: the gradient gains lambda * w (decoupled in AdamW).
    """
    kind = Optimizer(kind)
    params = list(params)
    if kind in (Optimizer.gd, Optimizer.sgd):
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if kind in (Optimizer.gd_momentum, Optimizer.sgd_momentum):
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if kind is Optimizer.nesterov:
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    if kind in (Optimizer.adam, Optimizer.adam_lbfgs):
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if kind is Optimizer.adamw:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return make_lbfgs(params, lr=lr)


def make_lbfgs(params: Iterable[torch.nn.Parameter], lr: float = 1.0, max_iter: int = 20) -> torch.optim.LBFGS:
    """L-BFGS with a strong-Wolfe line search (each ``step(closure)`` runs up to ``max_iter`` iterations)."""
    return torch.optim.LBFGS(list(params), lr=lr, max_iter=max_iter, history_size=50,
                             tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")


def make_scheduler(kind: Schedule, optimizer: torch.optim.Optimizer, total_steps: int,
                   gamma: float = 0.1, patience: int = 10):
    """The learning-rate scheduler for ``kind`` over ``total_steps`` calls of ``step()``, or None.

    step: lr x gamma at 1/3 and 2/3 of the run; exponential: lr x gamma over the whole run;
    cosine: cosine annealing to 0; plateau: lr x gamma after ``patience`` steps without improvement
    (call ``step(metric)``).
    """
    kind = Schedule(kind)
    total_steps = max(1, int(total_steps))
    if kind in (Schedule.none, Schedule.constant):
        return None
    if kind is Schedule.step:
        marks = sorted({max(1, total_steps // 3), max(1, 2 * total_steps // 3)})
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=marks, gamma=gamma)
    if kind is Schedule.exponential:
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma ** (1.0 / total_steps))
    if kind is Schedule.cosine:
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=gamma, patience=patience)


def scheduler_step(scheduler, metric: float) -> None:
    """Advance any scheduler by one step (passing ``metric`` to reduce-on-plateau)."""
    if scheduler is None:
        return
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(metric)
    else:
        scheduler.step()
