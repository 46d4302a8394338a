"""Optimizers and schedules behave as documented; the gradient PINN learns a short Lorenz window."""

from __future__ import annotations

import math

import pytest
import torch

from pinn.choices import Method, Optimizer, Schedule
from pinn.errors import Diverged
from pinn.optim import EpochLoop, Phases, make_optimizer, make_scheduler, minimise, scheduler_step
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


def test_minimise_puts_back_the_parameters_of_the_last_finite_loss() -> None:
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    seen: list[torch.Tensor] = []

    def loss(step: int) -> torch.Tensor:
        seen.append(w.detach().clone())
        value = (w ** 2).sum()
        return value * math.inf if step == 7 else value

    with pytest.raises(Diverged) as info:
        minimise([w], Phases(Optimizer.gd, 0.1, 20), loss, lambda: loss(0), lambda: {"w": w.detach().clone()},
                 lambda *row: None)
    assert info.value.step == 7
    assert torch.equal(w.detach(), seen[5]) and torch.equal(info.value.last_good["w"], seen[5])  # step 6's


def test_lbfgs_stops_once_a_chunk_leaves_the_loss_unchanged() -> None:
    w = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=torch.float64))
    rows: list[tuple] = []
    minimise([w], Phases(Optimizer.lbfgs, 1.0, 0, lbfgs_iters=400), lambda step: (w ** 2).sum(),
             lambda: ((w - 1.0) ** 2).sum(), dict, lambda *row: rows.append(row))
    assert torch.allclose(w.detach(), torch.ones(2, dtype=torch.float64), atol=1e-12)
    assert len(rows) == 2 and rows[0][2] == rows[1][2]  # measured: converged in the first chunk of 20


def run_epochs(loop: EpochLoop, state: dict, scores: list) -> int:
    """Feed ``scores`` (one per epoch; the state is the epoch number) until the loop says stop."""
    for epoch, value in enumerate(scores, 1):
        state["w"] = epoch
        loss = value[-1] if isinstance(value, tuple) else value
        if not loop.end_epoch(epoch, {"epoch": epoch}, value, losses=(loss,)):
            break
    loop.finish()
    return epoch


def test_epoch_loop_keeps_the_best_state_and_stops_after_patience() -> None:
    state = {"w": 0}
    loop = EpochLoop(lambda: dict(state), state.update, patience=2)
    last = run_epochs(loop, state, [3.0, 1.0, 2.0, 0.5, 0.7, 0.9, 0.1])
    assert (loop.stopped, last, loop.best_epoch, loop.best_score, state["w"]) == ("early-stopping", 6, 4, (0.5,), 4)
    assert len(loop.history) == 6


def test_epoch_loop_stops_on_a_non_finite_loss_and_keeps_the_last_best_state() -> None:
    state = {"w": 0}
    loop = EpochLoop(lambda: dict(state), state.update)
    assert run_epochs(loop, state, [2.0, 1.0, 1.5, math.nan, 0.1]) == 4
    assert (loop.stopped, loop.best_epoch, state["w"], len(loop.history)) == ("diverged", 2, 2, 4)
    state = {"w": 0}
    loop = EpochLoop(lambda: dict(state), state.update)
    run_epochs(loop, state, [math.inf])
    assert (loop.stopped, loop.best_epoch, state["w"]) == ("diverged", 0, 0)  # back to the starting state


def test_epoch_loop_ranks_accuracy_before_loss_and_skips_unscored_epochs() -> None:
    state = {"w": 0}
    loop = EpochLoop(lambda: dict(state), state.update, patience=2)
    # scores (-accuracy, loss): epoch 3 ties epoch 2's accuracy with a lower loss; epoch 4 has no score
    run_epochs(loop, state, [(-0.5, 1.0), (-0.9, 0.5), (-0.9, 0.4), (math.nan, 0.3), (-0.8, 0.1), (-0.7, 0.1)])
    assert (loop.stopped, loop.best_epoch, state["w"]) == ("early-stopping", 3, 3)


def test_epoch_loop_without_keep_best_leaves_the_last_state_and_honours_the_time_budget() -> None:
    state = {"w": 0}
    loop = EpochLoop(lambda: dict(state), state.update, max_seconds=1e-9, keep_best=False)
    assert run_epochs(loop, state, [1.0, 0.5]) == 1
    assert (loop.stopped, loop.best_epoch, loop.best_state, state["w"]) == ("time-budget", 1, None, 1)


@pytest.mark.parametrize("kind, steps, iters", [(Optimizer.gd, 400, 0), (Optimizer.lbfgs, 0, 40)])
def test_weight_decay_means_the_same_penalty_for_every_optimizer(kind: Optimizer, steps: int, iters: int) -> None:
    # (w - 1)^2 + (lambda / 2) w^2 has its minimum at w = 2 / (2 + lambda): 2/3 for lambda = 1, whether the
    # decay is the optimizer's (gradient + lambda w) or L-BFGS's explicit penalty
    w = torch.nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
    minimise([w], Phases(kind, 0.1, steps, lbfgs_iters=iters, weight_decay=1.0), lambda step: ((w - 1.0) ** 2).sum(),
             lambda: ((w - 1.0) ** 2).sum(), dict, lambda *row: None)
    assert float(w.detach()[0]) == pytest.approx(2.0 / 3.0, abs=1e-10)
