"""The settings of ``pinn surrogate train`` and ``rollout`` as frozen dataclasses, with each model's recipe.

:class:`SurrogateConfig` holds every option; an option left at None takes the model's recipe
(:data:`RECIPES`) when :meth:`SurrogateConfig.resolved` is called, or the problem's default (data size,
step, horizon, lambda_max) inside :func:`pinn.surrogate.pipeline.run_surrogate`, so the Python API and the
command line train the same model from the same call. Each config checks its own fields when built and
raises :class:`~pinn.errors.PinnError` naming the option and the fix, before any work starts.

This module is light (no torch): the command line builds configs from its options without loading numerics.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Optional

from pinn import checks
from pinn.choices import Activation, Backend, DType, Optimizer, Schedule
from pinn.errors import PinnError


class SurrogateKind(str, enum.Enum):
    """Model families: trained networks (MLP flow map, LSTM, GRU), the SINDy baseline, least-squares flow
    maps (random features, polynomial features), an echo state network, and the SINDy autoencoder."""

    mlp = "mlp"
    lstm = "lstm"
    gru = "gru"
    rnn = "rnn"
    sindy = "sindy"
    random_features = "random-features"
    polynomial = "polynomial"
    reservoir = "reservoir"
    autoencoder = "autoencoder"

    @property
    def trained_network(self) -> bool:
        """MLP, LSTM or GRU: fitted by gradient-based training."""
        return self in (SurrogateKind.mlp, SurrogateKind.lstm, SurrogateKind.gru, SurrogateKind.rnn)

    @property
    def recurrent(self) -> bool:
        return self in (SurrogateKind.lstm, SurrogateKind.gru, SurrogateKind.rnn)


class FlowForm(str, enum.Enum):
    """How an MLP's output becomes the next state (see :mod:`pinn.surrogate.models`)."""

    direct = "direct"
    residual = "residual"
    rk4 = "rk4"


class FeatureMap(str, enum.Enum):
    """Random feature maps of a least-squares flow map (:mod:`pinn.surrogate.lsq`); polynomial features
    are their own model kind."""

    tanh = "tanh"
    fourier = "fourier"
    polynomial = "polynomial"


class Observation(str, enum.Enum):
    """What a surrogate sees: the state, or its fixed nonlinear lift to 128 dimensions
    (:mod:`pinn.surrogate.autoencoder`)."""

    state = "state"
    lifted128 = "lifted128"


class Integrator(str, enum.Enum):
    """How trajectories are integrated: the Taylor series (round-off accurate; RK4 when the right-hand side
    uses an operation Taylor arithmetic lacks) or RK4 with inner substeps."""

    taylor = "taylor"
    rk4 = "rk4"


RECIPES: dict[SurrogateKind, dict[str, Any]] = {
    SurrogateKind.mlp: dict(form=FlowForm.residual, width=32, depth=3, window=1, optimizer=Optimizer.adam_lbfgs,
                            schedule=Schedule.none, epochs=200, batch_size=0, stride=5, precision=DType.float64),
    SurrogateKind.lstm: dict(width=64, depth=1, window=10, optimizer=Optimizer.adam, schedule=Schedule.cosine,
                             epochs=40, batch_size=256, stride=2, precision=DType.float32),
    SurrogateKind.gru: dict(width=64, depth=1, window=10, optimizer=Optimizer.adam, schedule=Schedule.cosine,
                            epochs=40, batch_size=256, stride=2, precision=DType.float32),
    SurrogateKind.rnn: dict(width=64, depth=1, window=10, optimizer=Optimizer.adam, schedule=Schedule.cosine,
                            epochs=40, batch_size=256, stride=2, precision=DType.float32),
    SurrogateKind.sindy: dict(degree=2, window=1),
    SurrogateKind.random_features: dict(features=2000, feature_map=FeatureMap.tanh, feature_scale=0.2, stride=2,
                                        window=1),
    SurrogateKind.polynomial: dict(degree=10, stride=2, window=1),
    SurrogateKind.reservoir: dict(reservoir_size=600, stride=2, window=1),
    SurrogateKind.autoencoder: dict(width=64, epochs=300, stride=4, batch_size=512, lr=1e-3, window=1),
}
"""Each model's defaults, measured on Lorenz (benchmarks/surrogate_lorenz.py, benchmarks/surrogate_features.py):
MLP 32 x 3 residual float64, Adam then L-BFGS; LSTM/GRU 64 units over 10 states in float32; SINDy degree 2;
2000 tanh random features of scale 0.2 (the one-step error falls from 1e-9 at 128 features to 1e-13 at
1000); Chebyshev polynomials to degree 10 (round-off one-step error); a 600-unit reservoir; the
autoencoder's 64-unit coders for 300 epochs."""


COUNT_RANGES: dict[str, tuple[int, int]] = {
    "trajectories": (2, 1_000_000), "test_trajectories": (1, 1_000_000), "width": (1, 100_000), "depth": (1, 100),
    "window": (1, 10_000), "epochs": (1, 10_000_000), "batch_size": (0, 10_000_000), "lbfgs_iters": (1, 100_000),
    "patience": (0, 10_000_000), "stride": (1, 10_000_000), "unroll": (1, 10_000), "degree": (1, 30),
    "gauss_newton": (0, 10_000), "features": (1, 1_000_000), "reservoir_size": (1, 100_000),
    "warmup": (1, 1_000_000), "trials": (1, 10_000)}
"""Valid range of each whole-number option of ``pinn surrogate train``."""

POSITIVE_LIMITS: dict[str, float] = {"dt": 1e3, "t_final": 1e6, "horizon": 1e6, "lr": 1e12, "feature_scale": 1e6,
                                     "spectral_radius": 1e3, "input_scaling": 1e6}
"""Largest value of each option that must be > 0."""


@dataclass(frozen=True)
class SurrogateConfig:
    """Every option of ``pinn surrogate train`` (None: the model's recipe or the problem's default).

    backend: torch, or numpy for the from-scratch rnn and lstm (pinn.scratch).
    Data: trajectories (train + validation), test_trajectories, dt, t_final, data (an NPZ to read instead of
    simulating), integrator, seed. Evaluation: horizon (time units of the test rollouts), lyapunov
    (lambda_max), estimate_lyapunov (Benettin), reference_span (measure the Taylor/DOP853 agreement span).
    Trained networks: form, width, depth, activation, linear_skip, dropout, window, optimizer, lr, schedule,
    weight_decay, epochs, batch_size, lbfgs_iters, adam_fraction, patience, stride, max_seconds, precision,
    unroll (k-step rollout loss). SINDy: threshold, degree. Least squares: features (largest random-feature
    count; smaller prefixes are tried), feature_map, feature_scale, degree (polynomial), ridge (None: chosen on
    validation), gauss_newton (Levenberg-Marquardt iterations on the hidden layer, 0: none). Reservoir: reservoir_size, spectral_radius, leak, input_scaling (each None: tuned on
    validation), warmup (true samples read before a forecast), trials (tuning points). Autoencoder: width,
    epochs, lr, batch_size, stride. out: the folder that receives the run folder.
    """

    model: SurrogateKind = SurrogateKind.mlp
    backend: Backend = Backend.torch
    observe: Observation = Observation.state
    trajectories: Optional[int] = None
    test_trajectories: Optional[int] = None
    dt: Optional[float] = None
    t_final: Optional[float] = None
    data: Optional[str] = None
    integrator: Integrator = Integrator.taylor
    seed: int = 0
    horizon: Optional[float] = None
    lyapunov: Optional[float] = None
    estimate_lyapunov: bool = False
    reference_span: bool = True
    form: Optional[FlowForm] = None
    width: Optional[int] = None
    depth: Optional[int] = None
    activation: Activation = Activation.tanh
    linear_skip: bool = True
    dropout: float = 0.0
    window: Optional[int] = None
    optimizer: Optional[Optimizer] = None
    lr: Optional[float] = None
    schedule: Optional[Schedule] = None
    weight_decay: float = 0.0
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    lbfgs_iters: int = 20
    adam_fraction: float = 0.05
    patience: int = 0
    stride: Optional[int] = None
    max_seconds: float = 0.0
    precision: Optional[DType] = None
    unroll: int = 1
    threshold: float = 0.05
    degree: Optional[int] = None
    features: Optional[int] = None
    feature_map: Optional[FeatureMap] = None
    feature_scale: Optional[float] = None
    ridge: Optional[float] = None
    gauss_newton: int = 0
    reservoir_size: Optional[int] = None
    spectral_radius: Optional[float] = None
    leak: Optional[float] = None
    input_scaling: Optional[float] = None
    warmup: int = 100
    trials: int = 16
    out: str = "runs"

    def __post_init__(self) -> None:
        for name, enum_type in (("model", SurrogateKind), ("backend", Backend), ("observe", Observation), ("integrator", Integrator),
                                ("form", FlowForm), ("activation", Activation), ("optimizer", Optimizer),
                                ("schedule", Schedule), ("precision", DType), ("feature_map", FeatureMap)):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, enum_type(value))
                except ValueError:
                    choices = ", ".join(e.value for e in enum_type)
                    raise PinnError(f"--{name.replace('_', '-')} must be one of {choices}, got {value!r}") from None
        self._check_ranges()
        kind = self.model
        if self.window is not None and self.window > 1 and not kind.recurrent:
            raise PinnError("--window is for lstm and gru; other models read one state (a reservoir reads "
                            "--warmup states)")
        if self.backend is Backend.numpy and kind not in (SurrogateKind.rnn, SurrogateKind.lstm):
            raise PinnError(f"--backend numpy trains the from-scratch rnn and lstm; use --backend torch for "
                            f"--model {kind.value}")
        if self.observe is Observation.lifted128 and kind is not SurrogateKind.autoencoder:
            raise PinnError("--observe lifted128 is for --model autoencoder (the other models see the state)")
        if kind is SurrogateKind.autoencoder and self.observe is not Observation.lifted128:
            raise PinnError("--model autoencoder learns from high-dimensional observations: add --observe lifted128")
        if self.unroll > 1 and not kind.trained_network:
            raise PinnError("--unroll (multi-step training) is for mlp, lstm and gru")
        if self.gauss_newton and kind is not SurrogateKind.random_features:
            raise PinnError("--gauss-newton refines the hidden layer of --model random-features")
        if self.feature_map is FeatureMap.polynomial and kind is SurrogateKind.random_features:
            raise PinnError("polynomial features are --model polynomial (with --degree), not a --feature-map")
        if self.horizon is not None and self.dt is not None:
            self.check_horizon(self.dt)

    def _check_ranges(self) -> None:
        """Every number finite and in its range (see :data:`COUNT_RANGES`, :data:`POSITIVE_LIMITS`)."""
        for name, (low, high) in COUNT_RANGES.items():
            if getattr(self, name) is not None:
                checks.count(name, getattr(self, name), low, high)
        for name, high in POSITIVE_LIMITS.items():
            if getattr(self, name) is not None:
                checks.positive(name, getattr(self, name), high)
        for name, high in (("weight_decay", 1e6), ("threshold", 1e12), ("ridge", 1e12), ("max_seconds", 1e9),
                           ("lyapunov", 1e3)):
            if getattr(self, name) is not None:
                checks.number(name, getattr(self, name), 0.0, high)
        checks.number("dropout", self.dropout, 0.0, 0.99)
        if self.leak is not None:
            checks.number("leak", self.leak, 0.0, 1.0, strict_low=True)
        checks.number("adam_fraction", self.adam_fraction, 0.0, 0.999, strict_low=True)
        checks.seed("seed", self.seed)
        for name in ("out", "data"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or "\x00" in value or not value.strip()):
                raise PinnError(f"--{name} must be a path, got {value!r}")

    def check_horizon(self, dt: float) -> None:
        """The evaluation rollouts must outlast the model's window or warm-up (horizon > w dt)."""
        w = self.warmup if self.model is SurrogateKind.reservoir else (self.window or 1)
        if self.horizon is not None and self.horizon <= w * dt:
            raise PinnError(f"--horizon {self.horizon} must exceed the model's window or warm-up ({w} steps of "
                            f"{dt}); raise --horizon")

    def resolved(self) -> "SurrogateConfig":
        """A copy with every option the model's recipe sets filled in (problem defaults stay None)."""
        recipe = RECIPES[self.model]
        changes = {k: v for k, v in recipe.items() if getattr(self, k) is None}
        if self.model.trained_network and self.lr is None:
            changes["lr"] = 3e-3
        return replace(self, **changes)

    @staticmethod
    def from_json(raw: dict[str, Any]) -> "SurrogateConfig":
        """Rebuild from the JSON form written into config.json (unknown keys are refused)."""
        names = {f.name for f in fields(SurrogateConfig)}
        unknown = set(raw) - names
        if unknown:
            raise PinnError(f"unknown surrogate options {', '.join(sorted(unknown))}")
        return SurrogateConfig(**raw)


@dataclass(frozen=True)
class RolloutConfig:
    """``pinn surrogate rollout``: the run folder, the initial state (None: the problem's), the length, and
    optionally the problem the run must have been trained on."""

    run: str
    ic: Optional[tuple[float, ...]] = None
    t_final: float = 20.0
    problem: Optional[str] = None

    def __post_init__(self) -> None:
        checks.positive("t_final", self.t_final, 1e6)
        if self.ic is not None:
            object.__setattr__(self, "ic", tuple(float(v) for v in self.ic))
            for value in self.ic:
                checks.number("ic", value, -1e12, 1e12)
        if "\x00" in str(self.run) or not Path(self.run).is_dir():
            raise PinnError(f"no run folder at {str(self.run)!r}; give a folder made by 'pinn surrogate train'")


class SweepAxis(str, enum.Enum):
    """Axes a sweep can vary: network shape, activation, optimizer, schedule, regularisation, form."""

    width = "width"
    depth = "depth"
    activation = "activation"
    optimizer = "optimizer"
    schedule = "schedule"
    weight_decay = "weight_decay"
    dropout = "dropout"
    lr = "lr"
    batch_size = "batch_size"
    form = "form"


AXIS_TYPES: dict[SweepAxis, Any] = {
    SweepAxis.width: int, SweepAxis.depth: int, SweepAxis.batch_size: int,
    SweepAxis.weight_decay: float, SweepAxis.dropout: float, SweepAxis.lr: float,
    SweepAxis.activation: Activation, SweepAxis.optimizer: Optimizer, SweepAxis.schedule: Schedule,
    SweepAxis.form: FlowForm,
}
"""The type of each axis's values (a parser of one command-line value)."""

AXIS_RANGES: dict[SweepAxis, tuple[float, float, bool]] = {
    SweepAxis.width: (1, 100_000, True), SweepAxis.depth: (1, 100, True), SweepAxis.batch_size: (0, 10_000_000, True),
    SweepAxis.weight_decay: (0.0, 1e6, False), SweepAxis.dropout: (0.0, 0.99, False), SweepAxis.lr: (0.0, 1e12, False)}
"""(low, high, whole number) of each numeric axis; lr must also be > 0."""

MAX_POINTS = 10_000
"""Grid points of one sweep at most."""


def axis_values(axis: SweepAxis, values: Any) -> tuple[Any, ...]:
    """Typed, de-duplicated values of one axis, each checked against :data:`AXIS_RANGES`; PinnError naming
    the option for an empty axis or a bad value."""
    flag = "--" + axis.value.replace("_", "-")
    if not values:
        raise PinnError(f"the sweep axis {flag} was given no values")
    out: list[Any] = []
    for raw in values:
        try:
            value = AXIS_TYPES[axis](raw)
        except (ValueError, TypeError):
            raise PinnError(f"bad value {raw!r} for {flag}") from None
        if axis in AXIS_RANGES:
            low, high, whole = AXIS_RANGES[axis]
            if whole:
                checks.count(axis.value, value, int(low), int(high))
            elif axis is SweepAxis.lr:
                checks.positive(axis.value, value, high)
            else:
                checks.number(axis.value, value, low, high)
        if value not in out:
            out.append(value)
    return tuple(out)


@dataclass(frozen=True)
class SweepCommand:
    """Everything ``pinn sweep PROBLEM`` was asked: the grid (axis, raw values) and the settings shared by
    every point (epochs, stride, data set size, rollout horizon, precision, seed), the parallel ``jobs``, the
    heat maps to draw (pairs of axes) and the sweep folder (None: runs/sweep-PROBLEM; re-running on a folder
    skips its finished points)."""

    problem: str
    grid: tuple[tuple[SweepAxis, tuple[str, ...]], ...]
    jobs: int = 1
    epochs: int = 15
    stride: int = 4
    trajectories: Optional[int] = None
    test_trajectories: Optional[int] = None
    t_final: Optional[float] = None
    horizon: float = 0.0
    lyapunov: float = 0.906
    seed: int = 0
    precision: str = "float32"
    heatmaps: tuple[tuple[str, str], ...] = ()
    out: Optional[Path] = None

    def __post_init__(self) -> None:
        import os

        if not self.grid:
            raise PinnError("give at least one grid axis, e.g. --width 16 64 256 (see --help)")
        cores = os.cpu_count() or 1
        checks.count("jobs", self.jobs, 1, cores)
        checks.count("epochs", self.epochs, 1, 100_000)
        checks.count("stride", self.stride, 1, 100_000)
        if self.trajectories is not None:
            checks.count("trajectories", self.trajectories, 2, 100_000)
        if self.test_trajectories is not None:
            checks.count("test_trajectories", self.test_trajectories, 1, 100_000)
        if self.t_final is not None:
            checks.positive("t_final", self.t_final, 1e4)
        checks.number("horizon", self.horizon, 0.0, 1e4)
        checks.number("lyapunov", self.lyapunov, 0.0, 1e3)
        checks.seed("seed", self.seed)
        if self.precision not in ("float32", "float64"):
            raise PinnError(f"--precision must be float32 or float64, got {self.precision!r}")
        points = 1
        for axis, values in self.grid:
            points *= len(axis_values(SweepAxis(axis), values))
        if points > MAX_POINTS:
            raise PinnError(f"the grid has {points} points, more than {MAX_POINTS}; give fewer values per axis")
        if self.out is not None:
            from pinn.runs import check_output_root

            check_output_root(self.out)
        names = {axis.value for axis, _ in self.grid}
        for pair in self.heatmaps:
            bad = [a for a in pair if a not in names]
            if len(pair) != 2 or bad:
                raise PinnError(f"--heatmap takes two of the swept axes ({', '.join(sorted(names))}) as X,Y, got "
                                f"{','.join(pair)}")
