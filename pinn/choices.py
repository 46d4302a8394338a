"""The fixed choices of pinn's commands and configs, as ``str`` Enums shared by the library and the CLI.

They live in this light module (no torch, scipy or matplotlib) so that the command line can offer them in
its options and help without importing the numerics.
"""

from __future__ import annotations

import enum


class Method(str, enum.Enum):
    """marching: time-marching windows with least-squares (Gauss-Newton) output layers, solver-grade accuracy;
    gradient: one network over the whole interval trained by gradient descent (the classic PINN)."""

    marching = "marching"
    gradient = "gradient"


class DType(str, enum.Enum):
    """Floating-point precision of parameters and data."""

    float32 = "float32"
    float64 = "float64"

    @property
    def torch(self):  # -> torch.dtype
        """The torch dtype."""
        import torch

        return torch.float32 if self is DType.float32 else torch.float64


class Device(str, enum.Enum):
    """Where tensors live: the CPU, a CUDA GPU, or auto (CUDA when available, else the CPU)."""

    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


class Activation(str, enum.Enum):
    """Hidden-layer activations."""

    tanh = "tanh"
    sin = "sin"
    silu = "silu"
    gelu = "gelu"
    relu = "relu"
    softplus = "softplus"


class Optimizer(str, enum.Enum):
    """Optimizers: plain gradient descent, with momentum or Nesterov momentum, Adam, AdamW, L-BFGS, and
    Adam followed by L-BFGS. ``gd``/``sgd`` differ only in batching, which the caller decides: ``gd`` uses
    the full batch, ``sgd`` mini-batches."""

    gd = "gd"
    gd_momentum = "gd-momentum"
    sgd = "sgd"
    sgd_momentum = "sgd-momentum"
    nesterov = "nesterov"
    adam = "adam"
    adamw = "adamw"
    lbfgs = "lbfgs"
    adam_lbfgs = "adam+lbfgs"

    @property
    def mini_batches(self) -> bool:
        """Whether this choice draws mini-batches (stochastic gradient descent)."""
        return self in (Optimizer.sgd, Optimizer.sgd_momentum)


class Schedule(str, enum.Enum):
    """Learning-rate schedules: constant, step decay, exponential decay, cosine annealing, reduce on plateau."""

    none = "none"
    constant = "constant"
    step = "step"
    exponential = "exponential"
    cosine = "cosine"
    plateau = "plateau"


class Sampling(str, enum.Enum):
    """How collocation times are placed on [t0, t1]."""

    grid = "grid"
    uniform = "uniform"
    sobol = "sobol"


class InitialCondition(str, enum.Enum):
    """How the initial condition is imposed: exactly by the trial solution, or softly by a penalty."""

    exact = "exact"
    penalty = "penalty"


class FitMethod(str, enum.Enum):
    """How identification fits the constants: Levenberg-Marquardt on the joint least-squares problem
    (with standard errors), or Adam on a network and the constants together."""

    lm = "lm"
    adam = "adam"


class Backend(str, enum.Enum):
    """torch: PyTorch (mixed precision, CUDA, torchrun); numpy: pinn.scratch in float32 on one CPU core."""

    torch = "torch"
    numpy = "numpy"
