"""``pinn identify PROBLEM --data obs.csv --unknown NAME ...``: estimate constants from observations.

    pinn identify lorenz --data obs.csv --unknown sigma rho beta
    pinn identify oscillator --data obs.csv --unknown gamma omega amplitude --guess omega=0.6

The CSV (as written by ``pinn simulate PROBLEM --observe ... --out obs.csv``) has a header ``t,<names>``:
a ``t`` column of strictly increasing times and one column per observed state component (lorenz: x, y, z;
oscillator: x, v); an empty cell is a missing value, and components without a column are unobserved.
``--unknown``, ``--guess`` and ``--fix`` take several values after one flag (or the flag repeated).
"""

from typing import Annotated, Any, Callable, Optional, Sequence

import numpy as np
import typer
from rich.table import Table
from typer.core import TyperCommand

from cli.console import console, progress_bar
from pinn.errors import PinnError
from pinn.identify import IdentifyConfig, Method, load_data, run_identify
from pinn.inverse.fit import JointFitConfig
from pinn.inverse.gradient import GradientFitConfig
from problems.inverse import PARAMETRIC_PROBLEMS

CSV_HELP = ("DATA is a CSV with a header 't,<components>': strictly increasing times t and one column per "
            "observed component (missing values as empty cells); unobserved components have no column.")

app = typer.Typer(no_args_is_help=True, help="Estimate unknown constants of an ODE (and its state) from noisy, "
                  "partial observations by physics-informed least squares. " + CSV_HELP)

LIST_OPTIONS = ("--unknown", "--guess", "--fix")


def expand_list_options(args: Sequence[str], names: Sequence[str] = LIST_OPTIONS) -> list[str]:
    """Rewrite ``--unknown a b c`` (or ``--unknown a,b,c``) as ``--unknown a --unknown b --unknown c``."""
    out: list[str] = []
    current: Optional[str] = None
    for token in args:
        if token.startswith("-") and not _is_number(token):
            current = token if token in names else None
            if current is None:
                out.append(token)
            continue
        if current is not None:
            out += [x for part in token.split(",") if part for x in (current, part)]
        else:
            out.append(token)
    return out


def _is_number(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


class ListOptionCommand(TyperCommand):
    """A command whose list options take several values after one flag."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_list_options(args))


def parse_assignments(items: Optional[list[str]], flag: str) -> dict[str, float]:
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


def _print_result(result: Any, run: Any, components: Sequence[str]) -> None:
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
    console.print(f"run folder: {run}")


def _command(problem: str) -> Callable[..., None]:
    # no "from __future__ import annotations" in this module: the option help below is built per problem,
    # so the annotations must be evaluated here, in the closure, not later by typer from module globals
    model = PARAMETRIC_PROBLEMS[problem]
    names = ", ".join(f"{k} (default {v:.6g}, range {model.ranges[k][0]:g}..{model.ranges[k][1]:g})"
                      for k, v in model.values.items())

    def command(
        data: Annotated[str, typer.Option("--data", help="Observations CSV: header t,<observed components>.")],
        unknown: Annotated[Optional[list[str]], typer.Option("--unknown", help=f"Constants to estimate: {names}.")]
        = None,
        guess: Annotated[Optional[list[str]], typer.Option("--guess", help="Initial guesses name=value (default: "
                                                           "centre of the range; a grid over frequencies).")] = None,
        fix: Annotated[Optional[list[str]], typer.Option("--fix", help="Values name=value of known constants "
                                                         "that differ from the defaults.")] = None,
        method: Annotated[Method, typer.Option(help="lm: Levenberg-Marquardt on the joint least-squares problem "
                                               "(standard errors); adam: gradient training of a network.")]
        = Method.lm,
        weight: Annotated[float, typer.Option(help="lm: final residual weight w (equation rows are w * h / s times "
                                              "du/dt - f, data rows misfit / s).")] = JointFitConfig.weight,
        start_weight: Annotated[float, typer.Option(help="lm: first weight of the continuation (x10 per stage).")]
        = JointFitConfig.start_weight,
        window: Annotated[Optional[float], typer.Option(help=f"lm: window length (default {model.window:g}).")]
        = None,
        features: Annotated[int, typer.Option(help="lm: random features per window.")] = JointFitConfig.features,
        points: Annotated[int, typer.Option(help="lm: collocation points per window.")] = JointFitConfig.points,
        max_iter: Annotated[int, typer.Option(help="lm: Levenberg-Marquardt iterations per stage.")]
        = JointFitConfig.max_iter,
        epochs: Annotated[int, typer.Option(help="adam: epochs.")] = GradientFitConfig.epochs,
        lr: Annotated[float, typer.Option(help="adam: learning rate.")] = GradientFitConfig.lr,
        width: Annotated[int, typer.Option(help="adam: network width.")] = GradientFitConfig.width,
        depth: Annotated[int, typer.Option(help="adam: hidden layers.")] = GradientFitConfig.depth,
        residual_weight: Annotated[float, typer.Option("--adam-weight", help="adam: residual weight.")]
        = GradientFitConfig.weight,
        seed: Annotated[int, typer.Option(help="Seed of the random features / network.")] = 0,
        out: Annotated[str, typer.Option(help="Root folder of run folders.")] = "runs",
    ) -> None:
        cfg = IdentifyConfig(
            problem=problem, data=data, unknowns=tuple(unknown or ()),
            guesses=parse_assignments(guess, "--guess"), fixed=parse_assignments(fix, "--fix"), method=method,
            lm=JointFitConfig(window=window, features=features, points=points, seed=seed, weight=weight,
                              start_weight=start_weight, max_iter=max_iter),
            adam=GradientFitConfig(width=width, depth=depth, epochs=epochs, lr=lr, weight=residual_weight,
                                   seed=seed),
            out=out)
        obs = load_data(model, cfg)
        total = len(cfg.lm.weights()) if method is Method.lm else epochs
        with progress_bar(f"identify {problem}", total) as update:
            result, run = run_identify(model, cfg, obs, lambda label, done, n: update(done, n, status=label))
        _print_result(result, run, model.components)

    command.__doc__ = (f"Estimate constants of {model.equations} from observations of some of "
                       f"{', '.join(model.components)}.\n\n" + CSV_HELP + " The estimates come with standard "
                       "errors (Gauss-Newton approximation, noise estimated from the residuals); the run folder "
                       "holds config.json, metrics.json, model.pt, fit.csv, trajectory.csv, fit.png, history.png.")
    return command


for _name in PARAMETRIC_PROBLEMS:
    app.command(_name, cls=ListOptionCommand)(_command(_name))
