"""Trial solutions meet the initial conditions exactly; collocation points are where they should be."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinn.choices import Activation
from pinn.collocation import Sampling, collocation_points
from pinn.losses import PINN
from pinn.networks import MLP
from pinn.trial import first_order_trial, second_order_trial, time_derivative
from problems.lorenz import LORENZ
from problems.oscillator import oscillator_problem


@pytest.mark.parametrize("activation", list(Activation))
def test_first_order_trial_meets_the_initial_condition(activation: Activation) -> None:
    net = MLP(3, 16, 2, activation, 0.5, 3.0)
    t = torch.tensor([[0.5]], dtype=torch.float64)
    u0 = torch.tensor([-8.0, 7.0, 27.0], dtype=torch.float64)
    u = first_order_trial(t, 0.5, u0, net(t))
    assert torch.abs(u - u0).max().item() <= 1e-12


def test_second_order_trial_meets_position_and_velocity() -> None:
    net = MLP(1, 16, 2, Activation.tanh, 1.0, 5.0)
    t = torch.tensor([[1.0]], dtype=torch.float64, requires_grad=True)
    x0, v0 = torch.tensor([0.3], dtype=torch.float64), torch.tensor([-1.2], dtype=torch.float64)
    x = second_order_trial(t, 1.0, x0, v0, net(t))
    v = time_derivative(x, t)
    assert abs(x.item() - 0.3) <= 1e-12
    assert abs(v.item() + 1.2) <= 1e-12


@pytest.mark.parametrize("make", [lambda: LORENZ.problem(t1=2.0), lambda: oscillator_problem(t1=3.0)])
def test_pinn_model_state_starts_at_u0(make) -> None:
    problem = make()
    n_out = problem.dim // problem.order
    model = PINN(problem, MLP(n_out, 8, 2, t0=problem.t0, t1=problem.t1))
    t = torch.tensor([[problem.t0]], dtype=torch.float64, requires_grad=True)
    assert np.abs(model(t).detach().numpy()[0] - np.array(problem.u0)).max() <= 1e-12


def test_time_derivative_of_a_known_function() -> None:
    t = torch.linspace(0, 1, 11, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    u = torch.cat((torch.sin(t), t ** 3), dim=1)
    du = time_derivative(u, t)
    assert torch.allclose(du, torch.cat((torch.cos(t), 3 * t ** 2), dim=1))


@pytest.mark.parametrize("kind", list(Sampling))
def test_collocation_points_cover_the_interval(kind: Sampling) -> None:
    t = collocation_points(kind, 256, 2.0, 6.0, seed=3)
    assert t.shape == (256, 1)
    assert t.min() >= 2.0 and t.max() <= 6.0
    # every quarter of the interval gets a fair share (>= 15% of the points)
    counts = np.histogram(t.numpy(), bins=4, range=(2.0, 6.0))[0]
    assert counts.min() >= 0.15 * 256


def test_sobol_points_are_more_even_than_random() -> None:
    def discrepancy(t: torch.Tensor) -> float:
        s = np.sort(t.numpy().ravel())
        return float(np.abs(s - (np.arange(s.size) + 0.5) / s.size).max())

    assert discrepancy(collocation_points(Sampling.sobol, 256, 0, 1, seed=1)) < \
        discrepancy(collocation_points(Sampling.uniform, 256, 0, 1, seed=1))
