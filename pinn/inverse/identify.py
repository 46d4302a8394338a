"""``pinn identify``: estimate unknown constants of an ODE, and its whole state, from noisy partial data.

Two methods (:class:`Method`):

- ``lm`` (default): the trajectory is a continuous piecewise random-feature function (the building blocks of
  :mod:`pinn.marching`), fitted jointly with the constants by Levenberg-Marquardt on the data misfit plus
  w times the equation residual, w raised from 0.01 to 1e4 (see :mod:`pinn.inverse.fit`); standard errors
  come from the Gauss-Newton (Fisher) approximation with the noise level estimated from the residuals.
- ``adam``: a network u(t) and the constants trained together by Adam (:mod:`pinn.inverse.gradient`).

A run folder holds config.json, metrics.json (estimates, standard errors, noise, history), model.pt (loads
with ``torch.load(..., weights_only=True)``), fit.csv (data against the reconstruction at the observation
times), trajectory.csv (the reconstructed state on a fine grid), fit.png and history.png.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

from pinn import checks
from pinn.choices import FitMethod
from pinn.errors import PinnError
from pinn.inverse.config import IdentifyConfig
from pinn.inverse.fit import fit_joint
from pinn.inverse.gradient import fit_gradient
from pinn.inverse.observations import Observations, load_observations
from pinn.progress import Reporter
from pinn.runs import check_output_root, run_folder, save_checkpoint, to_json, write_csv, write_json
from pinn.spec import ODESpec


@dataclass
class Identification:
    """Estimates by name with standard errors (NaN for adam), the initial state, the noise estimate (NaN
    where unobserved or for adam), the reconstruction u(t) and du/dt, the fit history and its seconds."""

    names: tuple[str, ...]
    estimates: np.ndarray
    stderr: np.ndarray
    u0: np.ndarray
    u0_stderr: np.ndarray
    noise: np.ndarray
    history: list[dict]
    seconds: float
    states: Callable[..., np.ndarray]
    checkpoint: dict
    extra: dict = field(default_factory=dict)

    def table(self) -> dict[str, dict[str, float]]:
        """{name: {"estimate", "stderr", "relative_stderr"}}."""
        return {n: {"estimate": float(v), "stderr": float(s), "relative_stderr": float(s / abs(v)) if v else np.nan}
                for n, v, s in zip(self.names, self.estimates, self.stderr)}


def check_request(model: ODESpec, cfg: IdentifyConfig) -> tuple[str, ...]:
    """Validate unknowns, guesses and fixed values against the model; returns the unknowns."""
    if not cfg.unknowns:
        raise PinnError(f"name at least one unknown constant with --unknown (among {', '.join(model.constant_names)})")
    unknowns = model.check_unknowns(cfg.unknowns)
    for label, values in (("--guess", cfg.guesses), ("--fix", cfg.fixed)):
        bad = [k for k in values if k not in model.values]
        if bad:
            raise PinnError(f"{label}: {', '.join(repr(b) for b in bad)} is not a constant of {model.name} "
                            f"({', '.join(model.constant_names)})")
        if any(not np.isfinite(v) for v in values.values()):
            raise PinnError(f"{label} values must be finite numbers")
    stray = [k for k in cfg.guesses if k not in unknowns]
    if stray:
        raise PinnError(f"--guess {', '.join(stray)}: only unknown constants take guesses (unknown: "
                        f"{', '.join(unknowns)})")
    clash = [k for k in cfg.fixed if k in unknowns]
    if clash:
        raise PinnError(f"{', '.join(clash)} cannot be both --fix and --unknown")
    return unknowns


def identify(model: ODESpec, obs: Observations, cfg: IdentifyConfig,
             progress: Optional[Callable[[str, int, int], None]] = None) -> Identification:
    """Run the identification; ``progress(label, done, total)`` reports stages (lm) or epochs (adam)."""
    unknowns = check_request(model, cfg)
    known = {k: float(v) for k, v in model.values.items() if k not in unknowns}
    known.update({k: float(v) for k, v in cfg.fixed.items()})
    start = time.perf_counter()
    nan_d = np.full(model.dim, np.nan)
    if FitMethod(cfg.method) is FitMethod.lm:
        fit = fit_joint(model, obs, unknowns, known, cfg.guesses, cfg.lm, progress=progress)
        seconds = time.perf_counter() - start
        eq = fit.residual.equation_residual(fit.x).detach()
        checkpoint = {"trajectory": fit.trajectory.state_dict(fit.x[len(unknowns):]),
                      "theta": torch.from_numpy(fit.theta), "covariance": torch.from_numpy(fit.covariance),
                      "unknowns": list(unknowns), "components": list(model.components)}
        extra = {"equation_residual_rms": float(eq.pow(2).mean().sqrt()), "grid_start": fit.grid_start,
                 "windows": fit.trajectory.windows, "features_kept": fit.trajectory.M,
                 "covariance": fit.covariance,
                 "covariance_order": list(unknowns) + [f"{c}(t0)" for c in model.components]}
        history = [vars(h) for h in fit.history]
        return Identification(unknowns, fit.theta, fit.stderr, fit.u0, fit.u0_stderr, fit.noise, history,
                              seconds, fit.states, checkpoint, extra)
    gfit = fit_gradient(model, obs, unknowns, known, cfg.guesses, cfg.adam,
                        progress=None if progress is None else lambda e, n, loss: progress("adam", e, n))
    seconds = time.perf_counter() - start
    checkpoint = {"network": gfit.net.state_dict(), "scale": gfit.scale, "offset": gfit.offset,
                  "theta": torch.from_numpy(gfit.theta), "unknowns": list(unknowns),
                  "components": list(model.components)}
    u0 = gfit.states(np.array([obs.t[0]]))[0]
    return Identification(unknowns, gfit.theta, np.full(len(unknowns), np.nan), u0, nan_d, nan_d, gfit.history,
                          seconds, gfit.states, checkpoint,
                          {"data_loss": gfit.data_loss, "residual_loss": gfit.residual_loss,
                           "note": "standard errors need --method lm"})


def fit_table(result: Identification, obs: Observations,
              components: tuple[str, ...]) -> tuple[list[str], list[np.ndarray]]:
    """Columns of fit.csv: t, each observed component's data, fit and misfit, then unobserved fits."""
    fitted = result.states(obs.t)
    header, cols = ["t"], [obs.t]
    for j, name in enumerate(obs.names):
        c = obs.index[j]
        header += [f"{name}_data", f"{name}_fit", f"{name}_misfit"]
        cols += [obs.values[:, j], fitted[:, c], fitted[:, c] - obs.values[:, j]]
    for c, name in enumerate(components):
        if name not in obs.names:
            header.append(f"{name}_fit")
            cols.append(fitted[:, c])
    return header, cols


def metrics(result: Identification, obs: Observations, model: ODESpec, cfg: IdentifyConfig) -> dict:
    """The metrics.json content."""
    fitted = result.states(obs.t)
    misfit = {}
    for j, name in enumerate(obs.names):
        ok = np.isfinite(obs.values[:, j])
        misfit[name] = float(np.sqrt(np.mean((fitted[ok, obs.index[j]] - obs.values[ok, j]) ** 2)))
    return {
        "problem": model.name,
        "method": FitMethod(cfg.method).value,
        "estimates": dict(zip(result.names, result.estimates.tolist())),
        "stderr": dict(zip(result.names, result.stderr.tolist())),
        "parameters": result.table(),
        "initial_state": dict(zip(model.components, result.u0.tolist())),
        "initial_state_stderr": dict(zip(model.components, result.u0_stderr.tolist())),
        "noise_estimate": {c: float(result.noise[i]) for i, c in enumerate(model.components) if c in obs.names},
        "data_misfit_rms": misfit,
        "observed": list(obs.names),
        "observations": obs.count,
        "interval": [float(obs.t[0]), float(obs.t[-1])],
        "seconds": result.seconds,
        "history": result.history,
        **{k: v for k, v in result.extra.items()},
    }


def save_identification(result: Identification, obs: Observations, model: ODESpec,
                        cfg: IdentifyConfig, root: Optional[Path | str] = None,
                        phase_seconds: Optional[dict] = None) -> Path:
    """Write the run folder (see the module docstring) and return its path."""
    from pinn.inverse.plots import plot_fit, plot_history

    with run_folder(root or cfg.out, f"identify-{model.name}") as run:
        write_json(run / "config.json", {"command": "identify", **to_json(cfg)})
        write_json(run / "metrics.json", {**metrics(result, obs, model, cfg),
                                          "phase_seconds": dict(phase_seconds or {})})
        save_checkpoint(run / "model.pt", result.checkpoint)
        header, cols = fit_table(result, obs, model.components)
        write_csv(run / "fit.csv", header, cols)
        t = np.linspace(obs.t[0], obs.t[-1], 1001)
        states = result.states(t)
        write_csv(run / "trajectory.csv", ["t", *model.components], [t, *states.T])
        plot_fit(run / "fit.png", t, states, obs, model.components, model.name)
        plot_history(run / "history.png", result.history, result.names, result.estimates)
    return run


def load_data(model: ODESpec, cfg: IdentifyConfig) -> Observations:
    """Validate the request and read the observations (PinnError on any problem, before any work)."""
    return prepare_identify(model, cfg)[0]


MAX_WINDOWS = 1_000_000
"""More windows than this is a mistake (a window of 1e-300), not a fit."""


def work_estimate(model: ODESpec, cfg: IdentifyConfig, obs: Observations) -> dict[str, Any]:
    """The size of an identification before it starts: windows, unknowns, memory and floating-point
    operations (an upper bound: every Levenberg-Marquardt stage at its iteration cap)."""
    d, p, n_obs = model.dim, len(cfg.unknowns), obs.count
    span = float(obs.t[-1] - obs.t[0])
    if FitMethod(cfg.method) is FitMethod.adam:
        a = cfg.adam
        params = a.width * (a.width * (a.depth - 1) + 2 + a.depth) + a.width * d + d
        return {"method": "adam", "observations": n_obs, "parameters": params, "epochs": a.epochs,
                "flops": 30.0 * a.epochs * (a.points + n_obs) * params,
                "memory_bytes": 8.0 * (a.points + n_obs) * a.width * a.depth * 12 + 8.0 * params * 20}
    lm = cfg.lm
    window = min(lm.window or model.identify_window, span) if span > 0 else 1.0
    windows = -checks.whole(-span / window) if span > 0 else 1
    if windows > MAX_WINDOWS:
        raise PinnError(f"--window {window:g} cuts the observed interval of {span:g} into {windows:.3g} windows, "
                        f"more than {MAX_WINDOWS:,}; lengthen --window")
    windows = int(windows)
    rows, cols = lm.points * d + n_obs / windows, lm.features * d + p + d
    stages = len(lm.weights()) + 1 + max((model.grid.get(u, 1) for u in cfg.unknowns), default=1)
    return {"method": "lm", "observations": n_obs, "windows": windows, "unknowns": windows * lm.features * d + p + d,
            "flops": stages * lm.max_iter * windows * 2.0 * rows * cols ** 2,
            "memory_bytes": 8.0 * windows * rows * cols * 4 + 8.0 * n_obs * lm.features * 4}


def prepare_identify(model: ODESpec, cfg: IdentifyConfig) -> tuple[Observations, dict[str, Any]]:
    """Everything checked before any work or run folder: the request, the output folder, the observations
    file, and the size of the fit (memory and time, refused with the estimate and the limit)."""
    unknowns = check_request(model, cfg)
    check_output_root(cfg.out)
    obs = load_observations(cfg.data, model.components, unknowns=len(unknowns) + model.dim)
    estimate = work_estimate(model, cfg, obs)
    checks.memory(estimate["memory_bytes"], f"identifying from {obs.count} observations",
                  "use fewer observations, a longer --window or fewer --features")
    estimate["seconds_bound"] = checks.budget(estimate.pop("flops"), f"identifying from {obs.count} observations",
                                              "use fewer observations or lower --max-iter, --features or --epochs")
    return obs, estimate


def run_identify(model: ODESpec, cfg: IdentifyConfig, report: Optional[Reporter] = None,
                 obs: Optional[Observations] = None) -> tuple[Identification, Path]:
    """What ``pinn identify`` does: validate and load the data, identify, write the run folder.

    Progress: the Levenberg-Marquardt stages (or Adam epochs) as one phase, then the run folder; metrics.json
    records the phase seconds.
    """
    report = report or Reporter()
    obs = load_data(model, cfg) if obs is None else obs
    lm = FitMethod(cfg.method) is FitMethod.lm
    total = len(cfg.lm.weights()) if lm else cfg.adam.epochs
    with report.phase(f"identifying {', '.join(cfg.unknowns)} of {model.name} "
                      f"({'Levenberg-Marquardt stages' if lm else 'Adam epochs'})", total) as update:
        result = identify(model, obs, cfg, lambda label, done, n: update(done, label, n))
    with report.phase("writing the run folder"):
        run = save_identification(result, obs, model, cfg, phase_seconds=report.seconds)
    return result, run
