"""Trial solutions: the network output re-parameterised so that initial conditions hold exactly.

First order:  u(t) = u0 + (t - t0) N(t)                      => u(t0) = u0.
Second order: x(t) = x0 + v0 (t - t0) + (t - t0)^2 N(t)     => x(t0) = x0, x'(t0) = v0.
With ``InitialCondition.penalty`` the raw network output is used and the loss gains a penalty term instead.
"""

from __future__ import annotations

import torch


def first_order_trial(t: torch.Tensor, t0: float, u0: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """u(t) = u0 + (t - t0) N(t); t (n, 1), u0 (1, d) or (d,), N (n, d) -> (n, d)."""
    if t.ndim != 2 or t.shape[1] != 1:
        raise ValueError(f"t must have shape (n, 1), got {tuple(t.shape)}")
    return u0.reshape(1, -1) + (t - t0) * n


def second_order_trial(t: torch.Tensor, t0: float, x0: torch.Tensor, v0: torch.Tensor,
                       n: torch.Tensor) -> torch.Tensor:
    """x(t) = x0 + v0 (t - t0) + (t - t0)^2 N(t); t (n, 1), x0, v0 (1, m), N (n, m) -> (n, m)."""
    if t.ndim != 2 or t.shape[1] != 1:
        raise ValueError(f"t must have shape (n, 1), got {tuple(t.shape)}")
    tau = t - t0
    return x0.reshape(1, -1) + v0.reshape(1, -1) * tau + tau ** 2 * n


def time_derivative(u: torch.Tensor, t: torch.Tensor, create_graph: bool = True) -> torch.Tensor:
    """du/dt by autograd for each column of u: u (n, d) computed from t (n, 1) -> (n, d).

    Each u[i] depends only on t[i], so the gradient of the column sum gives the pointwise derivative.
    """
    cols = [torch.autograd.grad(u[:, k].sum(), t, create_graph=create_graph)[0] for k in range(u.shape[1])]
    return torch.cat(cols, dim=1)
