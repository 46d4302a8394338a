"""Shared command-line plumbing: the options every command uses, options built from a problem's spec, one
parser for options that take several values after one flag, and the builder of generated commands.

Nothing here imports the numerics (torch, scipy, matplotlib): building the command tree and printing help
must be instant.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Sequence

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup, TyperOption

from pinn.spec import ODESpec

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.IGNORECASE)


def _is_value(token: str) -> bool:
    """A token that continues a list: anything but an option (a negative number is a value)."""
    return not token.startswith("-") or bool(_NUMBER.match(token))


def expand_multi_values(args: Sequence[str], multi: set[str]) -> list[str]:
    """Rewrite ``--opt a b c`` (or ``--opt a,b,c``, ``--opt=a``) as ``--opt a --opt b --opt c``.

    Applies to the options in ``multi`` (click options with ``multiple=True``). A list ends at the next
    option (a token starting with '-' that is not a number) or at '--'.
    """
    out: list[str] = []
    k = 0
    while k < len(args):
        token = args[k]
        if token == "--":
            return out + list(args[k:])
        name, eq, inline = token.partition("=")
        if name in multi:
            values = [inline] if eq else []
            k += 1
            while k < len(args) and args[k] != "--" and _is_value(args[k]):
                values.append(args[k])
                k += 1
            parts = [p for v in values for p in (v.split(",") if "," in v else [v]) if p != ""]
            if not parts:
                from pinn.errors import PinnError

                raise PinnError(f"{name} was given no values; give one or more after the flag")
            out += [x for p in parts for x in (name, p)]
            continue
        out.append(token)
        k += 1
    return out


def _plain_flags(params: list[Any]) -> list[Any]:
    """On/off flags show no value placeholder in help (typer would print ``--help <bool>``)."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class PinnCommandGroup(TyperGroup):
    """A command group whose help shows flags without a value placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))


class ProblemGroup(PinnCommandGroup):
    """A group of one sub-command per registered problem: an unknown name is one line listing the known ones."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            from pinn.errors import PinnError

            known = ", ".join(self.list_commands(ctx))
            raise PinnError(f"unknown problem {args[0]!r} for '{ctx.command_path}'; known problems: {known}")
        return super().resolve_command(ctx, args)


class MultiValueCommand(TyperCommand):
    """A command whose list options (``multiple=True``) take several values after one flag, and whose help
    shows flags without a value placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        multi = {opt for p in self.params if isinstance(p, TyperOption) and p.multiple for opt in p.opts}
        return super().parse_args(ctx, expand_multi_values(args, multi))


DRY_RUN_HELP = ("Check the options, print the resolved configuration and the size of the work, and stop "
                "without creating anything.")
OutOpt = Annotated[Path, typer.Option("--out", help="Parent folder of the run folder.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help=DRY_RUN_HELP)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of random weights, points and data (0 .. 2^32-1).")]


def option(name: str, annotation: Any, default: Any = None, **info: Any) -> inspect.Parameter:
    """A keyword parameter for a generated command: ``--name`` with typer's option ``info``."""
    flags = info.pop("flags", ("--" + name.replace("_", "-"),))
    if "help" in info:
        info["help"] = escape(info["help"])
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[annotation, typer.Option(*flags, **info)])


def spec_parameters(spec: ODESpec, interval: bool = True, only_rhs: bool = False) -> list[inspect.Parameter]:
    """Options for a problem's parameters (``--sigma``), its initial state (``--ic X Y Z``) and interval.

    Each defaults to None, which means the problem's default (stated in the help), so a command records
    only what the user set.
    """
    params = []
    for p in spec.parameters:
        if only_rhs and not p.in_rhs:
            continue
        kind = p.choices or (int if p.integer else float)
        bounds = "" if p.choices else f"; range {p.range_text()}"
        params.append(option(p.name, Optional[kind], None, help=f"{p.help} [default: {p.default_text}{bounds}]",
                             show_default=False, rich_help_panel="Problem"))
    d = spec.dim
    state = " ".join(f"{c}={v:g}" for c, v in zip(spec.components, spec.u0))
    params.append(option("ic", Optional[tuple[(float,) * d]], None, metavar=" ".join(c.upper() for c in spec.components),
                         help=f"Initial state, {d} values after one flag [default: {state}].", show_default=False,
                         rich_help_panel="Problem"))
    if interval:
        params.append(option("t0", Optional[float], None, help=f"Start time [default: {spec.t0:g}].",
                             show_default=False, rich_help_panel="Problem"))
        params.append(option("t_final", Optional[float], None, help=f"End time [default: {spec.t1:g}].",
                             show_default=False, rich_help_panel="Problem"))
    return params


def pde_parameters(spec: Any) -> list[inspect.Parameter]:
    """Options for a PDE's parameters and, for an evolution problem, its final time (each None: default)."""
    params = []
    for p in spec.parameters:
        params.append(option(p.name, Optional[float], None, help=f"{p.help} [default: {p.default_text}; range "
                             f"{p.range_text()}]", show_default=False, rich_help_panel="Problem"))
    if not spec.steady:
        params.append(option("t_final", Optional[float], None, help=f"End time [default: {spec.t1:g}].",
                             show_default=False, rich_help_panel="Problem"))
    return params


def spec_values(spec: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The problem parameters the user set, removed from ``options`` (values given as None are left out)."""
    values = {}
    for p in spec.parameters:
        value = options.pop(p.name, None)
        if value is not None:
            values[p.name] = value.value if hasattr(value, "value") else value
    return values


def generated_command(params: list[inspect.Parameter], body: Callable[..., None], doc: str,
                      name: str) -> Callable[..., None]:
    """A command function with the given options (typer reads ``__signature__``) that calls ``body``."""

    def command(*args: Any, **options: Any) -> None:
        body(*args, **options)

    names = [p.name for p in params]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ValueError(f"command {name}: option {clash[0]!r} is defined twice (a problem parameter named like a "
                         "shared option?)")
    command.__signature__ = inspect.Signature(sorted(params, key=lambda p: (p.kind, p.default is not
                                                                             inspect.Parameter.empty)))
    command.__doc__ = doc
    command.__name__ = name.replace("-", "_")
    return command


def print_dry_run(console: Any, config: Any, estimate: dict[str, Any]) -> None:
    """The resolved configuration and the work estimate, as the ``--dry-run`` of every command prints them."""
    from pinn.runs import to_json  # numpy: not needed to parse options or show help

    console.print_json(json.dumps(to_json(config)))
    size = ", ".join(f"memory {v / 2 ** 20:.1f} MiB" if k == "memory_bytes" else f"{k.replace('_', ' ')} {_fmt(v)}"
                     for k, v in estimate.items())
    console.print(f"work: {size}", soft_wrap=True, markup=False)
    console.print("dry run: nothing was created", style="dim")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
