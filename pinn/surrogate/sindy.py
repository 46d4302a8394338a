"""The non-neural baseline: sparse identification of nonlinear dynamics (SINDy) through ``pysindy``.

du/dt = Theta(u) Xi, Theta a library of monomials up to ``degree`` in the state (and, for a driven
system, in the drive's phase features cos(w t), sin(w t), passed to pysindy as a control input);
Xi is found by sequentially thresholded least squares (STLSQ, Brunton, Proctor & Kutz, PNAS 113, 3932
(2016)) from the training trajectories with derivatives by finite differences. The fitted polynomial is
then stepped with RK4 like the reference, so it is evaluated with exactly the networks' metrics.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from pinn.errors import PinnError
from pinn.surrogate.data import TrajectoryData
from pinn.surrogate.models import PolynomialField


@dataclass(frozen=True)
class SindyConfig:
    """degree: highest monomial degree; threshold: STLSQ's cut for small coefficients; fd_order: order
    of the finite-difference derivative; substeps: RK4 steps per sample step when predicting."""

    degree: int = 2
    threshold: float = 0.05
    fd_order: int = 4
    substeps: int = 10

    def __post_init__(self) -> None:
        if self.degree < 1 or self.threshold < 0 or self.fd_order < 1 or self.substeps < 1:
            raise PinnError("SINDy needs degree >= 1, threshold >= 0, fd_order >= 1 and substeps >= 1")


@dataclass
class SindyFit:
    """The fitted field as a stepper, its equations as text, and the fitting time in seconds."""

    model: PolynomialField
    equations: list[str]
    seconds: float


def fit_sindy(data: TrajectoryData, config: SindyConfig = SindyConfig()) -> SindyFit:
    """Fit SINDy to the training trajectories of ``data``; returns an RK4-stepped :class:`PolynomialField`."""
    import pysindy as ps

    start = time.perf_counter()
    states = [s for s in data.subset("train")]
    freqs = np.asarray(data.config.drive_freqs, dtype=float)
    control = None
    if freqs.size:
        phase = np.outer(data.t, freqs)
        drive = np.concatenate((np.cos(phase), np.sin(phase)), axis=1)
        control = [drive for _ in states]
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=config.threshold),
                     feature_library=ps.PolynomialLibrary(degree=config.degree),
                     differentiation_method=ps.FiniteDifference(order=config.fd_order))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(states, t=float(data.config.dt), u=control)
    coefficients = np.asarray(model.coefficients(), dtype=float)  # (d, K)
    powers = np.asarray(model.feature_library.powers_, dtype=float)  # (K, d + 2k)
    if powers.shape[0] != coefficients.shape[1]:
        raise PinnError("pysindy returned a library that does not match its coefficients")
    field = PolynomialField(powers, coefficients, data.config.dt, data.config.drive_freqs, config.substeps)
    return SindyFit(field, list(model.equations()), time.perf_counter() - start)
