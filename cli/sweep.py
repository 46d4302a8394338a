"""``pinn sweep PROBLEM --width 16 64 256 --depth 1 2 4 ...``: a grid study of MLP flow-map training.

One sub-command per problem with a surrogate set-up. Every grid axis is an option that takes one or more
values after one flag; an axis given one value is a fixed setting. Every point trains with the same seed,
data and budget; the learning rate follows the optimizer unless --lr is an axis.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

import typer

from cli.console import console
from cli.options import DRY_RUN_HELP, MultiValueCommand, ProblemGroup, generated_command, option, print_dry_run
from pinn.choices import Activation, Optimizer, Schedule
from pinn.spec import ODESpec
from pinn.surrogate.config import FlowForm, SweepAxis, SweepCommand
from problems import REGISTRY

app = typer.Typer(cls=ProblemGroup, no_args_is_help=True, help="Grid studies of surrogate training (architecture, "
                  "activation, optimizer, schedule, regularisation).")
GRID = "Grid axes (one or more values after each flag)"
AXES: dict[SweepAxis, tuple[Any, str]] = {
    SweepAxis.width: (int, "Hidden units per layer."),
    SweepAxis.depth: (int, "Hidden layers."),
    SweepAxis.activation: (Activation, "Hidden activations."),
    SweepAxis.optimizer: (Optimizer, "Optimizers [default: adam]."),
    SweepAxis.schedule: (Schedule, "Learning-rate schedules [default: none]."),
    SweepAxis.weight_decay: (float, "L2 strengths."),
    SweepAxis.dropout: (float, "Dropout probabilities."),
    SweepAxis.lr: (float, "Learning rates [default: per optimizer]."),
    SweepAxis.batch_size: (int, "Mini-batch sizes of sgd and adam [default: 256]."),
    SweepAxis.form: (FlowForm, "Flow-map forms: u+ = N(u), u + dt N(u), or an RK4 step of N."),
}


def _options() -> list:
    axes = [option(axis.value, Optional[list[kind]], None, help=text, show_default=False, rich_help_panel=GRID,
                   metavar="VALUE...", flags=("--schedule", "--scheduler") if axis is SweepAxis.schedule else
                   ("--" + axis.value.replace("_", "-"),)) for axis, (kind, text) in AXES.items()]
    return axes + [
        option("jobs", int, SweepCommand.jobs, help="Points trained in parallel processes, one torch thread each "
               "(at most the number of cores)."),
        option("epochs", int, SweepCommand.epochs, help="Epochs per point (the shared budget)."),
        option("stride", int, SweepCommand.stride, help="Every stride-th one-step training pair."),
        option("trajectories", Optional[int], None, help="Training + validation trajectories [default: the "
               "problem's].", show_default=False),
        option("test_trajectories", Optional[int], None, help="Unseen test trajectories [default: the problem's].",
               show_default=False),
        option("t_final", Optional[float], None, help="Trajectory length [default: the problem's].",
               show_default=False),
        option("horizon", float, SweepCommand.horizon, help="VPT rollout length (0: min(problem's, 15))."),
        option("lyapunov", float, SweepCommand.lyapunov, help="lambda_max for Lyapunov times."),
        option("seed", int, SweepCommand.seed, help="Seed of data and weights, the same for every point."),
        option("precision", str, SweepCommand.precision, help="float32 or float64."),
        option("heatmap", Optional[list[str]], None, metavar="X,Y...", help="Heat maps of two axes each "
               "[default: the first two varied axes].", show_default=False),
        option("out", Optional[Path], None, help="Sweep folder [default: runs/sweep-PROBLEM]; re-running on it "
               "skips finished points.", show_default=False),
        option("dry_run", bool, False, help=DRY_RUN_HELP),
    ]


def sweep_command(name: str, o: dict[str, Any]) -> SweepCommand:
    """The :class:`SweepCommand` from the options: the given axes in the order of their options."""
    grid = tuple((axis, tuple(str(getattr(v, "value", v)) for v in o[axis.value]))
                 for axis in AXES if o.get(axis.value))
    pairs = tuple(tuple(p.strip().replace("-", "_") for p in text.split(",")) for text in o["heatmap"] or ())
    return SweepCommand(problem=name, grid=grid, jobs=o["jobs"], epochs=o["epochs"], stride=o["stride"],
                        trajectories=o["trajectories"], test_trajectories=o["test_trajectories"],
                        t_final=o["t_final"], horizon=o["horizon"], lyapunov=o["lyapunov"], seed=o["seed"],
                        precision=o["precision"], heatmaps=pairs, out=o["out"])


def _command(name: str) -> Any:
    def body(**o: Any) -> None:
        from cli.console import RichReporter, loading

        with loading(writes_to=o["out"]):
            from pinn.surrogate.sweep import prepare_sweep, run_sweep_command

        dry_run = o.pop("dry_run")
        command = sweep_command(name, o)
        problem = REGISTRY.get(name, ODESpec, purpose="surrogates").surrogate_problem()
        if dry_run:
            folder, config, _, estimate = prepare_sweep(command, problem)
            print_dry_run(console, command, {"folder": str(folder), **estimate})
            return
        rows, folder, written = run_sweep_command(command, problem, RichReporter())
        console.print(f"{len(rows)} points in {folder / 'results.csv'}; table and figures: "
                      f"{', '.join(p.name for p in written)}", markup=False)

    return generated_command(_options(), body, f"Grid study of MLP flow-map training on {name}. {__doc__.split(chr(10))[2]}",
                             name)


for _spec in REGISTRY:
    if getattr(_spec, "surrogate", None) is not None:
        app.command(_spec.name, cls=MultiValueCommand)(_command(_spec.name))
