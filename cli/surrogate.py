"""``pinn surrogate train|rollout``: learn a flow map from simulated trajectories (trained networks,
least-squares flow maps, a reservoir, SINDy, or an autoencoder on lifted observations) and run it freely
against the reference. Options map onto :class:`pinn.surrogate.config.SurrogateConfig`; the work is
:func:`pinn.surrogate.pipeline.run_surrogate`."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from cli.console import console, metrics_table
from cli.options import DRY_RUN_HELP, MultiValueCommand, PinnCommandGroup, generated_command, option, print_dry_run
from pinn.choices import Activation, Backend, DType, Optimizer, Schedule
from pinn.spec import ODESpec
from pinn.surrogate.config import FeatureMap, FlowForm, Integrator, Observation, SurrogateKind

app = typer.Typer(cls=PinnCommandGroup, help="Data-driven surrogates: learn u_t -> u_{t+dt} from trajectories "
                  "and roll it out.", no_args_is_help=True)
NET, LSQ, RES, DATA = "Trained networks", "Least squares", "Reservoir", "Data and evaluation"

TRAIN_OPTIONS = [
    option("model", SurrogateKind, SurrogateKind.mlp, help="mlp/lstm/gru/rnn (trained), random-features/polynomial "
           "(least squares), reservoir (echo state network), sindy, autoencoder (with --observe lifted128)."),
    option("backend", Backend, Backend.torch, help="torch, or numpy: the from-scratch rnn and lstm (pinn.scratch)."),
    option("observe", Observation, Observation.state, help="What the model sees: the state, or its lift to 128 "
           "dimensions (autoencoder)."),
    option("form", Optional[FlowForm], None, help="MLP form: u+ = N(u), u + dt N(u), or an RK4 step of N "
           "(default residual).", rich_help_panel=NET),
    option("width", Optional[int], None, help="Hidden units (MLP 32, LSTM/GRU/RNN 64, autoencoder 64).",
           rich_help_panel=NET),
    option("depth", Optional[int], None, help="Hidden layers (MLP 3) or stacked layers (recurrent 1).",
           rich_help_panel=NET),
    option("activation", Activation, Activation.tanh, help="MLP hidden activation.", rich_help_panel=NET),
    option("linear_skip", bool, True, flags=("--linear-skip/--no-linear-skip",), help="MLP: a linear shortcut from "
           "input to output.", rich_help_panel=NET),
    option("dropout", float, 0.0, help="Dropout probability.", rich_help_panel=NET),
    option("window", Optional[int], None, help="States a recurrent net reads (default 10).", rich_help_panel=NET),
    option("optimizer", Optional[Optimizer], None, help="Default: adam+lbfgs (MLP), adam (recurrent).",
           rich_help_panel=NET),
    option("lr", Optional[float], None, help="Learning rate (3e-3; autoencoder 1e-3).", rich_help_panel=NET),
    option("schedule", Optional[Schedule], None, help="Learning-rate schedule (none for the MLP, cosine for "
           "recurrent nets).", rich_help_panel=NET),
    option("weight_decay", float, 0.0, help="L2 strength.", rich_help_panel=NET),
    option("epochs", Optional[int], None, help="Epochs (MLP 200, recurrent 40, autoencoder 300).",
           rich_help_panel=NET),
    option("batch_size", Optional[int], None, help="Mini-batch size (0: full batch for adam).", rich_help_panel=NET),
    option("lbfgs_iters", int, 20, help="L-BFGS iterations per epoch.", rich_help_panel=NET),
    option("adam_fraction", float, 0.05, help="adam+lbfgs: share of the epochs spent in Adam.", rich_help_panel=NET),
    option("patience", int, 0, help="Early stopping after this many epochs without a better validation loss "
           "(0: off).", rich_help_panel=NET),
    option("stride", Optional[int], None, help="Use every stride-th training pair."),
    option("max_seconds", float, 0.0, help="Training time budget (0: none).", rich_help_panel=NET),
    option("precision", Optional[DType], None, help="Default: float64 MLP, float32 recurrent.", rich_help_panel=NET),
    option("unroll", int, 1, help="Loss over k-step free rollouts (1: one-step).", rich_help_panel=NET),
    option("features", Optional[int], None, help="random-features: largest feature count (2000); smaller ones "
           "are tried on validation.", rich_help_panel=LSQ),
    option("feature_map", Optional[FeatureMap], None, help="random-features: tanh or fourier.", rich_help_panel=LSQ),
    option("feature_scale", Optional[float], None, help="random-features: weight scale (0.2).", rich_help_panel=LSQ),
    option("ridge", Optional[float], None, help="Least squares / reservoir ridge (default: chosen on validation).",
           rich_help_panel=LSQ),
    option("gauss_newton", int, 0, help="random-features: Gauss-Newton iterations on the hidden layer.",
           rich_help_panel=LSQ),
    option("degree", Optional[int], None, help="Polynomial degree (polynomial 10, SINDy 2).", rich_help_panel=LSQ),
    option("threshold", float, 0.05, help="SINDy: STLSQ threshold.", rich_help_panel=LSQ),
    option("reservoir_size", Optional[int], None, help="Reservoir units (600).", rich_help_panel=RES),
    option("spectral_radius", Optional[float], None, help="Spectral radius (default: tuned).", rich_help_panel=RES),
    option("leak", Optional[float], None, help="Leak rate in (0, 1] (default: tuned).", rich_help_panel=RES),
    option("input_scaling", Optional[float], None, help="Input scaling (default: tuned).", rich_help_panel=RES),
    option("warmup", int, 100, help="True samples read before each forecast.", rich_help_panel=RES),
    option("trials", int, 16, help="Settings tried on validation.", rich_help_panel=RES),
    option("trajectories", Optional[int], None, help="Training + validation trajectories.", rich_help_panel=DATA),
    option("test_trajectories", Optional[int], None, help="Unseen test trajectories.", rich_help_panel=DATA),
    option("dt", Optional[float], None, help="Sample step (default: the problem's).", rich_help_panel=DATA),
    option("t_final", Optional[float], None, help="Trajectory length.", rich_help_panel=DATA),
    option("data", Optional[str], None, help="Read trajectories from this NPZ instead of simulating (a surrogate "
           "data.npz or `pinn simulate`'s output).", rich_help_panel=DATA),
    option("integrator", Integrator, Integrator.taylor, help="Data and reference integrator.", rich_help_panel=DATA),
    option("horizon", Optional[float], None, help="Evaluation rollout length (default: the problem's).",
           rich_help_panel=DATA),
    option("lyapunov", Optional[float], None, help="lambda_max for Lyapunov times (default: the problem's "
           "literature value, 0.906 for lorenz).", rich_help_panel=DATA),
    option("estimate_lyapunov", bool, False, help="Estimate lambda_max by Benettin's method (about 10 s) and use it.",
           rich_help_panel=DATA),
    option("reference_span", bool, True, flags=("--reference-span/--no-reference-span",), help="Measure where the "
           "Taylor and DOP853 references part.", rich_help_panel=DATA),
    option("seed", int, 0, help="Seed of data, split and initial weights."),
    option("out", str, "runs", help="Parent folder of the run folder."),
    option("dry_run", bool, False, help=DRY_RUN_HELP),
]


def _train(problem: str, **options: Any) -> None:
    from cli.console import RichReporter, loading
    from pinn.surrogate.config import SurrogateConfig
    from problems import REGISTRY

    with loading(writes_to=options["out"]):
        from pinn.surrogate.pipeline import run_surrogate, summary_rows

    dry_run = options.pop("dry_run")
    config = SurrogateConfig(**options)
    prob = REGISTRY.get(problem, ODESpec, purpose="surrogates").surrogate_problem()
    if dry_run:
        from pinn.surrogate.budget import prepare_surrogate

        resolved, estimate = prepare_surrogate(config, prob)
        print_dry_run(console, resolved, estimate)
        return
    summary, folder = run_surrogate(config, prob, RichReporter())
    console.print(metrics_table(f"{prob.name} {config.model.value} surrogate on {summary['n_test']} unseen "
                                "trajectories", summary_rows(summary, prob.lyapunov > 0)))
    console.print(f"run folder: {folder}", soft_wrap=True, markup=False)


_PROBLEM = inspect.Parameter("problem", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             annotation=Annotated[str, typer.Argument(
                                 metavar="PROBLEM",
                                 help="A problem with a surrogate set-up: lorenz, oscillator, van-der-pol.")])
app.command("train", cls=MultiValueCommand)(generated_command(
    [_PROBLEM, *TRAIN_OPTIONS], _train, "Train a surrogate on simulated trajectories, evaluate it on unseen ones, "
    "save the run folder.", "train"))


@app.command(cls=MultiValueCommand)
def rollout(
    run: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run folder made by `pinn surrogate train`.")],
    ic: Annotated[Optional[list[float]], typer.Option(metavar="U...", help="Initial state, all components after one "
                                                      "--ic: --ic 1 1 1 (default: the problem's).")] = None,
    t_final: Annotated[float, typer.Option("--t-final", help="Length of the rollout.")] = 20.0,
    problem: Annotated[Optional[str], typer.Option(help="Check that the run was trained on this problem.")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=DRY_RUN_HELP)] = False,
) -> None:
    """Run a trained surrogate freely from one initial state and compare it with the reference."""
    from cli.console import RichReporter, loading
    from pinn.surrogate.config import RolloutConfig
    from pinn.surrogate.vpt import format_bounded
    from problems import REGISTRY

    with loading():
        from pinn.surrogate.pipeline import prepare_rollout, run_problem_name, run_rollout

    u0 = tuple(ic) if ic is not None else None
    config = RolloutConfig(run=str(run), ic=u0, t_final=t_final, problem=problem)
    prob = REGISTRY.get(run_problem_name(run), ODESpec, purpose="surrogates").surrogate_problem()
    if dry_run:
        print_dry_run(console, config, prepare_rollout(config, prob)[2])
        return
    result, folder = run_rollout(config, prob, RichReporter())
    lam = float(result["lyapunov"])
    rows = [("valid prediction time (norm > 0.4)", format_bounded(result["vpt"], result["censored"], ".3f")),
            ("valid prediction time (NRMSE > 0.5)", f"{result['vpt_nrmse']:.3f}"),
            ("attractor W1 / sigma (mean, after t = 2)", f"{float(result['attractor_w1_mean']):.3g}"
             if result.get("blew_up_at") is None else f"- (the rollout blew up at t = {result['blew_up_at']:.4g})")]
    if prob.lyapunov > 0 and lam > 0:
        rows.append(("in Lyapunov times (norm)", format_bounded(result["vpt"] * lam, result["censored"])))
    console.print(metrics_table(f"rollout from {list(result['ic'])} to t = {t_final}", rows))
    console.print(f"written to {folder}", soft_wrap=True)
