"""``pinn rerun RUN_DIR``: repeat a run from its saved config.json into a new run folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.console import console
from pinn.errors import PinnError


def rerun(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR",
                                            help="A run folder (its config.json says what was run).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Parent folder of the new run folder [default: the "
                                                "one holding RUN_DIR].", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the saved config and stop.")] = False,
) -> None:
    """Repeat a solve, identify or fourier run from its saved configuration; the new run folder sits beside
    the old one (or under --out), so the two can be compared file by file."""
    from pinn.runs import load_run_config, run_command

    command, data = run_command(run_dir)
    target = out if out is not None else Path(run_dir).resolve().parent
    if command == "solve":
        from cli.solve import execute, execute_pde
        from pinn.pde.config import PDESolveCommand
        from pinn.solve_config import SolveCommand
        from pinn.spec import ODESpec
        from problems import REGISTRY

        spec = REGISTRY.get(str(data.get("problem")))
        if isinstance(spec, ODESpec):
            execute(spec, replace(load_run_config(run_dir, "solve", SolveCommand), out=target), dry_run)
        else:
            execute_pde(spec, replace(load_run_config(run_dir, "solve", PDESolveCommand), out=target), dry_run)
    elif command == "identify":
        from cli.identify import run_identify_config
        from pinn.inverse.config import IdentifyConfig

        run_identify_config(replace(load_run_config(run_dir, "identify", IdentifyConfig), out=target), dry_run)
    elif command in ("fourier-square", "fourier-convergence"):
        from cli import fourier
        from problems.square_wave_study import FourierConvergenceConfig, FourierSquareConfig

        kind = FourierSquareConfig if command == "fourier-square" else FourierConvergenceConfig
        cfg = replace(load_run_config(run_dir, command, kind), out=target)
        if not dry_run:
            (fourier.show_square if kind is FourierSquareConfig else fourier.show_convergence)(cfg)
    else:
        raise PinnError(f"{run_dir} is a {command} run folder; rerun repeats solve, identify and fourier runs")
    if dry_run:
        console.print(f"dry run: {run_dir} holds a valid {command} configuration; nothing was created")
