"""The problem zoo: concrete equations written against pinn's public API, registered by name.

Each entry is a frozen parameters dataclass plus pure functions (right-hand side, exact solution) and a
builder returning a :class:`pinn.ODEProblem`. A user's own equation plugs in the same way
(see examples/custom_ode.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from pinn.errors import PinnError


@dataclass(frozen=True)
class ProblemInfo:
    """Catalogue entry: name, equations, parameters with defaults and their source, initial state, interval."""

    name: str
    equations: str
    parameters: str
    initial_state: str
    interval: str
    source: str


CATALOGUE: dict[str, ProblemInfo] = {
    "lorenz": ProblemInfo(
        "lorenz",
        "x' = sigma (y - x);  y' = x (rho - z) - y;  z' = x y - beta z",
        "sigma = 10, rho = 28, beta = 8/3",
        "(x, y, z) = (-8, 7, 27); the notes' data set draws them from U[-15, 15]^3",
        "t in [0, 8]",
        "Lorenz (1963); values and horizon from the lecture notes",
    ),
    "oscillator": ProblemInfo(
        "oscillator",
        "x'' + 2 gamma x' + omega0^2 x = F(t),  F = amplitude cos(omega t) or a square wave (Fourier series)",
        "gamma = 0.2, omega0 = 1, omega = 0.5, amplitude = 1; square: period 0.2, width 0.1, fmax 2",
        "x(0) = 1, x'(0) = 0 (cosine drive); x(0) = 0, x'(0) = 0 (square drive)",
        "t in [0, 20]",
        "the lecture notes' RK4 and Fourier-series examples",
    ),
}


def problem_info(name: str) -> ProblemInfo:
    """The catalogue entry for ``name`` (PinnError listing the known names otherwise)."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise PinnError(f"unknown problem {name!r}; known problems: {', '.join(CATALOGUE)}") from None
