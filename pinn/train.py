"""Gradient training of one physics-informed network over the whole interval (the classic PINN).

Set up, loop, log, checkpoint: a first-order optimizer (SGD, momentum, Adam, AdamW) for ``epochs`` steps on
the mean squared residual at collocation points (optionally mini-batched and resampled), then, for
``adam+lbfgs`` or ``lbfgs``, L-BFGS with a strong-Wolfe line search for ``lbfgs_iters`` iterations.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from pinn.collocation import Sampling, collocation_points
from pinn.errors import PinnError
from pinn.losses import PINN, pinn_loss
from pinn.networks import MLP, Activation
from pinn.optim import Optimizer, Schedule, make_lbfgs, make_optimizer, make_scheduler, scheduler_step
from pinn.problem import ODEProblem
from pinn.trial import InitialCondition


@dataclass(frozen=True)
class GradientConfig:
    """Settings of the gradient-trained PINN.

    epochs: steps of the first-order optimizer (0 with ``lbfgs`` alone); lbfgs_iters: L-BFGS iterations
    afterwards (for ``adam+lbfgs`` and ``lbfgs``); points: collocation points; batch_size: mini-batch size
    (0 = full batch; ``sgd``/``sgd-momentum`` default to 64); resample_every: draw fresh collocation points
    every k epochs (0 = never); weight_decay: L2 strength; ic_weight: penalty weight when ic = penalty.
    """

    width: int = 64
    depth: int = 4
    activation: Activation = Activation.tanh
    optimizer: Optimizer = Optimizer.adam_lbfgs
    lr: float = 1e-3
    epochs: int = 5000
    lbfgs_iters: int = 1000
    schedule: Schedule = Schedule.none
    weight_decay: float = 0.0
    momentum: float = 0.9
    points: int = 512
    sampling: Sampling = Sampling.sobol
    resample_every: int = 0
    batch_size: int = 0
    ic: InitialCondition = InitialCondition.exact
    ic_weight: float = 1.0
    seed: int = 0


@dataclass
class TrainState:
    """What the progress callback sees after each logged step."""

    step: int
    total: int
    loss: float
    lr: float
    phase: str


class Diverged(PinnError):
    """The loss became NaN or infinite; ``last_good`` holds the last finite model state."""

    def __init__(self, message: str, last_good: dict, step: int) -> None:
        super().__init__(message)
        self.last_good = last_good
        self.step = step


def build_pinn(problem: ODEProblem, cfg: GradientConfig, dtype: torch.dtype = torch.float64,
               device: str | torch.device = "cpu") -> PINN:
    """The network (seeded) wrapped in its trial solution for ``problem``."""
    torch.manual_seed(cfg.seed)
    n_out = problem.dim // 2 if problem.order == 2 else problem.dim
    net = MLP(n_out, cfg.width, cfg.depth, cfg.activation, problem.t0, problem.t1, dtype=dtype, device=device)
    return PINN(problem, net, cfg.ic).to(device)


def train_gradient(problem: ODEProblem, cfg: GradientConfig, model: Optional[PINN] = None,
                   dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu",
                   progress: Optional[Callable[[TrainState], None]] = None,
                   log_every: int = 50) -> tuple[PINN, list[dict]]:
    """Train a PINN on ``problem``; returns the model and the loss history [{step, loss, lr, phase, seconds}].

    Raises :class:`Diverged` (a PinnError) with the last finite state if the loss becomes NaN.
    """
    if cfg.epochs < 0 or cfg.lbfgs_iters < 0 or cfg.points < 1:
        raise PinnError("epochs and lbfgs iterations must be >= 0 and points >= 1")
    opt_kind = Optimizer(cfg.optimizer)
    model = model or build_pinn(problem, cfg, dtype, device)
    t_all = collocation_points(cfg.sampling, cfg.points, problem.t0, problem.t1, cfg.seed, dtype, device)
    batch = cfg.batch_size or (64 if opt_kind.mini_batches else 0)
    gen = torch.Generator().manual_seed(cfg.seed)
    history: list[dict] = []
    start = time.perf_counter()
    last_good = copy.deepcopy(model.state_dict())
    first_order_steps = 0 if opt_kind is Optimizer.lbfgs else cfg.epochs
    lbfgs_iters = cfg.lbfgs_iters if opt_kind in (Optimizer.lbfgs, Optimizer.adam_lbfgs) else 0
    total = first_order_steps + lbfgs_iters

    def record(step: int, loss: float, lr: float, phase: str, force: bool = False) -> None:
        nonlocal last_good
        if not math.isfinite(loss):
            raise Diverged(f"training diverged: the loss became {loss} at step {step} ({phase}); "
                           "try a smaller --lr or float64", last_good, step)
        if force or step % log_every == 0 or step == total:
            last_good = copy.deepcopy(model.state_dict())
            history.append({"step": step, "loss": loss, "lr": lr, "phase": phase,
                            "seconds": time.perf_counter() - start})
            if progress is not None:
                progress(TrainState(step, total, loss, lr, phase))

    if first_order_steps:
        opt = make_optimizer(opt_kind, model.parameters(), cfg.lr, cfg.weight_decay, cfg.momentum)
        sched = make_scheduler(cfg.schedule, opt, first_order_steps)
        for step in range(1, first_order_steps + 1):
            if cfg.resample_every and step % cfg.resample_every == 0:
                t_all = collocation_points(cfg.sampling, cfg.points, problem.t0, problem.t1, cfg.seed + step,
                                           dtype, device)
            t = t_all
            if batch and batch < t_all.shape[0]:
                t = t_all[torch.randperm(t_all.shape[0], generator=gen)[:batch].to(device)]
            opt.zero_grad(set_to_none=True)
            loss = pinn_loss(problem, model, t, cfg.ic_weight)
            loss.backward()
            opt.step()
            value = float(loss.detach())
            scheduler_step(sched, value)
            record(step, value, opt.param_groups[0]["lr"], opt_kind.value.split("+")[0])

    if lbfgs_iters:
        # weight decay enters L-BFGS as an explicit L2 term, since torch's LBFGS has no weight_decay
        chunk = 20
        lbfgs = make_lbfgs(model.parameters(), lr=1.0, max_iter=chunk)

        def closure() -> torch.Tensor:
            lbfgs.zero_grad(set_to_none=True)
            loss = pinn_loss(problem, model, t_all, cfg.ic_weight)
            if cfg.weight_decay:
                loss = loss + 0.5 * cfg.weight_decay * sum((p ** 2).sum() for p in model.parameters())
            loss.backward()
            return loss

        done = 0
        while done < lbfgs_iters:
            lbfgs.param_groups[0]["max_iter"] = min(chunk, lbfgs_iters - done)
            lbfgs.step(closure)
            done += lbfgs.param_groups[0]["max_iter"]
            value = float(pinn_loss(problem, model, t_all, cfg.ic_weight).detach())
            record(first_order_steps + done, value, 1.0, "lbfgs", force=True)
    return model, history
