"""Gradient training of one physics-informed network over the whole interval (the classic PINN).

Set up, loop, log, checkpoint: a first-order optimizer (SGD, momentum, Adam, AdamW) for ``epochs`` steps on
the mean squared residual at collocation points (optionally mini-batched and resampled), then, for
``adam+lbfgs`` or ``lbfgs``, L-BFGS with a strong-Wolfe line search for ``lbfgs_iters`` iterations.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from pinn.choices import Optimizer
from pinn.collocation import collocation_points
from pinn.losses import PINN, pinn_loss
from pinn.networks import MLP
from pinn.optim import Phases, minimise
from pinn.problem import ODEProblem
from pinn.solve_config import GradientConfig


@dataclass
class TrainState:
    """What the progress callback sees after each logged step."""

    step: int
    total: int
    loss: float
    lr: float
    phase: str


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

    Raises :class:`~pinn.errors.Diverged` (a PinnError) with the last finite state if the loss becomes NaN.
    """
    opt_kind = Optimizer(cfg.optimizer)
    model = model or build_pinn(problem, cfg, dtype, device)
    points = {"t": collocation_points(cfg.sampling, cfg.points, problem.t0, problem.t1, cfg.seed, dtype, device)}
    batch = cfg.batch_size or (64 if opt_kind.mini_batches else 0)
    gen = torch.Generator().manual_seed(cfg.seed)
    history: list[dict] = []
    start = time.perf_counter()

    def step_loss(step: int) -> torch.Tensor:
        if cfg.resample_every and step % cfg.resample_every == 0:
            points["t"] = collocation_points(cfg.sampling, cfg.points, problem.t0, problem.t1, cfg.seed + step,
                                             dtype, device)
        t = points["t"]
        if batch and batch < t.shape[0]:
            t = t[torch.randperm(t.shape[0], generator=gen)[:batch].to(device)]
        return pinn_loss(problem, model, t, cfg.ic_weight)

    def log(step: int, total: int, loss: float, lr: float, phase: str) -> None:
        history.append({"step": step, "loss": loss, "lr": lr, "phase": phase, "seconds": time.perf_counter() - start})
        if progress is not None:
            progress(TrainState(step, total, loss, lr, phase))

    phases = Phases(opt_kind, cfg.lr, cfg.epochs, cfg.lbfgs_iters, cfg.schedule, cfg.weight_decay, cfg.momentum)
    minimise(list(model.parameters()), phases, step_loss, lambda: pinn_loss(problem, model, points["t"], cfg.ic_weight),
             lambda: copy.deepcopy(model.state_dict()), log, log_every)
    return model, history
