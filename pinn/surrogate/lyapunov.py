"""Largest Lyapunov exponent by Benettin's method with periodic renormalisation.

lambda_max = lim_{T->inf} (1/T) sum_k ln(|delta_k| / delta_0): a small separation delta (between two
nearby trajectories, or a tangent vector of the variational equation d(delta)/dt = J(u) delta) is let
grow for ``renorm_every`` steps, its growth factor is logged, and it is scaled back to delta_0 so it
never saturates (Benettin, Galgani, Giorgilli & Strelcyn, Meccanica 15, 9 (1980)). Many starting states
run at once; the estimate is their mean, with the standard error of the mean.

For the Lorenz system at sigma = 10, rho = 28, beta = 8/3 the literature value is 0.9056
(Sprott, "Chaos and Time-Series Analysis", 2003).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.problem import Rhs

MapStep = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""A discrete map u_{k+1} = F(u_k, t_k): u (b, d), t (b, 1) -> (b, d)."""


class LyapunovMethod(str, enum.Enum):
    """Separation of two nearby trajectories, or the tangent vector of the variational equation."""

    two_trajectories = "two-trajectories"
    variational = "variational"


@dataclass(frozen=True)
class LyapunovEstimate:
    """lambda_max (per unit time), its standard error over starting states, and each start's value."""

    value: float
    stderr: float
    per_start: np.ndarray

    @property
    def lyapunov_time(self) -> float:
        """1 / lambda_max."""
        return 1.0 / self.value if self.value > 0 else math.inf


def rk4_map(rhs: Rhs, dt: float, substeps: int = 1) -> MapStep:
    """The RK4 flow map of du/dt = rhs over one step dt (``substeps`` inner steps)."""
    h = dt / substeps

    def step(u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        for _ in range(substeps):
            k1 = rhs(t, u)
            k2 = rhs(t + h / 2, u + h / 2 * k1)
            k3 = rhs(t + h / 2, u + h / 2 * k2)
            k4 = rhs(t + h, u + h * k3)
            u, t = u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), t + h
        return u

    return step


def _random_directions(b: int, d: int, seed: int) -> torch.Tensor:
    v = torch.randn(b, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return v / v.norm(dim=1, keepdim=True)


def map_lyapunov_exponent(step: MapStep, u0: np.ndarray | torch.Tensor, dt: float, n_steps: int,
                          transient_steps: int = 1000, renorm_every: int = 10, d0: float = 1e-8,
                          seed: int = 0) -> LyapunovEstimate:
    """Largest Lyapunov exponent of a discrete map with time step ``dt`` (two nearby trajectories).

    Works for any map: an integrator of the true equations or a learned surrogate's ``step``.

    Args:
        step: F(u (b, d), t (b, 1)) -> (b, d).
        u0: (b, d) starting states (or (d,)); first advanced ``transient_steps`` to reach the attractor.
        n_steps: steps over which growth is measured (a multiple of ``renorm_every`` is used).
        d0: the separation kept after each renormalisation (absolute, in the state's units).
    """
    u = torch.as_tensor(np.atleast_2d(np.asarray(u0, dtype=float)))
    b, d = u.shape
    t = torch.zeros(b, 1, dtype=torch.float64)
    if n_steps < renorm_every or renorm_every < 1:
        raise PinnError(f"need n_steps >= renorm_every >= 1, got {n_steps} and {renorm_every}")
    with torch.no_grad():
        for _ in range(transient_steps):
            u, t = step(u, t), t + dt
        v = u + d0 * _random_directions(b, d, seed)
        log_growth = torch.zeros(b, dtype=torch.float64)
        blocks = n_steps // renorm_every
        for _ in range(blocks):
            for _ in range(renorm_every):
                u, v, t = step(u, t), step(v, t), t + dt
            sep = (v - u).norm(dim=1)
            log_growth += torch.log(sep / d0)
            v = u + (v - u) * (d0 / sep)[:, None]
    per_start = (log_growth / (blocks * renorm_every * dt)).numpy()
    return _estimate(per_start)


def _estimate(per_start: np.ndarray) -> LyapunovEstimate:
    if not np.all(np.isfinite(per_start)):
        raise PinnError("the Lyapunov estimate is not finite: the trajectories left the attractor")
    stderr = float(per_start.std(ddof=1) / np.sqrt(per_start.size)) if per_start.size > 1 else float("nan")
    return LyapunovEstimate(float(per_start.mean()), stderr, per_start)


def largest_lyapunov_exponent(rhs: Rhs, u0: np.ndarray, dt: float = 0.01, t_total: float = 200.0,
                              transient: float = 10.0, renorm_every: int = 10, substeps: int = 1,
                              method: LyapunovMethod = LyapunovMethod.two_trajectories,
                              seed: int = 0) -> LyapunovEstimate:
    """Largest Lyapunov exponent of du/dt = rhs by Benettin's method with RK4 steps of ``dt``.

    Args:
        rhs: f(t, u), t (b, 1), u (b, d) -> (b, d) in torch.
        u0: (b, d) starting states; more starts give a smaller standard error.
        t_total: averaging time after the ``transient``; renorm_every: steps between renormalisations.
        method: two nearby trajectories (separation 1e-8), or the variational equation
            d(delta)/dt = J(u) delta integrated alongside u with the same RK4 steps (J delta by
            forward-mode autodiff, no finite differences).
    """
    n_steps = int(round(t_total / dt))
    transient_steps = int(round(transient / dt))
    if LyapunovMethod(method) is LyapunovMethod.two_trajectories:
        return map_lyapunov_exponent(rk4_map(rhs, dt, substeps), u0, dt, n_steps, transient_steps,
                                     renorm_every, seed=seed)

    def augmented(t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        d = state.shape[1] // 2
        u, delta = state[:, :d], state[:, d:]
        f, jv = torch.func.jvp(lambda x: rhs(t, x), (u,), (delta,))
        return torch.cat((f, jv), dim=1)

    step = rk4_map(augmented, dt, substeps)
    u = torch.as_tensor(np.atleast_2d(np.asarray(u0, dtype=float)))
    b, d = u.shape
    t = torch.zeros(b, 1, dtype=torch.float64)
    plain = rk4_map(rhs, dt, substeps)
    with torch.no_grad():
        for _ in range(transient_steps):
            u, t = plain(u, t), t + dt
        state = torch.cat((u, _random_directions(b, d, seed)), dim=1)
        log_growth = torch.zeros(b, dtype=torch.float64)
        blocks = max(1, n_steps // renorm_every)
        for _ in range(blocks):
            for _ in range(renorm_every):
                state, t = step(state, t), t + dt
            norm = state[:, d:].norm(dim=1)
            log_growth += torch.log(norm)
            state = torch.cat((state[:, :d], state[:, d:] / norm[:, None]), dim=1)
    return _estimate((log_growth / (blocks * renorm_every * dt)).numpy())
