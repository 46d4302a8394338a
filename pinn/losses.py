"""The physics-informed model and its residual loss (autograd derivatives of the trial solution)."""

from __future__ import annotations

import torch
from torch import nn

from pinn.choices import InitialCondition
from pinn.networks import MLP
from pinn.problem import ODEProblem
from pinn.trial import first_order_trial, second_order_trial, time_derivative


class PINN(nn.Module):
    """A network N(t) turned into a state u(t) that meets the initial condition.

    For ``problem.order == 1``: u = u0 + (t - t0) S N(t) (or S N(t) itself with a penalty).
    For ``problem.order == 2`` (state = positions x then velocities v): the network gives x only,
    x = x0 + v0 (t - t0) + (t - t0)^2 S N(t), and v = dx/dt by autograd, so the residual is x'' - g(t, x, x').
    The output scale S = max(1, max|u0|) / (t1 - t0)^order lets an O(1) network output span the solution's
    range over the interval, so training does not first spend thousands of steps growing the output layer.
    """

    def __init__(self, problem: ODEProblem, net: MLP, ic: InitialCondition = InitialCondition.exact) -> None:
        super().__init__()
        self.net = net
        self.ic = InitialCondition(ic)
        self.order = problem.order
        self.t0 = float(problem.t0)
        dtype = next(net.parameters()).dtype
        self.register_buffer("u0", problem.u0_tensor(dtype=dtype))
        size = max(1.0, max(abs(v) for v in problem.u0))
        self.out_scale = size / (problem.t1 - problem.t0) ** problem.order

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """u(t): t (n, 1) with requires_grad for order 2 -> (n, d)."""
        n = self.out_scale * self.net(t)
        if self.order == 1:
            return n if self.ic is InitialCondition.penalty else first_order_trial(t, self.t0, self.u0, n)
        m = self.u0.shape[1] // 2
        x = n if self.ic is InitialCondition.penalty else second_order_trial(t, self.t0, self.u0[:, :m],
                                                                              self.u0[:, m:], n)
        v = time_derivative(x, t)
        return torch.cat((x, v), dim=1)


def residual(problem: ODEProblem, model: PINN, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ODE residual r = du/dt - f(t, u) at times t (n, 1): returns (r (n, d), u (n, d)).

    ``t`` is cloned with requires_grad, so the caller's tensor is left alone.
    """
    t = t.detach().clone().requires_grad_(True)
    u = model(t)
    du = time_derivative(u, t)
    return du - problem.rhs(t, u), u


def pinn_loss(problem: ODEProblem, model: PINN, t: torch.Tensor, ic_weight: float = 1.0) -> torch.Tensor:
    """Mean squared residual, plus ic_weight * |u(t0) - u0|^2 (and |v(t0) - v0|^2) for a penalty model."""
    r, _ = residual(problem, model, t)
    loss = (r ** 2).mean()
    if model.ic is InitialCondition.penalty:
        t0 = torch.full((1, 1), problem.t0, dtype=t.dtype, device=t.device, requires_grad=True)
        loss = loss + ic_weight * ((model(t0) - model.u0) ** 2).sum()
    return loss
