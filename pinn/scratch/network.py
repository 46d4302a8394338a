"""Sequential: a chain of layers with forward, backward (backpropagation), one training step, ``fit`` and
``predict``; its parameters and buffers as a state dict keyed like PyTorch's ("3.weight").

    net = Sequential([Conv2D(1, 16, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(16 * 3 * 3, 10)])
    history = net.fit(x_train, y_train, SoftmaxCrossEntropy(), Adam(net.parameters(), 1e-3), epochs=10)
    labels = net.predict(x_test).argmax(axis=1)
"""

from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import numpy as np

from pinn.errors import PinnError
from pinn.scratch.layers import Layer, Parameter
from pinn.scratch.losses import L2Penalty, Loss
from pinn.scratch.optimizers import Optimizer


class Sequential:
    """Layers applied in order: y = f_L(... f_2(f_1(x))); backward applies their backward passes in reverse."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        layers = list(layers)
        bad = [type(layer).__name__ for layer in layers if not isinstance(layer, Layer)]
        if bad or not layers:
            raise PinnError(f"Sequential takes a non-empty list of layers (pinn.scratch classes), got {bad or '[]'}")
        self.layers = layers

    def __repr__(self) -> str:
        return "Sequential([" + ", ".join(map(repr, self.layers)) + "])"

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def dtype(self) -> np.dtype:
        """The floating-point type of the parameters (float64 if there are none)."""
        params = self.parameters()
        return params[0].value.dtype if params else np.dtype(np.float64)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The network's output for the batch x (converted to the parameters' dtype)."""
        x = np.asarray(x, dtype=self.dtype)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Backpropagate dL/d(output) through every layer (filling the parameters' grads); returns dL/dx."""
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.params.values()]

    def count_parameters(self) -> int:
        return int(sum(p.value.size for p in self.parameters()))

    def train(self, mode: bool = True) -> "Sequential":
        """Training mode (dropout on, batch statistics) or, with mode False, evaluation mode."""
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self) -> "Sequential":
        return self.train(False)

    @property
    def training(self) -> bool:
        return self.layers[0].training

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed '<layer index>.<name>' as PyTorch's nn.Sequential."""
        state = {}
        for i, layer in enumerate(self.layers):
            state.update({f"{i}.{name}": p.value.copy() for name, p in layer.params.items()})
            state.update({f"{i}.{name}": np.array(b, copy=True) for name, b in layer.buffers.items()})
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Set every parameter and buffer from ``state`` (same keys and shapes as :meth:`state_dict`)."""
        mine = self.state_dict()
        missing, extra = set(mine) - set(state), set(state) - set(mine)
        wrong = [k for k in set(mine) & set(state) if np.shape(state[k]) != mine[k].shape]
        if missing or extra or wrong:
            raise PinnError(f"the state does not fit this network: missing {sorted(missing)}, unexpected "
                            f"{sorted(extra)}, wrong shape {sorted(wrong)}")
        for i, layer in enumerate(self.layers):
            for name, p in layer.params.items():
                p.value[...] = state[f"{i}.{name}"]
            for name, b in layer.buffers.items():
                layer.buffers[name] = np.array(state[f"{i}.{name}"], dtype=b.dtype)

    def predict(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Outputs for x in evaluation mode, ``batch_size`` rows at a time (the mode is restored after)."""
        was_training = self.training
        self.eval()
        try:
            return np.concatenate([self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        finally:
            self.train(was_training)

    def train_step(self, x: np.ndarray, target: np.ndarray, loss: Loss, optimizer: Optimizer,
                   penalty: Optional[L2Penalty] = None) -> tuple[float, np.ndarray]:
        """One gradient step on the batch (x, target): forward, loss, backward, L2 gradient, optimizer step.

        Returns the batch's loss (without the penalty) and the network's output before the step.
        """
        output = self.forward(x)
        value = loss.forward(output, target)
        self.backward(loss.backward())
        if penalty is not None:
            penalty.add_gradient(self.parameters())
        optimizer.step()
        return value, output

    def fit(self, x: np.ndarray, target: np.ndarray, loss: Loss, optimizer: Optimizer, epochs: int,
            batch_size: int = 32, penalty: Optional[L2Penalty] = None, rng: Optional[np.random.Generator] = None,
            validation: Optional[tuple[np.ndarray, np.ndarray]] = None,
            on_epoch: Optional[Callable[[dict[str, float]], None]] = None) -> list[dict[str, float]]:
        """Mini-batch training for ``epochs`` passes over (x, target) in a shuffled order drawn from ``rng``.

        Returns one row per epoch: epoch, train_loss (mean over the epoch's batches, before each step),
        val_loss (when ``validation`` = (x_val, target_val) is given) and seconds; ``on_epoch(row)`` sees
        each row as it is made.
        """
        if len(x) != len(target):
            raise PinnError(f"x has {len(x)} samples but target has {len(target)}: give one target per sample")
        if epochs < 1 or batch_size < 1:
            raise PinnError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
        rng = rng if rng is not None else np.random.default_rng(0)
        history = []
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            self.train()
            order = rng.permutation(len(x))
            total = 0.0
            for i in range(0, len(x), batch_size):
                batch = order[i:i + batch_size]
                value, _ = self.train_step(x[batch], target[batch], loss, optimizer, penalty)
                total += value * len(batch)
            row = {"epoch": epoch, "train_loss": total / len(x)}
            if validation is not None:
                row["val_loss"] = loss.forward(self.predict(validation[0]), validation[1])
            row["seconds"] = time.perf_counter() - start
            history.append(row)
            if on_epoch is not None:
                on_epoch(row)
        self.eval()
        return history


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose largest logit is at the true label. logits: (n, K); labels: (n,)."""
    return float(np.mean(np.argmax(logits, axis=1) == labels))
