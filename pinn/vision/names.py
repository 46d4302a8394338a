"""The names of ``pinn classify``'s choices (data sets, models) and its augmentation settings.

This module imports no numerics, so the command line can offer the choices and check a config at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DatasetName(str, enum.Enum):
    """The image data sets ``pinn classify`` knows."""

    digits = "digits"
    fashion_mnist = "fashion-mnist"
    cifar10 = "cifar10"


class ModelName(str, enum.Enum):
    """Architectures. ``default`` picks the strong model of the data set (see :func:`resolve_model`).

    notes-digits: Conv10(3x3)-Pool-Dense50-Dense10, the notes' grid-search network for 8x8 digits.
    notes-cifar: Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10, the notes' CIFAR-10 network.
    digits-cnn, fashion-cnn: VGG-style stacks of 3x3 convolution + batch norm + ReLU with max pooling.
    cifar-resnet: a narrow ResNet-9 (conv stem, three stages with two residual blocks, global pooling).
    """

    default = "default"
    notes_digits = "notes-digits"
    notes_cifar = "notes-cifar"
    digits_cnn = "digits-cnn"
    fashion_cnn = "fashion-cnn"
    cifar_resnet = "cifar-resnet"


STRONG_MODEL = {"digits": ModelName.digits_cnn, "fashion-mnist": ModelName.fashion_cnn,
                "cifar10": ModelName.cifar_resnet}


def resolve_model(name: ModelName, dataset: str) -> ModelName:
    """``default`` becomes the strong model of ``dataset``; other names pass through."""
    name = ModelName(name)
    return STRONG_MODEL[str(getattr(dataset, "value", dataset))] if name is ModelName.default else name


@dataclass(frozen=True)
class Augmentation:
    """shift: largest translation in pixels (zero padding); flip: mirror left-right with probability 1/2;
    cutout: side of a square zeroed at a random place (0 = off; DeVries & Taylor 2017)."""

    shift: int = 0
    flip: bool = False
    cutout: int = 0

    @property
    def active(self) -> bool:
        return self.shift > 0 or self.flip or self.cutout > 0
