"""Reference trajectories for surrogates and the span over which they can be trusted.

The truth a surrogate is judged against comes from the order-30 Taylor-series integrator of
:mod:`pinn.taylor` (round-off accurate: 1e-14 relative on Lorenz over [0, 8]) when the right-hand side
supports Taylor arithmetic, else from classical RK4 with fine inner steps. On a chaotic system even a
round-off accurate reference is only a reference for a while: any difference grows like e^(lambda t).
The *ground-truth horizon* (agreement span) of one initial state is therefore measured, not assumed: the
first time at which two independent high-accuracy integrations, the Taylor series and scipy's DOP853 at
rtol = atol = 1e-13, differ by more than the VPT threshold (the same normalised error as the VPT). A
valid prediction time beyond the span cannot be told from the references' own disagreement and is
reported as "> span", never as a number.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import solve_ivp

from pinn.errors import PinnError
from pinn.problem import Rhs
from pinn.surrogate.config import Integrator
from pinn.surrogate.vpt import NORM_THRESHOLD, normalised_error, valid_prediction_time


def taylor_supported(rhs: Rhs, u0: np.ndarray) -> bool:
    """Whether ``rhs`` runs on Taylor series (see :mod:`pinn.taylor`) at the state u0 (d,)."""
    from pinn.taylor import TaylorUnsupported, taylor_coefficients

    try:
        taylor_coefficients(rhs, 0.0, np.asarray(u0, dtype=float), 2)
    except (TaylorUnsupported, AttributeError, TypeError, IndexError):
        return False
    return True


def integrate_states(rhs: Rhs, u0: np.ndarray, t: np.ndarray, integrator: Integrator = Integrator.taylor,
                     substeps: int = 20) -> tuple[np.ndarray, Integrator]:
    """Trajectories from the states u0 (b, d) on the increasing times t (n,): ((b, n, d), integrator used).

    Taylor: one order-30 Taylor-series integration per initial state (about 0.02 s per time unit for
    Lorenz); RK4: ``substeps`` inner steps per interval, all states at once.
    """
    u0 = np.atleast_2d(np.asarray(u0, dtype=float))
    t = np.asarray(t, dtype=float)
    if Integrator(integrator) is Integrator.taylor and taylor_supported(rhs, u0[0]):
        from pinn.taylor import taylor_solve

        return np.stack([taylor_solve(rhs, u, t) for u in u0]), Integrator.taylor
    from pinn.surrogate.data import integrate

    return integrate(rhs, u0, t, substeps), Integrator.rk4


def dop853_states(rhs: Rhs, u0: np.ndarray, t: np.ndarray, rtol: float = 1e-13, atol: float = 1e-13) -> np.ndarray:
    """scipy's DOP853 from the states u0 (b, d) on the times t (n,), all states as one system (the step
    is set by the most demanding one, so each is at least as accurate as alone): (b, n, d)."""
    u0 = np.atleast_2d(np.asarray(u0, dtype=float))
    b, d = u0.shape

    def f(time: float, y: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            tt = torch.full((b, 1), time, dtype=torch.float64)
            return rhs(tt, torch.from_numpy(y.reshape(b, d).copy())).numpy().ravel()

    t = np.asarray(t, dtype=float)
    sol = solve_ivp(f, (t[0], t[-1]), u0.ravel(), method="DOP853", t_eval=t, rtol=rtol, atol=atol)
    if not sol.success:
        raise PinnError(f"DOP853 failed on the reference span: {sol.message}")
    return sol.y.reshape(b, d, t.size).transpose(0, 2, 1)


def agreement_span(first: np.ndarray, second: np.ndarray, t: np.ndarray,
                   threshold: float = NORM_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """The ground-truth horizon: first time t_k - t_0 at which two references (b, n, d) differ by a
    normalised error ||a - b|| / sqrt(<||a||^2>) above ``threshold``.

    Returns (span (b,), censored (b,)): censored where they agree over all of t (the span is then at
    least the horizon)."""
    if first.shape != second.shape:
        raise PinnError(f"the two references differ in shape: {first.shape} and {second.shape}")
    return valid_prediction_time(normalised_error(second, first), t, threshold)
