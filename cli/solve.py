"""``pinn solve PROBLEM``: solve an ODE with a physics-informed network and write a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.console import console, fmt, metrics_table, progress_bar
from pinn.collocation import Sampling
from pinn.errors import PinnError
from pinn.marching import MarchingConfig, drive_aligned_window
from pinn.networks import Activation
from pinn.optim import Optimizer, Schedule
from pinn.problem import ODEProblem
from pinn.runs import new_run_dir, write_json
from pinn.solver import (DType, Method, Progress, SolveConfig, run_config, solve, write_diverged,
                         write_run)
from pinn.train import GradientConfig
from pinn.trial import InitialCondition
from problems.lorenz import LorenzParams, lorenz_problem
from problems.oscillator import Forcing, OscillatorParams, cosine_drive, oscillator_problem
from problems.square_wave import SquareWave, square_wave_problem

app = typer.Typer(no_args_is_help=True, help="Solve an ODE problem with a physics-informed network.")

EPOCHS_HELP = ("Training budget. --method gradient: first-order optimizer steps (Adam by default) before "
               "the L-BFGS phase. --method marching: cap on Gauss-Newton iterations per window; each window "
               "stops earlier, at convergence (typically 5-12 iterations).")

MethodOpt = Annotated[Method, typer.Option("--method", help="marching: time-marching windows with least-squares "
                                           "(Gauss-Newton) output layers, solver-grade accuracy; gradient: one "
                                           "network trained by gradient descent (the classic PINN).")]
Epochs = Annotated[int, typer.Option("--epochs", min=1, help=EPOCHS_HELP)]
DTypeOpt = Annotated[DType, typer.Option("--dtype", help="Floating-point precision.")]
Device = Annotated[str, typer.Option("--device", help="cpu, cuda, or auto (CUDA if available).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of network weights and collocation points.")]
Window = Annotated[Optional[float], typer.Option("--window", min=0.0, help="marching: window length in time "
                                                "units (default: lorenz 0.1, cos drive 0.5, square drive: "
                                                "a divisor of the period resolving the highest harmonic).")]
Features = Annotated[int, typer.Option("--features", min=1, help="marching: random hidden features per window.")]
Points = Annotated[Optional[int], typer.Option("--points", min=2, help="Collocation points (marching: per "
                                              "window, default 80; gradient: in total, default 512).")]
HiddenEpochs = Annotated[int, typer.Option("--hidden-epochs", min=0, help="marching: Adam steps that train the "
                                           "hidden layers on the first window before the least-squares "
                                           "solves (0 = random features).")]
Width = Annotated[int, typer.Option("--units", min=1, help="gradient: hidden units per layer.")]
Depth = Annotated[int, typer.Option("--layers", min=1, help="gradient: hidden layers.")]
Act = Annotated[Activation, typer.Option("--activation", help="Hidden activation.")]
Opt = Annotated[Optimizer, typer.Option("--optimizer", help="gradient: optimizer.")]
Lr = Annotated[float, typer.Option("--lr", min=0.0, help="gradient: learning rate.")]
LbfgsIters = Annotated[int, typer.Option("--lbfgs-iters", min=0, help="gradient: L-BFGS iterations after the "
                                         "first-order phase (adam+lbfgs, lbfgs).")]
Sched = Annotated[Schedule, typer.Option("--schedule", help="gradient: learning-rate schedule.")]
WeightDecay = Annotated[float, typer.Option("--weight-decay", min=0.0, help="gradient: L2 strength lambda.")]
Samp = Annotated[Sampling, typer.Option("--sampling", help="gradient: collocation points: grid, uniform, sobol.")]
Resample = Annotated[int, typer.Option("--resample-every", min=0, help="gradient: fresh points every k epochs.")]
Batch = Annotated[int, typer.Option("--batch-size", min=0, help="gradient: mini-batch size (0 = full batch).")]
Ic = Annotated[InitialCondition, typer.Option("--ic-mode", help="gradient: exact trial solution or soft penalty.")]
EvalPoints = Annotated[int, typer.Option("--eval-points", min=2000, help="Dense evaluation grid size.")]
Out = Annotated[Path, typer.Option("--out", help="Parent folder of the run folder.")]


def _config(method: Method, epochs: int, dtype: DType, device: str, seed: int, window: Optional[float],
            default_window: float, hidden_epochs: int, features: int,
            points: Optional[int], width: int, depth: int, activation: Activation, optimizer: Optimizer,
            lr: float, lbfgs_iters: int, schedule: Schedule, weight_decay: float, sampling: Sampling,
            resample_every: int, batch_size: int, ic_mode: InitialCondition, eval_points: int) -> SolveConfig:
    window = default_window if window is None else window
    if window <= 0:
        raise PinnError("--window must be positive")
    marching = MarchingConfig(window=window, features=features, points=points or 80, activation=activation,
                              max_iter=epochs, seed=seed, hidden_epochs=hidden_epochs)
    gradient = GradientConfig(width=width, depth=depth, activation=activation, optimizer=optimizer, lr=lr,
                              epochs=epochs, lbfgs_iters=lbfgs_iters, schedule=schedule,
                              weight_decay=weight_decay, points=points or 512, sampling=sampling,
                              resample_every=resample_every, batch_size=batch_size, ic=ic_mode, seed=seed)
    return SolveConfig(method=method, dtype=dtype, device=device, eval_points=eval_points,
                       marching=marching, gradient=gradient)


def run_solve(problem: ODEProblem, cfg: SolveConfig, out: Path, extra_config: Optional[dict] = None) -> Path:
    """Solve with a progress bar, write the run folder, print the final table; returns the run folder."""
    run_dir = new_run_dir(out, problem.name)
    write_json(run_dir / "config.json", run_config(problem, cfg, extra_config))
    label = "windows" if cfg.method is Method.marching else "steps"
    with progress_bar(f"{problem.name} ({cfg.method.value})", 1) as update:
        def report(p: Progress) -> None:
            status = f"{p.label} loss {p.loss:.2e}" + (f" err {p.error:.2e}" if p.error is not None else "")
            update(p.step, p.total, status)

        try:
            result = solve(problem, cfg, report,
                           on_diverged=lambda state, step: write_diverged(run_dir, problem, cfg, state, step))
        except PinnError as exc:
            raise PinnError(f"{exc} (last good checkpoint and config in {run_dir})") from None
    write_run(run_dir, result, extra_config)
    m = result.metrics
    rows = [("relative L2 error", fmt(m["relative_l2"])), ("max abs error", fmt(m["max_abs_error"])),
            ("mean |residual|", fmt(m["mean_abs_residual"])), ("max |residual|", fmt(m["max_abs_residual"])),
            ("t where error > 1%", fmt(m["time_to_1pct"], ".4g") if m["time_to_1pct"] is not None else "never"),
            (f"{label}", str(len(result.history) if cfg.method is Method.marching else cfg.gradient.epochs)),
            ("seconds", f"{result.seconds:.2f}"), ("run folder", str(run_dir))]
    console.print(metrics_table(f"{problem.name} on [{problem.t0:g}, {problem.t1:g}]", rows))
    return run_dir


@app.command("lorenz")
def lorenz(
    ic: Annotated[tuple[float, float, float], typer.Option("--ic", help="Initial state x y z.")] = (-8.0, 7.0, 27.0),
    t_final: Annotated[float, typer.Option("--t-final", help="End of the time interval.")] = 8.0,
    t0: Annotated[float, typer.Option("--t0", help="Start of the time interval.")] = 0.0,
    sigma: Annotated[float, typer.Option(help="Prandtl number sigma.")] = 10.0,
    rho: Annotated[float, typer.Option(help="Rayleigh ratio rho.")] = 28.0,
    beta: Annotated[float, typer.Option(help="Geometric factor beta.")] = 8.0 / 3.0,
    method: MethodOpt = Method.marching, epochs: Epochs = 5000, dtype: DTypeOpt = DType.float64,
    device: Device = "cpu", seed: Seed = 0, window: Window = None, hidden_epochs: HiddenEpochs = 0,
    features: Features = 60, points: Points = None,
    width: Width = 64, depth: Depth = 4, activation: Act = Activation.tanh,
    optimizer: Opt = Optimizer.adam_lbfgs, lr: Lr = 1e-3, lbfgs_iters: LbfgsIters = 1000,
    schedule: Sched = Schedule.none, weight_decay: WeightDecay = 0.0, sampling: Samp = Sampling.sobol,
    resample_every: Resample = 0, batch_size: Batch = 0, ic_mode: Ic = InitialCondition.exact,
    eval_points: EvalPoints = 4001, out: Out = Path("runs"),
) -> None:
    """The Lorenz system x' = sigma (y - x), y' = x (rho - z) - y, z' = x y - beta z."""
    cfg = _config(method, epochs, dtype, device, seed, window, 0.1, hidden_epochs, features, points, width,
                  depth, activation, optimizer, lr, lbfgs_iters, schedule, weight_decay, sampling,
                  resample_every, batch_size, ic_mode, eval_points)
    problem = lorenz_problem(LorenzParams(sigma, rho, beta), ic, t0, t_final)
    run_solve(problem, cfg, out)


@app.command("oscillator")
def oscillator(
    forcing: Annotated[Forcing, typer.Option("--forcing", help="cos: amplitude cos(omega t); square: the "
                                             "notes' square wave (Fourier series, or exact with --harmonics 0).")]
    = Forcing.cos,
    gamma: Annotated[float, typer.Option(help="Damping gamma in x'' + 2 gamma x' + x = F(t).")] = 0.2,
    omega: Annotated[float, typer.Option(help="cos: drive angular frequency.")] = 0.5,
    amplitude: Annotated[float, typer.Option(help="cos: drive amplitude.")] = 1.0,
    period: Annotated[float, typer.Option(help="square: period T.")] = 0.2,
    pulse_width: Annotated[float, typer.Option("--width", help="square: pulse width W.")] = 0.1,
    fmax: Annotated[float, typer.Option(help="square: maximum force.")] = 2.0,
    harmonics: Annotated[int, typer.Option(help="square: Fourier terms N (0 = the exact discontinuous wave).")]
    = 20,
    x0: Annotated[Optional[float], typer.Option(help="Initial position (default 1 for cos, 0 for square).")] = None,
    v0: Annotated[float, typer.Option(help="Initial velocity.")] = 0.0,
    t_final: Annotated[float, typer.Option("--t-final", help="End of the time interval.")] = 20.0,
    method: MethodOpt = Method.marching, epochs: Epochs = 5000, dtype: DTypeOpt = DType.float64,
    device: Device = "cpu", seed: Seed = 0, window: Window = None, hidden_epochs: HiddenEpochs = 0,
    features: Features = 60, points: Points = None,
    width: Width = 64, depth: Depth = 4, activation: Act = Activation.tanh,
    optimizer: Opt = Optimizer.adam_lbfgs, lr: Lr = 1e-3, lbfgs_iters: LbfgsIters = 1000,
    schedule: Sched = Schedule.none, weight_decay: WeightDecay = 0.0, sampling: Samp = Sampling.sobol,
    resample_every: Resample = 0, batch_size: Batch = 0, ic_mode: Ic = InitialCondition.exact,
    eval_points: EvalPoints = 4001, out: Out = Path("runs"),
) -> None:
    """The damped driven oscillator x'' + 2 gamma x' + x = F(t), as a first-order system in (x, v).

    Square drive: the marching windows divide the drive period and hold at most 2.5 periods of the highest
    harmonic (2 pi N / T), so each window's features resolve the drive; with --harmonics 0 the windows also
    break at every jump of the wave, where the force is taken as its one-sided limit.
    """
    if forcing is Forcing.cos:
        default_window = 0.5
        params = OscillatorParams(gamma=gamma, drive=cosine_drive(amplitude, omega))
        problem = oscillator_problem(params, 1.0 if x0 is None else x0, v0, 0.0, t_final)
    else:
        wave = SquareWave(period, pulse_width, fmax)
        default_window = drive_aligned_window(wave.period, max(harmonics, 1))
        problem = square_wave_problem(wave, harmonics, gamma, 1.0, 0.0 if x0 is None else x0, v0, t_final)
    cfg = _config(method, epochs, dtype, device, seed, window, default_window, hidden_epochs, features, points,
                  width, depth, activation, optimizer, lr, lbfgs_iters, schedule, weight_decay, sampling,
                  resample_every, batch_size, ic_mode, eval_points)
    run_solve(problem, cfg, out)
