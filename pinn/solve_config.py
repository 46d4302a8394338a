"""The settings of a solve, as frozen dataclasses that validate their own fields.

:class:`SolveConfig` (method, precision, device, evaluation grid) holds a :class:`MarchingConfig` (the
time-marching least-squares solver) and a :class:`GradientConfig` (the classic gradient-trained PINN);
:class:`SolveCommand` is what ``pinn solve PROBLEM`` was asked, saved as config.json. This module imports no
numerics, so the command line can build and check configs, and show their defaults, at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from pinn import checks
from pinn.choices import Activation, Device, DType, InitialCondition, Method, Optimizer, Sampling, Schedule
from pinn.errors import PinnError

DEFAULT_TOL = 1e-10
"""Relative L2 error the marching solver aims at when neither a tolerance nor a fixed window is given."""


class ErrorControl(str, enum.Enum):
    """What the tolerance bounds when the windows are error-controlled.

    interval: the estimated relative L2 error over the whole interval, including the growth of earlier
        windows' errors (a second, tighter pass when the first misses it). The default.
    window: each window's own estimated error relative to the solution's size, in one pass, the way an
        adaptive ODE integrator controls local errors; on unstable problems the total error can exceed it.
    """

    interval = "interval"
    window = "window"


@dataclass(frozen=True)
class MarchingConfig:
    """Settings of the time-marching least-squares solver.

    window: fixed window length in the problem's time units (windows also break at ``problem.breakpoints``);
        None (the default) lets the tolerance choose each window (error-controlled windows).
    features: hidden features M (width of the random network's last layer).
    points: collocation points per window (Chebyshev-Gauss-Lobatto nodes, both ends included).
    depth: hidden layers of the feature network.
    scale: hidden weights and biases are drawn from U(-scale, scale) (input in [-1, 1]).
    activation: hidden activation.
    max_iter: cap on Gauss-Newton iterations per window (stops earlier at convergence).
    tol: Gauss-Newton stops when the correction is below tol x the solution's size (and, with a tolerance,
        below 1% of the error the window may make).
    seed: seed of the random features.
    hidden_epochs: if > 0, the hidden layers are first trained by Adam for this many steps as a classic PINN
        on the first window (hybrid least-squares / gradient training, Cyr et al. 2020), then frozen and
        used as the features of every window.
    error_control: what the tolerance bounds with error-controlled windows (see :class:`ErrorControl`).
    min_window: error-controlled windows: shortest window before the solve gives up (default 1e-6 of the
        interval).
    max_window: error-controlled windows: longest window (default: the whole interval).
    """

    window: Optional[float] = None
    features: int = 60
    points: int = 80
    depth: int = 1
    scale: float = 1.0
    activation: Activation = Activation.tanh
    max_iter: int = 50
    tol: float = 1e-13
    seed: int = 0
    hidden_epochs: int = 0
    error_control: ErrorControl = ErrorControl.interval
    min_window: Optional[float] = None
    max_window: Optional[float] = None

    def __post_init__(self) -> None:
        if self.window is not None:
            checks.positive("window", self.window, 1e9)
        checks.count("features", self.features, 1, 20_000)
        checks.count("points", self.points, 2, 100_000)
        checks.count("depth", self.depth, 1, 100)
        checks.positive("scale", self.scale, 1e6)
        checks.count("max_iter", self.max_iter, 1)
        checks.positive("tol", self.tol, 1.0)
        checks.seed("seed", self.seed)
        checks.count("hidden_epochs", self.hidden_epochs, 0)
        for name in ("min_window", "max_window"):
            if getattr(self, name) is not None:
                checks.positive(name, getattr(self, name), 1e9)
        if self.min_window is not None and self.max_window is not None and self.min_window > self.max_window:
            raise PinnError("--min-window must not exceed --max-window")


@dataclass(frozen=True)
class GradientConfig:
    """Settings of the gradient-trained PINN.

    epochs: steps of the first-order optimizer (0 with ``lbfgs`` alone); lbfgs_iters: L-BFGS iterations
    afterwards (for ``adam+lbfgs`` and ``lbfgs``); points: collocation points; batch_size: mini-batch size
    (0 = full batch; ``sgd``/``sgd-momentum`` default to 64); resample_every: draw fresh collocation points
    every k epochs (0 = never); weight_decay: L2 strength; ic_weight: penalty weight when ic = penalty.
    """

    width: int = 64
    depth: int = 4
    activation: Activation = Activation.tanh
    optimizer: Optimizer = Optimizer.adam_lbfgs
    lr: float = 1e-3
    epochs: int = 5000
    lbfgs_iters: int = 1000
    schedule: Schedule = Schedule.none
    weight_decay: float = 0.0
    momentum: float = 0.9
    points: int = 512
    sampling: Sampling = Sampling.sobol
    resample_every: int = 0
    batch_size: int = 0
    ic: InitialCondition = InitialCondition.exact
    ic_weight: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        checks.count("width", self.width, 1, 100_000)
        checks.count("depth", self.depth, 1, 100)
        checks.positive("lr", self.lr, 1e12)
        checks.count("epochs", self.epochs, 0)
        checks.count("lbfgs_iters", self.lbfgs_iters, 0, 10 ** 7)
        checks.number("weight_decay", self.weight_decay, 0.0, 1e6)
        checks.number("momentum", self.momentum, 0.0, 1.0, strict_high=True)
        checks.count("points", self.points, 1, 10 ** 7)
        checks.count("resample_every", self.resample_every, 0)
        checks.count("batch_size", self.batch_size, 0, self.points)
        checks.positive("ic_weight", self.ic_weight, 1e12)
        checks.seed("seed", self.seed)
        if Optimizer(self.optimizer) is Optimizer.lbfgs and self.lbfgs_iters == 0:
            raise PinnError("--optimizer lbfgs needs --lbfgs-iters >= 1")
        if Optimizer(self.optimizer) is not Optimizer.lbfgs and self.epochs == 0 and self.lbfgs_iters == 0:
            raise PinnError("--epochs 0 and --lbfgs-iters 0 leave nothing to train")


@dataclass(frozen=True)
class SolveConfig:
    """Everything that defines a solve besides the problem: method, precision, device, evaluation grid,
    and the settings of each method.

    tol: marching: the relative L2 error to reach; the windows are then chosen by error control (None:
        ``DEFAULT_TOL``). With a fixed ``marching.window`` it is a check that raises PinnError when a
        window's estimated error exceeds it.
    threads: intra-op torch threads during the solve (None: one thread when each window's system is small,
        see :mod:`pinn.threads`); the previous setting is restored afterwards.
    """

    method: Method = Method.marching
    dtype: DType = DType.float64
    device: Device = Device.cpu
    eval_points: int = 4001
    marching: MarchingConfig = field(default_factory=MarchingConfig)
    gradient: GradientConfig = field(default_factory=GradientConfig)
    tol: Optional[float] = None
    threads: Optional[int] = None

    def __post_init__(self) -> None:
        for name, kind in (("method", Method), ("dtype", DType), ("device", Device)):
            try:
                kind(getattr(self, name))
            except ValueError:
                raise PinnError(f"--{name} must be one of {', '.join(m.value for m in kind)}, "
                                f"got {getattr(self, name)!r}") from None
        checks.count("eval_points", self.eval_points, 2, 10 ** 7)
        if self.tol is not None:
            checks.positive("tol", self.tol, 1.0)
        if self.threads is not None:
            checks.count("threads", self.threads, 1, 1024)


@dataclass(frozen=True)
class SolveCommand:
    """Everything ``pinn solve PROBLEM`` was asked (saved as config.json, so ``pinn rerun`` repeats it).

    problem: registry name; values: parameter values that differ from the problem's defaults; u0, t0, t1:
    initial state and interval (None: the problem's); solve: the solver settings; out: parent folder of the
    run folder.
    """

    problem: str
    values: Mapping[str, Any] = field(default_factory=dict)
    u0: Optional[tuple[float, ...]] = None
    t0: Optional[float] = None
    t1: Optional[float] = None
    solve: SolveConfig = field(default_factory=SolveConfig)
    out: Path = Path("runs")
