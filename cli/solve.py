"""``pinn solve PROBLEM``: solve a registered problem with a physics-informed network, write a run folder.

One sub-command per registered problem, with that problem's parameters as options (built from its spec)
followed by the solver's options, which every problem shares.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Optional

import typer

from cli.console import console, fmt, metrics_table
from cli.options import (
    DRY_RUN_HELP,
    MultiValueCommand,
    ProblemGroup,
    generated_command,
    option,
    pde_parameters,
    print_dry_run,
    spec_parameters,
    spec_values,
)
from pinn import checks
from pinn.choices import Activation, Device, DType, InitialCondition, Method, Optimizer, Sampling, Schedule
from pinn.solve_config import DEFAULT_TOL, ErrorControl, GradientConfig, MarchingConfig, SolveCommand, SolveConfig
from pinn.spec import ODESpec
from problems import REGISTRY

app = typer.Typer(cls=ProblemGroup, no_args_is_help=True, help="Solve a problem with a physics-informed network.")

EPOCHS_HELP = (f"Training budget. --method gradient: first-order optimizer steps before the L-BFGS phase "
               f"[default: {GradientConfig.epochs}]. --method marching: cap on Gauss-Newton iterations per window "
               f"[default: {MarchingConfig.max_iter}]; each window stops earlier, at convergence (typically 5-12).")
M, G = "Marching solver", "Gradient PINN"


def _solver_options() -> list[inspect.Parameter]:
    return [
        option("method", Method, Method.marching, help="marching: time-marching windows with least-squares "
               "(Gauss-Newton) output layers, solver-grade accuracy; gradient: one network trained by gradient "
               "descent (the classic PINN)."),
        option("epochs", Optional[int], None, help=EPOCHS_HELP, show_default=False),
        option("dtype", DType, SolveConfig.dtype, help="Floating-point precision."),
        option("device", Device, SolveConfig.device, help="cpu, cuda, or auto (CUDA if available)."),
        option("seed", int, MarchingConfig.seed, help="Seed of network weights and collocation points."),
        option("eval_points", int, SolveConfig.eval_points, help="Evaluation grid size (metrics, CSV, figures)."),
        option("tol", Optional[float], None, help=f"Relative L2 error to reach: the windows are chosen by error "
               f"control [default: {DEFAULT_TOL:g}]; with --window it is a check that stops a solve whose window "
               "misses it.", show_default=False, rich_help_panel=M),
        option("window", Optional[float], None, help="A fixed window length in time units instead of "
               "error-controlled windows.", show_default=False, rich_help_panel=M),
        option("error_control", ErrorControl, MarchingConfig.error_control, help="What --tol bounds: the error "
               "over the whole interval (error growth included) or each window's own error.", rich_help_panel=M),
        option("threads", Optional[int], None, help="Intra-op torch threads [default: 1 for small per-window "
               "systems, which is fastest and steadiest on a busy machine].", show_default=False),
        option("features", int, MarchingConfig.features, help="Random hidden features per window.",
               rich_help_panel=M),
        option("points", Optional[int], None, help=f"Collocation points: per window for marching [default: "
               f"{MarchingConfig.points}], in total for gradient [default: {GradientConfig.points}].",
               show_default=False),
        option("hidden_epochs", int, MarchingConfig.hidden_epochs, help="Adam steps that train the hidden layers "
               "on the first window before the least-squares solves (0 = random features).", rich_help_panel=M),
        option("units", int, GradientConfig.width, help="Hidden units per layer.", rich_help_panel=G),
        option("layers", int, GradientConfig.depth, help="Hidden layers.", rich_help_panel=G),
        option("activation", Activation, GradientConfig.activation, help="Hidden activation (both methods)."),
        option("optimizer", Optimizer, GradientConfig.optimizer, help="Optimizer.", rich_help_panel=G),
        option("lr", float, GradientConfig.lr, help="Learning rate.", rich_help_panel=G),
        option("lbfgs_iters", int, GradientConfig.lbfgs_iters, help="L-BFGS iterations after the first-order "
               "phase (adam+lbfgs, lbfgs).", rich_help_panel=G),
        option("schedule", Schedule, GradientConfig.schedule, help="Learning-rate schedule.", rich_help_panel=G),
        option("weight_decay", float, GradientConfig.weight_decay, help="L2 strength lambda.", rich_help_panel=G),
        option("sampling", Sampling, GradientConfig.sampling, help="Collocation points: grid, uniform, sobol.",
               rich_help_panel=G),
        option("resample_every", int, GradientConfig.resample_every, help="Fresh points every k epochs (0: never).",
               rich_help_panel=G),
        option("batch_size", int, GradientConfig.batch_size, help="Mini-batch size (0 = full batch).",
               rich_help_panel=G),
        option("ic_mode", InitialCondition, GradientConfig.ic, help="Exact trial solution or soft penalty.",
               rich_help_panel=G),
        option("out", Path, Path("runs"), help="Parent folder of the run folder."),
        option("dry_run", bool, False, help=DRY_RUN_HELP),
    ]


def solve_config(o: dict[str, Any]) -> SolveConfig:
    """The :class:`SolveConfig` from the solver options (``--epochs`` goes to the chosen method)."""
    if o["epochs"] is not None:
        checks.count("epochs", o["epochs"], 1 if o["method"] is Method.marching else 0)
    marching = MarchingConfig(window=o["window"], error_control=o["error_control"], features=o["features"], points=o["points"] or MarchingConfig.points,
                              activation=o["activation"], seed=o["seed"], hidden_epochs=o["hidden_epochs"],
                              **({"max_iter": o["epochs"]} if o["epochs"] is not None else {}))
    gradient = GradientConfig(width=o["units"], depth=o["layers"], activation=o["activation"],
                              optimizer=o["optimizer"], lr=o["lr"], lbfgs_iters=o["lbfgs_iters"],
                              schedule=o["schedule"], weight_decay=o["weight_decay"],
                              points=o["points"] or GradientConfig.points, sampling=o["sampling"],
                              resample_every=o["resample_every"], batch_size=o["batch_size"], ic=o["ic_mode"],
                              seed=o["seed"], **({"epochs": o["epochs"]} if o["epochs"] is not None else {}))
    return SolveConfig(method=o["method"], dtype=o["dtype"], device=o["device"], eval_points=o["eval_points"],
                       marching=marching, gradient=gradient, tol=o["tol"], threads=o["threads"])


def solve_command(spec: ODESpec, options: dict[str, Any]) -> SolveCommand:
    """The :class:`SolveCommand` from a generated command's options."""
    options = dict(options)
    values = spec_values(spec, options)
    ic, t0, t1 = options.pop("ic"), options.pop("t0"), options.pop("t_final")
    return SolveCommand(problem=spec.name, values=values, u0=tuple(ic) if ic is not None else None, t0=t0, t1=t1,
                        solve=solve_config(options), out=options["out"])


def execute(spec: ODESpec, command: SolveCommand, dry_run: bool = False) -> Optional[Path]:
    """Run (or only validate, with ``dry_run``) a solve and print its table; returns the run folder."""
    from cli.console import RichReporter, loading

    with loading(writes_to=command.out):
        from pinn.solver import prepare_solve, run_solve

    if dry_run:
        problem, cfg, estimate = prepare_solve(spec, command)
        print_dry_run(console, {**vars(command), "solve": cfg}, estimate)
        return None
    result, run_dir = run_solve(spec, command, RichReporter())
    m = result.metrics
    unit = "windows" if Method(result.config.method) is Method.marching else "steps"
    done = len(result.history) if unit == "windows" else result.config.gradient.epochs
    rows = [("relative L2 error", fmt(m["relative_l2"])), ("max abs error", fmt(m["max_abs_error"])),
            ("mean |residual|", fmt(m["mean_abs_residual"])), ("max |residual|", fmt(m["max_abs_residual"])),
            ("t where error > 1%", fmt(m["time_to_1pct"], ".4g") if m["time_to_1pct"] is not None else "never"),
            ("estimated error (by the solver)", fmt(m.get("error_estimate"))),
            ("reference", m.get("reference", "-")), (unit, str(done)), ("seconds", f"{result.seconds:.2f}"),
            ("run folder", str(run_dir))]
    p = result.problem
    console.print(metrics_table(f"{p.name} on [{p.t0:g}, {p.t1:g}]", rows))
    return run_dir


LS = "Least-squares solver (default: the problem's measured settings)"


def _pde_options() -> list[inspect.Parameter]:
    from pinn.pde.config import FeatureActivation, PDEGradientConfig, PDEMethod

    g = PDEGradientConfig
    return [
        option("method", PDEMethod, PDEMethod.least_squares, help="least-squares: random-feature cells with output "
               "layers fitted by (Gauss-Newton) least squares, marched in time blocks; gradient: the classic PINN."),
        option("block", Optional[float], None, help="Time-block length.", show_default=False, rich_help_panel=LS),
        option("cells", Optional[int], None, help="Cells along x (and along y for 2-D problems).",
               show_default=False, rich_help_panel=LS),
        option("features", Optional[int], None, help="Random sine features per cell.", show_default=False,
               rich_help_panel=LS),
        option("scale", Optional[float], None, help="Feature weights ~ U(-scale, scale).", show_default=False,
               rich_help_panel=LS),
        option("feature_activation", Optional[FeatureActivation], None, help="sin or tanh features.",
               show_default=False, rich_help_panel=LS),
        option("points_x", Optional[int], None, help="Collocation nodes per cell along x.", show_default=False,
               rich_help_panel=LS),
        option("points_s", Optional[int], None, help="Collocation nodes per cell along t (or y).",
               show_default=False, rich_help_panel=LS),
        option("adapt", Optional[bool], None, flags=("--adapt/--no-adapt",), help="Split cells where the residual "
               "concentrates.", show_default=False, rich_help_panel=LS),
        option("seed", int, 0, help="Seed of the random features or the network."),
        option("epochs", int, g.epochs, help="First-order steps before L-BFGS.", rich_help_panel=G),
        option("lbfgs_iters", int, g.lbfgs_iters, help="L-BFGS iterations.", rich_help_panel=G),
        option("optimizer", Optimizer, g.optimizer, help="Optimizer.", rich_help_panel=G),
        option("lr", float, g.lr, help="Learning rate.", rich_help_panel=G),
        option("schedule", Schedule, g.schedule, help="Learning-rate schedule.", rich_help_panel=G),
        option("units", int, g.width, help="Hidden units per layer.", rich_help_panel=G),
        option("layers", int, g.depth, help="Hidden layers.", rich_help_panel=G),
        option("points", int, g.points, help="Interior collocation points.", rich_help_panel=G),
        option("grid", Optional[tuple[int, int]], None, metavar="NX NS", help="Evaluation grid [default: 256 101 "
               "for x-t, 201 201 for x-y].", show_default=False),
        option("out", Path, Path("runs"), help="Parent folder of the run folder."),
        option("dry_run", bool, False, help=DRY_RUN_HELP),
    ]


_OVERRIDES = {"block": "block", "cells": "cells", "features": "features", "scale": "scale",
              "feature_activation": "activation", "points_x": "points_x", "points_s": "points_s", "adapt": "adapt",
              "seed": "seed"}


def pde_solve_command(spec: Any, o: dict[str, Any]) -> Any:
    """The :class:`~pinn.pde.config.PDESolveCommand` from a generated PDE command's options."""
    from pinn.pde.config import PDEGradientConfig, PDESolveCommand

    o = dict(o)
    values = spec_values(spec, o)
    overrides = {field: o[name] for name, field in _OVERRIDES.items() if o.get(name) is not None}
    if overrides.get("cells") is not None and spec.steady:
        overrides["cells_y"] = overrides["cells"]
    gradient = PDEGradientConfig(width=o["units"], depth=o["layers"], optimizer=o["optimizer"], lr=o["lr"],
                                 epochs=o["epochs"], lbfgs_iters=o["lbfgs_iters"], schedule=o["schedule"],
                                 points=o["points"], seed=o["seed"])
    return PDESolveCommand(problem=spec.name, values=values, t1=o.get("t_final"), method=o["method"],
                           overrides=overrides, gradient=gradient, grid=o["grid"], out=o["out"])


def execute_pde(spec: Any, command: Any, dry_run: bool = False) -> Optional[Path]:
    """Run (or only validate) a PDE solve and print its table; returns the run folder."""
    from cli.console import RichReporter, loading

    with loading(writes_to=command.out):
        from pinn.pde.runs import prepare_pde_solve, run_pde_solve

    if dry_run:
        problem, cfg, estimate = prepare_pde_solve(spec, command)
        print_dry_run(console, {**vars(command), "resolved": cfg}, estimate)
        return None
    result, run_dir = run_pde_solve(spec, command, RichReporter())
    m = result.metrics
    rows = [("relative L2 error", fmt(m["relative_l2"])), ("max abs error", fmt(m["max_abs_error"])),
            ("RMS residual", fmt(m["rms_residual"])), ("grid", " x ".join(map(str, m["grid"]))),
            ("blocks / final cells", f"{m.get('blocks', '-')} / {m.get('cells_final', '-')}"),
            ("seconds", f"{result.seconds:.2f}"), ("run folder", str(run_dir))]
    console.print(metrics_table(f"{spec.name}: {spec.equations}", rows))
    return run_dir


def _pde_command(spec: Any) -> Any:
    def body(**options: Any) -> None:
        dry_run = options.pop("dry_run")
        execute_pde(spec, pde_solve_command(spec, options), dry_run)

    doc = (f"{spec.title[0].upper()}{spec.title[1:]}: {spec.equations}, {spec.domain}; {spec.conditions}. "
           f"Reference: {spec.reference}.")
    return generated_command(pde_parameters(spec) + _pde_options(), body, doc, spec.name)


def _command(spec: ODESpec) -> Any:
    def body(**options: Any) -> None:
        dry_run = options.pop("dry_run")
        execute(spec, solve_command(spec, options), dry_run)

    doc = f"{spec.title[0].upper()}{spec.title[1:]}: {spec.equations}."
    return generated_command(spec_parameters(spec) + _solver_options(), body, doc, spec.name)


for _spec in REGISTRY:
    make = _command if isinstance(_spec, ODESpec) else _pde_command
    app.command(_spec.name, cls=MultiValueCommand, help=None)(make(_spec))
