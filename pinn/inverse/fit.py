"""Identification by the joint least-squares fit: initial guesses, weight continuation, standard errors.

1. Start: each unknown constant at its guess (default: the centre of its plausible range); the trajectory
   starts flat at the first observed values (0 for unobserved components).
2. Continuation in the residual weight: w = w_start, 10 w_start, ..., w (each fit warm-starts the next).
   At small w the trajectory follows the data and the constants are, in effect, fitted by gradient
   matching (du/dt of the data-shaped trajectory against f), which does not need good initial guesses for
   constants that f depends on linearly; raising w turns the equation into a hard constraint, so at the
   end the fit is the classical output least-squares estimate of an ODE model (the generalised-smoothing
   idea of Ramsay, Hooker, Campbell & Cao, JRSS-B 2007).
3. Constants that f depends on nonlinearly (a frequency: ``ODESpec.grid``) defeat step 2, because
   gradient matching is multimodal in them. They are searched on a grid over their range instead: for each
   grid point the ODE is integrated and the joint problem fitted for a few iterations at w = grid_weight;
   the best point continues with the weights above grid_weight (:func:`shooting_start`).
4. Noise: sigma_c^2 = sum of squared misfits of component c / (n_c (1 - P/N)), with P = p + d estimated
   quantities (constants and initial state) and N observed values. The data rows are re-weighted by
   1/sigma_c and the last stage refitted. Standard errors: Gauss-Newton / Fisher approximation (S^T S)^-1
   for (theta, u0) with S the sensitivities of the weighted data to them along the equation
   (:func:`covariance`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.inverse.config import JointFitConfig
from pinn.inverse.gauss_newton import JointResidual, data_rows, levenberg_marquardt
from pinn.inverse.observations import Observations
from pinn.inverse.trajectory import WindowedTrajectory
from pinn.reference import dop853
from pinn.solve_config import MarchingConfig
from pinn.spec import ODESpec


@dataclass
class HistoryEntry:
    """One accepted Levenberg-Marquardt step: stage weight, cumulative iteration, cost, constants."""

    iteration: int
    weight: float
    cost: float
    theta: list[float]


@dataclass
class JointFit:
    """Result of :func:`fit_joint`.

    theta: estimates (p,); stderr: their standard errors (p,); u0, u0_stderr: the initial state (d,);
    covariance: of (theta, u0), (p + d, p + d); noise: estimated noise sigma of each state component (d,),
    NaN where unobserved; x: all packed variables; residual: the final :class:`JointResidual`.
    """

    theta: np.ndarray
    stderr: np.ndarray
    u0: np.ndarray
    u0_stderr: np.ndarray
    covariance: np.ndarray
    noise: np.ndarray
    x: torch.Tensor
    residual: JointResidual
    history: list[HistoryEntry] = field(default_factory=list)
    grid_start: Optional[dict[str, float]] = None

    @property
    def trajectory(self) -> WindowedTrajectory:
        return self.residual.traj

    def states(self, t: np.ndarray, derivative: bool = False) -> np.ndarray:
        """Reconstructed u(t) (or du/dt) at times t (n,): (n, d)."""
        return self.trajectory(self.x[self.residual.p:], t, derivative)


Progress = Callable[[str, int, int], None]
"""progress(label, stages done, stages) during the grid search and after each stage."""


def initial_variables(traj: WindowedTrajectory, obs: Observations) -> torch.Tensor:
    """Packed (a_0, C) of a flat trajectory at the first observed value of each component (0 if unobserved)."""
    a0 = torch.zeros(traj.d, dtype=traj.dtype)
    for j, c in enumerate(obs.index):
        col = obs.values[:, j]
        a0[c] = float(col[np.isfinite(col)][0])
    return torch.cat([a0, torch.zeros(traj.size - traj.d, dtype=traj.dtype)])


def component_scales(obs: Observations, d: int, states: Optional[np.ndarray] = None) -> torch.Tensor:
    """s_c (d,): RMS of the data for observed components; for the others the RMS of ``states`` (n, d), or
    the geometric mean of the observed scales before any trajectory exists."""
    observed = obs.scale()
    mean = float(np.exp(np.mean(np.log(observed))))
    s = np.full(d, mean)
    if states is not None:
        rms = np.sqrt(np.mean(states ** 2, axis=0))
        s = np.clip(rms, 1e-3 * mean, 1e3 * mean)
    s[list(obs.index)] = observed
    return torch.from_numpy(s)


def shooting_start(fun: JointResidual, model: ODESpec, theta: torch.Tensor, u0: torch.Tensor,
                   iterations: int, progress: Optional[Callable[[int, int], None]] = None
                   ) -> tuple[torch.Tensor, dict[str, float]]:
    """Grid search over the constants that enter f nonlinearly (``model.grid``), others at ``theta``.

    For each grid point the ODE is integrated from ``u0`` (DOP853), projected onto the trajectory, and
    fitted by a few Levenberg-Marquardt iterations at the weight of ``fun`` (all constants and the initial
    state free); the lowest cost wins. Returns its
    packed variables and the winning grid point. ``progress(done, total)`` before each point.
    """
    levels = [model.grid.get(name, 1) for name in fun.unknowns]
    axes = [np.linspace(*model.ranges[name], n) if n > 1 else [float(theta[i])]
            for i, (name, n) in enumerate(zip(fun.unknowns, levels))]
    times = fun.traj.collocation_times()
    best, best_cost, best_start = None, math.inf, None
    total = int(np.prod([len(a) for a in axes]))
    for done, start in enumerate(itertools.product(*axes)):
        if progress is not None:
            progress(done, total)
        values = dict(fun.known, **dict(zip(fun.unknowns, start)))
        problem = model.problem(values, u0.tolist(), float(times[0, 0]), float(times[-1, -1]))
        try:
            states = dop853(problem.rhs, u0.numpy(), times.ravel(), rtol=1e-9, atol=1e-12)
        except PinnError:
            continue
        if not np.all(np.isfinite(states)):
            continue
        x = torch.cat([torch.tensor(start, dtype=torch.float64), fun.traj.project(states.reshape(times.shape + (-1,)))])
        result = levenberg_marquardt(fun, x, iterations)
        if result.cost < best_cost:
            best, best_cost, best_start = result.x, result.cost, dict(zip(fun.unknowns, start))
    if best is None:
        raise PinnError("every grid start diverged: give initial guesses with --guess name=value")
    return best, best_start


def noise_levels(fun: JointResidual, x: torch.Tensor, n_params: int) -> np.ndarray:
    """sigma_c (d,) from the data misfits (module docstring, step 4); NaN for unobserved components."""
    misfit = fun.data_misfit(x).detach().numpy()
    comp = fun.rows.comp.numpy()
    total = misfit.size
    sigma = np.full(fun.traj.d, np.nan)
    for c in np.unique(comp):
        m = misfit[comp == c]
        dof = m.size * max(1.0 - n_params / total, 1e-3)
        sigma[c] = math.sqrt(float((m ** 2).sum()) / dof)
    return sigma


def reweighted(fun: JointResidual, sigma: np.ndarray, weight: float) -> JointResidual:
    """The same problem with data rows weighted by 1/sigma_c, and the equation rows by ``weight`` times the
    mean s_c / sigma_c, so that the balance between equation and data is kept."""
    scale = fun.scale.numpy()
    observed = np.isfinite(sigma)
    sig = np.where(observed, np.maximum(np.nan_to_num(sigma), 1e-12 * scale), scale)
    ratio = float(np.exp(np.mean(np.log(scale[observed] / sig[observed]))))
    return JointResidual(fun.traj, fun.model, fun.unknowns, fun.known, fun.rows, fun.scale,
                         torch.from_numpy(sig), weight * ratio)


def covariance(fun: JointResidual, x: torch.Tensor) -> np.ndarray:
    """Covariance of (theta, u0) in the Gauss-Newton / Fisher approximation, ((p + d), (p + d)).

    The trajectory is the least-squares solution of the equation rows for given (theta, u0), so its
    sensitivity S = d u_c(t_i) / d(theta, u0) follows window by window: dC_k = -E_C^+ (E_theta dtheta +
    E_a da_k), da_{k+1} = da_k + h Phi(1) dC_k (the forward sensitivity of the least-squares integrator).
    With the data rows weighted by 1/sigma_c the covariance is (S^T S)^-1. Unlike the joint Jacobian,
    this gives the equation rows no weight of evidence: at w -> infinity they are constraints, and their
    small representation error must not count as information about the constants.
    """
    p, d, Q = fun.p, fun.traj.d, fun.traj.Q
    n_eq, n_y = d * Q, p + d
    eye = torch.eye(n_y, dtype=x.dtype)
    start = eye[p:]  # d a_k / d(theta, u0), (d, n_y)
    rows = []
    for b, basis in zip(fun.linearize(x), fun.traj.bases):
        forcing = b.theta[:n_eq] @ eye[:p] + b.start[:n_eq] @ start
        dcoef = -torch.linalg.lstsq(b.coef[:n_eq], forcing).solution  # (d M, n_y)
        rows.append(b.start[n_eq:] @ start + b.coef[n_eq:] @ dcoef)
        start = start + torch.einsum("m,lmy->ly", basis.end, dcoef.reshape(d, -1, n_y))
    S = torch.cat(rows)
    return np.linalg.pinv((S.T @ S).numpy(), hermitian=True)


def refit_with_noise(fun: JointResidual, x: torch.Tensor, n_params: int, obs: Observations, weight: float,
                     run: Callable[[JointResidual, torch.Tensor, float], torch.Tensor]
                     ) -> tuple[JointResidual, torch.Tensor, np.ndarray]:
    """Step 4 of the module docstring: estimate the noise per component, re-weight the data rows by it and
    refit the last stage; returns the re-weighted residual, the variables and the noise levels."""
    sigma = noise_levels(fun, x, n_params)
    if np.all(np.isfinite(sigma[list(obs.index)])) and np.any(sigma[list(obs.index)] > 0):
        fun = reweighted(fun, sigma, weight)
        x = run(fun, x, weight)
        sigma = noise_levels(fun, x, n_params)
        fun = reweighted(fun, sigma, weight)
    return fun, x, sigma


def fit_joint(model: ODESpec, obs: Observations, unknowns: Sequence[str], known: Mapping[str, float],
              guesses: Mapping[str, float], cfg: JointFitConfig = JointFitConfig(), t0: Optional[float] = None,
              t1: Optional[float] = None, progress: Optional[Progress] = None) -> JointFit:
    """Estimate the unknown constants and the trajectory from observations (see the module docstring).

    Args:
        model: the parametric ODE; unknowns: names of the constants to estimate; known: values of the
            other constants (defaults from the model for those not given).
        obs: the data; guesses: initial values for some unknowns (others: centre of the range).
        cfg: fit settings; t0, t1: the interval (default: first and last observation time).
    """
    t0 = float(obs.t[0] if t0 is None else t0)
    t1 = float(obs.t[-1] if t1 is None else t1)
    if t1 <= t0:
        raise PinnError("the observations must span a time interval (at least two distinct times)")
    window = min(cfg.window or model.identify_window, t1 - t0)
    traj = WindowedTrajectory(MarchingConfig(window=window, features=cfg.features, points=cfg.points,
                                             seed=cfg.seed), t0, t1, model.dim)
    rows = data_rows(traj, obs)
    theta = torch.tensor([float(guesses.get(u, np.mean(model.ranges[u]))) for u in unknowns], dtype=torch.float64)
    x = torch.cat([theta, initial_variables(traj, obs)])
    known = {k: float(v) for k, v in known.items()}
    history: list[HistoryEntry] = [HistoryEntry(0, 0.0, math.nan, theta.tolist())]
    weights = cfg.weights()
    n_params = len(unknowns) + model.dim
    grid_start = None

    def run(fun: JointResidual, x: torch.Tensor, weight: float) -> torch.Tensor:
        base = history[-1].iteration
        log = lambda it, xx, cost: history.append(  # noqa: E731
            HistoryEntry(base + it, weight, cost, xx[: fun.p].tolist()))
        return levenberg_marquardt(fun, x, cfg.max_iter, callback=log).x

    fun = None
    scale = component_scales(obs, model.dim)
    if any(model.grid.get(u, 1) > 1 for u in unknowns if u not in guesses):
        w = min(cfg.grid_weight, cfg.weight)
        fun = JointResidual(traj, model, unknowns, known, rows, scale, scale, w)
        report = None if progress is None else lambda i, n: progress(f"grid start {i + 1}/{n}", 0, len(weights))
        x, grid_start = shooting_start(fun, model, theta, x[len(unknowns): len(unknowns) + model.dim],
                                       cfg.grid_iter, report)
        history.append(HistoryEntry(0, w, float((fun.residual(x) ** 2).sum()), x[: fun.p].tolist()))
        weights = [v for v in weights if v > w] + ([] if weights[-1] > w else [weights[-1]])
    for stage, w in enumerate(weights):
        fun = JointResidual(traj, model, unknowns, known, rows, scale, scale, w)
        x = run(fun, x, w)
        scale = component_scales(obs, model.dim, traj(x[len(unknowns):], traj.collocation_times().ravel()))
        if progress is not None:
            progress(f"w = {w:g}", stage + 1, len(weights))
    assert fun is not None
    fun, x, sigma = refit_with_noise(fun, x, n_params, obs, weights[-1], run)
    cov = covariance(fun, x)
    p = len(unknowns)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if not torch.all(torch.isfinite(x)):
        raise PinnError("the fit diverged (NaN estimates): give initial guesses with --guess name=value")
    return JointFit(theta=x[:p].numpy().copy(), stderr=se[:p], u0=traj.starts(x[p:])[0].numpy().copy(),
                    u0_stderr=se[p:], covariance=cov, noise=sigma, x=x, residual=fun, history=history,
                    grid_start=grid_start)
