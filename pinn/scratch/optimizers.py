"""Gradient-descent optimizers as objects: built on a list of :class:`Parameter`, ``step()`` moves every
parameter using its ``grad``. The update rules are PyTorch's, so the same gradients give the same steps.
``lr`` is a plain attribute: a schedule sets it between steps.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from pinn.errors import PinnError
from pinn.scratch.layers import Parameter


class Optimizer:
    """Base class: the parameters, the learning rate eta and per-parameter state arrays."""

    def __init__(self, params: Sequence[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise PinnError("the optimizer got no parameters: build it on model.parameters()")
        if not lr > 0:
            raise PinnError(f"the learning rate must be > 0, got {lr}")
        self.lr = float(lr)

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state (arrays per parameter and counters), to save and restore a run."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def _restore(self, arrays: Sequence[np.ndarray], name: str) -> list[np.ndarray]:
        """Saved per-parameter arrays, checked against the parameters' shapes, in their dtypes."""
        arrays = [np.asarray(a) for a in arrays]
        if [a.shape for a in arrays] != [p.value.shape for p in self.params]:
            raise PinnError(f"the saved optimizer state '{name}' does not match the network's parameters")
        return [a.astype(p.value.dtype, copy=True) for a, p in zip(arrays, self.params)]


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum mu:

        v <- mu v + g,    w <- w - eta v    (Nesterov: w <- w - eta (g + mu v)),

    v = 0 at the start; mu = 0 is plain gradient descent w <- w - eta g (torch.optim.SGD, dampening 0).
    """

    def __init__(self, params: Sequence[Parameter], lr: float, momentum: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise PinnError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise PinnError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        mu, lr = self.momentum, self.lr
        for p, v in zip(self.params, self.velocity):
            if mu == 0:
                p.value -= lr * p.grad
                continue
            v *= mu
            v += p.grad
            p.value -= lr * (p.grad + mu * v if self.nesterov else v)

    def state_dict(self) -> dict[str, Any]:
        return {"velocity": [v.copy() for v in self.velocity]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.velocity = self._restore(state["velocity"], "velocity")


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias-corrected moments, step count t from 1:

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
        w <- w - eta (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    (torch.optim.Adam; defaults b1 = 0.9, b2 = 0.999, eps = 1e-8).
    """

    def __init__(self, params: Sequence[Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0) or eps <= 0:
            raise PinnError(f"Adam needs betas in [0, 1) and eps > 0, got {betas}, {eps}")
        self.betas, self.eps = betas, eps
        self.t = 0
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        correction1 = 1.0 - b1 ** self.t
        root_correction2 = math.sqrt(1.0 - b2 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            m *= b1
            m += (1.0 - b1) * p.grad
            v *= b2
            v += (1.0 - b2) * p.grad ** 2
            p.value -= (self.lr / correction1) * m / (np.sqrt(v) / root_correction2 + self.eps)

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, "m": [m.copy() for m in self.m], "v": [v.copy() for v in self.v]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t = int(state["t"])
        self.m = self._restore(state["m"], "m")
        self.v = self._restore(state["v"], "v")
