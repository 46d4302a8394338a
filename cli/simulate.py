"""``pinn simulate PROBLEM --out FILE``: reference trajectories (.npz) or noisy observations (.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from cli.console import console
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
from pinn.simulate import SimulateConfig
from pinn.spec import ODESpec
from problems import REGISTRY

app = typer.Typer(cls=ProblemGroup, no_args_is_help=True, help="Reference data of a problem: trajectories from random initial states "
                  "(.npz, for surrogates) or noisy observations of one trajectory (.csv, for identify).")
N, C = "Trajectories (.npz)", "Observations (.csv)"


def _options(spec: ODESpec) -> list:
    s = spec.surrogate
    return [
        option("out", Path, ..., help=".npz: trajectories from random initial states; .csv: observations of one "
               "trajectory (t column + observed components)."),
        option("trajectories", Optional[int], None, help=f"Random initial states [default: "
               f"{s.trajectories + s.test_trajectories if s else 100}].", show_default=False, rich_help_panel=N),
        option("dt", Optional[float], None, help=f"Time step of the saved samples [default: {s.dt if s else 0.01:g}].",
               show_default=False, rich_help_panel=N),
        option("box", Optional[tuple[float, float]], None, metavar="LOW HIGH", help="Initial states uniform in "
               f"[LOW, HIGH]^d [default: {' '.join(f'{b:g}' for b in s.box) if s else '-1 1'}].", show_default=False,
               rich_help_panel=N),
        option("substeps", Optional[int], None, help="RK4 steps per sample step [default: the problem's].",
               show_default=False, rich_help_panel=N),
        option("observe", Optional[list[str]], None, metavar="NAME...", help="Observed components, several after "
               f"one flag (e.g. --observe {' '.join(spec.components)}) [default: all].", show_default=False,
               rich_help_panel=C),
        option("every", float, SimulateConfig.every, help="Time between observations.", rich_help_panel=C),
        option("noise", float, SimulateConfig.noise, help="Gaussian noise relative to each component's RMS over "
               "the samples (0.01 = 1 %).", rich_help_panel=C),
        option("seed", int, SimulateConfig.seed, help="Seed of the initial states and the noise."),
        option("dry_run", bool, False, help=DRY_RUN_HELP),
    ]


def _command(spec: ODESpec) -> Any:
    def body(**o: Any) -> None:
        from cli.console import RichReporter, loading

        with loading(writes_to=o["out"].parent):
            from pinn.simulate import prepare_simulate, run_simulate

        values = spec_values(spec, o)
        ic, dry_run = o.pop("ic"), o.pop("dry_run")
        cfg = SimulateConfig(problem=spec.name, out=o["out"], values=values, u0=None if ic is None else tuple(ic),
                             t0=o["t0"], t1=o["t_final"], trajectories=o["trajectories"], dt=o["dt"],
                             box=o["box"], substeps=o["substeps"], observe=tuple(o["observe"] or ()),
                             every=o["every"], noise=o["noise"], seed=o["seed"])
        if dry_run:
            print_dry_run(console, cfg, prepare_simulate(spec, cfg)[1])
            return
        summary = run_simulate(spec, cfg, RichReporter())
        if "observations" in summary:
            console.print(f"wrote {summary['observations']} observations of {', '.join(summary['components'])} "
                          f"to {summary['file']}", markup=False)
        else:
            console.print(f"wrote {summary['trajectories']} trajectories x {summary['times']} times to "
                          f"{summary['file']}", markup=False)

    doc = (f"Reference data of {spec.name} ({spec.equations}): trajectories (.npz) or observations (.csv), from "
           "the closed form, a Taylor-series integrator or DOP853, and RK4 for data sets.")
    return generated_command(spec_parameters(spec) + _options(spec), body, doc, spec.name)


def _pde_command(spec: Any) -> Any:
    from pinn.pde.config import PDESimulateConfig

    grid_nx, grid_every = spec.observation_grid
    options = [
        option("out", Path, ..., help="The observations file (.npz: x, t, u, and how they were made)."),
        option("nx", int, grid_nx, help="Points along x, equispaced, both ends included."),
        option("every", float, grid_every, help="Time between samples."),
        option("noise", float, 0.0, help="Gaussian noise relative to the RMS of u over the samples (0.01 = 1 %)."),
        option("seed", int, 0, help="Seed of the noise."),
        option("dry_run", bool, False, help=DRY_RUN_HELP),
    ]

    def body(**o: Any) -> None:
        from cli.console import RichReporter, loading

        with loading(writes_to=o["out"].parent):
            from pinn.pde.observations import run_pde_simulate

        values = spec_values(spec, o)
        cfg = PDESimulateConfig(problem=spec.name, out=o["out"], values=values, t1=o.get("t_final"), nx=o["nx"],
                                every=o["every"], noise=o["noise"], seed=o["seed"])
        if o["dry_run"]:
            spec.problem(cfg.values, cfg.t1)
            print_dry_run(console, cfg, {"points": cfg.nx})
            return
        summary = run_pde_simulate(spec, cfg, RichReporter())
        console.print(f"wrote u at {summary['points']} points x {summary['times']} times (noise {cfg.noise:g}) to "
                      f"{summary['file']}", markup=False)

    doc = (f"Observations of {spec.name} ({spec.equations}) sampled from its reference ({spec.reference}), with "
           "relative Gaussian noise, as .npz: the input of pinn identify.")
    return generated_command(pde_parameters(spec) + options, body, doc, spec.name)


for _spec in REGISTRY:
    if isinstance(_spec, ODESpec):
        app.command(_spec.name, cls=MultiValueCommand)(_command(_spec))
    elif _spec.ranges and not _spec.steady:
        app.command(_spec.name, cls=MultiValueCommand)(_pde_command(_spec))
