"""The Van der Pol oscillator (van der Pol 1926), a self-excited oscillation with a stable limit cycle.

    x'' - mu (1 - x^2) x' + x = 0,   as the system   x' = v,   v' = mu (1 - x^2) v - x.

Dimensionless. mu > 0 sets the nonlinear damping: negative (energy input) for |x| < 1, positive outside,
so every trajectory but the fixed point approaches one limit cycle of amplitude about 2. Defaults mu = 1,
(x, v)(0) = (2, 0), t in [0, 15] (a little over two periods of the cycle, whose period is about 6.66 at
mu = 1; Hairer, Norsett & Wanner, Solving ODEs I, Sec. I.16). Not chaotic: surrogates measure valid
prediction times in time units.
"""

from __future__ import annotations

from typing import Any, Mapping

from pinn.spec import ODESpec, Parameter, SurrogateSettings


def van_der_pol_rhs(t: Any, u: Any, p: Mapping[str, Any]) -> tuple[Any, Any]:
    """(x', v') = (v, mu (1 - x^2) v - x): u (n, 2) -> two (n,) components."""
    x, v = u[:, 0], u[:, 1]
    return v, p["mu"] * (1.0 - x * x) * v - x


VAN_DER_POL = ODESpec(
    name="van-der-pol",
    title="the Van der Pol oscillator, a limit cycle",
    equations="x'' - mu (1 - x^2) x' + x = 0,  v = x'",
    rhs=van_der_pol_rhs,
    components=("x", "v"),
    parameters=(Parameter("mu", 1.0, "Nonlinear damping mu (Hairer, Norsett & Wanner: 1 for the non-stiff case).",
                          0.0, 1e3, strict=True, plausible=(0.1, 5.0)),),
    u0=(2.0, 0.0),
    t1=15.0,
    source="van der Pol (1926); Hairer, Norsett & Wanner, Solving ODEs I, Sec. I.16",
    order=2,
    window=0.25,
    identify_window=0.5,
    surrogate=SurrogateSettings(trajectories=40, test_trajectories=10, dt=0.01, t_final=15.0, box=(-3.0, 3.0),
                                substeps=10, horizon=30.0),
)
