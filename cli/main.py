"""Entry point of the ``pinn`` command: joins one typer app per command and turns errors into one line.

Importing the command modules builds the whole command tree from the problem registry without importing
torch, scipy or matplotlib; each command imports the numerics it needs when it runs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from cli.console import err_console
from cli.options import PinnCommandGroup
from pinn.errors import PinnError


class Stopped(Exception):
    """Ctrl-C on its way out: typer would turn a KeyboardInterrupt into a silent exit code 130, so the group
    carries it past typer as this, with the note of what was kept (see :class:`pinn.errors.Interrupted`)."""

    def __init__(self, note: str = "") -> None:
        super().__init__(note)
        self.note = note


class PinnGroup(PinnCommandGroup):
    """Top-level group: user errors become one line on stderr and exit code 2, never a traceback."""

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


app = typer.Typer(cls=PinnGroup, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Physics-informed neural networks, surrogates and CNN classifiers.")


def _register() -> None:
    from cli import classify, fourier, identify, problems_cmd, rerun, simulate, solve, surrogate, sweep

    app.add_typer(solve.app, name="solve")
    app.add_typer(simulate.app, name="simulate")
    app.command("problems")(problems_cmd.problems)
    app.add_typer(fourier.app, name="fourier")
    app.add_typer(identify.app, name="identify")
    app.add_typer(classify.app, name="classify")
    app.add_typer(surrogate.app, name="surrogate")
    app.add_typer(sweep.app, name="sweep")
    app.command("rerun")(rerun.rerun)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
