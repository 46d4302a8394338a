"""Joint Gauss-Newton / Levenberg-Marquardt fit of the unknown constants and the piecewise trajectory.

The variables are x = (theta (p), a_0 (d), C_0 ... C_{K-1}) (see :mod:`pinn.inverse.trajectory`). The
residual vector stacks, window by window, the weighted equation residual at the Q Lobatto nodes,

    w h_k / s_l * (du_l/dt - f_l(t, u; theta)),        l = 1..d,

and the data misfits (u_c(t_i) - y_ic) / sigma_c of the observed values in the window, where s_l is the
root-mean-square size of component l, sigma_c the noise level of component c (s_c until estimated) and h_k
the window length: the dimensionless residual weight w compares the change of the state over a window that
the equation fails to explain with a misfit of the data.

Each Levenberg-Marquardt step minimises |J dx + r|^2 + lam |S dx|^2 (S: Marquardt's column norms) without
forming J: the rows of window k touch only theta, the window start a_k and C_k, and the starts are chained,
a_{k+1} = a_k + h_k Phi(1) C_k. A backward sweep eliminates C_{K-1}, ..., C_0 one window at a time by small
QR factorisations (a square-root information Riccati recursion, as in multiple shooting), leaving a
(p + d)-sized problem for (dtheta, da_0); a forward sweep recovers each dC_k. The cost is linear in the
number of windows, and no normal equations are formed (the random features are nearly collinear).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.inverse.observations import Observations
from pinn.inverse.trajectory import WindowedTrajectory
from pinn.marching import state_jacobian
from pinn.spec import ODESpec

RIDGE = 1e-12
"""Smallest damping lam (relative to each column's norm squared): keeps the elimination of the nearly
collinear feature coefficients deterministic; far below anything that moves the optimum."""


def parameter_jacobian(rhs: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor) -> torch.Tensor:
    """Sensitivities df/dtheta_j of g(theta) = f(t, u; theta) at fixed t, u: returns (n, d, p).

    ``rhs`` maps theta (p,) to f (n, d); one forward-mode product per unknown constant.
    """
    cols = []
    for j in range(theta.numel()):
        tangent = torch.zeros_like(theta)
        tangent[j] = 1.0
        _, jv = torch.func.jvp(rhs, (theta,), (tangent,))
        cols.append(jv)
    if not cols:
        n, d = rhs(theta).shape
        return torch.zeros(n, d, 0, dtype=theta.dtype)
    return torch.stack(cols, dim=2)



@dataclass(frozen=True)
class DataRows:
    """The finite observations flattened to rows: window k (n,), state component comp (n,), the basis row
    B (n, M) at the observation time, value y (n,), time t (n,) and the observed column col (n,)."""

    k: np.ndarray
    comp: torch.Tensor
    B: torch.Tensor
    y: torch.Tensor
    t: np.ndarray
    col: np.ndarray

    @property
    def count(self) -> int:
        return int(self.y.numel())


def data_rows(traj: WindowedTrajectory, obs: Observations) -> DataRows:
    """Flatten the observed values (NaN skipped) and evaluate the trajectory basis at their times."""
    rows, cols = np.nonzero(np.isfinite(obs.values))
    t = obs.t[rows]
    k, B, _ = traj.locate(t)
    comp = torch.tensor([obs.index[c] for c in cols], dtype=torch.long)
    return DataRows(k, comp, B, torch.from_numpy(obs.values[rows, cols]).to(traj.dtype), t, cols)


@dataclass
class WindowRows:
    """Linearised rows of one window, r + A_theta dtheta + A_start da_k + A_coef dC_k: (n,), (n, p), (n, d),
    (n, d M)."""

    r: torch.Tensor
    theta: torch.Tensor
    start: torch.Tensor
    coef: torch.Tensor


class JointResidual:
    """Residuals and their per-window linearisation for a model, its unknowns and the data.

    Args:
        traj: the piecewise trajectory layout.
        model: the parametric ODE; unknowns: names of the estimated constants; known: values of the others.
        rows: the data rows.
        scale: s_l of every state component (d,), the unit of the equation rows.
        noise: sigma_c of every state component (d,), the unit of the data rows.
        weight: the residual weight w.
    """

    def __init__(self, traj: WindowedTrajectory, model: ODESpec, unknowns: Sequence[str],
                 known: dict[str, float], rows: DataRows, scale: torch.Tensor, noise: torch.Tensor,
                 weight: float) -> None:
        self.traj, self.model, self.unknowns, self.known = traj, model, tuple(unknowns), known
        self.rows, self.scale, self.noise, self.weight = rows, scale, noise, float(weight)
        self.p = len(self.unknowns)
        B = torch.stack([b.B for b in traj.bases])  # (K, Q, M)
        self._B, self._D = B, torch.stack([b.D for b in traj.bases])
        self._t = torch.from_numpy(traj.collocation_times()).to(traj.dtype).reshape(-1, 1)  # (K Q, 1)
        h = torch.from_numpy(np.diff(traj.edges)).to(traj.dtype)
        self._w_eq = self.weight * h[:, None] / scale[None, :]  # (K, d)
        self._window_rows = [np.nonzero(rows.k == k)[0] for k in range(traj.windows)]

    @property
    def size(self) -> int:
        return self.p + self.traj.size

    def rhs(self, t: torch.Tensor, u: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return self.model.parametric_rhs(t, u, self.model.constants(self.unknowns, theta, self.known))

    def _states(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Coefficients (K, M, d), window starts (K, d) and states at the nodes (K Q, d)."""
        z = x[self.p:]
        _, coef = self.traj.unpack(z)
        starts = self.traj.starts(z)
        u = starts[:, None, :] + torch.einsum("kqm,kmd->kqd", self._B, coef)
        return coef, starts, u.reshape(-1, self.traj.d)

    def equation_residual(self, x: torch.Tensor) -> torch.Tensor:
        """Unweighted du/dt - f at all collocation nodes: (K, Q, d)."""
        coef, _, u = self._states(x)
        du = torch.einsum("kqm,kmd->kqd", self._D, coef)
        return du - self.rhs(self._t, u, x[: self.p]).reshape(du.shape)

    def data_misfit(self, x: torch.Tensor) -> torch.Tensor:
        """Unweighted u_c(t_i) - y_i at every data row: (n,)."""
        coef, starts, _ = self._states(x)
        k, comp = torch.from_numpy(self.rows.k), self.rows.comp
        return starts[k, comp] + (self.rows.B * coef[k, :, comp]).sum(1) - self.rows.y

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """All weighted residuals: equation rows then data rows, (K Q d + n,)."""
        eq = self.equation_residual(x) * self._w_eq[:, None, :]
        data = self.data_misfit(x) / self.noise[self.rows.comp]
        return torch.cat([eq.reshape(-1), data])

    def linearize(self, x: torch.Tensor) -> list[WindowRows]:
        """The weighted rows of every window and their derivatives (see :class:`WindowRows`)."""
        p, d, M, Q, K = self.p, self.traj.d, self.traj.M, self.traj.Q, self.traj.windows
        theta = x[:p]
        coef, starts, u = self._states(x)
        f = lambda tt, uu: self.rhs(tt, uu, theta)  # noqa: E731
        res = (torch.einsum("kqm,kmd->kqd", self._D, coef) - f(self._t, u).reshape(K, Q, d))
        G = state_jacobian(f, self._t, u).reshape(K, Q, d, d)
        P = parameter_jacobian(lambda th: self.rhs(self._t, u, th), theta).reshape(K, Q, d, p)
        eye = torch.eye(d, dtype=x.dtype)
        w = self._w_eq.repeat_interleave(Q, dim=1).reshape(K, d, Q, 1)  # rows ordered (component, node)
        # d res_l(q) / d C_k[m, j] = delta_lj D[q, m] - G[q, l, j] B[q, m]
        a_coef = (eye[None, :, None, :, None] * self._D[:, None, :, None, :]
                  - G.permute(0, 2, 1, 3)[..., None] * self._B[:, None, :, None, :])  # (K, d, Q, d, M)
        a_coef = (a_coef * w[..., None]).reshape(K, d * Q, d * M)
        a_start = (-G.permute(0, 2, 1, 3) * w).reshape(K, d * Q, d)
        a_theta = (-P.permute(0, 2, 1, 3) * w).reshape(K, d * Q, p)
        r_eq = (res.permute(0, 2, 1)[..., None] * w).reshape(K, d * Q)
        misfit = self.data_misfit(x) / self.noise[self.rows.comp]
        out = []
        for k in range(K):
            sel = self._window_rows[k]
            comp = self.rows.comp[sel]
            inv = 1.0 / self.noise[comp]
            n = sel.size
            d_start = torch.zeros(n, d, dtype=x.dtype)
            d_start[torch.arange(n), comp] = inv
            d_coef = torch.zeros(n, d, M, dtype=x.dtype)
            d_coef[torch.arange(n), comp] = inv[:, None] * self.rows.B[sel]
            out.append(WindowRows(torch.cat([r_eq[k], misfit[sel]]),
                                  torch.cat([a_theta[k], torch.zeros(n, p, dtype=x.dtype)]),
                                  torch.cat([a_start[k], d_start]),
                                  torch.cat([a_coef[k], d_coef.reshape(n, d * M)])))
        return out


@dataclass
class Elimination:
    """What the backward sweep keeps of window k: dC_k = solve(T11, c1 - T12 (dtheta, da_k))."""

    T11: torch.Tensor
    T12: torch.Tensor
    c1: torch.Tensor


def _column_norms(blocks: list[WindowRows]) -> list[torch.Tensor]:
    """Marquardt scales: norms of the columns of J for theta and a_0 (one vector) and each C_k (local rows
    only)."""
    theta = torch.sqrt(sum((b.theta ** 2).sum(0) for b in blocks))
    start = torch.sqrt(sum((b.start ** 2).sum(0) for b in blocks))
    return [torch.cat([theta, start])] + [b.coef.norm(dim=0) for b in blocks]


def solve_step(blocks: list[WindowRows], ends: torch.Tensor, lam: float,
               scales: Optional[list[torch.Tensor]] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The damped Gauss-Newton step by the backward/forward sweep described in the module docstring.

    Args:
        blocks: linearised rows of each window; ends: (K, M) the start jumps h_k Phi(1) of each window.
        lam: damping, relative to each column's squared norm (floored at :data:`RIDGE`).
        scales: column norms (from :func:`_column_norms`), computed if not given.
    Returns:
        The step (p + d + K d M,) in the packed layout, and the information matrix of (theta, a_0) with
        every C_k eliminated, R^T R ((p + d), (p + d)), of the damped linearisation.
    """
    p, d = blocks[0].theta.shape[1], blocks[0].start.shape[1]
    n_y = p + d
    dtype = blocks[0].r.dtype
    scales = scales or _column_norms(blocks)
    lam = max(lam, RIDGE)
    R = torch.zeros(0, n_y, dtype=dtype)  # square-root information of the cost-to-go in y = (dtheta, da_k)
    rho = torch.zeros(0, dtype=dtype)
    kept: list[Elimination] = []
    for k in range(len(blocks) - 1, -1, -1):
        b = blocks[k]
        dM = b.coef.shape[1]
        damp = torch.diag(lam ** 0.5 * scales[k + 1].clamp_min(1e-300))
        future_c = (R[:, p:, None] * ends[k][None, None, :]).reshape(R.shape[0], dM)
        A = torch.cat([torch.cat([b.coef, b.theta, b.start], 1),
                       torch.cat([damp, torch.zeros(dM, n_y, dtype=dtype)], 1),
                       torch.cat([future_c, R], 1)])
        rhs = torch.cat([-b.r, torch.zeros(dM, dtype=dtype), -rho])
        Qm, T = torch.linalg.qr(A)
        c = Qm.T @ rhs
        kept.append(Elimination(T[:dM, :dM], T[:dM, dM:], c[:dM]))
        R, rho = T[dM:, dM:], -c[dM:]
    kept.reverse()
    damp0 = torch.diag(lam ** 0.5 * scales[0].clamp_min(1e-300))
    A0 = torch.cat([R, damp0])
    y = torch.linalg.lstsq(A0, torch.cat([-rho, torch.zeros(n_y, dtype=dtype)])[:, None]).solution[:, 0]
    dtheta, da = y[:p], y[p:]
    steps = []
    for k, e in enumerate(kept):
        dc = torch.linalg.solve_triangular(e.T11, (e.c1 - e.T12 @ torch.cat([dtheta, da]))[:, None], upper=True)[:, 0]
        steps.append(dc)
        da = da + dc.reshape(d, -1) @ ends[k]
    return torch.cat([dtheta, y[p:], *steps]), R.T @ R


def predicted_cost(blocks: list[WindowRows], step: torch.Tensor, ends: torch.Tensor) -> float:
    """|J step + r|^2 of the linearisation, window by window."""
    p, d = blocks[0].theta.shape[1], blocks[0].start.shape[1]
    dM = blocks[0].coef.shape[1]
    dtheta, da = step[:p], step[p: p + d]
    total = 0.0
    for k, b in enumerate(blocks):
        dc = step[p + d + k * dM: p + d + (k + 1) * dM]
        total += float(((b.r + b.theta @ dtheta + b.start @ da + b.coef @ dc) ** 2).sum())
        da = da + dc.reshape(d, -1) @ ends[k]
    return total


@dataclass
class LMResult:
    """Outcome of :func:`levenberg_marquardt`: the variables, final cost (sum of squares), Jacobians used,
    and whether a stopping test (rather than the iteration cap) ended it."""

    x: torch.Tensor
    cost: float
    iterations: int
    converged: bool


def levenberg_marquardt(fun: JointResidual, x: torch.Tensor, max_iter: int = 100, tol: float = 1e-10,
                        callback: Optional[Callable[[int, torch.Tensor, float], None]] = None) -> LMResult:
    """Minimise |r(x)|^2 by Levenberg-Marquardt with Marquardt scaling and Nielsen's damping update.

    Stops when the step is below tol (1 + |x|) in the scaled norm, or the cost decreases by less than a
    relative 1e-14 twice in a row, or after ``max_iter`` linearisations. ``callback(iteration, x, cost)``
    after each accepted step.
    """
    ends = torch.stack([b.end for b in fun.traj.bases])
    r = fun.residual(x)
    cost = float(r @ r)
    if not np.isfinite(cost):
        raise PinnError("the residual is NaN or infinite at the initial guess: give guesses closer to the "
                        "data with --guess")
    lam, nu = 1e-3, 2.0
    blocks = fun.linearize(x)
    it, stalls, converged = 0, 0, False
    while it < max_iter:
        it += 1
        step, _ = solve_step(blocks, ends, lam)
        trial = x + step
        cost_new = float((fun.residual(trial) ** 2).sum())
        predicted = cost - predicted_cost(blocks, step, ends)
        if np.isfinite(cost_new) and cost_new <= cost:
            gain = (cost - cost_new) / predicted if predicted > 0 else 0.0
            stalls = stalls + 1 if cost - cost_new <= 1e-14 * cost else 0
            x, cost = trial, cost_new
            lam, nu = lam * max(1.0 / 3.0, 1.0 - (2.0 * gain - 1.0) ** 3), 2.0
            if callback is not None:
                callback(it, x, cost)
            if float(step.norm()) <= tol * (1.0 + float(x.norm())) or stalls >= 2 or cost < 1e-30:
                converged = True
                break
            blocks = fun.linearize(x)
        else:
            lam, nu = lam * nu, nu * 2.0
            if nu > 2.0 ** 30:  # no damped step lowers the cost: a numerical minimum
                converged = True
                break
    return LMResult(x, cost, it, converged)
