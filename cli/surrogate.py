"""``pinn surrogate train|rollout``: learn a flow map (MLP, LSTM, GRU, SINDy) from simulated trajectories
and run it freely against the reference."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.console import console, metrics_table, progress_bar
from pinn.choices import Activation, DType, Optimizer, Schedule
from pinn.errors import PinnError
from pinn.runs import new_run_dir, write_json
from pinn.surrogate.models import FlowForm, SurrogateKind
from problems import REGISTRY

app = typer.Typer(help="Data-driven surrogates: learn u_t -> u_{t+dt} from trajectories and roll it out.",
                  no_args_is_help=True)


def _summary_rows(summary: dict, chaotic: bool) -> list[tuple[str, str]]:
    rows = [("one-step relative error (median)", f"{summary['one_step_median']:.3e}"),
            ("one-step relative error (90th pct)", f"{summary['one_step_p90']:.3e}"),
            ("VPT, norm > 0.4 (median, time units)", f"{summary['vpt_median']:.3f}"),
            ("VPT, NRMSE > 0.5 (median, time units)", f"{summary['vpt_nrmse_median']:.3f}"),
            ("attractor W1 / sigma (mean)", f"{summary['attractor_w1']:.3g}")]
    if chaotic:
        rows[3:3] = [("VPT, norm > 0.4 (median, Lyapunov times)", f"{summary['vpt_median_lyap']:.2f}"),
                     ("VPT, NRMSE > 0.5 (median, Lyapunov times)", f"{summary['vpt_nrmse_median_lyap']:.2f}")]
    return rows


@app.command()
def train(
    problem: Annotated[str, typer.Argument(help="lorenz or oscillator.")],
    model: Annotated[SurrogateKind, typer.Option(help="Flow-map MLP, recurrent net, or the SINDy baseline.")]
    = SurrogateKind.mlp,
    form: Annotated[FlowForm, typer.Option(help="MLP form: u+ = N(u), u + dt N(u), or an RK4 step of N.")]
    = FlowForm.residual,
    width: Annotated[Optional[int], typer.Option(min=1, help="Hidden units (MLP, default 32) or hidden size "
                                                 "(LSTM/GRU, default 64).")] = None,
    depth: Annotated[Optional[int], typer.Option(min=1, help="Hidden layers (MLP, default 3) or stacked layers "
                                                 "(LSTM/GRU, default 1).")] = None,
    activation: Annotated[Activation, typer.Option(help="MLP hidden activation.")] = Activation.tanh,
    linear_skip: Annotated[bool, typer.Option("--linear-skip/--no-linear-skip", help="MLP: add a linear "
                                              "shortcut from input to output.")] = True,
    dropout: Annotated[float, typer.Option(min=0.0, max=0.99, help="Dropout probability.")] = 0.0,
    window: Annotated[Optional[int], typer.Option(min=1, help="States an LSTM/GRU reads (default 10; MLP: 1).")]
    = None,
    optimizer: Annotated[Optional[Optimizer], typer.Option(help="Default: adam+lbfgs (MLP), adam (LSTM/GRU).")]
    = None,
    lr: Annotated[float, typer.Option(min=0.0, help="Learning rate (first-order phase).")] = 3e-3,
    schedule: Annotated[Optional[Schedule], typer.Option(help="Learning-rate schedule (default: none for the MLP's "
                                                      "Adam phase, cosine for LSTM/GRU).")] = None,
    weight_decay: Annotated[float, typer.Option(min=0.0, help="L2 strength.")] = 0.0,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Epochs, an L-BFGS epoch being --lbfgs-iters "
                                                  "iterations (default 200 MLP, 40 LSTM/GRU).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=0, help="Mini-batch size (0: full batch for adam; "
                                                      "default 0 MLP, 256 LSTM/GRU).")] = None,
    lbfgs_iters: Annotated[int, typer.Option(min=1, help="L-BFGS iterations per epoch.")] = 20,
    adam_fraction: Annotated[float, typer.Option(min=0.001, max=0.999, help="adam+lbfgs: share of the epochs "
                                                 "spent in Adam.")] = 0.05,
    patience: Annotated[int, typer.Option(min=0, help="Early stopping after this many epochs without a "
                                          "better validation loss (0: off).")] = 0,
    stride: Annotated[Optional[int], typer.Option(min=1, help="Use every stride-th one-step pair for training "
                                                  "(default 5 MLP, 2 LSTM/GRU).")] = None,
    max_seconds: Annotated[float, typer.Option(min=0.0, help="Training time budget (0: none).")] = 0.0,
    precision: Annotated[Optional[DType], typer.Option(help="Default: float64 MLP, float32 LSTM/GRU.")]
    = None,
    trajectories: Annotated[Optional[int], typer.Option(min=2, help="Training + validation trajectories.")] = None,
    test_trajectories: Annotated[Optional[int], typer.Option(min=1, help="Unseen test trajectories.")] = None,
    dt: Annotated[Optional[float], typer.Option(min=0.0, help="Sample step (default: the problem's).")] = None,
    t_final: Annotated[Optional[float], typer.Option("--t-final", min=0.0, help="Trajectory length.")] = None,
    data: Annotated[Optional[Path], typer.Option(help="Read trajectories from this NPZ instead of simulating "
                                                 "(a surrogate data.npz or `pinn simulate`'s output).")] = None,
    horizon: Annotated[float, typer.Option(min=0.0, help="Evaluation rollout length (0: the problem's).")]
    = 0.0,
    lyapunov: Annotated[Optional[float], typer.Option(help="lambda_max for Lyapunov times (default: the "
                                                      "problem's literature value, 0.906 for lorenz).")] = None,
    estimate_lyapunov: Annotated[bool, typer.Option("--estimate-lyapunov", help="Estimate lambda_max by "
                                                    "Benettin's method (about 10 s) and use it.")] = False,
    threshold: Annotated[float, typer.Option(min=0.0, help="SINDy: STLSQ threshold.")] = 0.05,
    degree: Annotated[int, typer.Option(min=1, help="SINDy: polynomial degree.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed of data, split and initial weights.")] = 0,
    out: Annotated[Path, typer.Option(help="Folder for run folders.")] = Path("runs"),
) -> None:
    """Train a surrogate on simulated trajectories, evaluate it on unseen ones, save the run folder."""
    from pinn.runs import save_checkpoint
    from pinn.surrogate.data import DataConfig
    from pinn.surrogate.evaluate import ReferenceSet, evaluate
    from pinn.surrogate.models import ModelSpec, model_state
    from pinn.surrogate.plots import plot_evaluation, plot_training
    from pinn.surrogate.runs import estimate_lyapunov as benettin_lyapunov  # the option owns the plain name
    from pinn.surrogate.runs import evaluation_summary, save_sindy, surrogate_dataset, write_history

    prob = REGISTRY.get(problem, purpose="surrogates").surrogate_problem()
    kind, flow_form, prec = SurrogateKind(model), FlowForm(form), precision
    recurrent = kind in (SurrogateKind.lstm, SurrogateKind.gru)
    if kind is SurrogateKind.mlp and (window or 1) > 1:
        raise PinnError("--window is for lstm and gru; an MLP flow map reads one state")
    n_traj, n_test = trajectories or prob.n_traj, test_trajectories or prob.n_test
    data_config = DataConfig(problem=prob.name, n_traj=n_traj, n_test=n_test, dt=dt or prob.dt,
                             t_final=t_final or prob.t_final, box=prob.box, seed=seed, substeps=prob.substeps,
                             drive_freqs=prob.drive_freqs)
    simulating = console.status(f"simulating {n_traj + n_test} {prob.name} trajectories")
    with simulating if data is None else nullcontext():
        dataset = surrogate_dataset(prob.rhs, len(prob.components), data_config, data)
    folder = new_run_dir(out, f"surrogate-{prob.name}-{kind.value}")
    dataset.save(folder / "data.npz")
    horizon = horizon or prob.horizon
    if horizon <= (window or 1) * dataset.config.dt:
        raise PinnError(f"--horizon {horizon} is shorter than the model's window")
    lam = lyapunov if lyapunov is not None else prob.lyapunov
    lam_estimate = None
    if estimate_lyapunov:
        with console.status("estimating the largest Lyapunov exponent"):
            lam = lam_estimate = benettin_lyapunov(prob.rhs, prob.box, len(prob.components), prob.dt)
        console.print(f"largest Lyapunov exponent (Benettin): {lam:.4f}")
    with console.status("reference rollouts from the test initial states"):
        reference = ReferenceSet.build(prob.rhs, dataset, horizon)
    config: dict = {"surrogate": True, "problem": prob.name, "model": kind.value, "data": dataset.config,
                    "horizon": horizon, "lyapunov": lam}
    if kind is SurrogateKind.sindy:
        from pinn.surrogate.sindy import SindyConfig, fit_sindy

        sindy_config = SindyConfig(degree=degree, threshold=threshold)
        config["sindy"] = sindy_config
        write_json(folder / "config.json", config)
        with console.status("fitting SINDy"):
            fit = fit_sindy(dataset, sindy_config)
        stepper, seconds = fit.model, fit.seconds
        save_sindy(folder, fit.model, fit.equations)
        for line in fit.equations:
            console.print(f"  {line}", markup=False)
    else:
        from pinn.surrogate.train import TrainConfig, count_parameters, train_surrogate

        spec = ModelSpec(kind=kind, form=flow_form, dim=dataset.dim, width=width or (32 if not recurrent else 64),
                         depth=depth or (3 if not recurrent else 1), activation=activation, dropout=dropout,
                         window=(window or 10) if recurrent else 1, dt=dataset.config.dt,
                         drive_freqs=dataset.config.drive_freqs,
                         precision=prec or (DType.float32 if recurrent else DType.float64),
                         linear_skip=linear_skip and not recurrent)
        train_config = TrainConfig(
            optimizer=optimizer or (Optimizer.adam if recurrent else Optimizer.adam_lbfgs), lr=lr,
            schedule=schedule or (Schedule.cosine if recurrent else Schedule.none), weight_decay=weight_decay,
            epochs=epochs or (40 if recurrent else 200),
            batch_size=batch_size if batch_size is not None else (256 if recurrent else 0),
            lbfgs_iters=lbfgs_iters, adam_fraction=adam_fraction, patience=patience,
            stride=stride or (2 if recurrent else 5), seed=seed, max_seconds=max_seconds)
        config.update(spec=spec, train=train_config)
        write_json(folder / "config.json", config)
        with progress_bar(f"training {kind.value}", train_config.epochs) as update:
            result = train_surrogate(dataset, spec, train_config, lambda e, row: update(
                e, status=f"train {row['train_loss']:.2e}  val {row['val_loss']:.2e}"))
        stepper, seconds = result.model, result.seconds
        save_checkpoint(folder / "model.pt", model_state(result.model, spec))
        hist = result.history
        write_history(folder, hist)
        plot_training(hist, folder / "training.png")
        console.print(f"{count_parameters(result.model)} parameters, {len(hist)} epochs ({result.stopped}), "
                      f"best validation loss {result.best_val:.3e} at epoch {result.best_epoch}")
    with console.status("evaluating on the test trajectories"):
        evaluation = evaluate(stepper, dataset, reference, lam if lam > 0 else 1.0)
    summary = evaluation_summary(evaluation, prob.chaotic, seconds, lam, lam_estimate)
    write_json(folder / "metrics.json", summary)
    plot_evaluation(folder, evaluation, prob.components, lam)
    console.print(metrics_table(f"{prob.name} {kind.value} surrogate on {summary['n_test']} unseen trajectories",
                                _summary_rows(summary, prob.chaotic) + [("training seconds", f"{seconds:.1f}")]))
    console.print(f"run folder: {folder}", soft_wrap=True)


def _floats(values: list[str], what: str) -> list[float]:
    try:
        return [float(v) for v in values]
    except ValueError:
        raise PinnError(f"{what} takes numbers, got {' '.join(values)}") from None


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def rollout(
    ctx: typer.Context,
    run: Annotated[Path, typer.Argument(help="A run folder made by `pinn surrogate train`.")],
    ic: Annotated[Optional[list[str]], typer.Option(help="Initial state, all components after one --ic: "
                                                    "--ic 1 1 1 (default: the problem's).")] = None,
    t_final: Annotated[float, typer.Option("--t-final", min=0.0, help="Length of the rollout.")] = 20.0,
    problem: Annotated[Optional[str], typer.Option(help="Check that the run was trained on this problem.")]
    = None,
) -> None:
    """Run a trained surrogate freely from one initial state and compare it with the reference."""
    from pinn.surrogate.plots import plot_rollout_run
    from pinn.surrogate.runs import load_stepper, rollout_run, write_rollout

    stepper, config = load_stepper(run)
    if problem is not None and problem != config["problem"]:
        raise PinnError(f"{run} holds a {config['problem']} surrogate, not {problem}")
    prob = REGISTRY.get(config["problem"], purpose="surrogates").surrogate_problem()
    extra = list(ctx.args)
    if extra and ic is None:
        raise PinnError(f"unexpected arguments: {' '.join(extra)}")
    u0 = _floats([*(ic or []), *extra], "--ic") if ic is not None else list(prob.default_ic)
    d = len(prob.components)
    if len(u0) != d:
        raise PinnError(f"--ic needs {d} values ({' '.join(prob.components)}) for {prob.name}, got {len(u0)}")
    result = rollout_run(stepper, prob.rhs, u0, float(config["data"]["dt"]), int(config["data"]["substeps"]),
                         t_final)
    folder = new_run_dir(run, "rollout")
    write_rollout(folder, result, prob.components, u0, t_final, config["lyapunov"])
    lam = float(config["lyapunov"])
    plot_rollout_run(folder, result, prob.components, lam)
    rows = [("valid prediction time (norm > 0.4)", f"{result.vpt:.3f}" + (" (never crossed)" if result.censored
                                                                          else "")),
            ("valid prediction time (NRMSE > 0.5)", f"{result.vpt_nrmse:.3f}"),
            ("attractor W1 / sigma (mean, after t = 2)", f"{result.stats['w1_mean']:.3g}")]
    if prob.chaotic and lam > 0:
        rows.append(("in Lyapunov times (norm)", f"{result.vpt * lam:.2f}"))
    console.print(metrics_table(f"{config['model']} rollout from {u0} to t = {t_final}", rows))
    console.print(f"written to {folder}", soft_wrap=True)
