"""Recurrent layers over sequences x: (b, T, n_in) -> hidden states h: (b, T, n_hidden), h_0 = c_0 = 0,
with backpropagation through time (BPTT); and LastStep, which keeps h_T for a dense head.

Simple RNN (Elman):  h_t = tanh(W_ih x_t + W_hh h_{t-1} + b).
LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), gates in PyTorch's order:
    [i, f, g, o] = [sigmoid, sigmoid, tanh, sigmoid](W_ih x_t + W_hh h_{t-1} + b),
    c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t).

The input terms W_ih x_t of all steps are one matrix product before the time loop, and their gradients one
product after it; only the recurrence h_{t-1} -> h_t is a Python loop over t. Weights use PyTorch's layout
(weight_ih: (G n_hidden, n_in), weight_hh: (G n_hidden, n_hidden), G = 1 or 4) and initialisation
U(-1/sqrt(n_hidden), 1/sqrt(n_hidden)); PyTorch's two biases b_ih + b_hh are one ``bias`` here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from pinn.errors import PinnError
from pinn.scratch.layers import Layer, Parameter, check_gradient, shape_error, sigmoid, uniform


class _Recurrent(Layer):
    """Shared set-up: parameters for ``gates`` blocks of n_hidden rows, input checks, input products."""

    gates = 1

    def __init__(self, n_in: int, n_hidden: int, *, rng: np.random.Generator | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        if n_in < 1 or n_hidden < 1:
            raise PinnError(f"{type(self).__name__} needs n_in >= 1 and n_hidden >= 1, got {n_in}, {n_hidden}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.n_in, self.n_hidden = n_in, n_hidden
        rows, bound = self.gates * n_hidden, 1.0 / np.sqrt(n_hidden)
        self.params = {"weight_ih": Parameter(uniform(rng, bound, (rows, n_in), dtype), decay=True),
                       "weight_hh": Parameter(uniform(rng, bound, (rows, n_hidden), dtype), decay=True),
                       "bias": Parameter(uniform(rng, bound, (rows,), dtype))}
        self.x: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n_in}, {self.n_hidden})"

    def _input_terms(self, x: np.ndarray) -> np.ndarray:
        """W_ih x_t + b for every step at once: (b, T, G n_hidden)."""
        if x.ndim != 3 or x.shape[2] != self.n_in or x.shape[1] < 1:
            raise shape_error(self, x, f"sequences (batch, time, {self.n_in})",
                              "give a batch of sequences, features last" if x.ndim != 3 else
                              f"each step has {x.shape[2]} features: use {type(self).__name__}({x.shape[2]}, "
                              f"{self.n_hidden})")
        self.x = x
        b, t, _ = x.shape
        return (x.reshape(b * t, -1) @ self.params["weight_ih"].value.T + self.params["bias"].value).reshape(b, t, -1)

    def _weight_gradients(self, da: np.ndarray, h: np.ndarray) -> np.ndarray:
        """From the pre-activation gradients da: (b, T, G n_hidden) and the states h: (b, T, n_hidden), fill the
        parameter gradients and return dL/dx: (b, T, n_in)."""
        x = self.x
        b, t, _ = x.shape
        h_prev = np.concatenate((np.zeros_like(h[:, :1]), h[:, :-1]), axis=1)  # h_{t-1}, h_0 = 0
        rows = da.reshape(b * t, -1)
        self.params["weight_ih"].grad = rows.T @ x.reshape(b * t, -1)
        self.params["weight_hh"].grad = rows.T @ h_prev.reshape(b * t, -1)
        self.params["bias"].grad = rows.sum(axis=0)
        return (rows @ self.params["weight_ih"].value).reshape(b, t, -1)


class RNN(_Recurrent):
    """Simple (Elman) RNN with tanh: x (b, T, n_in) -> h (b, T, n_hidden)."""

    def __init__(self, n_in: int, n_hidden: int, *, rng: np.random.Generator | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__(n_in, n_hidden, rng=rng, dtype=dtype)
        self.h: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        a_in = self._input_terms(x)
        b, steps, n = a_in.shape
        w_hh = self.params["weight_hh"].value
        h = np.empty_like(a_in)
        state = np.zeros((b, n), dtype=a_in.dtype)
        for t in range(steps):
            state = np.tanh(a_in[:, t] + state @ w_hh.T)
            h[:, t] = state
        self.h = h
        return h

    def backward(self, dy: np.ndarray) -> np.ndarray:
        h = self._cached("h")
        check_gradient(self, dy, h.shape)
        w_hh = self.params["weight_hh"].value
        da = np.empty_like(h)
        carry = np.zeros_like(h[:, 0])  # dL/dh_t through h_{t+1}
        for t in reversed(range(h.shape[1])):
            da[:, t] = (dy[:, t] + carry) * (1 - h[:, t] ** 2)
            carry = da[:, t] @ w_hh
        return self._weight_gradients(da, h)


class LSTM(_Recurrent):
    """Long short-term memory: x (b, T, n_in) -> h (b, T, n_hidden) (module docstring)."""

    gates = 4

    def __init__(self, n_in: int, n_hidden: int, *, rng: np.random.Generator | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__(n_in, n_hidden, rng=rng, dtype=dtype)
        self.cache: tuple[np.ndarray, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        a_in = self._input_terms(x)
        b, steps, _ = a_in.shape
        n = self.n_hidden
        w_hh = self.params["weight_hh"].value
        act = np.empty_like(a_in)  # activated gates [i, f, g, o] per step
        c = np.empty((b, steps, n), dtype=a_in.dtype)
        h = np.empty_like(c)
        h_t = np.zeros((b, n), dtype=a_in.dtype)
        c_t = np.zeros_like(h_t)
        for t in range(steps):
            a = a_in[:, t] + h_t @ w_hh.T  # (b, 4n)
            act[:, t, :2 * n] = sigmoid(a[:, :2 * n])
            act[:, t, 2 * n:3 * n] = np.tanh(a[:, 2 * n:3 * n])
            act[:, t, 3 * n:] = sigmoid(a[:, 3 * n:])
            i, f, g, o = np.split(act[:, t], 4, axis=1)
            c_t = f * c_t + i * g
            h_t = o * np.tanh(c_t)
            c[:, t], h[:, t] = c_t, h_t
        self.cache = (act, c, h)
        return h

    def backward(self, dy: np.ndarray) -> np.ndarray:
        act, c, h = self._cached("cache")
        check_gradient(self, dy, h.shape)
        n = self.n_hidden
        w_hh = self.params["weight_hh"].value
        da = np.empty_like(act)
        dh_carry = np.zeros_like(h[:, 0])
        dc_carry = np.zeros_like(h[:, 0])
        for t in reversed(range(h.shape[1])):
            i, f, g, o = np.split(act[:, t], 4, axis=1)
            tanh_c = np.tanh(c[:, t])
            c_prev = c[:, t - 1] if t > 0 else np.zeros_like(dc_carry)
            dh = dy[:, t] + dh_carry
            dc = dh * o * (1 - tanh_c ** 2) + dc_carry
            da[:, t, :n] = dc * g * i * (1 - i)
            da[:, t, n:2 * n] = dc * c_prev * f * (1 - f)
            da[:, t, 2 * n:3 * n] = dc * i * (1 - g ** 2)
            da[:, t, 3 * n:] = dh * tanh_c * o * (1 - o)
            dc_carry = dc * f
            dh_carry = da[:, t] @ w_hh
        return self._weight_gradients(da, h)


class LastStep(Layer):
    """The last hidden state of a sequence: (b, T, n) -> (b, n) (what a many-to-one network reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 3:
            raise shape_error(self, x, "sequences (batch, time, features)", "put it after RNN or LSTM")
        self.shape = x.shape
        return x[:, -1]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = self._cached("shape")
        dx = np.zeros(shape, dtype=dy.dtype)
        dx[:, -1] = dy
        return dx
