"""``pinn identify PROBLEM --data obs.csv --unknown NAME ...``: estimate constants from observations.

    pinn identify lorenz --data obs.csv --unknown sigma rho beta
    pinn identify oscillator --data obs.csv --unknown gamma omega amplitude --guess omega=0.6

The CSV (as written by ``pinn simulate PROBLEM --observe ... --out obs.csv``) has a header ``t,<names>``:
a ``t`` column of strictly increasing times and one column per observed state component; an empty cell is
a missing value, and components without a column are unobserved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import typer

from cli.console import console, metrics_table
from cli.options import DRY_RUN_HELP, MultiValueCommand, ProblemGroup, generated_command, option, print_dry_run
from pinn.choices import FitMethod
from pinn.errors import PinnError
from pinn.inverse.config import GradientFitConfig, IdentifyConfig, JointFitConfig
from pinn.spec import ODESpec
from problems import REGISTRY

CSV_HELP = ("DATA is a CSV with a header 't,<components>': strictly increasing times t and one column per "
            "observed component (missing values as empty cells); unobserved components have no column.")

app = typer.Typer(cls=ProblemGroup, no_args_is_help=True, help="Estimate unknown constants of an ODE (and its state) from noisy, "
                  "partial observations by physics-informed least squares. " + CSV_HELP)
LM, ADAM = "Levenberg-Marquardt (lm)", "Adam (adam)"


def parse_assignments(items: Optional[Sequence[str]], flag: str) -> dict[str, float]:
    """["sigma=12", "rho=20"] -> {"sigma": 12.0, "rho": 20.0}; PinnError on a malformed item."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise PinnError(f"{flag} takes name=value pairs (e.g. {flag} sigma=12), got {item!r}") from None
    return out


def _options(spec: ODESpec) -> list:
    names = ", ".join(f"{k} (default {v:.6g}, range {spec.ranges[k][0]:g}..{spec.ranges[k][1]:g})"
                      for k, v in spec.values.items() if k in spec.ranges)
    return [
        option("data", Path, ..., help="Observations CSV: header t,<observed components>."),
        option("unknown", Optional[list[str]], None, metavar="NAME...", help=f"Constants to estimate, several "
               f"after one flag: {names}.", show_default=False),
        option("guess", Optional[list[str]], None, metavar="NAME=VALUE...", help="Initial guesses (default: the "
               "centre of the range; a grid over frequencies).", show_default=False),
        option("fix", Optional[list[str]], None, metavar="NAME=VALUE...", help="Known constants that differ from "
               "the defaults.", show_default=False),
        option("method", FitMethod, FitMethod.lm, help="lm: Levenberg-Marquardt on the joint least-squares "
               "problem (standard errors); adam: gradient training of a network."),
        option("weight", float, JointFitConfig.weight, help="Final residual weight w (equation rows are "
               "w * h / s times du/dt - f, data rows misfit / s).", rich_help_panel=LM),
        option("start_weight", float, JointFitConfig.start_weight, help="First weight of the continuation "
               "(x10 per stage).", rich_help_panel=LM),
        option("window", Optional[float], None, help=f"Window length [default: {spec.identify_window:g}].",
               show_default=False, rich_help_panel=LM),
        option("features", int, JointFitConfig.features, help="Random features per window.", rich_help_panel=LM),
        option("points", int, JointFitConfig.points, help="Collocation points per window.", rich_help_panel=LM),
        option("max_iter", int, JointFitConfig.max_iter, help="Iterations per stage.", rich_help_panel=LM),
        option("epochs", int, GradientFitConfig.epochs, help="Epochs.", rich_help_panel=ADAM),
        option("lr", float, GradientFitConfig.lr, help="Learning rate.", rich_help_panel=ADAM),
        option("width", int, GradientFitConfig.width, help="Network width.", rich_help_panel=ADAM),
        option("depth", int, GradientFitConfig.depth, help="Hidden layers.", rich_help_panel=ADAM),
        option("adam_weight", float, GradientFitConfig.weight, help="Residual weight.", rich_help_panel=ADAM),
        option("seed", int, 0, help="Seed of the random features / network."),
        option("out", Path, Path("runs"), help="Parent folder of the run folder."),
        option("dry_run", bool, False, help=DRY_RUN_HELP),
    ]


def identify_config(spec: ODESpec, o: dict[str, Any]) -> IdentifyConfig:
    """The :class:`IdentifyConfig` from the command's options."""
    return IdentifyConfig(
        problem=spec.name, data=o["data"], unknowns=tuple(o["unknown"] or ()),
        guesses=parse_assignments(o["guess"], "--guess"), fixed=parse_assignments(o["fix"], "--fix"),
        method=o["method"],
        lm=JointFitConfig(window=o["window"], features=o["features"], points=o["points"], seed=o["seed"],
                          weight=o["weight"], start_weight=o["start_weight"], max_iter=o["max_iter"]),
        adam=GradientFitConfig(width=o["width"], depth=o["depth"], epochs=o["epochs"], lr=o["lr"],
                               weight=o["adam_weight"], seed=o["seed"]),
        out=o["out"])


def _print_result(result: Any, run: Path, components: Sequence[str]) -> None:
    import numpy as np
    from rich.table import Table

    table = Table(title=f"estimates ({result.seconds:.1f} s)", header_style="bold")
    for col in ("constant", "estimate", "std. error", "relative"):
        table.add_column(col, justify="right" if col != "constant" else "left")
    for name, row in result.table().items():
        rel = row["relative_stderr"]
        table.add_row(name, f"{row['estimate']:.8g}", f"{row['stderr']:.3g}",
                      "-" if not np.isfinite(rel) else f"{100 * rel:.3g} %")
    for c, name in enumerate(components):
        table.add_row(f"{name}(t0)", f"{result.u0[c]:.8g}", f"{result.u0_stderr[c]:.3g}", "")
    console.print(table)
    noise = ", ".join(f"{c}: {result.noise[i]:.3g}" for i, c in enumerate(components) if np.isfinite(result.noise[i]))
    if noise:
        console.print(f"estimated noise (std. dev.): {noise}")
    console.print(f"run folder: {run}", markup=False)


def run_identify_config(cfg: IdentifyConfig, dry_run: bool = False) -> None:
    """Validate, then (unless ``dry_run``) identify and print the estimates: what the command does."""
    from cli.console import RichReporter, loading

    with loading(writes_to=cfg.out):
        from pinn.inverse.identify import prepare_identify, run_identify

    spec = REGISTRY.get(cfg.problem)
    obs, estimate = prepare_identify(spec, cfg)
    if dry_run:
        print_dry_run(console, cfg, {"observed": ", ".join(obs.names),
                                     "interval": f"[{obs.t[0]:g}, {obs.t[-1]:g}]", **estimate})
        return
    result, run = run_identify(spec, cfg, RichReporter(), obs)
    _print_result(result, run, spec.components)


def _command(spec: ODESpec) -> Any:
    def body(**o: Any) -> None:
        run_identify_config(identify_config(spec, o), o["dry_run"])

    doc = (f"Estimate constants of {spec.equations} from observations of some of {', '.join(spec.components)}. "
           f"{CSV_HELP} The estimates come with standard errors (Gauss-Newton approximation, noise estimated from "
           "the residuals); the run folder holds config.json, metrics.json, model.pt, fit.csv, trajectory.csv, "
           "fit.png, history.png.")
    return generated_command(_options(spec), body, doc, spec.name)


def _pde_command(spec: Any) -> Any:
    from pinn.pde.config import PDEIdentifyCommand

    names = ", ".join(f"{k} (default {v:.6g}, range {spec.ranges[k][0]:g}..{spec.ranges[k][1]:g})"
                      for k, v in spec.values.items() if k in spec.ranges)
    options = [
        option("data", Path, ..., help="Observations .npz with x (nx,), t (nt,), u (nt, nx) (pinn simulate)."),
        option("unknown", Optional[list[str]], None, metavar="NAME...", help=f"Constants to estimate: {names}.",
               show_default=False),
        option("guess", Optional[list[str]], None, metavar="NAME=VALUE...", help="Starting values (default: the "
               "best point of a scan of the range).", show_default=False),
        option("fix", Optional[list[str]], None, metavar="NAME=VALUE...", help="Known constants that differ from "
               "the defaults.", show_default=False),
        option("max_iter", int, PDEIdentifyCommand.max_iter, help="Gauss-Newton iterations."),
        option("out", Path, Path("runs"), help="Parent folder of the run folder."),
        option("dry_run", bool, False, help=DRY_RUN_HELP),
    ]

    def body(**o: Any) -> None:
        from cli.console import RichReporter, loading

        with loading(writes_to=o["out"]):
            from pinn.pde.inverse import run_pde_identify
            from pinn.pde.observations import load_observations

        command = PDEIdentifyCommand(problem=spec.name, data=o["data"], unknowns=tuple(o["unknown"] or ()),
                                     guesses=parse_assignments(o["guess"], "--guess"),
                                     fixed=parse_assignments(o["fix"], "--fix"), max_iter=o["max_iter"], out=o["out"])
        if o["dry_run"]:
            obs = load_observations(command.data, spec.problem(command.fixed), len(spec.check_unknowns(command.unknowns)))
            print_dry_run(console, command, {"observations": obs.count, "grid": f"{obs.x.size} x {obs.s.size}"})
            return
        result, run = run_pde_identify(spec, command, RichReporter())
        rows = [(f"{n}", f"{v:.8g} +- {e:.3g} ({100 * e / abs(v):.3g} %)")
                for n, v, e in zip(result.names, result.estimates, result.stderr)]
        rows += [("noise estimate (relative)", f"{result.relative_noise:.3g}"), ("seconds", f"{result.seconds:.1f}"),
                 ("run folder", str(run))]
        console.print(metrics_table(f"{spec.name}: estimates with standard errors", rows))

    doc = (f"Estimate constants of {spec.equations} from field observations (.npz from pinn simulate): "
           "Gauss-Newton on the data misfit with the space-time least-squares solve as the forward model; standard "
           "errors from the Gauss-Newton approximation with the noise estimated from the residuals.")
    return generated_command(options, body, doc, spec.name)


for _spec in REGISTRY:
    if isinstance(_spec, ODESpec) and _spec.ranges:
        app.command(_spec.name, cls=MultiValueCommand)(_command(_spec))
    elif not isinstance(_spec, ODESpec) and _spec.ranges and not _spec.steady:
        app.command(_spec.name, cls=MultiValueCommand)(_pde_command(_spec))
