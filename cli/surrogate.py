"""``pinn surrogate train|rollout``: learn a flow map from simulated trajectories (trained networks,
least-squares flow maps, a reservoir, SINDy, or an autoencoder on lifted observations) and run it freely
against the reference. Options map onto :class:`pinn.surrogate.config.SurrogateConfig`; the work is
:func:`pinn.surrogate.pipeline.run_surrogate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.console import console, metrics_table
from pinn.choices import Activation, DType, Optimizer, Schedule
from pinn.errors import PinnError
from pinn.surrogate.config import FeatureMap, FlowForm, Integrator, Observation, SurrogateKind

app = typer.Typer(help="Data-driven surrogates: learn u_t -> u_{t+dt} from trajectories and roll it out.",
                  no_args_is_help=True)


@app.command()
def train(
    problem: Annotated[str, typer.Argument(help="lorenz or oscillator.")],
    model: Annotated[SurrogateKind, typer.Option(help="mlp/lstm/gru (trained), random-features/polynomial "
                                                 "(least squares), reservoir (echo state network), sindy, "
                                                 "autoencoder (with --observe lifted128).")] = SurrogateKind.mlp,
    observe: Annotated[Observation, typer.Option(help="What the model sees: the state, or its lift to 128 "
                                                 "dimensions (autoencoder).")] = Observation.state,
    form: Annotated[Optional[FlowForm], typer.Option(help="MLP form: u+ = N(u), u + dt N(u), or an RK4 step of N "
                                                     "(default residual).")] = None,
    width: Annotated[Optional[int], typer.Option(help="Hidden units (MLP 32, LSTM/GRU 64, autoencoder 64).")] = None,
    depth: Annotated[Optional[int], typer.Option(help="Hidden layers (MLP 3) or stacked layers (LSTM/GRU 1).")]
    = None,
    activation: Annotated[Activation, typer.Option(help="MLP hidden activation.")] = Activation.tanh,
    linear_skip: Annotated[bool, typer.Option("--linear-skip/--no-linear-skip", help="MLP: add a linear "
                                              "shortcut from input to output.")] = True,
    dropout: Annotated[float, typer.Option(help="Dropout probability.")] = 0.0,
    window: Annotated[Optional[int], typer.Option(help="States an LSTM/GRU reads (default 10).")] = None,
    optimizer: Annotated[Optional[Optimizer], typer.Option(help="Default: adam+lbfgs (MLP), adam (LSTM/GRU).")]
    = None,
    lr: Annotated[Optional[float], typer.Option(help="Learning rate (3e-3; autoencoder 1e-3).")] = None,
    schedule: Annotated[Optional[Schedule], typer.Option(help="Learning-rate schedule (none for the MLP, cosine "
                                                         "for LSTM/GRU).")] = None,
    weight_decay: Annotated[float, typer.Option(help="L2 strength.")] = 0.0,
    epochs: Annotated[Optional[int], typer.Option(help="Epochs (MLP 200, LSTM/GRU 40, autoencoder 300).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Mini-batch size (0: full batch for adam).")] = None,
    lbfgs_iters: Annotated[int, typer.Option(help="L-BFGS iterations per epoch.")] = 20,
    adam_fraction: Annotated[float, typer.Option(help="adam+lbfgs: share of the epochs spent in Adam.")] = 0.05,
    patience: Annotated[int, typer.Option(help="Early stopping after this many epochs without a better "
                                          "validation loss (0: off).")] = 0,
    stride: Annotated[Optional[int], typer.Option(help="Use every stride-th training pair.")] = None,
    max_seconds: Annotated[float, typer.Option(help="Training time budget (0: none).")] = 0.0,
    precision: Annotated[Optional[DType], typer.Option(help="Default: float64 MLP, float32 LSTM/GRU.")] = None,
    unroll: Annotated[int, typer.Option(help="MLP/LSTM/GRU: loss over k-step free rollouts (1: one-step).")] = 1,
    features: Annotated[Optional[int], typer.Option(help="random-features: largest feature count (2000); "
                                                    "smaller ones are tried on validation.")] = None,
    feature_map: Annotated[Optional[FeatureMap], typer.Option(help="random-features: tanh or fourier.")] = None,
    feature_scale: Annotated[Optional[float], typer.Option(help="random-features: weight scale (0.2).")] = None,
    ridge: Annotated[Optional[float], typer.Option(help="Least squares / reservoir ridge (default: chosen on "
                                                   "validation).")] = None,
    gauss_newton: Annotated[int, typer.Option(help="random-features: Gauss-Newton iterations on the hidden "
                                              "layer (variable projection; for hundreds of features).")] = 0,
    degree: Annotated[Optional[int], typer.Option(help="Polynomial degree (polynomial 10, SINDy 2).")] = None,
    threshold: Annotated[float, typer.Option(help="SINDy: STLSQ threshold.")] = 0.05,
    reservoir_size: Annotated[Optional[int], typer.Option(help="Reservoir units (600).")] = None,
    spectral_radius: Annotated[Optional[float], typer.Option(help="Reservoir spectral radius (default: tuned).")]
    = None,
    leak: Annotated[Optional[float], typer.Option(help="Reservoir leak rate in (0, 1] (default: tuned).")] = None,
    input_scaling: Annotated[Optional[float], typer.Option(help="Reservoir input scaling (default: tuned).")]
    = None,
    warmup: Annotated[int, typer.Option(help="Reservoir: true samples read before each forecast.")] = 100,
    trials: Annotated[int, typer.Option(help="Reservoir: settings tried on validation.")] = 16,
    trajectories: Annotated[Optional[int], typer.Option(help="Training + validation trajectories.")] = None,
    test_trajectories: Annotated[Optional[int], typer.Option(help="Unseen test trajectories.")] = None,
    dt: Annotated[Optional[float], typer.Option(help="Sample step (default: the problem's).")] = None,
    t_final: Annotated[Optional[float], typer.Option("--t-final", help="Trajectory length.")] = None,
    data: Annotated[Optional[Path], typer.Option(help="Read trajectories from this NPZ instead of simulating "
                                                 "(a surrogate data.npz or `pinn simulate`'s output).")] = None,
    integrator: Annotated[Integrator, typer.Option(help="Data and reference integrator.")] = Integrator.taylor,
    horizon: Annotated[Optional[float], typer.Option(help="Evaluation rollout length (default: the problem's).")]
    = None,
    lyapunov: Annotated[Optional[float], typer.Option(help="lambda_max for Lyapunov times (default: the "
                                                      "problem's literature value, 0.906 for lorenz).")] = None,
    estimate_lyapunov: Annotated[bool, typer.Option("--estimate-lyapunov", help="Estimate lambda_max by "
                                                    "Benettin's method (about 10 s) and use it.")] = False,
    reference_span: Annotated[bool, typer.Option("--reference-span/--no-reference-span", help="Measure where the "
                                                 "Taylor and DOP853 references part.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of data, split and initial weights.")] = 0,
    out: Annotated[Path, typer.Option(help="Folder for run folders.")] = Path("runs"),
) -> None:
    """Train a surrogate on simulated trajectories, evaluate it on unseen ones, save the run folder."""
    from cli.console import RichReporter
    from pinn.surrogate.config import SurrogateConfig
    from pinn.surrogate.pipeline import run_surrogate, summary_rows
    from problems import REGISTRY

    config = SurrogateConfig(
        model=model, observe=observe, trajectories=trajectories, test_trajectories=test_trajectories, dt=dt,
        t_final=t_final, data=str(data) if data else None, integrator=integrator, seed=seed, horizon=horizon,
        lyapunov=lyapunov, estimate_lyapunov=estimate_lyapunov, reference_span=reference_span, form=form, width=width,
        depth=depth, activation=activation, linear_skip=linear_skip, dropout=dropout, window=window,
        optimizer=optimizer, lr=lr, schedule=schedule, weight_decay=weight_decay, epochs=epochs,
        batch_size=batch_size, lbfgs_iters=lbfgs_iters, adam_fraction=adam_fraction, patience=patience,
        stride=stride, max_seconds=max_seconds, precision=precision, unroll=unroll, threshold=threshold,
        degree=degree, features=features, feature_map=feature_map, feature_scale=feature_scale, ridge=ridge,
        gauss_newton=gauss_newton, reservoir_size=reservoir_size, spectral_radius=spectral_radius, leak=leak, input_scaling=input_scaling,
        warmup=warmup, trials=trials, out=str(out))
    prob = REGISTRY.get(problem, purpose="surrogates").surrogate_problem()
    summary, folder = run_surrogate(config, prob, RichReporter())
    console.print(metrics_table(f"{prob.name} {model.value} surrogate on {summary['n_test']} unseen trajectories",
                                summary_rows(summary, prob.lyapunov > 0)))
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
    t_final: Annotated[float, typer.Option("--t-final", help="Length of the rollout.")] = 20.0,
    problem: Annotated[Optional[str], typer.Option(help="Check that the run was trained on this problem.")]
    = None,
) -> None:
    """Run a trained surrogate freely from one initial state and compare it with the reference."""
    from cli.console import RichReporter
    from pinn.surrogate.config import RolloutConfig
    from pinn.surrogate.pipeline import run_problem_name, run_rollout
    from pinn.surrogate.vpt import format_bounded
    from problems import REGISTRY

    extra = list(ctx.args)
    if extra and ic is None:
        raise PinnError(f"unexpected arguments: {' '.join(extra)}")
    u0 = tuple(_floats([*(ic or []), *extra], "--ic")) if ic is not None else None
    config = RolloutConfig(run=str(run), ic=u0, t_final=t_final, problem=problem)
    prob = REGISTRY.get(run_problem_name(run), purpose="surrogates").surrogate_problem()
    result, folder = run_rollout(config, prob, RichReporter())
    lam = float(result["lyapunov"])
    rows = [("valid prediction time (norm > 0.4)", format_bounded(result["vpt"], result["censored"], ".3f")),
            ("valid prediction time (NRMSE > 0.5)", f"{result['vpt_nrmse']:.3f}"),
            ("attractor W1 / sigma (mean, after t = 2)", f"{float(result['attractor_w1_mean']):.3g}")]
    if prob.lyapunov > 0 and lam > 0:
        rows.append(("in Lyapunov times (norm)", format_bounded(result["vpt"] * lam, result["censored"])))
    console.print(metrics_table(f"rollout from {list(result['ic'])} to t = {t_final}", rows))
    console.print(f"written to {folder}", soft_wrap=True)
