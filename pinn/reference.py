"""Reference solutions: vectorised classical RK4, scipy's DOP853 at tight tolerances, and the choice of
reference for a problem (exact, Taylor series, or DOP853)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from scipy.integrate import solve_ivp

from pinn.errors import PinnError
from pinn.problem import ODEProblem, Rhs


def rk4(rhs: Rhs, u0: torch.Tensor | np.ndarray, t: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Classical fourth-order Runge-Kutta on a fixed grid, for many initial states at once.

    u_{i+1} = u_i + dt/6 (k1 + 2 k2 + 2 k3 + k4), with k1 = f(t_i, u_i), k2 = f(t_i + dt/2, u_i + dt k1/2),
    k3 = f(t_i + dt/2, u_i + dt k2/2), k4 = f(t_i + dt, u_i + dt k3); global error O(dt^4).

    Args:
        rhs: f(t, u), t (b, 1), u (b, d) -> (b, d).
        u0: (b, d) initial states (or (d,) for one).
        t: (n,) increasing times; steps may be uneven.
    Returns:
        (b, n, d) states at the times ``t`` (or (n, d) if ``u0`` was 1-D).
    """
    t = torch.as_tensor(t, dtype=torch.float64)
    u = torch.as_tensor(u0, dtype=torch.float64)
    single = u.ndim == 1
    u = u.reshape(1, -1) if single else u
    out = torch.empty(u.shape[0], t.numel(), u.shape[1], dtype=u.dtype)
    out[:, 0] = u
    ones = torch.ones(u.shape[0], 1, dtype=u.dtype)
    with torch.no_grad():
        for i in range(t.numel() - 1):
            ti, dt = t[i], t[i + 1] - t[i]
            k1 = rhs(ti * ones, u)
            k2 = rhs((ti + dt / 2) * ones, u + dt / 2 * k1)
            k3 = rhs((ti + dt / 2) * ones, u + dt / 2 * k2)
            k4 = rhs((ti + dt) * ones, u + dt * k3)
            u = u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            out[:, i + 1] = u
    return out[0] if single else out


def numpy_rhs(rhs: Rhs) -> Callable[[float, np.ndarray], np.ndarray]:
    """Wrap a torch right-hand side f(t (n,1), u (n,d)) as scipy's f(t, y (d,)) -> (d,)."""

    def f(t: float, y: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            tt = torch.tensor([[t]], dtype=torch.float64)
            return rhs(tt, torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64)).reshape(1, -1))[0].numpy()

    return f


BLOW_UP = 1e12
"""A reference solution larger than this is taken to be blowing up, and the integration stops."""


def dop853(rhs: Rhs, u0: np.ndarray, t: np.ndarray, rtol: float = 1e-13, atol: float = 1e-13,
           breakpoints: tuple[float, ...] = (), max_evaluations: int = 5_000_000) -> np.ndarray:
    """scipy's DOP853 (8th-order Dormand-Prince) on the times ``t``: returns (n, d) in float64.

    With ``breakpoints`` (times where f jumps), integration restarts at each one so no step straddles a jump.
    A solution that exceeds :data:`BLOW_UP` in size, or more than ``max_evaluations`` evaluations of f (a
    stiff or exploding problem would otherwise grind on for minutes), stops it with a PinnError.
    """
    t = np.asarray(t, dtype=float)
    plain = numpy_rhs(rhs)
    calls = [0]

    def f(time: float, y: np.ndarray) -> np.ndarray:
        calls[0] += 1
        if calls[0] > max_evaluations:
            raise PinnError(f"the reference integrator needed more than {max_evaluations:,} evaluations of f by "
                            f"t = {time:.6g}: the problem is very stiff or its solution blows up")
        return plain(time, y)

    def blow_up(time: float, y: np.ndarray) -> float:
        return BLOW_UP - float(np.max(np.abs(y)))

    blow_up.terminal = True
    cuts = [t[0]] + sorted(b for b in breakpoints if t[0] < b < t[-1]) + [t[-1]]
    y = np.asarray(u0, dtype=float)
    out = np.empty((t.size, y.size))
    for a, b in zip(cuts[:-1], cuts[1:]):
        mask = (t >= a) & (t <= b)
        sol = solve_ivp(f, (a, b), y, method="DOP853", rtol=rtol, atol=atol, dense_output=True, events=blow_up)
        if sol.status == 1 or not np.all(np.isfinite(sol.y[:, -1])):
            raise PinnError(f"the reference solution blows up (|u| > {BLOW_UP:.0e}) at t = {sol.t[-1]:.6g}; check "
                            "the parameters and the initial state")
        if not sol.success:
            raise PinnError(f"reference solver failed on [{a}, {b}]: {sol.message}")
        out[mask] = sol.sol(t[mask]).T
        y = sol.y[:, -1]
    return out


def reference_method(problem: ODEProblem) -> str:
    """Which reference :func:`reference_solution` uses: 'exact', 'taylor' or 'dop853'."""
    if problem.reference is not None:
        return "exact"
    if problem.breakpoints:
        return "dop853"
    from pinn.taylor import TaylorUnsupported, taylor_coefficients

    try:
        taylor_coefficients(problem.rhs, problem.t0, np.asarray(problem.u0, dtype=float), 2)
    except (TaylorUnsupported, AttributeError, TypeError, IndexError):
        return "dop853"
    return "taylor"


def reference_solution(problem: ODEProblem, t: np.ndarray) -> np.ndarray:
    """The reference solution at times ``t`` (n,): (n, d) float64.

    The problem's exact solution if it has one; else the order-30 Taylor-series integrator
    (:mod:`pinn.taylor`, accurate to round-off: 1e-14 relative on Lorenz over [0, 8], where DOP853 at
    rtol = atol = 1e-13 is 2.7e-11 off) when the right-hand side supports Taylor arithmetic; else DOP853 at
    rtol = atol = 1e-13 (restarted at breakpoints).
    """
    method = reference_method(problem)
    if method == "exact":
        return np.asarray(problem.reference(np.asarray(t, dtype=float)), dtype=float)
    if method == "taylor":
        from pinn.taylor import taylor_solve

        t = np.asarray(t, dtype=float)
        if t.size and t[0] != problem.t0:
            return taylor_solve(problem.rhs, np.asarray(problem.u0), np.concatenate([[problem.t0], t]))[1:]
        return taylor_solve(problem.rhs, np.asarray(problem.u0), t)
    return dop853(problem.rhs, np.asarray(problem.u0), t, breakpoints=problem.breakpoints)
