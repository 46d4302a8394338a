"""Problems registered for the data-driven surrogate commands (``pinn surrogate``, ``pinn sweep``).

Each entry bundles a problem's right-hand side with the data-set and evaluation settings the surrogate
commands use by default: lorenz (Lorenz 1963, sigma = 10, rho = 28, beta = 8/3) and the driven damped
oscillator of the lecture notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pinn.errors import PinnError
from pinn.problem import Rhs


@dataclass(frozen=True)
class SurrogateProblem:
    """What the surrogate commands need to know about a problem.

    rhs: f(t, u) in torch; components: state names; drive_freqs: angular frequencies of a periodic drive
    (its phase is a model input); data: the default data set; horizon: time units of the evaluation
    rollouts; default_ic: initial state of ``rollout`` when --ic is not given; lyapunov: the largest
    Lyapunov exponent from the literature (0 for a system that is not chaotic: VPT stays in time units).
    """

    name: str
    rhs: Rhs
    components: tuple[str, ...]
    drive_freqs: tuple[float, ...]
    n_traj: int
    n_test: int
    dt: float
    t_final: float
    box: tuple[float, float]
    substeps: int
    horizon: float
    default_ic: tuple[float, ...]
    lyapunov: float

    @property
    def chaotic(self) -> bool:
        return self.lyapunov > 0


def _lorenz() -> SurrogateProblem:
    from problems.lorenz import lorenz_problem

    p = lorenz_problem()
    # lambda_max = 0.9056 at the standard parameters (Sprott 2003); pinn.surrogate.lyapunov reproduces it
    return SurrogateProblem("lorenz", p.rhs, p.components, (), 100, 20, 0.01, 8.0, (-15.0, 15.0), 20, 25.0,
                            p.u0, 0.906)


def _oscillator() -> SurrogateProblem:
    from problems.oscillator import OscillatorParams, oscillator_problem

    params = OscillatorParams()
    p = oscillator_problem(params)
    # the notes' RK4 example: dt = 0.001 (10 inner steps of the 0.01 sample step), t in [0, 20]
    return SurrogateProblem("oscillator", p.rhs, p.components, tuple(params.drive.freqs), 20, 5, 0.01, 20.0,
                            (-2.0, 2.0), 10, 40.0, p.u0, 0.0)


PROBLEMS: dict[str, Callable[[], SurrogateProblem]] = {"lorenz": _lorenz, "oscillator": _oscillator}


def surrogate_problem(name: str) -> SurrogateProblem:
    """The problem registered as ``name`` (PinnError listing the known names otherwise)."""
    if name not in PROBLEMS:
        raise PinnError(f"unknown problem {name!r} for surrogates; known: {', '.join(PROBLEMS)}")
    return PROBLEMS[name]()
