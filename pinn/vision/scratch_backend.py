"""The numpy backend of ``pinn classify``: the torch architecture rebuilt layer by layer from
:mod:`pinn.scratch`, starting from the same initial weights, trained by pinn.scratch's optimizers.

Only the network and its training step live here (:class:`NumpyTrainer`, the numpy side of
:class:`pinn.vision.train.Trainer`); batches, augmentation, the learning-rate schedule (torch's scheduler
objects drive the NumPy optimizer's ``lr``), validation, history, checkpoints, metrics and figures are the
shared code of :mod:`pinn.vision`. Weights and buffers keep PyTorch's names and shapes, so a checkpoint of a
numpy run loads into the torch network and the other way round.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from pinn import scratch
from pinn.choices import Optimizer, Schedule
from pinn.errors import PinnError
from pinn.optim import scheduler_step
from pinn.vision.config import ClassifyConfig
from pinn.vision.datasets import ImageSet
from pinn.vision.distributed import Cluster
from pinn.vision.models import Standardize, build_model
from pinn.vision.train import _fast_forward, _scheduler

NUMPY_DTYPE = np.float32
"""float32 as torch's default: on one core float64 matrix products run 2.6x slower (measured 37 vs 97
GFLOP/s with OpenBLAS), and the gradient checks show the layers are exact in either type."""


def _conv(m: nn.Conv2d) -> scratch.Layer:
    square = m.kernel_size[0] == m.kernel_size[1] and m.stride[0] == m.stride[1] and m.padding[0] == m.padding[1]
    if not square or m.groups != 1 or m.dilation != (1, 1) or m.padding_mode != "zeros" or isinstance(m.padding, str):
        raise PinnError(f"the numpy backend has square, ungrouped, undilated, zero-padded convolutions only, not {m}")
    return scratch.Conv2D(m.in_channels, m.out_channels, m.kernel_size[0], stride=m.stride[0], padding=m.padding[0],
                          bias=m.bias is not None, dtype=NUMPY_DTYPE)


def _pool(m: nn.MaxPool2d) -> scratch.Layer:
    if m.stride not in (m.kernel_size, None) or m.padding != 0 or m.dilation != 1 or m.ceil_mode:
        raise PinnError(f"the numpy backend pools non-overlapping blocks only, not {m}")
    return scratch.MaxPool2D(int(m.kernel_size))


def _flatten(m: nn.Flatten) -> scratch.Layer:
    if m.start_dim != 1 or m.end_dim != -1:
        raise PinnError(f"the numpy backend flattens everything after the batch axis only, not {m}")
    return scratch.Flatten()


_LAYERS: dict[type, Callable[[Any], scratch.Layer]] = {
    Standardize: lambda m: scratch.Standardize(m.mean.flatten().tolist(), m.std.flatten().tolist(),
                                               dtype=NUMPY_DTYPE),
    nn.Conv2d: _conv,
    nn.BatchNorm2d: lambda m: scratch.BatchNorm2D(m.num_features, eps=m.eps, momentum=m.momentum, dtype=NUMPY_DTYPE),
    nn.MaxPool2d: _pool,
    nn.Flatten: _flatten,
    nn.Dropout: lambda m: scratch.Dropout(m.p),
    nn.Linear: lambda m: scratch.Dense(m.in_features, m.out_features, dtype=NUMPY_DTYPE),
    nn.ReLU: lambda m: scratch.ReLU(),
    nn.Tanh: lambda m: scratch.Tanh(),
    nn.Sigmoid: lambda m: scratch.Sigmoid(),
}


def scratch_network(model: nn.Sequential) -> scratch.Sequential:
    """The pinn.scratch twin of a torch nn.Sequential: one layer per module, with its weights and buffers."""
    layers = []
    for module in model:
        convert = _LAYERS.get(type(module))
        if convert is None:
            raise PinnError(f"the numpy backend has no layer for torch's {type(module).__name__}: use --backend "
                            "torch for this model")
        layers.append(convert(module))
    network = scratch.Sequential(layers)
    network.load_state_dict({k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})
    return network


class ScratchClassifier:
    """A pinn.scratch network behind the part of torch's nn.Module interface the shared code uses: called on
    float images (b, C, H, W) it returns logits (b, K) as a torch tensor; train/eval; state_dict and
    load_state_dict in torch tensors under nn.Sequential's keys; parameters() as tensors sharing memory."""

    def __init__(self, network: scratch.Sequential) -> None:
        self.network = network

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged network's NaN is reported by the loop
            return torch.from_numpy(self.network.forward(x.detach().cpu().numpy()))

    def train(self, mode: bool = True) -> "ScratchClassifier":
        self.network.train(mode)
        return self

    def eval(self) -> "ScratchClassifier":
        return self.train(False)

    @property
    def training(self) -> bool:
        return self.network.training

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(v) for k, v in self.network.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.network.load_state_dict({k: v.detach().cpu().numpy() for k, v in state.items()})

    def parameters(self) -> Iterator[nn.Parameter]:
        return (nn.Parameter(torch.from_numpy(p.value)) for p in self.network.parameters())

    def seed_dropout(self, seed: int) -> None:
        """Give every Dropout layer a generator seeded with ``seed`` (an epoch's draws, reproducible)."""
        for layer in self.network.layers:
            if isinstance(layer, scratch.Dropout):
                layer.rng = np.random.default_rng(seed)


def classifier_from_torch(model: nn.Sequential) -> ScratchClassifier:
    """The numpy twin of a torch classifier built by :func:`pinn.vision.models.build_model`."""
    return ScratchClassifier(scratch_network(model))


_OPTIMIZERS: dict[Optimizer, Callable[[Sequence[scratch.Parameter], ClassifyConfig], scratch.Optimizer]] = {
    Optimizer.gd: lambda p, cfg: scratch.SGD(p, cfg.lr),
    Optimizer.sgd: lambda p, cfg: scratch.SGD(p, cfg.lr),
    Optimizer.gd_momentum: lambda p, cfg: scratch.SGD(p, cfg.lr, momentum=cfg.momentum),
    Optimizer.sgd_momentum: lambda p, cfg: scratch.SGD(p, cfg.lr, momentum=cfg.momentum),
    Optimizer.nesterov: lambda p, cfg: scratch.SGD(p, cfg.lr, momentum=cfg.momentum, nesterov=True),
    Optimizer.adam: lambda p, cfg: scratch.Adam(p, cfg.lr),
    # pinn classify builds AdamW with weight_decay 0 (L2 enters the loss), where it is exactly Adam
    Optimizer.adamw: lambda p, cfg: scratch.Adam(p, cfg.lr),
}


def _as_tensors(state: Any) -> Any:
    """NumPy arrays in an optimizer state -> torch tensors (checkpoints load with weights_only=True)."""
    if isinstance(state, dict):
        return {k: _as_tensors(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_as_tensors(v) for v in state]
    return torch.from_numpy(state) if isinstance(state, np.ndarray) else state


def _as_arrays(state: Any) -> Any:
    if isinstance(state, dict):
        return {k: _as_arrays(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_as_arrays(v) for v in state]
    return state.numpy() if isinstance(state, torch.Tensor) else state


class NumpyTrainer:
    """The numpy backend's network (the torch architecture's twin, same initial weights) and its step:
    softmax cross-entropy (label-smoothed if asked) plus lambda sum ||W||^2, backpropagated by pinn.scratch,
    one step of its SGD/Adam at the learning rate of the shared schedule."""

    def __init__(self, cfg: ClassifyConfig, images: ImageSet, mean: list[float], std: list[float],
                 cluster: Cluster, steps_per_epoch: int) -> None:
        if cluster.distributed or cluster.device.type != "cpu":
            raise PinnError("--backend numpy trains in one process on the CPU: run it without torchrun and "
                            "with --device cpu or auto")
        self.cfg, self.steps_per_epoch = cfg, steps_per_epoch
        self.model = classifier_from_torch(build_model(cfg.model, images.image_shape, images.n_classes, mean, std,
                                                       cfg.dropout))
        params = self.model.network.parameters()
        self.opt = _OPTIMIZERS[cfg.optimizer](params, cfg)
        self.loss = scratch.SoftmaxCrossEntropy(cfg.label_smoothing)
        self.penalty = scratch.L2Penalty(cfg.l2) if cfg.l2 > 0 else None
        # the shared schedule acts on a stand-in torch optimizer whose lr the NumPy optimizer copies
        self._lr_source = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=cfg.lr)
        self.scheduler = _scheduler(cfg, self._lr_source, steps_per_epoch)

    def start_epoch(self, seed: int) -> None:
        self.model.seed_dropout(seed)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.opt.lr = self.lr
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected and reported by the loop
            loss, logits = self.model.network.train_step(x.numpy(), y.numpy(), self.loss, self.opt, self.penalty)
        if self.cfg.schedule is not Schedule.plateau and self.scheduler is not None:
            self._lr_source.step()  # no gradients: only tells the scheduler a step was taken
            self.scheduler.step()
        return torch.tensor(loss), torch.from_numpy(logits)

    def end_epoch(self, metric: float) -> None:
        if self.cfg.schedule is Schedule.plateau:
            scheduler_step(self.scheduler, metric)

    @property
    def lr(self) -> float:
        return self._lr_source.param_groups[0]["lr"]

    def optimizer_state(self) -> dict[str, Any]:
        return _as_tensors(self.opt.state_dict())

    def resume(self, checkpoint: dict[str, Any], history: list[dict[str, float]]) -> None:
        self.model.load_state_dict(checkpoint["model"])
        try:
            self.opt.load_state_dict(_as_arrays(checkpoint["optimizer"]))
        except KeyError:
            raise PinnError("the checkpoint's optimizer state is not a numpy-backend one: resume a run with the "
                            "backend that made it") from None
        _fast_forward(self.scheduler, self.cfg, checkpoint["epoch"], self.steps_per_epoch, history)
