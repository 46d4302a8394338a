"""Settings of a PDE solve (method, least-squares solver, gradient PINN, evaluation grid) and the progress it
reports. This module imports no numerics, so the command line can build and check configs at once."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from pinn import checks
from pinn.errors import PinnError

if TYPE_CHECKING:
    from pinn.pde.problem import PDEProblem
from pinn.choices import Activation, InitialCondition, Optimizer, Schedule


class FeatureActivation(str, enum.Enum):
    """Hidden activation of the random features (sine features were the most accurate in the Burgers study
    of shared/notes/pde-least-squares.md)."""

    sin = "sin"
    tanh = "tanh"


@dataclass(frozen=True)
class FeatureSpec:
    """How the random features are drawn: count M, scale of U(-scale, scale), activation, seed."""

    features: int = 100
    scale: float = 1.5
    activation: FeatureActivation = FeatureActivation.sin
    seed: int = 0


class PDEMethod(str, enum.Enum):
    """least-squares: random-feature cells with output layers fitted by (Gauss-Newton) least squares, marched
    in time blocks (solver-grade accuracy); gradient: the classic PINN, one network trained by Adam/L-BFGS."""

    least_squares = "least-squares"
    gradient = "gradient"


class InitialState(str, enum.Enum):
    """How a time block starts from the previous block's end (or from u0): built into the trial solution
    (exact; the default), or as weighted rows (u and u_t matched at the block's first time level), which
    passes on values only, not derivatives, and keeps derivative noise from piling up over many blocks of a
    problem second order in time."""

    trial = "trial"
    rows = "rows"


@dataclass(frozen=True)
class LeastSquaresConfig:
    """Settings of the space-time least-squares solver (evolution and steady problems).

    block: time-block length (evolution problems); blocks are marched one after another.
    first_block: length of the first block if > 0 (each next block twice as long, up to ``block``): graded
        blocks resolve an initial layer, such as a kink of u0 smoothed by diffusion.
    cells: initial number of cells along x (uniform unless ``edges`` is given).
    cells_y: number of cells along y (steady 2-D problems).
    edges: optional interior cell edges along x (sorted, strictly inside the interval), overriding ``cells``;
        for a periodic x, the cuts of the ring in [a, b) (include a for an interface at the domain's ends).
    features: random features M per cell; scale: their weights ~ U(-scale, scale); activation: sin or tanh.
    points_x, points_s: Chebyshev-Lobatto collocation nodes per cell along x and along t (or y).
    max_iter, tol: Gauss-Newton iterations per block, stopped when the step is below tol (1 + |c|).
    continuity_weight, boundary_weight: weights of the interface and boundary rows (see pinn.pde.assembly).
    rcond: pivots below rcond times the largest drop their columns (rank-revealing QR).
    initial_state, initial_weight: how a block starts (see InitialState) and the weight of its rows.
    adapt, adapt_tol, adapt_ratio, adapt_fraction, adapt_grading, max_cells, min_width, min_block:
        residual-driven cell splitting and block halving (module docstring); min_block is a fraction of block.
    seed: seed of the random features.
    """

    block: float = 0.05
    cells: int = 8
    cells_y: int = 1
    edges: tuple[float, ...] = ()
    features: int = 100
    scale: float = 1.5
    activation: FeatureActivation = FeatureActivation.sin
    points_x: int = 24
    points_s: int = 12
    max_iter: int = 10
    tol: float = 1e-12
    continuity_weight: float = 10.0
    boundary_weight: float = 10.0
    rcond: float = 1e-15
    initial_state: InitialState = InitialState.trial
    initial_weight: float = 10.0
    adapt: bool = True
    adapt_tol: float = 1e-7
    adapt_ratio: float = 10.0
    adapt_fraction: float = 0.8
    adapt_grading: float = 3.0
    max_cells: int = 64
    min_width: float = 1e-3
    min_block: float = 1.0 / 64
    first_block: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise PinnError on settings no solve can use."""
        checks = [
            (self.block > 0 and math.isfinite(self.block), f"block must be a positive time, got {self.block}"),
            (self.cells >= 1 and self.cells_y >= 1, "cells and cells_y must be at least 1"),
            (self.features >= 1, f"features must be at least 1, got {self.features}"),
            (1e-3 <= self.scale <= 1e3, f"scale must lie in [1e-3, 1e3] (feature weights act on cell coordinates "
                                        f"in [-1, 1]), got {self.scale:g}"),
            (self.points_x >= 2 and self.points_s >= 2, "points_x and points_s must be at least 2 (a grid of one "
                                                       "point has no interior)"),
            (self.max_iter >= 1, "max_iter must be at least 1"),
            (all(math.isfinite(v) and v > 0 for v in (self.continuity_weight, self.boundary_weight)),
             "continuity_weight and boundary_weight must be positive"),
            (0 < self.rcond < 1, f"rcond must lie in (0, 1), got {self.rcond}"),
            (self.adapt_ratio > 1 and self.max_cells >= 1 and self.min_width > 0, "adapt_ratio must exceed 1, "
                                                                                  "max_cells >= 1, min_width > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise PinnError(message)
        if any(not math.isfinite(e) for e in self.edges) or list(self.edges) != sorted(set(self.edges)):
            raise PinnError("edges must be finite, strictly increasing")

    @property
    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec(self.features, self.scale, FeatureActivation(self.activation), self.seed)


@dataclass(frozen=True)
class PDEGradientConfig:
    """Settings of the gradient-trained PDE PINN (names shared with :class:`pinn.train.GradientConfig`).

    width, depth, activation: the network; optimizer, lr, epochs, schedule, weight_decay, momentum: the
    first-order phase; lbfgs_iters: L-BFGS iterations afterwards (``adam+lbfgs`` and ``lbfgs``);
    points: interior collocation points (scrambled Sobol); boundary_points: points per penalised side;
    initial_points: points on the initial line (penalty mode); resample_every: fresh interior points every
    k first-order steps (0 = never); batch_size: interior points per step (0 = all; sgd defaults to 256);
    constraints: ``exact`` (hard where simple, see the module docstring) or ``penalty``; ic_weight,
    bc_weight: weights of the penalised initial and boundary misfits; harmonics: Fourier harmonics of a
    periodic x; seed: network initialisation and point sets.
    """

    width: int = 64
    depth: int = 4
    activation: Activation = Activation.tanh
    optimizer: Optimizer = Optimizer.adam_lbfgs
    lr: float = 1e-3
    epochs: int = 20000
    lbfgs_iters: int = 2000
    schedule: Schedule = Schedule.none
    weight_decay: float = 0.0
    momentum: float = 0.9
    points: int = 4096
    boundary_points: int = 256
    initial_points: int = 256
    resample_every: int = 0
    batch_size: int = 0
    constraints: InitialCondition = InitialCondition.exact
    ic_weight: float = 10.0
    bc_weight: float = 10.0
    harmonics: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise PinnError on settings no run can use."""
        checks = [
            (self.width >= 1 and self.depth >= 1, "width and depth must be at least 1"),
            (self.epochs >= 0 and self.lbfgs_iters >= 0, "epochs and lbfgs iterations must be >= 0"),
            (self.points >= 1 and self.boundary_points >= 1 and self.initial_points >= 1,
             "points, boundary_points and initial_points must be at least 1"),
            (math.isfinite(self.lr) and self.lr > 0, f"the learning rate must be positive, got {self.lr}"),
            (all(math.isfinite(w) and w >= 0 for w in (self.ic_weight, self.bc_weight, self.weight_decay)),
             "ic_weight, bc_weight and weight_decay must be finite and >= 0"),
            (self.harmonics >= 1, "harmonics must be at least 1"),
            (self.resample_every >= 0 and self.batch_size >= 0, "resample_every and batch_size must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise PinnError(message)

    @classmethod
    def from_gradient_config(cls, cfg, **overrides) -> "PDEGradientConfig":
        """Copy the shared fields of an ODE :class:`pinn.train.GradientConfig` (``ic`` -> ``constraints``,
        ``ic_weight`` -> both penalty weights), then apply ``overrides``."""
        names = {f.name for f in fields(cls)}
        values = {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name in names}
        if hasattr(cfg, "ic"):
            values["constraints"] = cfg.ic
        if hasattr(cfg, "ic_weight"):
            values["bc_weight"] = cfg.ic_weight
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class PDESolveConfig:
    """Method, its settings, and the evaluation grid (None: 256 x 101 for x-t, 201 x 201 for x-y).

    ``gradient``: the gradient PINN's settings.
    """

    method: PDEMethod = PDEMethod.least_squares
    least_squares: LeastSquaresConfig = field(default_factory=LeastSquaresConfig)
    gradient: PDEGradientConfig = field(default_factory=PDEGradientConfig)
    grid: Optional[tuple[int, int]] = None

    def grid_shape(self, problem: "PDEProblem") -> tuple[int, int]:
        """(points along x, points along t or y)."""
        shape = self.grid or ((201, 201) if problem.steady else (256, 101))
        if len(shape) != 2 or min(shape) < 2:
            raise PinnError(f"the evaluation grid needs at least 2 points along each axis, got {shape}")
        return int(shape[0]), int(shape[1])


@dataclass
class SolveProgress:
    """Reported after every Gauss-Newton iteration: block (1-based) of blocks, iteration, cells, and the
    root of the weighted least-squares cost (about the L2 norm of the residual over the block)."""

    block: int
    blocks: int
    iteration: int
    cells: int
    residual: float
    t: float


Progress = Callable[[SolveProgress], None]


@dataclass(frozen=True)
class PDESolveCommand:
    """Everything ``pinn solve PDE`` was asked (saved as config.json, so ``pinn rerun`` repeats it).

    problem: registry name; values: parameter values that differ from the defaults; t1: final time (None:
    the problem's); solve: the method and its settings (``least_squares=None``: the problem's measured
    defaults, with ``overrides`` applied); out: parent folder of the run folder.
    """

    problem: str
    values: Mapping[str, Any] = field(default_factory=dict)
    t1: Optional[float] = None
    method: PDEMethod = PDEMethod.least_squares
    overrides: Mapping[str, Any] = field(default_factory=dict)
    gradient: PDEGradientConfig = field(default_factory=PDEGradientConfig)
    grid: Optional[tuple[int, int]] = None
    out: Path = Path("runs")

    def __post_init__(self) -> None:
        try:
            PDEMethod(self.method)
        except ValueError:
            raise PinnError(f"--method must be least-squares or gradient, got {self.method!r}") from None
        names = {f.name for f in fields(LeastSquaresConfig)}
        unknown = [k for k in self.overrides if k not in names]
        if unknown:
            raise PinnError(f"{unknown[0]!r} is not a setting of the least-squares solver")
        if self.grid is not None:
            for n in self.grid:
                checks.count("grid", n, 2, 20_000)


@dataclass(frozen=True)
class PDESimulateConfig:
    """Everything ``pinn simulate PDE --out obs.npz`` was asked: the problem's parameter values and final
    time, nx points along x, a sample every ``every`` in time, relative Gaussian noise, the noise seed."""

    problem: str
    out: Path
    values: Mapping[str, Any] = field(default_factory=dict)
    t1: Optional[float] = None
    nx: int = 256
    every: float = 0.01
    noise: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if Path(self.out).suffix != ".npz":
            raise PinnError(f"--out must end in .npz for a PDE's observations, got {Path(self.out).name!r}")
        checks.count("nx", self.nx, 2, 100_000)
        checks.positive("every", self.every, 1e6)
        checks.number("noise", self.noise, 0.0, 1e6)
        checks.seed("seed", self.seed)


@dataclass(frozen=True)
class PDEIdentifyCommand:
    """Everything ``pinn identify PDE --data obs.npz --unknown NAME`` was asked: the data file, the unknown
    constants, starting guesses (default: the best point of a scan of each plausible range), values of the
    known constants that differ from the defaults, Gauss-Newton iterations, the parent of the run folder."""

    problem: str
    data: Path
    unknowns: tuple[str, ...]
    guesses: Mapping[str, float] = field(default_factory=dict)
    fixed: Mapping[str, float] = field(default_factory=dict)
    max_iter: int = 12
    out: Path = Path("runs")

    def __post_init__(self) -> None:
        if not self.unknowns:
            raise PinnError("name at least one unknown constant with --unknown")
        for label, values in (("--guess", self.guesses), ("--fix", self.fixed)):
            for name, value in values.items():
                checks.number(f"{label[2:]} {name}", value, -1e12, 1e12)
        checks.count("max_iter", self.max_iter, 1, 1000)
