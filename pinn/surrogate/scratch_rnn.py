"""A recurrent surrogate written from scratch: pinn.scratch's simple RNN or LSTM over a window of states,
trained by backpropagation through time, usable wherever a :class:`~pinn.surrogate.models.Stepper` is.

The model and its training mirror the torch path (:class:`~pinn.surrogate.models.RecurrentFlow` and
:func:`~pinn.surrogate.train.train_surrogate`) so the two can be compared on the same data and metric:

    u_{t+1} = u_t + dt (r_mean + r_std * (W h_T + b)),   h_T = cell over z_{t-w+1..t}, z = (u - mean) / std,

(plus cos/sin of the drive phases as inputs for a driven system). The loss is the mean squared one-step
error in normalised rate units, mean_k,i (W h_T + b - rho)^2 with rho = ((u_{t+1} - u_t) / dt - r_mean)
/ r_std, which is exactly the torch path's loss. Windows come from the training trajectories with
``config.stride`` (validation with ``config.val_stride``); mini-batches are shuffled per epoch; the
learning-rate schedule (torch's scheduler objects, stepped once per epoch) drives the NumPy optimizer;
the weights with the lowest validation loss are kept, with early stopping and a time budget as in
``train_surrogate``. ``weight_decay`` lambda adds lambda W to the gradient of the weight matrices
(an L2 penalty lambda/2 ||W||^2; biases are not decayed).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import torch

from pinn import scratch
from pinn.choices import DType, Optimizer
from pinn.errors import PinnError
from pinn.optim import EpochLoop, make_scheduler, scheduler_step
from pinn.surrogate.data import Normaliser, TrajectoryData, windows
from pinn.surrogate.models import ModelSpec, spec_from_json
from pinn.surrogate.train import TrainConfig, batch_size


class RecurrentCell(str, enum.Enum):
    """The from-scratch recurrent cells: Elman RNN (tanh) or LSTM."""

    rnn = "rnn"
    lstm = "lstm"


CHECKPOINT_KIND = "scratch-recurrent"
"""The ``kind`` entry of a from-scratch surrogate's model.pt (see :func:`checkpoint_state`)."""


class ScratchRecurrentFlow:
    """u_{t+1} from the last ``spec.window`` states with a pinn.scratch RNN/LSTM (module docstring).

    ``spec.width`` is the hidden size and ``spec.depth`` the number of stacked cells (``spec.dropout``
    between them); ``spec.precision`` is the network's dtype. ``predict_next`` takes and returns torch
    tensors (the Stepper protocol); the state update u_t + dt * rate is done in float64.
    """

    def __init__(self, cell: RecurrentCell, spec: ModelSpec, normaliser: Normaliser,
                 rng: np.random.Generator) -> None:
        self.cell, self.spec = RecurrentCell(cell), spec
        self.dt = float(spec.dt)
        self.history_length = int(spec.window)
        self.dtype = np.float32 if DType(spec.precision) is DType.float32 else np.float64
        self.normaliser = Normaliser(*(np.asarray(getattr(normaliser, k), dtype=float) for k in
                                       ("state_mean", "state_std", "rate_mean", "rate_std")))
        self.freqs = np.asarray(spec.drive_freqs, dtype=float)
        n_in = spec.dim + 2 * self.freqs.size
        layer = scratch.LSTM if self.cell is RecurrentCell.lstm else scratch.RNN
        layers: list[scratch.Layer] = []
        for k in range(spec.depth):
            if k > 0 and spec.dropout > 0:
                layers.append(scratch.Dropout(spec.dropout, rng=rng))
            layers.append(layer(n_in if k == 0 else spec.width, spec.width, rng=rng, dtype=self.dtype))
        head = scratch.Dense(spec.width, spec.dim, rng=rng, dtype=self.dtype)
        # Xavier-normal weights and a zero bias, as RecurrentFlow's head
        head.params["weight"].value[...] = rng.normal(0.0, math.sqrt(2.0 / (spec.width + spec.dim)),
                                                      (spec.dim, spec.width))
        head.params["bias"].value[...] = 0.0
        self.network = scratch.Sequential([*layers, scratch.LastStep(), head])

    def inputs(self, history: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Network inputs for windows history (b, w, d) whose last state is at t (b, 1): (b, w, d + 2k)."""
        b, w, d = history.shape
        z = (history - self.normaliser.state_mean) / self.normaliser.state_std
        if self.freqs.size:
            lags = np.arange(w - 1, -1, -1) * self.dt
            phase = (t - lags[None, :])[..., None] * self.freqs  # (b, w, k)
            z = np.concatenate((z, np.cos(phase), np.sin(phase)), axis=2)
        return z.astype(self.dtype)

    def rate_targets(self, history: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """rho = ((u_{t+1} - u_t) / dt - r_mean) / r_std: the network's target (b, d)."""
        rate = (nxt - history[:, -1]) / self.dt
        return ((rate - self.normaliser.rate_mean) / self.normaliser.rate_std).astype(self.dtype)

    def next_state(self, history: np.ndarray, t: np.ndarray) -> np.ndarray:
        """u_{t+1} (b, d) in float64 from windows history (b, w, d) and times t (b, 1), in evaluation mode."""
        history = np.asarray(history, dtype=float)
        was_training = self.network.training
        self.network.eval()
        out = self.network.forward(self.inputs(history, np.asarray(t, dtype=float)))
        self.network.train(was_training)
        return history[:, -1] + self.dt * (self.normaliser.rate_mean + self.normaliser.rate_std * out)

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The Stepper protocol: history (b, w, d), t (b, 1) -> next state (b, d), in history's dtype."""
        nxt = self.next_state(history.detach().cpu().numpy(), t.detach().cpu().numpy())
        return torch.from_numpy(nxt).to(history.dtype)

    def count_parameters(self) -> int:
        return self.network.count_parameters()


@dataclass
class ScratchTrainResult:
    """The best model (by validation loss), the per-epoch history and how training ended (as TrainResult)."""

    model: ScratchRecurrentFlow
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val: float = math.inf
    seconds: float = 0.0
    stopped: str = "epochs"


_OPTIMIZERS: dict[Optimizer, Callable[[list, TrainConfig], scratch.Optimizer]] = {
    Optimizer.gd: lambda p, c: scratch.SGD(p, c.lr),
    Optimizer.sgd: lambda p, c: scratch.SGD(p, c.lr),
    Optimizer.gd_momentum: lambda p, c: scratch.SGD(p, c.lr, momentum=c.momentum),
    Optimizer.sgd_momentum: lambda p, c: scratch.SGD(p, c.lr, momentum=c.momentum),
    Optimizer.nesterov: lambda p, c: scratch.SGD(p, c.lr, momentum=c.momentum, nesterov=True),
    Optimizer.adam: lambda p, c: scratch.Adam(p, c.lr),
    Optimizer.adamw: lambda p, c: scratch.Adam(p, c.lr),
}


def train_scratch_recurrent(data: TrajectoryData, spec: ModelSpec, config: TrainConfig,
                            cell: RecurrentCell = RecurrentCell.lstm,
                            on_epoch: Optional[Callable[[int, dict[str, float]], None]] = None) -> ScratchTrainResult:
    """Train the from-scratch recurrent surrogate ``cell`` with ``spec`` on ``data`` (module docstring).

    ``on_epoch(epoch, row)`` sees each history row (train_loss, val_loss, lr, seconds). Optimizers: gd, sgd
    (with momentum or Nesterov), adam (adamw = adam with the L2 penalty); L-BFGS is torch-only.
    """
    kind = Optimizer(config.optimizer)
    if kind not in _OPTIMIZERS:
        raise PinnError(f"the numpy recurrent surrogate trains with {', '.join(o.value for o in _OPTIMIZERS)}; "
                        f"{kind.value} needs the torch backend")
    if spec.dim != data.dim:
        raise PinnError(f"the model has {spec.dim} components but the data have {data.dim}")
    rng = np.random.default_rng(config.seed)
    model = ScratchRecurrentFlow(cell, spec, data.normaliser, rng)
    net = model.network

    def tensors(which: str, stride: int) -> tuple[np.ndarray, np.ndarray]:
        hist, t, nxt = windows(data.subset(which), data.t, spec.window, stride)
        return model.inputs(hist, t), model.rate_targets(hist, nxt)

    train = tensors("train", config.stride)  # (n, w, d + 2k), (n, d)
    x_val, rho_val = tensors("val", config.val_stride)
    steps = _ScratchSteps(net, config, train, rng)
    loop = EpochLoop(net.state_dict, net.load_state_dict, config.patience, config.max_seconds)
    for epoch in range(1, config.epochs + 1):
        train_loss = steps.epoch()
        val_loss = steps.loss.forward(net.predict(x_val, batch_size=8192), rho_val)
        steps.end_epoch(val_loss)
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": steps.opt.lr,
               "seconds": loop.elapsed()}
        if on_epoch is not None:
            on_epoch(epoch, row)
        if not loop.end_epoch(epoch, row, val_loss, losses=(train_loss, val_loss)):
            break
    loop.finish()
    net.eval()
    return ScratchTrainResult(model, loop.history, loop.best_epoch, loop.best_score[0], loop.elapsed(), loop.stopped)


class _ScratchSteps:
    """One epoch of shuffled mini-batch steps of the NumPy optimizer, with torch's learning-rate schedule."""

    def __init__(self, net: scratch.Sequential, config: TrainConfig, train: tuple[np.ndarray, np.ndarray],
                 rng: np.random.Generator) -> None:
        self.net, self.rng = net, rng
        self.x, self.rho = train
        self.n = self.x.shape[0]
        self.batch = batch_size(Optimizer(config.optimizer), config, self.n)
        self.opt = _OPTIMIZERS[Optimizer(config.optimizer)](net.parameters(), config)
        self.penalty = scratch.L2Penalty(config.weight_decay / 2) if config.weight_decay > 0 else None
        self.loss = scratch.MeanSquaredError()
        # the shared schedules are torch objects: a parameter-free torch optimizer carries the learning rate
        self.lr_source = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
        self.schedule = make_scheduler(config.schedule, self.lr_source, config.epochs)

    def epoch(self) -> float:
        """One pass over the shuffled training windows; returns the mean training loss."""
        self.net.train()
        self.opt.lr = self.lr_source.param_groups[0]["lr"]
        order = self.rng.permutation(self.n)
        total = 0.0
        for i in range(0, self.n, self.batch):
            idx = order[i:i + self.batch]
            value, _ = self.net.train_step(self.x[idx], self.rho[idx], self.loss, self.opt, self.penalty)
            total += value * idx.size
        return total / self.n

    def end_epoch(self, val_loss: float) -> None:
        """Advance the schedule by one epoch."""
        self.lr_source.step()  # no gradients: only tells the scheduler a step was taken
        scheduler_step(self.schedule, val_loss)


def checkpoint_state(model: ScratchRecurrentFlow) -> dict[str, Any]:
    """model.pt contents (tensors and plain values, loadable with ``torch.load(weights_only=True)``)."""
    from pinn.runs import to_json

    n = model.normaliser
    return {"kind": CHECKPOINT_KIND, "cell": model.cell.value, "spec": to_json(model.spec),
            "normaliser": {k: torch.from_numpy(np.asarray(getattr(n, k), dtype=float))
                           for k in ("state_mean", "state_std", "rate_mean", "rate_std")},
            "state": {k: torch.from_numpy(v) for k, v in model.network.state_dict().items()}}


def load_checkpoint_state(state: dict[str, Any]) -> ScratchRecurrentFlow:
    """Rebuild the surrogate saved by :func:`checkpoint_state`."""
    if state.get("kind") != CHECKPOINT_KIND:
        raise PinnError(f"not a from-scratch recurrent surrogate checkpoint (kind {state.get('kind')!r})")
    norm = Normaliser(*(state["normaliser"][k].numpy() for k in ("state_mean", "state_std", "rate_mean", "rate_std")))
    model = ScratchRecurrentFlow(RecurrentCell(state["cell"]), spec_from_json(state["spec"]), norm,
                                 np.random.default_rng(0))
    model.network.load_state_dict({k: v.numpy() for k, v in state["state"].items()})
    model.network.eval()
    return model
