"""``pinn sweep PROBLEM --width 16 64 256 --depth 1 2 4 ...``: a grid study of MLP flow-map training.

One sub-command per problem. The grid axes take any number of values after one flag (``--width 16 64
256``), so they are read from the command's extra arguments rather than declared as typer options; the
fixed settings below are ordinary options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.console import console, progress_bar
from pinn.choices import Optimizer, Schedule
from pinn.errors import PinnError
from pinn.surrogate.sweep import SweepAxis
from problems import REGISTRY

app = typer.Typer(help="Grid studies of surrogate training (architecture, activation, optimizer, schedule, "
                       "regularisation).", no_args_is_help=True)

AXES_HELP = ("Grid axes (each takes one or more values after the flag): --width N.., --depth N.., "
             "--activation tanh|relu|silu|gelu|sin|softplus.., --optimizer gd|gd-momentum|sgd|sgd-momentum|"
             "nesterov|adam|adamw|lbfgs|adam+lbfgs.., --scheduler (or --schedule) none|step|exponential|cosine|"
             "plateau.., --weight-decay X.., --dropout P.., --lr X.., --batch-size N.., --form direct|residual|"
             "rk4.. . Every point trains with the same seed, data and budget; the learning rate follows the "
             "optimizer unless --lr is an axis.")

_ALIASES = {"scheduler": "schedule"}


def parse_grid(tokens: list[str]) -> tuple[tuple[SweepAxis, tuple], ...]:
    """Turn ['--width', '16', '64', '--depth', '1'] into typed (axis, values) pairs."""
    from pinn.surrogate.sweep import parse_axis_values

    grid: list[tuple[SweepAxis, list[str]]] = []
    for token in tokens:
        if token.startswith("--"):
            name, _, inline = token[2:].partition("=")
            name = _ALIASES.get(name.replace("-", "_"), name.replace("-", "_"))
            try:
                axis = SweepAxis(name)
            except ValueError:
                raise PinnError(f"no such option {token.split('=')[0]}; grid axes are "
                                f"{', '.join('--' + a.value.replace('_', '-') for a in SweepAxis)}") from None
            if any(a is axis for a, _ in grid):
                raise PinnError(f"the sweep axis {token.split('=')[0]} is given twice")
            grid.append((axis, [inline] if inline else []))
        elif not grid:
            raise PinnError(f"unexpected argument {token!r} before any grid axis")
        else:
            grid[-1][1].append(token)
    if not grid:
        raise PinnError("give at least one grid axis, e.g. --width 16 64 256 (see --help)")
    return tuple((axis, parse_axis_values(axis, values)) for axis, values in grid)


def _sweep(problem: str, ctx: typer.Context, jobs: int, epochs: int, batch_size: int, stride: int,
           trajectories: Optional[int], test_trajectories: Optional[int], t_final: Optional[float],
           horizon: float, lyapunov: float, seed: int, precision: str, heatmap: Optional[list[str]],
           optimizer: Optimizer, schedule: Schedule, out: Optional[Path]) -> None:
    from pinn.choices import DType
    from pinn.surrogate.data import DataConfig, make_dataset
    from pinn.surrogate.sweep import SweepConfig, default_sweep_spec, prepare_folder, run_sweep, summarise
    from pinn.surrogate.train import TrainConfig

    grid = parse_grid(list(ctx.args))
    prob = REGISTRY.get(problem, purpose="surrogates").surrogate_problem()
    try:
        prec = DType(precision)
    except ValueError:
        raise PinnError(f"--precision must be float32 or float64, got {precision}") from None
    data_config = DataConfig(problem=prob.name, n_traj=trajectories or prob.n_traj,
                             n_test=test_trajectories or prob.n_test, dt=prob.dt,
                             t_final=t_final or prob.t_final,
                             box=prob.box, seed=seed, substeps=prob.substeps, drive_freqs=prob.drive_freqs)
    spec = default_sweep_spec(len(prob.components), prob.dt, prob.drive_freqs)
    from dataclasses import replace

    spec = replace(spec, precision=prec)
    train = TrainConfig(optimizer=optimizer, schedule=schedule, epochs=epochs, batch_size=batch_size,
                        stride=stride, seed=seed, lr=3e-3)
    config = SweepConfig(prob.name, grid, spec, train, horizon=horizon or min(prob.horizon, 15.0),
                         lyapunov=lyapunov if prob.chaotic else 1.0)
    folder = out or Path("runs") / f"sweep-{prob.name}"
    points = config.points()
    console.print(f"{len(points)} grid points over {', '.join(config.axes)}; folder {folder}")
    with console.status("simulating the data set and the reference rollouts"):
        prepare_folder(folder, config, make_dataset(prob.rhs, len(prob.components), data_config), prob.rhs)
    with progress_bar("sweep", len(points)) as update:
        rows = run_sweep(folder, config, jobs, lambda row, done, total: update(
            done, status=f"{row['key']}: one-step {row.get('one_step_median', float('nan')):.2e}"))
    pairs = []
    for text in heatmap or []:
        parts = [p.strip().replace("-", "_") for p in text.split(",")]
        if len(parts) != 2:
            raise PinnError(f"--heatmap takes two axes as X,Y (e.g. width,depth), got {text!r}")
        pairs.append((_ALIASES.get(parts[0], parts[0]), _ALIASES.get(parts[1], parts[1])))
    written = summarise(folder, rows, config, pairs)
    console.print(f"{len(rows)} points in {folder / 'results.csv'}; table and figures: "
                  f"{', '.join(p.name for p in written)}")


def _make_command(name: str):
    def command(
        ctx: typer.Context,
        jobs: Annotated[int, typer.Option(min=1, help="Points trained in parallel processes.")] = 1,
        epochs: Annotated[int, typer.Option(min=1, help="Epochs per point (the shared budget).")] = 15,
        batch_size: Annotated[int, typer.Option(min=0, help="Mini-batch size of sgd and adam.")] = 256,
        stride: Annotated[int, typer.Option(min=1, help="Every stride-th one-step training pair.")] = 4,
        trajectories: Annotated[Optional[int], typer.Option(min=2, help="Training + validation trajectories.")]
        = None,
        test_trajectories: Annotated[Optional[int], typer.Option(min=1, help="Unseen test trajectories.")] = None,
        t_final: Annotated[Optional[float], typer.Option("--t-final", min=0.0, help="Trajectory length.")] = None,
        horizon: Annotated[float, typer.Option(min=0.0, help="VPT rollout length (0: min(problem's, 15)).")]
        = 0.0,
        lyapunov: Annotated[float, typer.Option(min=0.0, help="lambda_max for Lyapunov times.")] = 0.906,
        seed: Annotated[int, typer.Option(help="Seed of data and weights, the same for every point.")] = 0,
        precision: Annotated[str, typer.Option(help="float32 or float64.")] = "float32",
        optimizer: Annotated[Optimizer, typer.Option("--base-optimizer", help="Optimizer when it is not an "
                                                     "axis.")] = Optimizer.adam,
        schedule: Annotated[Schedule, typer.Option("--base-schedule", help="Schedule when it is not an axis.")]
        = Schedule.none,
        out: Annotated[Optional[Path], typer.Option(help="Sweep folder (default runs/sweep-PROBLEM); "
                                                    "re-running on it skips finished points.")] = None,
        heatmap: Annotated[Optional[list[str]], typer.Option(help="Heat map of two axes X,Y (repeatable; "
                                                             "default: the first two varied axes).")] = None,
    ) -> None:
        _sweep(name, ctx, jobs, epochs, batch_size, stride, trajectories, test_trajectories, t_final, horizon,
               lyapunov, seed, precision, heatmap, optimizer, schedule, out)

    command.__doc__ = f"Grid study on {name}. {AXES_HELP}"
    return command


for _name in [s.name for s in REGISTRY if s.surrogate is not None]:
    app.command(_name, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
        _make_command(_name))
