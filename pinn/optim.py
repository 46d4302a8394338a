"""Optimizers and learning-rate schedules chosen by name; :func:`minimise`, the one step-based training loop
(first-order phase, then L-BFGS) of the physics-informed paths; :class:`EpochLoop`, the bookkeeping of the
epoch-based loops (surrogates, the from-scratch recurrent surrogate, image classifiers).

One NaN policy for all of them: a non-finite loss ends training, and the model keeps the last state known
to be finite (the step-based loop: the parameters that gave the last finite loss, restored before
:class:`~pinn.errors.Diverged` is raised; the epoch loops: the best state by validation score, which is
finite by construction).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

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


def make_lbfgs(params: Iterable[torch.nn.Parameter], lr: float = 1.0, max_iter: int = 20,
               history_size: int = 50) -> torch.optim.LBFGS:
    """L-BFGS with a strong-Wolfe line search (each ``step(closure)`` runs up to ``max_iter`` iterations and
    keeps ``history_size`` curvature pairs)."""
    return torch.optim.LBFGS(list(params), lr=lr, max_iter=max_iter, history_size=history_size,
                             tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")


def l2_penalty(params: Iterable[torch.Tensor], weight_decay: float) -> torch.Tensor | float:
    """(lambda / 2) sum ||w||^2: the explicit form of the optimizers' weight decay lambda (whose gradient is
    lambda * w), added to the loss where the optimizer has none (L-BFGS)."""
    if not weight_decay:
        return 0.0
    return 0.5 * weight_decay * sum((p ** 2).sum() for p in params)


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


class _LastFinite:
    """The NaN policy of :func:`minimise`: the parameters that gave the last finite loss, put back (and
    :class:`~pinn.errors.Diverged` raised) when a loss is NaN or infinite."""

    def __init__(self, params: list[torch.nn.Parameter]) -> None:
        self.params = params
        self.saved = torch.nn.utils.parameters_to_vector(params).detach().clone()

    def check(self, value: float, step: int, phase: str, snapshot: Callable[[], dict]) -> None:
        """Call with the loss of the current parameters, before they change."""
        if math.isfinite(value):
            self.saved = torch.nn.utils.parameters_to_vector(self.params).detach().clone()
            return
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(self.saved, self.params)
        raise Diverged(f"training diverged: the loss became {value} at step {step} ({phase}); the network keeps "
                       "its last finite state; try a smaller --lr or float64", snapshot(), step)


def minimise(params: Sequence[torch.nn.Parameter], phases: Phases, loss: Callable[[int], torch.Tensor],
             full_loss: Callable[[], torch.Tensor], snapshot: Callable[[], dict],
             log: Callable[[int, int, float, float, str], None], log_every: int = 50) -> None:
    """Run ``phases`` on ``params``: the one step-based training loop of the gradient paths.

    ``loss(step)`` is the loss of first-order step ``step`` (the caller draws mini-batches or fresh points);
    ``full_loss()`` is the full-batch loss that L-BFGS minimises (weight decay added to it as
    :func:`l2_penalty`, since torch's L-BFGS has none). ``log(step, total, loss, lr, phase)`` is called every
    ``log_every`` steps, at the end of each phase and after every chunk of 20 L-BFGS iterations; L-BFGS
    stops early when a chunk leaves the loss unchanged (its tolerances are met; more chunks would repeat the
    same point). NaN policy (module docstring): each loss is checked before the step that uses it; a
    non-finite one puts the parameters back to those of the last finite loss and raises
    :class:`~pinn.errors.Diverged` carrying ``snapshot()`` of that state.
    """
    params = list(params)
    first, lbfgs_total = phases.first_order_steps, phases.lbfgs_steps
    total = first + lbfgs_total
    guard = _LastFinite(params)
    if first:
        kind = Optimizer(phases.optimizer)
        phase = kind.value.split("+")[0]
        opt = make_optimizer(kind, params, phases.lr, phases.weight_decay, phases.momentum)
        sched = make_scheduler(phases.schedule, opt, first)
        for step in range(1, first + 1):
            opt.zero_grad(set_to_none=True)
            value_t = loss(step)
            value_t.backward()
            value = float(value_t.detach())
            guard.check(value, step, phase, snapshot)
            opt.step()
            scheduler_step(sched, value)
            if step % log_every == 0 or step == first:
                log(step, total, value, opt.param_groups[0]["lr"], phase)
    if lbfgs_total:
        _lbfgs_phase(params, phases.weight_decay, full_loss, lbfgs_total, first, total, guard, snapshot, log)


def _lbfgs_phase(params: list[torch.nn.Parameter], weight_decay: float, full_loss: Callable[[], torch.Tensor],
                 iterations: int, done_before: int, total: int, guard: _LastFinite, snapshot: Callable[[], dict],
                 log: Callable[[int, int, float, float, str], None], chunk: int = 20) -> None:
    """``iterations`` L-BFGS iterations on ``full_loss`` in chunks of ``chunk``, logged after each."""
    lbfgs = make_lbfgs(params, lr=1.0, max_iter=chunk)

    def closure() -> torch.Tensor:
        lbfgs.zero_grad(set_to_none=True)
        value_t = full_loss() + l2_penalty(params, weight_decay)
        value_t.backward()
        return value_t

    done, previous = 0, math.inf
    while done < iterations:
        lbfgs.param_groups[0]["max_iter"] = min(chunk, iterations - done)
        lbfgs.step(closure)
        done += lbfgs.param_groups[0]["max_iter"]
        value = float(full_loss().detach())
        guard.check(value, done_before + done, "lbfgs", snapshot)
        log(done_before + done, total, value, 1.0, "lbfgs")
        if value == previous:
            break
        previous = value


@dataclass
class EpochLoop:
    """The bookkeeping shared by the epoch-based training loops: the history rows, the state with the best
    validation score, early stopping, a wall-clock budget, and the NaN policy (module docstring).

    snapshot() returns a copy of the model's state and restore(state) puts one back. A score is lower-is-
    better (a tuple compares lexicographically: (-accuracy, loss) prefers accuracy, then loss) and counts
    only when finite. patience: epochs without a better score before stopping (0 = never); max_seconds:
    budget from construction (0 = none); keep_best: copy the best state, and the starting state to fall
    back on when training diverges before any epoch counted (else :meth:`finish` leaves the last state).
    ``history``, ``best_epoch``, ``best_score`` and ``best_state`` may be given to resume. ``stopped`` ends
    as "epochs", "diverged", "early-stopping" or "time-budget".
    """

    snapshot: Callable[[], Any]
    restore: Callable[[Any], Any]
    patience: int = 0
    max_seconds: float = 0.0
    keep_best: bool = True
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: tuple[float, ...] = (math.inf,)
    best_state: Any = None
    stopped: str = "epochs"
    start: float = field(default_factory=time.perf_counter)
    start_state: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.keep_best and self.best_state is None:
            self.start_state = self.snapshot()

    def elapsed(self) -> float:
        """Wall-clock seconds since the loop was made."""
        return time.perf_counter() - self.start

    def finite(self, *losses: float) -> bool:
        """The NaN policy: False (and ``stopped = "diverged"``) when a loss is NaN or infinite."""
        if all(math.isfinite(v) for v in losses):
            return True
        self.stopped = "diverged"
        return False

    def end_epoch(self, epoch: int, row: dict[str, float], score: float | tuple[float, ...],
                  losses: Sequence[float] = ()) -> bool:
        """Append ``row``; keep the state if ``score`` is the best so far; False when training must stop
        (a non-finite value in ``losses``, ``patience`` epochs without a better score, the time budget)."""
        self.history.append(row)
        if not self.finite(*losses):
            return False
        score = score if isinstance(score, tuple) else (score,)
        if all(math.isfinite(v) for v in score):
            if score < self.best_score:
                self.best_epoch, self.best_score = epoch, score
                if self.keep_best:
                    self.best_state = self.snapshot()
            elif self.patience and epoch - self.best_epoch >= self.patience:
                self.stopped = "early-stopping"
                return False
        if self.max_seconds and self.elapsed() >= self.max_seconds:
            self.stopped = "time-budget"
            return False
        return True

    def finish(self) -> None:
        """Put the best state back (when one is kept); after a divergence before any epoch counted, the
        starting state."""
        if not self.keep_best:
            return
        if self.best_state is not None:
            self.restore(self.best_state)
        elif self.stopped == "diverged" and self.start_state is not None:
            self.restore(self.start_state)
