"""Inverse problems for PDEs: observations of a field, and constants of the equation estimated from them.

Observations (``pinn simulate``): u sampled from the problem's exact or reference solution on nx equispaced
points (ends included) at t0, t0 + every, ... <= t1, plus independent Gaussian noise of standard deviation
noise * rms(u) (rms over all samples, so ``noise = 0.01`` is "1 % noise"). Saved as .npz with arrays
``x`` (nx,), ``t`` (nt,) (``y`` for a steady problem), ``u`` (nt, nx) (NaN = missing), and the
scalars ``problem``, ``noise``, ``seed``, ``params`` (JSON of the constants used).

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

import json
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np

from pinn.errors import PinnError
from pinn.inverse.observations import observation_times
from pinn.pde.config import LeastSquaresConfig, PDEIdentifyCommand, PDESimulateConfig
from pinn.pde.problem import PDEProblem
from pinn.progress import Reporter
from pinn.threads import torch_threads


# ------------------------------------------------------------------------------------------ observations
@dataclass(frozen=True)
class FieldObservations:
    """Noisy samples of u on a grid: x (nx,), s (ns,) = t (or y), u (ns, nx) with NaN where missing.

    problem: the problem's name; noise: the relative noise level they were made with (NaN if unknown);
    seed: the noise seed (-1 if unknown); params: the constants they were made with (for the record only).
    """

    x: np.ndarray
    s: np.ndarray
    u: np.ndarray
    problem: str = ""
    noise: float = math.nan
    seed: int = -1
    params: Mapping[str, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Number of observed (finite) values."""
        return int(np.isfinite(self.u).sum())


def simulate_observations(problem: PDEProblem, nx: int = 256, every: float = 0.01, noise: float = 0.01,
                          seed: int = 0) -> FieldObservations:
    """Sample the problem's exact/reference solution and add relative Gaussian noise (module docstring).

    Args:
        problem: an evolution problem with an exact solution or a grid reference.
        nx: points along x, equispaced with both ends (>= 2).
        every: time between observations (> 0); the times are t0, t0 + every, ... <= t1.
        noise: relative noise level (>= 0): standard deviation noise * rms(u).
        seed: seed of the noise.
    """
    if problem.steady:
        raise PinnError(f"{problem.name} is steady: observations are made of evolution problems")
    if not problem.has_reference:
        raise PinnError(f"{problem.name} has no exact or reference solution to sample observations from")
    if int(nx) != nx or nx < 2:
        raise PinnError(f"--nx must be an integer >= 2 (a grid of one point has no extent), got {nx}")
    if not (math.isfinite(noise) and noise >= 0):
        raise PinnError(f"--noise must be a finite number >= 0, got {noise}")
    if not (math.isfinite(every) and every > 0):
        raise PinnError(f"--every must be a positive time, got {every}")
    T = problem.time
    if every > T.length:
        raise PinnError(f"--every {every:g} exceeds the time interval [{T.a:g}, {T.b:g}]")
    t = observation_times(T.a, T.b, every)
    t = t[t <= T.b + 1e-12]
    x = np.linspace(problem.x_interval.a, problem.x_interval.b, int(nx))
    u = problem.exact_on_grid(x, t)  # (nt, nx)
    rms = float(np.sqrt(np.mean(u ** 2)))
    noisy = u + noise * rms * np.random.default_rng(seed).standard_normal(u.shape)
    return FieldObservations(x, t, noisy, problem.name, float(noise), int(seed),
                             {k: float(v) for k, v in problem.params.items()})


def save_observations(path: Path | str, obs: FieldObservations) -> Path:
    """Write ``obs`` as .npz (module docstring); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # a file object keeps numpy from appending .npz to another suffix
        np.savez(fh, x=obs.x, t=obs.s, u=obs.u, problem=np.str_(obs.problem), noise=np.float64(obs.noise),
                 seed=np.int64(obs.seed), params=np.str_(json.dumps(dict(obs.params))))
    return path


def load_observations(path: Path | str, problem: Optional[PDEProblem] = None,
                      unknowns: int = 0) -> FieldObservations:
    """Read and validate observations written by :func:`save_observations` (or any .npz with ``x``, ``t``
    and ``u``); PinnError saying what is wrong otherwise. With ``problem``, the grid must lie in its domain.
    """
    path = Path(path)
    if not path.is_file():
        raise PinnError(f"no observations file at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise PinnError(f"cannot read {path} as .npz observations ({exc}); make them with pinn simulate") from None
    second = "y" if "y" in arrays and "t" not in arrays else "t"
    missing = [k for k in ("x", second, "u") if k not in arrays]
    if missing:
        raise PinnError(f"{path} lacks the array(s) {', '.join(missing)}; expected x (nx,), t (nt,), u (nt, nx)")
    x, s, u = (np.asarray(arrays[k], dtype=float) for k in ("x", second, "u"))
    if x.ndim != 1 or s.ndim != 1 or u.shape != (s.size, x.size):
        raise PinnError(f"{path}: u must have shape (len(t), len(x)) = ({s.size}, {x.size}), got {u.shape}")
    if x.size < 2 or s.size < 1:
        raise PinnError(f"{path}: need at least 2 points in x and 1 time, got {x.size} and {s.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(s))):
        raise PinnError(f"{path}: the coordinates x and {second} must be finite")
    if np.any(np.diff(x) <= 0) or np.any(np.diff(s) <= 0):
        raise PinnError(f"{path}: x and {second} must be strictly increasing")
    if np.any(np.isinf(u)):
        raise PinnError(f"{path}: u holds an infinite value (use NaN for a missing value)")
    obs = FieldObservations(x, s, u, str(arrays.get("problem", "")), float(arrays.get("noise", math.nan)),
                            int(arrays.get("seed", -1)), json.loads(str(arrays.get("params", "{}"))))
    if obs.count <= unknowns:
        raise PinnError(f"{path} has {obs.count} observed values for {unknowns} unknowns; more data are needed")
    if problem is not None:
        ix, js = problem.x_interval, problem.second_interval
        tol = 1e-9 * max(1.0, ix.length, js.length)
        if x[0] < ix.a - tol or x[-1] > ix.b + tol or s[0] < js.a - tol or s[-1] > js.b + tol:
            raise PinnError(f"{path}: the grid x in [{x[0]:g}, {x[-1]:g}], {second} in [{s[0]:g}, {s[-1]:g}] "
                            f"leaves the domain of {problem.name} (x in [{ix.a:g}, {ix.b:g}], {second} in "
                            f"[{js.a:g}, {js.b:g}])")
    return obs


# -------------------------------------------------------------------------------------------- identify
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


MAX_OBSERVATIONS = 5_000_000
"""Samples above which observations are refused as a mistake (a 5-million-sample field)."""


def run_pde_simulate(spec: Any, cfg: PDESimulateConfig, report: Optional[Reporter] = None) -> dict[str, Any]:
    """What ``pinn simulate PDE`` does: sample the reference solution with noise into an .npz (atomically)."""
    from pinn.runs import check_output_root

    report = report or Reporter()
    problem = spec.problem(cfg.values, cfg.t1)
    if not problem.steady and cfg.every > problem.time.length:
        raise PinnError(f"--every {cfg.every:g} exceeds the time interval [{problem.time.a:g}, {problem.time.b:g}]")
    times = problem.second_interval.length / cfg.every
    samples = cfg.nx * (math.floor(times) + 1) if times <= MAX_OBSERVATIONS else math.inf  # inf: 1/every overflowed
    if samples > MAX_OBSERVATIONS:
        raise PinnError(f"{samples:.3g} samples is more than {MAX_OBSERVATIONS:.0e}; lower --nx or raise --every")
    out = Path(cfg.out)
    check_output_root(out.parent)
    with report.phase(f"sampling the {spec.name} reference ({samples:,} values)"):
        obs = simulate_observations(problem, cfg.nx, cfg.every, cfg.noise, cfg.seed)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        save_observations(tmp, obs)
        os.replace(tmp, out)
    except OSError as exc:
        raise PinnError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return {"file": str(out), "times": int(obs.s.size), "points": int(obs.x.size), "noise": cfg.noise}


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
