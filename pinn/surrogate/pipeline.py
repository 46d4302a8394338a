"""The two surrogate commands as library calls: :func:`run_surrogate` (simulate, fit, evaluate, write the run
folder) and :func:`run_rollout` (a free rollout of a saved surrogate against the reference).

Both take the problem's settings as a :class:`pinn.spec.SurrogateProblem` (a registry entry's
``surrogate_problem()``; pinn never imports problems/) and a :class:`~pinn.progress.Reporter` that times and shows every
phase; ``metrics.json`` records the phase times as ``phase_seconds``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pinn.choices import Backend
from pinn.errors import PinnError
from pinn.progress import Reporter
from pinn.runs import new_run_dir, save_checkpoint, write_csv, write_json
from pinn.spec import SurrogateProblem
from pinn.surrogate.config import Observation, RolloutConfig, SurrogateConfig, SurrogateKind


def _chaotic(problem: SurrogateProblem) -> bool:
    return problem.chaotic


def _data_config(config: SurrogateConfig, problem: SurrogateProblem):
    from pinn.surrogate.data import DataConfig

    return DataConfig(problem=problem.name, n_traj=config.trajectories or problem.n_traj,
                      n_test=config.test_trajectories or problem.n_test, dt=config.dt or problem.dt,
                      t_final=config.t_final or problem.t_final, box=tuple(problem.box), seed=config.seed,
                      substeps=problem.substeps, drive_freqs=tuple(problem.drive_freqs),
                      integrator=config.integrator)


def run_surrogate(config: SurrogateConfig, problem: SurrogateProblem,
                  report: Optional[Reporter] = None) -> tuple[dict[str, Any], Path]:
    """Train the surrogate ``config.model`` on ``problem``'s trajectories, evaluate it on the unseen test
    initial states against the Taylor-series reference, and write the run folder under ``config.out``.

    The folder holds config.json ({"surrogate": true, problem, model, observe, data, horizon, lyapunov,
    options}), data.npz, model.pt, metrics.json (the evaluation summary, training seconds, the references'
    agreement span and ``phase_seconds``), model-specific files (history.csv, equations.txt, selection.csv,
    tuning.csv) and figures. Returns (metrics, run folder). Every option is checked before any work starts.
    """
    from pinn.surrogate.evaluate import ReferenceSet

    report = report or Reporter()
    config = config.resolved()
    dt = config.dt or problem.dt
    horizon = config.horizon or problem.horizon
    replace(config, horizon=horizon).check_horizon(dt)
    if config.data is not None and not Path(config.data).is_file():
        raise PinnError(f"no data file at {config.data}")
    dataset, lam, lam_estimate = _trajectories(config, problem, report)
    with report.phase("reference rollouts and their agreement span (Taylor vs DOP853)"):
        reference = ReferenceSet.build(problem.rhs, dataset, horizon, integrator=config.integrator,
                                       span=config.reference_span)
    observed, components = dataset, tuple(problem.components)
    if config.observe is Observation.lifted128:
        from pinn.surrogate.autoencoder import lift, lifted_dataset

        observed = lifted_dataset(dataset)
        reference = reference.transformed(lift)
        components = tuple(f"x{i}" for i in range(observed.dim))

    folder = new_run_dir(Path(config.out), f"surrogate-{problem.name}-{config.model.value}")
    dataset.save(folder / "data.npz")
    write_json(folder / "config.json", {"surrogate": True, "problem": problem.name, "model": config.model.value,
                                        "observe": config.observe.value, "data": dataset.config, "horizon": horizon,
                                        "lyapunov": lam, "reference": reference.method, "options": config})
    fitted = fit_surrogate(config, observed, dataset, problem, folder, report)
    summary = _evaluate_into(folder, config, problem, fitted, observed, reference, components,
                             (lam, lam_estimate), report)
    summary["phase_seconds"] = dict(report.seconds)
    write_json(folder / "metrics.json", summary)
    return summary, folder


def _trajectories(config: SurrogateConfig, problem: SurrogateProblem, report: Reporter):
    """(the simulated or loaded data set, the Lyapunov exponent used, its Benettin estimate or None)."""
    from pinn.surrogate.runs import estimate_lyapunov, surrogate_dataset

    data_config = _data_config(config, problem)
    dim = len(problem.components)
    with report.phase(f"simulating {data_config.n_traj + data_config.n_test} {problem.name} trajectories"):
        dataset = surrogate_dataset(problem.rhs, dim, data_config, Path(config.data) if config.data else None)
    lam = config.lyapunov if config.lyapunov is not None else float(problem.lyapunov)
    lam_estimate = None
    if config.estimate_lyapunov:
        with report.phase("estimating the largest Lyapunov exponent"):
            lam = lam_estimate = estimate_lyapunov(problem.rhs, problem.box, dim, dataset.config.dt)
        report.message(f"largest Lyapunov exponent (Benettin): {lam:.4f}")
    return dataset, lam, lam_estimate


def _evaluate_into(folder: Path, config: SurrogateConfig, problem: SurrogateProblem, fitted: dict[str, Any],
                   observed, reference, components: tuple[str, ...], lyapunov: tuple[float, Optional[float]],
                   report: Reporter) -> dict[str, Any]:
    """Evaluate the fitted stepper on the test trajectories, draw the figures; returns the metrics.
    ``lyapunov``: (the exponent used to scale times, its Benettin estimate or None)."""
    from pinn.surrogate.evaluate import evaluate

    lam, lam_estimate = lyapunov
    stepper = fitted.pop("stepper")
    with report.phase("evaluating on the test trajectories"):
        evaluation = evaluate(stepper, observed, reference, lam if lam > 0 else 1.0)
    summary: dict[str, Any] = evaluation.summary()
    if not _chaotic(problem):
        for key in ("vpt_median_lyap", "vpt_min_lyap", "vpt_nrmse_median_lyap", "reference_span_median_lyap",
                    "reference_span_min_lyap"):
            summary[key] = float("nan")
    summary.update(lyapunov=lam, lyapunov_estimate=lam_estimate, reference=reference.method,
                   warmup_steps=int(stepper.history_length) - 1, **fitted)
    with report.phase("figures"):
        from pinn.surrogate.plots import plot_evaluation

        plot_evaluation(folder, evaluation, components[:3] if config.observe is Observation.state else components,
                        lam)
    return summary


def fit_surrogate(config: SurrogateConfig, data, states_data, problem: SurrogateProblem, folder: Path,
                  report: Reporter) -> dict[str, Any]:
    """Fit the model of a resolved ``config`` on ``data`` (the observed trajectories; ``states_data`` the
    same trajectories as states, for the autoencoder's checks), save it into ``folder``; returns
    {"stepper": model, "train_seconds": wall seconds, "train_process_seconds": CPU seconds of this process,
    ...model-specific results}."""
    kind = config.model
    start = time.process_time()
    wall = time.perf_counter()
    out: dict[str, Any] = {}
    if kind.trained_network:
        out.update(_fit_network(config, data, folder, report))
    elif kind is SurrogateKind.sindy:
        from pinn.surrogate.runs import save_sindy
        from pinn.surrogate.sindy import SindyConfig, fit_sindy

        with report.phase("fitting SINDy"):
            fit = fit_sindy(data, SindyConfig(degree=config.degree, threshold=config.threshold))
        save_sindy(folder, fit.model, fit.equations)
        for line in fit.equations:
            report.message(f"  {line}")
        out.update(stepper=fit.model, equations=fit.equations)
    elif kind in (SurrogateKind.random_features, SurrogateKind.polynomial):
        out.update(_fit_least_squares(config, data, folder, report))
    elif kind is SurrogateKind.reservoir:
        out.update(_fit_reservoir(config, data, folder, report))
    elif kind is SurrogateKind.autoencoder:
        out.update(_fit_autoencoder(config, data, states_data, problem, folder, report))
    out["train_seconds"] = time.perf_counter() - wall
    out["train_process_seconds"] = time.process_time() - start
    return out


def _fit_network(config: SurrogateConfig, data, folder: Path, report: Reporter) -> dict[str, Any]:
    from pinn.surrogate.models import ModelSpec, model_state
    from pinn.surrogate.plots import plot_training
    from pinn.surrogate.runs import write_history
    from pinn.surrogate.train import TrainConfig, count_parameters, train_multistep

    spec = ModelSpec(kind=config.model, form=config.form or ModelSpec().form, dim=data.dim, width=config.width,
                     depth=config.depth, activation=config.activation, dropout=config.dropout, window=config.window,
                     dt=data.config.dt, drive_freqs=data.config.drive_freqs, precision=config.precision,
                     linear_skip=config.linear_skip and not config.model.recurrent)
    train_config = TrainConfig(optimizer=config.optimizer, lr=config.lr, schedule=config.schedule,
                               weight_decay=config.weight_decay, epochs=config.epochs, batch_size=config.batch_size,
                               lbfgs_iters=config.lbfgs_iters, adam_fraction=config.adam_fraction,
                               patience=config.patience, stride=config.stride, seed=config.seed,
                               max_seconds=config.max_seconds, unroll=config.unroll)
    with report.phase(f"training {config.model.value} ({config.backend.value})", train_config.epochs) as update:
        def on_epoch(e: int, row: dict) -> None:
            update(e, f"train {row['train_loss']:.2e}  val {row['val_loss']:.2e}")

        if config.backend is Backend.numpy:
            from pinn.surrogate.scratch_rnn import RecurrentCell, checkpoint_state, train_scratch_recurrent

            result = train_scratch_recurrent(data, spec, train_config, RecurrentCell(config.model.value), on_epoch)
            save_checkpoint(folder / "model.pt", checkpoint_state(result.model))
            parameters = result.model.count_parameters()
        else:
            result = train_multistep(data, spec, train_config, on_epoch)
            save_checkpoint(folder / "model.pt", {"kind": "network", **model_state(result.model, spec)})
            parameters = count_parameters(result.model)
    write_history(folder, result.history)
    plot_training(result.history, folder / "training.png")
    report.message(f"{parameters} parameters, {len(result.history)} epochs ({result.stopped}), "
                   f"best validation loss {result.best_val:.3e} at epoch {result.best_epoch}")
    return {"stepper": result.model, "parameters": parameters, "epochs": len(result.history),
            "best_val_loss": result.best_val}


def _fit_least_squares(config: SurrogateConfig, data, folder: Path, report: Reporter) -> dict[str, Any]:
    from pinn.surrogate.config import FeatureMap
    from pinn.surrogate.data import flow_pairs
    from pinn.surrogate.evaluate import one_step_errors, validation_score
    from pinn.surrogate.lsq import (
        RIDGES,
        FeatureSpec,
        LeastSquaresFlowMap,
        feature_ladder,
        fit_output_layers,
        input_scaling,
    )

    if config.model is SurrogateKind.polynomial:
        spec = FeatureSpec(FeatureMap.polynomial, degree=config.degree, seed=config.seed)
    else:
        spec = FeatureSpec(config.feature_map, features=config.features, scale=config.feature_scale,
                           seed=config.seed)
    center, half = input_scaling(data.subset("train"), data.config.drive_freqs)
    norm = data.normaliser
    full = LeastSquaresFlowMap(spec, data.dim, data.config.dt, center, half, norm.rate_mean, norm.rate_std,
                               data.config.drive_freqs)
    u, t, u_next = flow_pairs(data.subset("train"), data.t, config.stride)
    if config.gauss_newton:
        from pinn.surrogate.lsq import refine_hidden_layer

        with report.phase("Gauss-Newton refinement of the hidden layer", config.gauss_newton):
            norms = refine_hidden_layer(full, u, t, u_next, config.gauss_newton, seed=config.seed)
        report.message(f"Gauss-Newton: residual {norms[0]:.2e} -> {norms[-1]:.2e} in {len(norms) - 1} steps")
    with report.phase(f"least squares: factorising {u.shape[0]} x {full.n_features} features"):
        factor = fit_output_layers(full, u, t, u_next)
    counts = feature_ladder(full)
    ridges = (config.ridge,) if config.ridge is not None else RIDGES
    rows: list[dict[str, Any]] = []
    best: Optional[tuple[float, Any]] = None
    with report.phase("choosing the feature count and ridge on validation", len(counts) * len(ridges)) as update:
        for n in counts:
            for ridge in ridges:
                model = full.truncated(n, factor.solve(n, ridge))
                score = validation_score(model, data)
                one = float(np.median(one_step_errors(model, data.subset("val"), data.t, stride=4)))
                rows.append({"features": n, "ridge": ridge, "val_one_step": one, "val_log_error": score.log_error,
                             "val_vpt": score.vpt})
                if np.isfinite(score.log_error) and (best is None or score.log_error < best[0]):
                    best = (score.log_error, model)
                update(len(rows), f"{n} features, ridge {ridge:g}: one-step {one:.1e}")
    if best is None:
        raise PinnError("every least-squares fit diverged on the validation trajectories; give a --ridge > 0")
    model = best[1]
    write_csv(folder / "selection.csv", list(rows[0]), [np.array([r[k] for r in rows]) for k in rows[0]])
    save_checkpoint(folder / "model.pt", model.checkpoint())
    chosen = next(r for r in rows if r["features"] == model.n_features and
                  np.isclose(r["val_log_error"], best[0]))
    report.message(f"chosen on validation: {model.n_features} features, ridge {chosen['ridge']:g} "
                   f"(validation one-step error {chosen['val_one_step']:.2e})")
    return {"stepper": model, "features": model.n_features, "ridge": chosen["ridge"], "selection": rows}


def _fit_reservoir(config: SurrogateConfig, data, folder: Path, report: Reporter) -> dict[str, Any]:
    from pinn.surrogate.reservoir import ReservoirSpec, fit_reservoir

    tune = [n for n in ("spectral_radius", "leak", "input_scaling") if getattr(config, n) is None]
    base = ReservoirSpec(size=config.reservoir_size, spectral_radius=config.spectral_radius or 0.9,
                         leak=config.leak or 0.5, input_scaling=config.input_scaling or 0.5, warmup=config.warmup,
                         seed=config.seed)
    trials = config.trials if tune else 1
    with report.phase("reservoir: tuning on validation" if tune else "reservoir: fitting the readout", trials) as up:
        model, history = fit_reservoir(data, base, config.ridge, tune, trials, config.stride,
                                       lambda i, tr: up(i, f"log10 error {tr.log_error:.2f}"))
    best = min((h for h in history if np.isfinite(h.log_error)), key=lambda h: h.log_error)
    keys = ("spectral_radius", "leak", "input_scaling")
    write_csv(folder / "tuning.csv", [*keys, "ridge", "val_log_error", "val_vpt"],
              [*(np.array([getattr(h.spec, k) for h in history]) for k in keys), np.array([h.ridge for h in history]),
               np.array([h.log_error for h in history]), np.array([h.vpt for h in history])])
    save_checkpoint(folder / "model.pt", model.checkpoint())
    settings = {k: getattr(model.spec, k) for k in keys}
    report.message("reservoir settings: " + ", ".join(f"{k} {v:.3g}" for k, v in settings.items())
                   + f", ridge {best.ridge:g}, {model.spec.size} units, warm-up {model.spec.warmup} samples")
    return {"stepper": model, "reservoir": {**settings, "ridge": best.ridge, "size": model.spec.size,
                                            "warmup": model.spec.warmup}}


def _fit_autoencoder(config: SurrogateConfig, data, states_data, problem: SurrogateProblem, folder: Path,
                     report: Reporter) -> dict[str, Any]:
    import torch

    from pinn.surrogate.autoencoder import AutoencoderSpec, affine_equivalence, mapped_field_error, train_autoencoder

    spec = AutoencoderSpec(width=config.width, epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                           stride=config.stride, seed=config.seed)
    with report.phase("training the SINDy autoencoder", spec.epochs) as update:
        fit = train_autoencoder(data, spec, lambda e, row: update(
            e, f"reconstruction {row['reconstruction']:.1e}  dz {row['dz']:.1e}"))
    model = fit.model
    save_checkpoint(folder / "model.pt", model.checkpoint())
    equations = model.equations()
    (folder / "equations.txt").write_text("\n".join(equations) + "\n")
    for line in equations:
        report.message(f"  {line}")
    obs = data.subset("val").reshape(-1, data.dim)
    states = states_data.subset("val").reshape(-1, states_data.dim)
    with torch.no_grad():
        latent = model.encode(torch.as_tensor(obs)).numpy()
        field = problem.rhs(torch.zeros(states.shape[0], 1, dtype=torch.float64),
                            torch.as_tensor(states)).numpy()
    affine, _, _ = affine_equivalence(latent, states)
    field_error = mapped_field_error(model, obs, states, field)
    report.message(f"latent = affine image of the state to {affine:.2e}; latent model vs the true field "
                   f"(mapped back): {field_error:.2e}; held-out reconstruction {fit.val_reconstruction:.2e}")
    return {"stepper": model, "equations": equations, "val_reconstruction": fit.val_reconstruction,
            "latent_affine_residual": affine, "latent_field_error": field_error,
            "active_terms": int(model.mask.sum())}


def run_problem_name(folder: Path) -> str:
    """The problem a surrogate run folder was trained on (PinnError if it is not a surrogate run)."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise PinnError(f"{folder} is not a surrogate run folder (no config.json)")
    try:
        raw = json.loads(path.read_text())
    except ValueError:
        raise PinnError(f"{path} is not valid JSON") from None
    if not isinstance(raw, dict) or not raw.get("surrogate") or "problem" not in raw:
        raise PinnError(f"{folder} is not a surrogate run folder (made by another command)")
    return str(raw["problem"])


def run_rollout(config: RolloutConfig, problem: SurrogateProblem,
                report: Optional[Reporter] = None) -> tuple[dict[str, Any], Path]:
    """A free rollout of the surrogate in ``config.run`` from ``config.ic`` (default: the problem's) over
    ``config.t_final``, against the reference (Taylor series where possible), written to a new
    ``rollout-<time>/`` folder inside the run: rollout.json, rollout.csv and figures. Returns (rollout.json's
    contents, folder)."""
    from pinn.surrogate.plots import plot_rollout_run
    from pinn.surrogate.runs import load_stepper, rollout_run, write_rollout

    report = report or Reporter()
    run = Path(config.run)
    stepper, saved = load_stepper(run)
    if config.problem is not None and config.problem != saved["problem"]:
        raise PinnError(f"{run} holds a {saved['problem']} surrogate, not {config.problem}")
    if saved["problem"] != problem.name:
        raise PinnError(f"{run} holds a {saved['problem']} surrogate, but the {problem.name} settings were given")
    u0 = list(config.ic) if config.ic is not None else list(problem.default_ic)
    d = len(problem.components)
    if len(u0) != d:
        raise PinnError(f"--ic needs {d} values ({' '.join(problem.components)}) for {problem.name}, got {len(u0)}")
    observe = Observation(saved.get("observe", "state"))
    with report.phase("free rollout against the reference"):
        result = rollout_run(stepper, problem.rhs, u0, float(saved["data"]["dt"]), int(saved["data"]["substeps"]),
                             config.t_final, observe)
    folder = new_run_dir(run, "rollout")
    lam = float(saved["lyapunov"])
    components = tuple(problem.components) if observe is Observation.state else tuple(
        f"x{i}" for i in range(result.pred.shape[-1]))
    write_rollout(folder, result, components, u0, config.t_final, lam)
    with report.phase("figures"):
        plot_rollout_run(folder, result, components, lam)
    return json.loads((folder / "rollout.json").read_text()), folder


def summary_rows(summary: dict[str, Any], chaotic: bool) -> list[tuple[str, str]]:
    """(quantity, value) rows of a training run's metrics for a table; VPTs at the references' agreement
    span or the horizon are shown as '> value'."""
    from pinn.surrogate.vpt import format_bounded

    rows = [("one-step relative error (median)", f"{summary['one_step_median']:.3e}"),
            ("one-step relative error (90th pct)", f"{summary['one_step_p90']:.3e}"),
            ("VPT, norm > 0.4 (median, time units)",
             format_bounded(summary["vpt_median"], summary["vpt_median_lower_bound"], ".3f")),
            ("VPT, NRMSE > 0.5 (median, time units)",
             format_bounded(summary["vpt_nrmse_median"], summary["vpt_nrmse_median_lower_bound"], ".3f")),
            ("attractor W1 / sigma (mean)", f"{summary['attractor_w1']:.3g}")]
    if chaotic:
        rows[3:3] = [("VPT, norm > 0.4 (median, Lyapunov times)",
                      format_bounded(summary["vpt_median_lyap"], summary["vpt_median_lower_bound"])),
                     ("VPT, norm > 0.4 (min, Lyapunov times)",
                      format_bounded(summary["vpt_min_lyap"], summary["vpt_min_lower_bound"])),
                     ("reference agreement span (median, Lyapunov times)",
                      f"{summary['reference_span_median_lyap']:.2f}")]
    if summary.get("warmup_steps"):
        rows.append(("warm-up before the forecast (samples)", str(summary["warmup_steps"])))
    rows.append(("training seconds", f"{summary['train_seconds']:.1f}"))
    return rows

