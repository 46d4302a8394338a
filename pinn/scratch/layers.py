"""The layer protocol and the elementwise and dense layers: Dense, Flatten, Dropout, Standardize and the
activations ReLU, Tanh, Sigmoid, Softmax.

Every layer is one small class with two methods:

    forward(x)   -> y    computes the output and keeps what the backward pass needs;
    backward(dy) -> dx   takes dL/dy, fills ``param.grad = dL/dparam`` of its parameters, returns dL/dx.

Chaining ``backward`` through the layers in reverse order is backpropagation (the chain rule applied one
layer at a time). Parameters are :class:`Parameter` objects (an array and its gradient) so an optimizer can
update them in place. Arrays are NumPy; a layer computes in the dtype of its parameters (float32 or
float64, chosen when it is built), and parameter names and layouts follow PyTorch's, so weights copy
between the two unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from numpy.typing import DTypeLike

from pinn.errors import PinnError


@dataclass
class Parameter:
    """A trainable array and dL/d(array) of the last backward pass.

    decay: whether an L2 penalty acts on it (weights and kernels yes; biases and batch-norm scales no,
    as Keras' ``kernel_regularizer`` in the lecture notes).
    """

    value: np.ndarray
    decay: bool = False
    grad: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.grad = np.zeros_like(self.value)


def uniform(rng: np.random.Generator, bound: float, shape: Sequence[int], dtype: DTypeLike) -> np.ndarray:
    """Draws from U(-bound, bound) in ``dtype``: PyTorch's default for dense, convolution and recurrent layers
    uses bound = 1 / sqrt(fan_in)."""
    return rng.uniform(-bound, bound, size=tuple(shape)).astype(dtype)


class Layer:
    """Base class: no parameters, identity in both directions. Subclasses override forward/backward."""

    def __init__(self) -> None:
        self.params: dict[str, Parameter] = {}
        self.buffers: dict[str, np.ndarray] = {}  # state that is not trained (running means, fixed scalings)
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _cached(self, name: str):
        """The value forward() stored under ``name``; a clear error if backward comes first."""
        value = getattr(self, name, None)
        if value is None:
            raise PinnError(f"{self!r}: call forward before backward")
        return value


def shape_error(layer: Layer, x: np.ndarray, expected: str, hint: str) -> PinnError:
    """The error for a wrong input: 'Layer(...) takes <expected>, got an array of shape <shape>: <hint>'."""
    return PinnError(f"{layer!r} takes {expected}, got an array of shape {tuple(np.shape(x))}: {hint}")


def check_gradient(layer: Layer, dy: np.ndarray, y_shape: tuple[int, ...]) -> None:
    """dL/dy must have the shape of the layer's last output."""
    if dy.shape != y_shape:
        raise PinnError(f"{layer!r}: backward got dL/dy of shape {dy.shape} but the last forward output was "
                        f"{y_shape}; pass the gradient of the loss with respect to that output")


class Dense(Layer):
    """y = x W^T + b.  x: (b, n_in) -> y: (b, n_out); W: (n_out, n_in), b: (n_out,) (PyTorch's layout).

    Gradients: dL/dW = dy^T x, dL/db = sum_batch dy, dL/dx = dy W.
    Initialised from U(-1/sqrt(n_in), 1/sqrt(n_in)) like PyTorch's nn.Linear.
    """

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        if n_in < 1 or n_out < 1:
            raise PinnError(f"Dense needs n_in >= 1 and n_out >= 1, got {n_in}, {n_out}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.n_in, self.n_out = n_in, n_out
        bound = 1.0 / np.sqrt(n_in)
        self.params = {"weight": Parameter(uniform(rng, bound, (n_out, n_in), dtype), decay=True),
                       "bias": Parameter(uniform(rng, bound, (n_out,), dtype))}
        self.x: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2:
            raise shape_error(self, x, f"(batch, {self.n_in})", "put Flatten() in front of it" if x.ndim > 2
                              else "give a batch of rows (x[None] for a single sample)")
        if x.shape[1] != self.n_in:
            raise shape_error(self, x, f"(batch, {self.n_in})", f"the previous layer gives {x.shape[1]} "
                              f"features: use Dense({x.shape[1]}, {self.n_out})")
        self.x = x
        return x @ self.params["weight"].value.T + self.params["bias"].value

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._cached("x")
        check_gradient(self, dy, (x.shape[0], self.n_out))
        w = self.params["weight"]
        w.grad = dy.T @ x
        self.params["bias"].grad = dy.sum(axis=0)
        return dy @ w.value


class Flatten(Layer):
    """(b, d1, d2, ...) -> (b, d1 * d2 * ...), in C order (as PyTorch's nn.Flatten on NCHW arrays)."""

    def __init__(self) -> None:
        super().__init__()
        self.shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 2:
            raise shape_error(self, x, "(batch, ...)", "give a batch axis first")
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self._cached("shape"))


class Dropout(Layer):
    """Inverted dropout: in training y = x * m / (1 - p) with m ~ Bernoulli(1 - p) per element; y = x in
    evaluation. ``rng`` draws the masks (reseed it to reproduce a run)."""

    def __init__(self, p: float, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise PinnError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.scale: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"Dropout({self.p})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self.scale = np.ones((), dtype=x.dtype)
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.scale = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        return x * self.scale

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self._cached("scale")


class Standardize(Layer):
    """y = (x - mean_c) / std_c per channel c of images x: (b, C, H, W); fixed, not trained.

    mean, std: (C,), for example from the training set; held as buffers of shape (1, C, 1, 1).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], *, dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        mean, std = np.asarray(mean, dtype=dtype), np.asarray(std, dtype=dtype)
        if mean.ndim != 1 or mean.shape != std.shape or np.any(std <= 0):
            raise PinnError(f"Standardize needs mean and std of equal length and std > 0, got {mean}, {std}")
        self.buffers = {"mean": mean.reshape(1, -1, 1, 1), "std": std.reshape(1, -1, 1, 1)}

    def __repr__(self) -> str:
        return f"Standardize(channels={self.buffers['mean'].shape[1]})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        c = self.buffers["mean"].shape[1]
        if x.ndim != 4 or x.shape[1] != c:
            raise shape_error(self, x, f"images (batch, {c}, H, W)", f"give {c}-channel images in NCHW order")
        return (x - self.buffers["mean"]) / self.buffers["std"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy / self.buffers["std"]


class ReLU(Layer):
    """y = max(x, 0); dy/dx = 1 where x > 0, else 0 (also at 0, as PyTorch)."""

    def __init__(self) -> None:
        super().__init__()
        self.active: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.active = x > 0
        return x * self.active

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self._cached("active")


class Tanh(Layer):
    """y = tanh(x); dy/dx = 1 - y^2."""

    def __init__(self) -> None:
        super().__init__()
        self.y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        y = self._cached("y")
        return dy * (1 - y * y)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), written as (1 + tanh(x/2)) / 2 so no exp overflows for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    def __init__(self) -> None:
        super().__init__()
        self.y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = sigmoid(x)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        y = self._cached("y")
        return dy * y * (1 - y)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z_k) / sum_j exp(z_j) along ``axis``, shifted by max z so no exp overflows."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Layer):
    """y_k = exp(x_k) / sum_j exp(x_j) over the last axis; dL/dx = y * (dy - sum_k dy_k y_k).

    For classification use :class:`~pinn.scratch.losses.SoftmaxCrossEntropy` on the logits instead: it
    fuses the two and is exact where y underflows.
    """

    def __init__(self) -> None:
        super().__init__()
        self.y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = softmax(x, axis=-1)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        y = self._cached("y")
        return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))
