"""Inverse problems for PDEs: constants of the equation estimated from observations of its field
(:mod:`pinn.pde.observations`).

Identification (``pinn identify``): the unknown constants theta (entries of ``problem.params``, entering
through the residual) minimise the data misfit

    S(theta) = sum_ij (U(x_j, t_i; theta) - d_ij)^2,

U the space-time least-squares solution of the PDE with those constants (:mod:`pinn.pde.spacetime`,
accurate to 1e-6..1e-9, far below any noise). Gauss-Newton in log theta (the constants are positive): the
Jacobian dU/dlog theta is a forward difference of two solves (relative step 1e-4; the solver is smooth in
theta, so the difference is accurate to about 1e-4 relative, which slows nothing and biases nothing, since
the fixed point J^T r = 0 of exact data is theta itself); each step is halved while it raises S. With
residual-driven cell splitting in the forward model, a split may differ between theta and the shifted
theta; the jump is of the order of the solver's error (1e-8), tiny against the 1e-4 difference.
Start: a given guess, else the best of a log-spaced scan of a plausible range.

Standard errors: the Gauss-Newton (Fisher) approximation Cov(theta) = s^2 (J^T J)^{-1} with the noise
variance estimated from the residuals, s^2 = S / (N - p) (N data, p unknowns), J = dU/dtheta at the
estimate (Bates & Watts, Nonlinear Regression Analysis, 1988, ch. 2). It is calibrated when the noise is
independent with constant variance, which holds for the relative noise above; benchmarks/pde_identify.py
checks the coverage of theta +- 2 SE over noise seeds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np

from pinn.errors import PinnError
from pinn.pde.config import LeastSquaresConfig, PDEIdentifyCommand
from pinn.pde.observations import FieldObservations, load_observations
from pinn.pde.problem import PDEProblem
from pinn.progress import Reporter
from pinn.threads import torch_threads


@dataclass(frozen=True)
class PDEIdentifyConfig:
    """Settings of the identification (saved as config.json).

    unknowns: names of constants in ``problem.params`` to estimate (positive constants).
    guesses: starting values (default: the best point of a log-spaced scan of ``ranges``).
    ranges: plausible (low, high) per unknown for that scan; scan_points: points of the scan per unknown.
    least_squares: the forward solver's settings (use the problem's default solve settings).
    max_iter: Gauss-Newton iterations; tol: stop when every relative step is below tol.
    fd_step: relative step of the forward-difference Jacobian.
    """

    unknowns: tuple[str, ...]
    guesses: Mapping[str, float] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    scan_points: int = 5
    least_squares: LeastSquaresConfig = field(default_factory=LeastSquaresConfig)
    max_iter: int = 12
    tol: float = 1e-7
    fd_step: float = 1e-4

    def validate(self, problem: PDEProblem) -> None:
        """PinnError on unknowns the problem lacks, bad guesses/ranges or settings."""
        if not self.unknowns:
            raise PinnError(f"name at least one unknown with --unknown (among {', '.join(problem.params)})")
        bad = [u for u in self.unknowns if u not in problem.params]
        if bad:
            raise PinnError(f"{problem.name} has no constant {', '.join(repr(b) for b in bad)}; its constants are "
                            f"{', '.join(problem.params) or 'none'}")
        if len(set(self.unknowns)) != len(self.unknowns):
            raise PinnError("an unknown is named twice")
        for name, value in self.guesses.items():
            if name not in self.unknowns:
                raise PinnError(f"--guess {name}: only unknowns take guesses ({', '.join(self.unknowns)})")
            if not (math.isfinite(value) and value > 0):
                raise PinnError(f"--guess {name} must be a positive number, got {value}")
        for name in self.unknowns:
            if name in self.guesses:
                continue
            if name not in self.ranges:
                raise PinnError(f"give a starting value for {name} (--guess {name}=...) or a plausible range")
            low, high = self.ranges[name]
            if not (0 < low < high and math.isfinite(high)):
                raise PinnError(f"the range of {name} must satisfy 0 < low < high, got ({low}, {high})")
        if self.max_iter < 1 or self.scan_points < 2 or not (0 < self.fd_step < 0.1) or not self.tol > 0:
            raise PinnError("max_iter >= 1, scan_points >= 2, 0 < fd_step < 0.1 and tol > 0 are required")
        self.least_squares.validate()


@dataclass
class PDEIdentification:
    """Estimates (by name order), standard errors, covariance (p, p), the noise estimate s and s / rms(data),
    the fitted field on the data grid (ns, nx), per-iteration history, forward solves and seconds."""

    names: tuple[str, ...]
    estimates: np.ndarray
    stderr: np.ndarray
    covariance: np.ndarray
    noise: float
    relative_noise: float
    fitted: np.ndarray
    history: list[dict]
    solves: int
    seconds: float

    def table(self) -> dict[str, dict[str, float]]:
        """{name: {"estimate", "stderr", "relative_stderr"}}."""
        return {n: {"estimate": float(v), "stderr": float(s), "relative_stderr": float(s / abs(v))}
                for n, v, s in zip(self.names, self.estimates, self.stderr)}

    def metrics(self, obs: FieldObservations, truth: Optional[Mapping[str, float]] = None) -> dict:
        """metrics.json content; with ``truth``, the relative error of each estimate too."""
        out = {"estimates": dict(zip(self.names, self.estimates.tolist())),
               "stderr": dict(zip(self.names, self.stderr.tolist())), "parameters": self.table(),
               "covariance": self.covariance.tolist(), "noise_estimate": self.noise,
               "relative_noise_estimate": self.relative_noise, "observations": obs.count,
               "grid": [int(obs.x.size), int(obs.s.size)], "forward_solves": self.solves,
               "seconds": self.seconds, "history": self.history}
        if truth:
            out["relative_error"] = {n: float(abs(v - truth[n]) / abs(truth[n]))
                                     for n, v in zip(self.names, self.estimates) if n in truth}
        return out


def forward_field(problem: PDEProblem, values: Mapping[str, float], obs: FieldObservations,
                  cfg: LeastSquaresConfig) -> np.ndarray:
    """U on the observation grid (ns, nx) from the least-squares solution with the constants ``values``."""
    from pinn.pde.spacetime import solve_space_time
    from pinn.pde.steady import solve_steady

    solver = solve_steady if problem.steady else solve_space_time
    solution = solver(replace(problem, params={**problem.params, **values}), cfg)
    u = solution.evaluate(obs.x, obs.s)[(0, 0)]
    if not np.all(np.isfinite(u)):
        raise PinnError(f"the forward solve failed (NaN) at {values}; give a --guess closer to the truth")
    return u


class _Misfit:
    """theta = log of the unknowns -> U(theta) - data at the observed points, counting the forward solves."""

    def __init__(self, problem: PDEProblem, obs: FieldObservations, cfg: PDEIdentifyConfig) -> None:
        self.problem, self.obs, self.cfg = problem, obs, cfg
        self.names = tuple(cfg.unknowns)
        self.mask = np.isfinite(obs.u)
        self.data = obs.u[self.mask]
        self.solves = 0

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        self.solves += 1
        values = dict(zip(self.names, np.exp(theta).tolist()))
        return forward_field(self.problem, values, self.obs, self.cfg.least_squares)[self.mask] - self.data

    def jacobian(self, theta: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """Forward-difference d residual / d theta (n, p) with step ``cfg.fd_step`` in each log unknown."""
        jac = np.empty((residual.size, theta.size))
        for j in range(theta.size):
            shifted = theta.copy()
            shifted[j] += self.cfg.fd_step
            jac[:, j] = (self(shifted) - residual) / self.cfg.fd_step
        return jac


def _cost(residual: np.ndarray) -> float:
    return float(residual @ residual)


def _starting_point(misfit: _Misfit, history: list[dict],
                    progress: Optional[Callable[[str, int, dict], None]]) -> np.ndarray:
    """log theta to start from: the guesses, else the best of a log-spaced scan of each unknown's range
    (one unknown at a time, the others at their start)."""
    cfg, names, n = misfit.cfg, misfit.names, misfit.data.size
    theta = np.array([math.log(cfg.guesses[k]) if k in cfg.guesses else
                      0.5 * (math.log(cfg.ranges[k][0]) + math.log(cfg.ranges[k][1])) for k in names])
    for j, name in enumerate(names):
        if name in cfg.guesses:
            continue
        low, high = cfg.ranges[name]
        best = (math.inf, theta[j])
        for k, value in enumerate(np.geomspace(low, high, cfg.scan_points)):
            trial = theta.copy()
            trial[j] = math.log(value)
            try:
                c = _cost(misfit(trial))
            except (PinnError, ArithmeticError, np.linalg.LinAlgError, RuntimeError):
                c = math.inf  # the forward model fails at this value: not a candidate
            history.append({"stage": "scan", name: float(value), "misfit_rms": math.sqrt(c / n)})
            if progress is not None:
                progress("scan", k + 1, {name: float(value)})
            best = min(best, (c, math.log(value)))
        if not math.isfinite(best[0]):
            raise PinnError(f"the forward solve failed over the whole range of {name}; give --guess {name}=...")
        theta[j] = best[1]
    return theta


def _gauss_newton(misfit: _Misfit, theta: np.ndarray, history: list[dict],
                  progress: Optional[Callable[[str, int, dict], None]]) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Newton in log theta, each step halved while it raises the misfit; returns (theta, residual)."""
    cfg, names, n = misfit.cfg, misfit.names, misfit.data.size
    residual = misfit(theta)
    for it in range(1, cfg.max_iter + 1):
        jac = misfit.jacobian(theta, residual)
        step = np.linalg.lstsq(jac, -residual, rcond=None)[0]
        c0 = _cost(residual)
        for _ in range(8):
            trial = misfit(theta + step)
            if _cost(trial) <= c0:
                break
            step = step / 2
        else:
            break  # no descent along the Gauss-Newton direction: at the minimum to solver accuracy
        theta, residual = theta + step, trial
        estimate = dict(zip(names, np.exp(theta).tolist()))
        history.append({"stage": "gauss-newton", "iteration": it, **estimate,
                        "misfit_rms": math.sqrt(_cost(residual) / n), "step": float(np.abs(step).max())})
        if progress is not None:
            progress("gauss-newton", it, estimate)
        if np.abs(step).max() < cfg.tol:
            break
    return theta, residual


def identify_pde(problem: PDEProblem, obs: FieldObservations, cfg: PDEIdentifyConfig,
                 progress: Optional[Callable[[str, int, dict], None]] = None) -> PDEIdentification:
    """Estimate ``cfg.unknowns`` from ``obs`` (module docstring); ``progress(stage, k, values)`` reports
    the scan and each Gauss-Newton iteration."""
    cfg.validate(problem)
    start = time.perf_counter()
    misfit = _Misfit(problem, obs, cfg)
    n, p = misfit.data.size, len(misfit.names)
    if n <= p:
        raise PinnError(f"{n} observed values cannot determine {p} unknowns")
    history: list[dict] = []
    theta = _starting_point(misfit, history, progress)
    theta, residual = _gauss_newton(misfit, theta, history, progress)
    # covariance at the estimate: J with respect to theta itself (not log theta), noise from the residuals
    values = np.exp(theta)
    jac = misfit.jacobian(theta, residual) / values
    s2 = _cost(residual) / (n - p)
    cov = s2 * np.linalg.inv(jac.T @ jac)
    fitted = np.full(obs.u.shape, np.nan)
    fitted[misfit.mask] = residual + misfit.data
    rms = float(np.sqrt(np.mean(misfit.data ** 2)))
    return PDEIdentification(misfit.names, values, np.sqrt(np.diag(cov)), cov, math.sqrt(s2), math.sqrt(s2) / rms,
                             fitted, history, misfit.solves, time.perf_counter() - start)


def write_identify_run(run_dir: Path | str, problem: PDEProblem, obs: FieldObservations, cfg: PDEIdentifyConfig,
                       result: PDEIdentification, data: str = "") -> list[Path]:
    """The run folder of ``pinn identify <pde>``: config.json, metrics.json (estimates, standard errors,
    covariance, noise estimate, history; with the relative error against the constants the data were
    simulated with, when the file records them), fit.npz (x, t, data, fitted, misfit) and fit.png (fitted
    field, data, |misfit| maps). Returns the paths."""
    from pinn.pde import plots
    from pinn.runs import write_json

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    second = "y" if problem.steady else "t"
    write_json(run_dir / "config.json", {"command": "identify", "problem": problem.summary(), "data": data,
                                         "identify": cfg})
    truth = {k: v for k, v in obs.params.items() if k in result.names}
    write_json(run_dir / "metrics.json", {"problem": problem.name, **result.metrics(obs, truth)})
    np.savez_compressed(run_dir / "fit.npz", x=obs.x, **{second: obs.s}, data=obs.u, fitted=result.fitted,
                        misfit=result.fitted - obs.u)
    text = ", ".join(f"{n} = {v:.6g} +- {s:.2g}" for n, v, s in zip(result.names, result.estimates, result.stderr))
    shown = np.where(np.isfinite(obs.u), obs.u, result.fitted)
    plots.plot_fields(run_dir / "fit.png", obs.x, obs.s, result.fitted, shown, second,
                      f"{problem.name}: {text} (prediction = fitted solution, reference = data)")
    return [run_dir / n for n in ("config.json", "metrics.json", "fit.npz", "fit.png")]


def run_pde_identify(spec: Any, command: PDEIdentifyCommand,
                     report: Optional[Reporter] = None) -> tuple[PDEIdentification, Path]:
    """What ``pinn identify PDE`` does: validate and load the data, fit the unknowns by Gauss-Newton with the
    least-squares solve as the forward model, write the run folder."""
    from pinn.runs import check_output_root, new_run_dir

    report = report or Reporter()
    unknowns = spec.check_unknowns(command.unknowns)
    problem = spec.problem(command.fixed)
    obs = load_observations(command.data, problem, unknowns=len(unknowns))
    check_output_root(command.out)
    cfg = PDEIdentifyConfig(unknowns=unknowns, guesses=dict(command.guesses),
                            ranges={u: spec.ranges[u] for u in unknowns},
                            least_squares=spec.solver_settings(command.fixed), max_iter=command.max_iter)
    cfg.validate(problem)
    with report.phase(f"identifying {', '.join(unknowns)} of {spec.name} (Gauss-Newton iterations)",
                      cfg.max_iter) as update:
        with torch_threads(1):
            result = identify_pde(problem, obs, cfg, lambda stage, k, values: update(
                k, f"{stage}: " + ", ".join(f"{n} = {v:.6g}" for n, v in values.items())))
    with report.phase("writing the run folder"):
        run_dir = new_run_dir(command.out, f"identify-{spec.name}")
        write_identify_run(run_dir, problem, obs, cfg, result, data=str(command.data))
    return result, run_dir
