"""Random features in two local coordinates with exact derivatives of any order.

A cell of the space-time (or x-y) domain is mapped onto the square (xi, eta) in [-1, 1]^2. Its hidden layer is

    phi_j(xi, eta) = s(a_j xi + b_j eta + c_j),   j = 1..M,

with a_j, b_j, c_j drawn once from U(-scale, scale) and frozen; only the output layer (the coefficients of
the phi_j) is fitted. Partial derivatives are closed form,

    d^p/dxi^p d^q/deta^q phi_j = a_j^p b_j^q s^(p+q)(a_j xi + b_j eta + c_j),

with sin^(n)(z) = sin(z + n pi / 2) and tanh^(n) a polynomial in tanh (P_0 = T, P_{n+1} = P_n'(T) (1 - T^2)),
so the least-squares matrices hold exact derivatives, not finite differences. This is the single-hidden-layer
random-feature network of the extreme learning machine (Huang et al. 2006) as used by locELM (Dong & Li
2021) and PIELM (Dwivedi & Srinivasan 2020); the ODE solver's feature network (pinn.marching) is the
one-input case of the same idea.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from pinn.pde.config import FeatureActivation, FeatureSpec


def activation_derivative(kind: FeatureActivation, z: torch.Tensor, n: int) -> torch.Tensor:
    """s^(n)(z), the n-th derivative of the activation, elementwise."""
    if FeatureActivation(kind) is FeatureActivation.sin:
        return torch.sin(z + n * (math.pi / 2.0))
    t = torch.tanh(z)
    coeffs = _tanh_derivative_poly(n)
    out = torch.zeros_like(t)
    for c in coeffs[::-1]:  # Horner
        out = out * t + float(c)
    return out


@lru_cache(maxsize=None)
def _tanh_derivative_poly(n: int) -> np.ndarray:
    """Coefficients (lowest degree first) of P_n with tanh^(n)(z) = P_n(tanh z)."""
    p = np.array([0.0, 1.0])
    for _ in range(n):
        p = np.polynomial.polynomial.polymul(np.polynomial.polynomial.polyder(p), [1.0, 0.0, -1.0])
    return p


class RandomFeatures:
    """phi(xi, eta) = s(a xi + b eta + c) for M frozen random (a, b, c); evaluate any derivative exactly."""

    def __init__(self, spec: FeatureSpec, dtype: torch.dtype = torch.float64) -> None:
        gen = torch.Generator().manual_seed(int(spec.seed))
        w = (torch.rand(3, spec.features, generator=gen, dtype=dtype) * 2.0 - 1.0) * spec.scale
        self.spec = spec
        self.a, self.b, self.c = w[0], w[1], w[2]

    @property
    def size(self) -> int:
        """The number of features M."""
        return self.a.numel()

    def __call__(self, xi: torch.Tensor, eta: torch.Tensor, p: int = 0, q: int = 0) -> torch.Tensor:
        """d^p/dxi^p d^q/deta^q phi at points (xi, eta), each (n,): returns (n, M)."""
        z = xi.reshape(-1, 1) * self.a + eta.reshape(-1, 1) * self.b + self.c
        scale = self.a ** p * self.b ** q
        return activation_derivative(self.spec.activation, z, p + q) * scale

    def state_dict(self) -> dict:
        """The hidden weights as tensors (torch.load(weights_only=True)-safe)."""
        return {"a": self.a.clone(), "b": self.b.clone(), "c": self.c.clone()}


def lobatto_nodes(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """n Chebyshev-Gauss-Lobatto nodes on [-1, 1], increasing, both ends included: (n,)."""
    k = torch.arange(n, dtype=dtype)
    return -torch.cos(torch.pi * k / (n - 1))
