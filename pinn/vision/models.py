"""Convolutional classifiers: the lecture notes' two networks and the strong defaults, chosen by name.

Every network takes images ``(B, C, H, W)`` as floats in [0, 1] and returns logits ``(B, n_classes)``
(the softmax lives in the cross-entropy loss). Its first layer standardises each channel with the
training set's mean and standard deviation, held as buffers, so a checkpoint is self-contained.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from pinn.errors import PinnError
from pinn.vision.names import ModelName


class Standardize(nn.Module):
    """x -> (x - mean_c) / std_c per channel c; mean, std: (C,) from the training images in [0, 1]."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    """3x3 'same' convolution (no bias: batch norm supplies the shift), batch norm, ReLU."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class Residual(nn.Module):
    """x + f(x) with f two conv-bn-relu layers at constant width (He et al. 2016)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*conv_bn_relu(width, width), *conv_bn_relu(width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def vgg_stack(c_in: int, stages: Sequence[Sequence[int]]) -> list[nn.Module]:
    """Stages of conv-bn-relu layers with the given widths, each stage ending in 2x2 max pooling."""
    layers: list[nn.Module] = []
    for widths in stages:
        for width in widths:
            layers += conv_bn_relu(c_in, width)
            c_in = width
        layers.append(nn.MaxPool2d(2))
    return layers


def _body(name: ModelName, c_in: int, n_classes: int, dropout: float) -> list[nn.Module]:
    """Layers after standardisation; dense layers are sized lazily from the feature map."""
    drop = [nn.Dropout(dropout)] if dropout > 0 else []
    if name is ModelName.notes_digits:
        return [nn.Conv2d(c_in, 10, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.LazyLinear(50), nn.ReLU(),
                *drop, nn.Linear(50, n_classes)]
    if name is ModelName.notes_cifar:
        return [nn.Conv2d(c_in, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(64), nn.ReLU(),
                *drop, nn.Linear(64, n_classes)]
    if name is ModelName.digits_cnn:  # 8x8 -> 4x4 -> 2x2
        return [*vgg_stack(c_in, ((32, 32), (64, 64))), nn.Flatten(), *drop, nn.LazyLinear(n_classes)]
    if name is ModelName.fashion_cnn:  # 28x28 -> 14x14 -> 7x7 -> 3x3
        return [*vgg_stack(c_in, ((32,), (64, 64), (128,))), nn.Flatten(), *drop, nn.LazyLinear(n_classes)]
    if name is ModelName.cifar_resnet:  # 32x32 -> 16x16 -> 8x8 -> 4x4
        return [*conv_bn_relu(c_in, 32), *conv_bn_relu(32, 64), nn.MaxPool2d(2), Residual(64),
                *conv_bn_relu(64, 128), nn.MaxPool2d(2), *conv_bn_relu(128, 256), nn.MaxPool2d(2), Residual(256),
                nn.AdaptiveMaxPool2d(1), nn.Flatten(), *drop, nn.Linear(256, n_classes)]
    raise PinnError(f"model {name.value!r} must be resolved to a concrete architecture first")


def build_model(name: ModelName, image_shape: tuple[int, int, int], n_classes: int, mean: Sequence[float],
                std: Sequence[float], dropout: float = 0.0) -> nn.Sequential:
    """The network ``name`` for images ``(C, H, W)``; raises PinnError if the images are too small for it."""
    name = ModelName(name)
    c, h, w = image_shape
    if len(mean) != c or len(std) != c:
        raise PinnError(f"mean/std need one value per channel ({c}), got {len(mean)} and {len(std)}")
    model = nn.Sequential(Standardize(mean, std), *_body(name, c, n_classes, dropout))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, c, h, w))  # sizes the lazy dense layers
    except RuntimeError as exc:
        raise PinnError(f"model {name.value!r} does not fit {h}x{w} images (its pooling shrinks them below "
                        f"1 pixel): choose another --model") from exc
    return model.train()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def penalized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weight matrices and kernels of dense and convolution layers: what the L2 penalty acts on
    (biases and batch-norm scales are left free, as Keras' ``kernel_regularizer`` in the notes does)."""
    return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def forward_cost(model: nn.Module, image_shape: tuple[int, int, int]) -> tuple[float, float]:
    """(multiply-adds, activation values) of one image's forward pass, counted on a dummy image: each
    convolution adds out_numel * in_channels/groups * kernel area, each dense layer in * out; every layer
    output is counted as an activation (what backpropagation keeps)."""
    macs, values = [0.0], [0.0]

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs[0] += output.numel() * module.in_channels / module.groups * k
        elif isinstance(module, nn.Linear):
            macs[0] += module.in_features * module.out_features
        if isinstance(output, torch.Tensor):
            values[0] += output.numel()

    hooks = [m.register_forward_hook(count) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            was_training = model.training
            model.eval()(torch.zeros(1, *image_shape))
            model.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    return macs[0], values[0]
