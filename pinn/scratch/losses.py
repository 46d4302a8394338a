"""Losses as objects with ``forward(output, target) -> L`` and ``backward() -> dL/d(output)``, and the L2
penalty lambda * sum ||W||^2 over the weights. A new loss is one more small class with these two methods.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from pinn.errors import PinnError
from pinn.scratch.layers import Parameter


class Loss:
    """Base class: a scalar L(output, target), averaged over the batch, and its gradient dL/d(output)."""

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, output: np.ndarray, target: np.ndarray) -> float:
        return self.forward(output, target)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) along the last axis, as z - max z - log sum exp(z - max z) (no overflow)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of softmax(logits) against integer labels, averaged over the batch:

        L = -(1/b) sum_n sum_k q_nk log softmax(z_n)_k,    dL/dz = (softmax(z) - q) / b,

    with q the one-hot labels, or with ``label_smoothing`` eps the smoothed targets (1 - eps) onehot + eps/K
    (PyTorch's ``cross_entropy(..., label_smoothing=eps)``). logits: (b, K); labels: (b,) in [0, K).
    """

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise PinnError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = label_smoothing
        self.cache: tuple[np.ndarray, np.ndarray] | None = None

    def targets(self, labels: np.ndarray, k: int, dtype: np.dtype) -> np.ndarray:
        """The target distributions q: (b, K)."""
        eps = self.label_smoothing
        q = np.full((labels.size, k), eps / k, dtype=dtype)
        q[np.arange(labels.size), labels] += 1.0 - eps
        return q

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        labels = np.asarray(labels)
        if logits.ndim != 2 or labels.shape != (logits.shape[0],):
            raise PinnError(f"SoftmaxCrossEntropy takes logits (batch, classes) and labels (batch,), got "
                            f"{logits.shape} and {labels.shape}: give one integer label per row of logits")
        k = logits.shape[1]
        if not np.issubdtype(labels.dtype, np.integer) or (labels.size and (labels.min() < 0 or labels.max() >= k)):
            raise PinnError(f"SoftmaxCrossEntropy needs integer labels in [0, {k}), got {labels.dtype} values "
                            f"{labels.min() if labels.size else ''}..{labels.max() if labels.size else ''}")
        log_p = log_softmax(logits)
        q = self.targets(labels, k, logits.dtype)
        self.cache = (np.exp(log_p), q)
        return float(-np.sum(q * log_p) / logits.shape[0])

    def backward(self) -> np.ndarray:
        if self.cache is None:
            raise PinnError("SoftmaxCrossEntropy: call forward before backward")
        p, q = self.cache
        return (p - q) / p.shape[0]


class MeanSquaredError(Loss):
    """L = mean over all entries of (y - t)^2 (PyTorch's MSELoss); dL/dy = 2 (y - t) / (number of entries)."""

    def __init__(self) -> None:
        self.residual: np.ndarray | None = None

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        target = np.asarray(target, dtype=output.dtype)
        if output.shape != target.shape:
            raise PinnError(f"MeanSquaredError compares arrays of one shape, got output {output.shape} and "
                            f"target {target.shape}: reshape the targets to the network's output")
        self.residual = output - target
        return float(np.mean(self.residual ** 2))

    def backward(self) -> np.ndarray:
        if self.residual is None:
            raise PinnError("MeanSquaredError: call forward before backward")
        return 2.0 * self.residual / self.residual.size


class L2Penalty:
    """R = lambda * sum ||W||^2 over the parameters flagged ``decay`` (weights and kernels, not biases): the
    notes' Keras ``kernel_regularizer=l2(lambda)``. Added to the loss; its gradient 2 lambda W is added to
    each weight's gradient after the backward pass."""

    def __init__(self, strength: float) -> None:
        if strength < 0:
            raise PinnError(f"the L2 strength must be >= 0, got {strength}")
        self.strength = strength

    def value(self, params: Iterable[Parameter]) -> float:
        return self.strength * float(sum(np.sum(p.value ** 2) for p in params if p.decay))

    def add_gradient(self, params: Iterable[Parameter]) -> None:
        if self.strength == 0:
            return
        for p in params:
            if p.decay:
                p.grad = p.grad + (2.0 * self.strength) * p.value
