"""Optimizers and schedules behave as documented; the gradient PINN learns a short Lorenz window."""

from __future__ import annotations

import pytest
import torch

from pinn.choices import Method, Optimizer, Schedule
from pinn.errors import Diverged
from pinn.optim import make_optimizer, make_scheduler, scheduler_step
from pinn.solve_config import GradientConfig, SolveConfig
from pinn.solver import solve
from pinn.train import train_gradient
from problems.lorenz import LORENZ


def quadratic_descent(kind: Optimizer, steps: int = 200) -> float:
    w = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=torch.float64))
    opt = make_optimizer(kind, [w], lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        opt.step()
    return float((w.detach() ** 2).sum())


@pytest.mark.parametrize("kind", [Optimizer.gd, Optimizer.gd_momentum, Optimizer.nesterov, Optimizer.adam,
                                  Optimizer.adamw])
def test_first_order_optimizers_minimise_a_quadratic(kind: Optimizer) -> None:
    assert quadratic_descent(kind) < 1e-3


@pytest.mark.parametrize("kind, final", [(Schedule.step, 1e-3 * 0.01), (Schedule.exponential, 1e-3 * 0.1),
                                         (Schedule.cosine, 0.0), (Schedule.constant, 1e-3)])
def test_schedules_reach_their_final_learning_rate(kind: Schedule, final: float) -> None:
    w = torch.nn.Parameter(torch.zeros(1))
    opt = make_optimizer(Optimizer.adam, [w], lr=1e-3)
    sched = make_scheduler(kind, opt, 300)
    for _ in range(300):
        opt.step()
        scheduler_step(sched, 1.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(final, abs=1e-12)


def test_plateau_schedule_cuts_the_rate_when_stuck() -> None:
    w = torch.nn.Parameter(torch.zeros(1))
    opt = make_optimizer(Optimizer.sgd, [w], lr=1.0)
    sched = make_scheduler(Schedule.plateau, opt, 100, patience=5)
    for _ in range(20):
        scheduler_step(sched, 1.0)
    assert opt.param_groups[0]["lr"] < 1.0


def test_gradient_pinn_learns_a_short_lorenz_window() -> None:
    cfg = GradientConfig(width=32, depth=2, epochs=500, lbfgs_iters=200, points=128)
    result = solve(LORENZ.problem(t1=0.25), SolveConfig(method=Method.gradient, gradient=cfg, eval_points=2001))
    assert result.metrics["relative_l2"] < 5e-3  # measured 9.5e-4 in ~2 s


@pytest.mark.parametrize("optimizer, lr", [(Optimizer.sgd_momentum, 1e-6), (Optimizer.adam, 1e-3)])
def test_mini_batches_and_resampling_run(optimizer: Optimizer, lr: float) -> None:
    cfg = GradientConfig(width=16, depth=2, epochs=100, lbfgs_iters=0, points=256, batch_size=32,
                         resample_every=20, optimizer=optimizer, lr=lr)
    model, history = train_gradient(LORENZ.problem(t1=0.25), cfg)
    assert history[-1]["step"] == 100 and history[-1]["loss"] < history[0]["loss"] * 1.5


def test_nan_loss_raises_with_the_last_good_state() -> None:
    cfg = GradientConfig(width=16, depth=2, epochs=200, lbfgs_iters=0, optimizer=Optimizer.gd, lr=1e6)
    with pytest.raises(Diverged) as info:
        train_gradient(LORENZ.problem(t1=1.0), cfg)
    assert all(torch.isfinite(v).all() for v in info.value.last_good.values() if v.is_floating_point())
