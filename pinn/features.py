"""The random hidden features of the marching solver, their time derivatives in closed form, and the
orthonormal window basis built from them.

A window [a, b] of length h maps to the local time s = 2 (t - a) / h - 1 in [-1, 1]. The features are the last
hidden layer Phi(s) (M of them) of a fixed random network; their derivatives follow by the chain rule through
each layer, with the activation's derivative written out (tanh' = 1 - tanh^2, sin' = cos, ...), so the inner
loop of the solver never calls autograd.

The window's solution u(t) = u_a + (t - a) Phi(s) C has du/dt = (Phi + (t - a) dPhi/dt) C. With
t - a = (s + 1) h / 2 and dPhi/dt = (2 / h) dPhi/ds,

    u(t) = u_a + (h / 2) (s + 1) Phi(s) C,      du/dt = [Phi(s) + (s + 1) dPhi/ds(s)] C,

so both matrices are independent of h: one set serves every window length. Random tanh features are
nearly collinear (for M = 60, scale 1 the singular values of the slope matrix fall below 1e-15 of the largest
after about 22 directions), so :class:`WindowBasis` keeps the r directions above a cut-off and makes the
slope matrix orthonormal: du/dt = U y, u = u_a + (h / 2) E y with U^T U = I, and C = W y (W = V_r S_r^-1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from pinn.errors import PinnError
from pinn.networks import MLP, Sin

BASIS_RCOND = 1e-15
"""Directions of the slope matrix with singular value below BASIS_RCOND times the largest are dropped: the
span they add is at round-off level (measured: Lorenz errors stop improving below this cut-off)."""


def lobatto_nodes(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """n Chebyshev-Gauss-Lobatto nodes on [-1, 1], increasing: (n,)."""
    k = torch.arange(n, dtype=dtype)
    return -torch.cos(torch.pi * k / (n - 1))


def interleaved_nodes(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The n - 1 points halfway (in angle) between consecutive Lobatto nodes: -cos(pi (k + 1/2) / (n - 1)).

    With the n Lobatto nodes they form the 2n - 1 Lobatto nodes of the doubled grid: (n - 1,).
    """
    k = torch.arange(n - 1, dtype=dtype)
    return -torch.cos(torch.pi * (k + 0.5) / (n - 1))


def activation_and_slope(module: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sigma(z) and sigma'(z) in closed form for the activations :class:`pinn.networks.MLP` builds."""
    if isinstance(module, nn.Tanh):
        y = torch.tanh(z)
        return y, 1.0 - y * y
    if isinstance(module, Sin):
        return torch.sin(z), torch.cos(z)
    if isinstance(module, nn.SiLU):
        sig = torch.sigmoid(z)
        return z * sig, sig * (1.0 + z * (1.0 - sig))
    if isinstance(module, nn.GELU) and module.approximate == "none":
        cdf = 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))
        pdf = torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return z * cdf, cdf + z * pdf
    if isinstance(module, nn.ReLU):
        return torch.relu(z), (z > 0).to(z.dtype)
    if isinstance(module, nn.Softplus):
        # torch's softplus is linear above threshold / beta
        above = z * module.beta > module.threshold
        return nn.functional.softplus(z, module.beta, module.threshold), \
            torch.where(above, torch.ones_like(z), torch.sigmoid(module.beta * z))
    raise PinnError(f"no closed-form derivative for the activation {module!r}; use one of pinn.networks.Activation")


def features_and_slopes(net: MLP, s: torch.Tensor, h: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Phi and dPhi/dt at window-local s in [-1, 1] for a window of length h: s (n,) -> (n, M), (n, M).

    Forward-mode chain rule in closed form: x = scale(s), then per layer z = x W^T + b, dz = dx W^T and
    x = sigma(z), dx = sigma'(z) dz.
    """
    x = net.scale(s.reshape(-1, 1))
    dx = torch.full_like(x, float(2.0 / (net.t1 - net.t0)))  # d scale / ds
    for layer in net.hidden:
        if isinstance(layer, nn.Linear):
            x, dx = x @ layer.weight.T + layer.bias, dx @ layer.weight.T
        else:
            x, slope = activation_and_slope(layer, x)
            dx = slope * dx
    return x, dx * (2.0 / h)


@dataclass(frozen=True)
class WindowBasis:
    """The window's solution space in orthonormal coordinates, the same for every window length h.

    With y (r, d) the coordinates, at the collocation nodes s_q (Lobatto) and the check points (the
    interleaved nodes between them) (U's columns are orthonormal to round-off amplified by S_max / S_j: to 1e-11
    for the first 10 directions of the default features, to ~1e-2 for the weakest):

        du/dt = U y,   u = u_a + (h / 2) E y,   C = W y   (C the output layer of the random features).

    Attributes:
        nodes: (Q,) Lobatto nodes in [-1, 1]; slope U (Q, r) with orthonormal columns; value E (Q, r).
        check_nodes: (Q - 1,) interleaved nodes; check_slope (Q - 1, r); check_value (Q - 1, r).
        end: (r,) E at s = 1, the window's end.
        to_coef: W (M, r), the output-layer coefficients of each basis direction.
        value_norm: largest row 2-norm of E, so |u - u'| <= (h / 2) value_norm |y - y'| at every node.
    """

    nodes: torch.Tensor
    slope: torch.Tensor
    value: torch.Tensor
    check_nodes: torch.Tensor
    check_slope: torch.Tensor
    check_value: torch.Tensor
    end: torch.Tensor
    to_coef: torch.Tensor
    value_norm: float

    @property
    def rank(self) -> int:
        """Number of basis directions r kept."""
        return self.slope.shape[1]

    def value_at(self, net: MLP, s: torch.Tensor) -> torch.Tensor:
        """E at arbitrary local times s (n,) (also outside [-1, 1], to extrapolate): (n, r)."""
        phi, _ = features_and_slopes(net, s, 2.0)
        return ((s.reshape(-1, 1) + 1.0) * phi) @ self.to_coef


def window_basis(net: MLP, points: int, rcond: float = BASIS_RCOND) -> WindowBasis:
    """The orthonormal basis of :class:`WindowBasis` from the features of ``net`` at ``points`` Lobatto nodes.

    SVD of the slope matrix D = Phi + (s + 1) dPhi/ds = U_full S V^T; the r directions with S > rcond S_max
    are kept, W = V_r S_r^-1, so D W = U has orthonormal columns.
    """
    dtype = net.out.weight.dtype
    nodes, checks = lobatto_nodes(points, dtype), interleaved_nodes(points, dtype)

    def raw(s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        phi, dphi_ds = features_and_slopes(net, s, 2.0)
        lever = (s + 1.0).reshape(-1, 1)
        return lever * phi, phi + lever * dphi_ds  # (n, M) each: value / (h/2) and slope

    value_raw, slope_raw = raw(nodes)
    _, sv, vt = torch.linalg.svd(slope_raw, full_matrices=False)
    r = int((sv > rcond * sv[0]).sum())
    to_coef = vt[:r].T / sv[:r]  # (M, r)
    check_value_raw, check_slope_raw = raw(checks)
    end_raw, _ = raw(torch.ones(1, dtype=dtype))
    value = value_raw @ to_coef
    return WindowBasis(nodes, slope_raw @ to_coef, value, checks, check_slope_raw @ to_coef,
                       check_value_raw @ to_coef, (end_raw @ to_coef)[0], to_coef,
                       float(value.norm(dim=1).max()))
