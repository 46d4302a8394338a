"""Fully connected networks t -> u with the input scaled to [-1, 1] over the time interval."""

from __future__ import annotations

import torch
from torch import nn

from pinn.choices import Activation, DType  # noqa: F401  DType re-exported until surrogate and vision move to pinn.choices


class Sin(nn.Module):
    """sin(x) as a module (SIREN-style periodic activation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


def activation_module(kind: Activation) -> nn.Module:
    """The torch module for an :class:`Activation`."""
    table = {Activation.tanh: nn.Tanh, Activation.sin: Sin, Activation.silu: nn.SiLU,
             Activation.gelu: nn.GELU, Activation.relu: nn.ReLU, Activation.softplus: nn.Softplus}
    return table[Activation(kind)]()


class MLP(nn.Module):
    """u = W_L s(... s(W_1 x + b_1) ...) + b_L with x = 2 (t - t0) / (t1 - t0) - 1 in [-1, 1].

    Args:
        n_out: output size d.
        width, depth: hidden units per layer and number of hidden layers (depth >= 1).
        activation: hidden activation.
        t0, t1: the interval mapped onto [-1, 1].
        dtype, device: parameter dtype and device (float64 for solver-grade accuracy).
        n_in: input size (1 for time).
    Weights use Xavier (Glorot) normal initialisation and zero biases.
    """

    def __init__(self, n_out: int, width: int = 64, depth: int = 4, activation: Activation = Activation.tanh,
                 t0: float = 0.0, t1: float = 1.0, dtype: torch.dtype = torch.float64,
                 device: str | torch.device = "cpu", n_in: int = 1) -> None:
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError("MLP needs depth >= 1 and width >= 1")
        layers: list[nn.Module] = []
        size = n_in
        for _ in range(depth):
            layers += [nn.Linear(size, width), activation_module(activation)]
            size = width
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(size, n_out)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)
        self.register_buffer("t0", torch.tensor(float(t0)))
        self.register_buffer("t1", torch.tensor(float(t1)))
        self.to(dtype=dtype, device=device)

    def scale(self, t: torch.Tensor) -> torch.Tensor:
        """Map t in [t0, t1] to [-1, 1]."""
        return 2.0 * (t - self.t0) / (self.t1 - self.t0) - 1.0

    def features(self, t: torch.Tensor) -> torch.Tensor:
        """Last hidden layer's output: t (n, 1) -> (n, width)."""
        return self.hidden(self.scale(t))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t (n, 1) -> (n, n_out)."""
        return self.out(self.features(t))
