"""The Lorenz system (Lorenz 1963), the lecture notes' chaotic example.

    dx/dt = sigma (y - x)
    dy/dt = x (rho - z) - y
    dz/dt = x y - beta z

Dimensionless. Defaults sigma = 10, rho = 28, beta = 8/3 (Lorenz's values, used in the notes), initial state
(-8, 7, 27) and t in [0, 8] (the notes' horizon). The largest Lyapunov exponent at these values is about
0.906 (Sprott 2003: 0.9056). The notes' data set for surrogates: 100 trajectories from initial states
uniform in [-15, 15]^3, sampled every 0.01 over [0, 8].
"""

from __future__ import annotations

from typing import Any, Mapping

from pinn.spec import ODESpec, Parameter, SurrogateSettings


def lorenz_rhs(t: Any, u: Any, p: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(dx/dt, dy/dt, dz/dt) = (sigma (y - x), x (rho - z) - y, x y - beta z): u (n, 3) -> three (n,)."""
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    return p["sigma"] * (y - x), x * (p["rho"] - z) - y, x * y - p["beta"] * z


LORENZ = ODESpec(
    name="lorenz",
    title="the Lorenz system, chaotic convection (the notes' example)",
    equations="x' = sigma (y - x);  y' = x (rho - z) - y;  z' = x y - beta z",
    rhs=lorenz_rhs,
    components=("x", "y", "z"),
    parameters=(
        Parameter("sigma", 10.0, "Prandtl number sigma (Lorenz 1963: 10).", 0.0, 1e3, strict=True,
                  plausible=(1.0, 30.0)),
        Parameter("rho", 28.0, "Rayleigh ratio rho (Lorenz 1963: 28).", 0.0, 1e4, plausible=(1.0, 50.0)),
        Parameter("beta", 8.0 / 3.0, "Geometric factor beta (Lorenz 1963: 8/3).", 0.0, 1e3, strict=True,
                  plausible=(0.5, 5.0), shown="8/3"),
    ),
    u0=(-8.0, 7.0, 27.0),
    t1=8.0,
    source="Lorenz (1963); values and horizon from the lecture notes",
    window=0.1,
    identify_window=0.2,
    surrogate=SurrogateSettings(trajectories=100, test_trajectories=20, dt=0.01, t_final=8.0, box=(-15.0, 15.0),
                                substeps=20, horizon=45.0, lyapunov=0.906),
    initial_state_note="the notes' data set draws them from U[-15, 15]^3",
)
