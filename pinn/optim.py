"""Optimizers and learning-rate schedules chosen by name, and :func:`minimise`, the one training loop of the
gradient-trained paths (first-order phase, then L-BFGS, one NaN policy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import torch

from pinn.choices import Optimizer, Schedule
from pinn.errors import Diverged


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


@dataclass(frozen=True)
class Phases:
    """The optimisation schedule of every gradient-trained path: ``steps`` first-order steps of
    ``optimizer`` (with ``schedule``, ``weight_decay``, ``momentum``), then ``lbfgs_iters`` L-BFGS iterations
    (strong Wolfe) for ``lbfgs`` and ``adam+lbfgs``."""

    optimizer: Optimizer
    lr: float
    steps: int
    lbfgs_iters: int = 0
    schedule: Schedule = Schedule.none
    weight_decay: float = 0.0
    momentum: float = 0.9

    @property
    def first_order_steps(self) -> int:
        """Steps of the first-order phase (none for L-BFGS alone)."""
        return 0 if Optimizer(self.optimizer) is Optimizer.lbfgs else self.steps

    @property
    def lbfgs_steps(self) -> int:
        """Iterations of the L-BFGS phase (none unless the optimizer asks for it)."""
        return self.lbfgs_iters if Optimizer(self.optimizer) in (Optimizer.lbfgs, Optimizer.adam_lbfgs) else 0


def minimise(params: Sequence[torch.nn.Parameter], phases: Phases, loss: Callable[[int], torch.Tensor],
             full_loss: Callable[[], torch.Tensor], snapshot: Callable[[], dict],
             log: Callable[[int, int, float, float, str], None], log_every: int = 50) -> None:
    """Run ``phases`` on ``params``: the one training loop of the gradient paths, with one NaN policy.

    ``loss(step)`` is the loss of first-order step ``step`` (the caller draws mini-batches or fresh points);
    ``full_loss()`` is the full-batch loss that L-BFGS minimises (weight decay added to it as an explicit
    L2 term, since torch's L-BFGS has none). ``log(step, total, loss, lr, phase)`` is called every
    ``log_every`` steps, at the end of each phase and after every 20 L-BFGS iterations, right after
    ``snapshot()`` has stored the state. A non-finite loss raises :class:`~pinn.errors.Diverged` carrying
    the last stored state.
    """
    params = list(params)
    first, lbfgs_total = phases.first_order_steps, phases.lbfgs_steps
    total = first + lbfgs_total
    last_good = snapshot()

    def record(step: int, value: float, lr: float, phase: str, force: bool) -> None:
        nonlocal last_good
        if not math.isfinite(value):
            raise Diverged(f"training diverged: the loss became {value} at step {step} ({phase}); try a smaller "
                           "--lr or float64", last_good, step)
        if force or step % log_every == 0 or step == total:
            last_good = snapshot()
            log(step, total, value, lr, phase)

    if first:
        kind = Optimizer(phases.optimizer)
        opt = make_optimizer(kind, params, phases.lr, phases.weight_decay, phases.momentum)
        sched = make_scheduler(phases.schedule, opt, first)
        for step in range(1, first + 1):
            opt.zero_grad(set_to_none=True)
            value_t = loss(step)
            value_t.backward()
            opt.step()
            value = float(value_t.detach())
            scheduler_step(sched, value)
            record(step, value, opt.param_groups[0]["lr"], kind.value.split("+")[0], step == first)
    if lbfgs_total:
        chunk = 20
        lbfgs = make_lbfgs(params, lr=1.0, max_iter=chunk)

        def closure() -> torch.Tensor:
            lbfgs.zero_grad(set_to_none=True)
            value_t = full_loss()
            if phases.weight_decay:
                value_t = value_t + 0.5 * phases.weight_decay * sum((p ** 2).sum() for p in params)
            value_t.backward()
            return value_t

        done = 0
        while done < lbfgs_total:
            lbfgs.param_groups[0]["max_iter"] = min(chunk, lbfgs_total - done)
            lbfgs.step(closure)
            done += lbfgs.param_groups[0]["max_iter"]
            record(first + done, float(full_loss().detach()), 1.0, "lbfgs", True)
