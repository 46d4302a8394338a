"""Entry point of the ``pinn`` command: joins one typer app per command and turns errors into one line.

The top-level group loads a command's module only when that command runs (``COMMANDS``), so ``pinn --help``
imports neither the problem registry nor numpy, and ``pinn problems`` builds no other command. Loading a
command module imports no torch, scipy or matplotlib; each command imports the numerics it needs when it runs.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperCommand

from cli.console import err_console
from cli.options import PinnCommandGroup
from pinn.errors import PinnError


class Stopped(Exception):
    """Ctrl-C on its way out: typer would turn a KeyboardInterrupt into a silent exit code 130, so the group
    carries it past typer as this, with the note of what was kept (see :class:`pinn.errors.Interrupted`)."""

    def __init__(self, note: str = "") -> None:
        super().__init__(note)
        self.note = note


COMMANDS: dict[str, tuple[str, str]] = {
    "solve": ("cli.solve:app", "Solve a problem with a physics-informed network."),
    "simulate": ("cli.simulate:app", "Reference data of a problem: trajectories (.npz) or noisy observations (.csv)."),
    "identify": ("cli.identify:app", "Estimate unknown constants of an ODE from noisy, partial observations."),
    "problems": ("cli.problems_cmd:problems", "List the registered problems: equations, parameters, sources."),
    "fourier": ("cli.fourier:app", "Fourier series of periodic forcings: the notes' square wave."),
    "classify": ("cli.classify:app", "Train CNN image classifiers (digits, Fashion-MNIST, CIFAR-10), evaluate runs."),
    "surrogate": ("cli.surrogate:app", "Data-driven surrogates: learn u_t -> u_{t+dt} from trajectories, roll it out."),
    "sweep": ("cli.sweep:app", "Grid studies of surrogate training (architecture, activation, optimizer, ...)."),
    "rerun": ("cli.rerun:rerun", "Repeat a solve, identify or fourier run from its saved configuration."),
}
"""Each command: ``module:attribute`` of its typer app or command function, and the one-line summary that
``pinn --help`` lists."""


def load_command(name: str) -> Any:
    """The click command ``name`` of :data:`COMMANDS`, built exactly as if it were registered on the top app."""
    module, attribute = COMMANDS[name][0].split(":")
    target = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(add_completion=False)
    holder.callback()(pinn)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_command(holder).commands[name]


class PinnGroup(PinnCommandGroup):
    """Top-level group: commands load on first use, and user errors become one line on stderr and exit code 2,
    never a traceback."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            if self._listing:  # the help page needs only the summary line
                return TyperCommand(name=cmd_name, help=COMMANDS[cmd_name][1])
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            close = difflib.get_close_matches(args[0], COMMANDS)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise PinnError(f"No such command {args[0]!r}.{hint} Commands: {', '.join(COMMANDS)}")
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise Stopped(getattr(exc, "note", "")) from None

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args=args, prog_name=prog_name or "pinn", complete_var=complete_var,
                              standalone_mode=False, **extra)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            err_console.print("pinn: interrupted")
            sys.exit(130)
        except PinnError as exc:
            _error_line(str(exc))
        except (KeyboardInterrupt, Stopped) as exc:
            note = getattr(exc, "note", "")
            err_console.print(f"pinn: interrupted{'; ' + note if note else ''}", markup=False)
            sys.exit(130)
        except MemoryError:
            _error_line("out of memory: the run needs more memory than this machine has; use smaller sizes")
        except OSError as exc:
            from pinn.files import WRITE_ERRORS, write_problem

            if exc.errno not in WRITE_ERRORS:
                _internal_error(exc)
            _error_line(f"{exc.filename or 'a file'}: {write_problem(exc)}")
        except Exception as exc:
            if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click/typer usage errors
                _error_line(exc.format_message())
            _internal_error(exc)
        sys.exit(rv if isinstance(rv, int) else 0)


def _error_line(message: str) -> None:
    """A user error: one line on stderr (newlines in the message folded), exit code 2."""
    err_console.print(f"pinn: error: {' '.join(message.split())}", markup=False)
    sys.exit(2)


def _internal_error(exc: BaseException) -> None:
    """A bug, not a user error: still one line (exit code 1) unless PINN_DEBUG asks for the traceback."""
    if os.environ.get("PINN_DEBUG"):
        raise exc
    err_console.print(f"pinn: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                      "(set PINN_DEBUG=1 for the traceback)", markup=False)
    sys.exit(1)


app = typer.Typer(cls=PinnGroup, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def pinn() -> None:
    """Physics-informed neural networks, surrogates and CNN classifiers."""


def main() -> None:
    """Console-script entry point."""
    app()
