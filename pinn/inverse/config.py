"""The settings of ``pinn identify``: what was asked (:class:`IdentifyConfig`, saved as config.json) and the
settings of its two methods, as frozen dataclasses that validate their own fields. No numerics are imported
here, so the command line shows the defaults and checks the options at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from pinn import checks
from pinn.choices import FitMethod
from pinn.errors import PinnError


@dataclass(frozen=True)
class JointFitConfig:
    """Settings of the joint Gauss-Newton fit.

    window: window length of the piecewise trajectory (None: the problem's default).
    features, points, seed: random features per window, Lobatto collocation nodes per window, their seed.
    weight: final residual weight w (see :mod:`pinn.inverse.gauss_newton` for its definition).
    start_weight: first weight of the continuation (multiplied by 10 per stage up to ``weight``).
    max_iter: Levenberg-Marquardt iterations per stage at most.
    grid_weight, grid_iter: weight and iterations of each start of the grid search (only for problems whose
        constants have a grid, see :func:`shooting_start`); the continuation then goes on from grid_weight.
    """

    window: Optional[float] = None
    features: int = 25
    points: int = 30
    seed: int = 0
    weight: float = 1e4
    start_weight: float = 1e-2
    max_iter: int = 200
    grid_weight: float = 1.0
    grid_iter: int = 20

    def __post_init__(self) -> None:
        if self.window is not None:
            checks.positive("window", self.window, 1e9)
        checks.count("features", self.features, 2, 2_000)
        checks.count("points", self.points, 3, 10_000)
        checks.seed("seed", self.seed)
        checks.positive("weight", self.weight, 1e12)
        checks.positive("start_weight", self.start_weight, 1e12)
        checks.count("max_iter", self.max_iter, 1, 10 ** 6)
        checks.positive("grid_weight", self.grid_weight, 1e12)
        checks.count("grid_iter", self.grid_iter, 1, 10 ** 6)
        self.weights()

    def weights(self) -> list[float]:
        """The continuation w_start, 10 w_start, ..., w."""
        if not (0 < self.start_weight <= self.weight):
            raise PinnError("the residual weights need 0 < --start-weight <= --weight")
        out, w = [], self.start_weight
        while w < self.weight * (1 - 1e-12):
            out.append(w)
            w *= 10.0
        return out + [self.weight]


@dataclass(frozen=True)
class GradientFitConfig:
    """Settings of the gradient-trained fit: network width/depth, Adam epochs and learning rate, collocation
    points, residual weight w (see the module docstring), seed, and how often the history is logged."""

    width: int = 64
    depth: int = 3
    epochs: int = 20000
    lr: float = 1e-3
    points: int = 512
    weight: float = 1.0
    seed: int = 0
    log_every: int = 100

    def __post_init__(self) -> None:
        checks.count("width", self.width, 1, 100_000)
        checks.count("depth", self.depth, 1, 100)
        checks.count("epochs", self.epochs, 1)
        checks.positive("lr", self.lr, 1e12)
        checks.count("points", self.points, 1, 10 ** 7)
        checks.positive("adam_weight", self.weight, 1e12)
        checks.seed("seed", self.seed)
        checks.count("log_every", self.log_every, 1)


@dataclass(frozen=True)
class IdentifyConfig:
    """Everything ``pinn identify`` was asked to do (saved as config.json).

    problem: name of the parametric problem; data: the observations CSV; unknowns: constants to estimate;
    guesses: initial values for some unknowns (default: the centre of each plausible range, plus a grid
    search for constants entering nonlinearly); fixed: values of known constants that differ from the
    problem's defaults; method: lm or adam; lm, adam: their settings; out: root folder of run folders.
    """

    problem: str
    data: Path
    unknowns: tuple[str, ...]
    guesses: Mapping[str, float] = field(default_factory=dict)
    fixed: Mapping[str, float] = field(default_factory=dict)
    method: FitMethod = FitMethod.lm
    lm: JointFitConfig = field(default_factory=JointFitConfig)
    adam: GradientFitConfig = field(default_factory=GradientFitConfig)
    out: Path = Path("runs")

    def __post_init__(self) -> None:
        for label, values in (("--guess", self.guesses), ("--fix", self.fixed)):
            for name, value in values.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise PinnError(f"{label} {name}: the value must be a finite number, got {value!r}")
        try:
            FitMethod(self.method)
        except ValueError:
            raise PinnError(f"--method must be lm or adam, got {self.method!r}") from None
