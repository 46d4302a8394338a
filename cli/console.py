"""Shared console output: rich consoles, a progress bar for long work, and metric tables."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pinn.progress import Reporter, Update

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[callable]:
    """A rich progress bar; yields ``update(completed, total, **fields)`` where fields fill the status text."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=total, status="")

        def update(completed: int, total_now: Optional[int] = None, status: str = "") -> None:
            bar.update(task, completed=completed, total=total_now or total, status=status)

        yield update


@contextmanager
def loading(writes_to: Optional[Path] = None) -> Iterator[None]:
    """A status line while a command imports its numerical libraries (torch alone takes about 2 s), so that
    no command starts with a silent pause; nothing is shown once torch is loaded.

    ``writes_to``: the folder the command will write into (its --out), checked first, so that a folder which
    cannot hold the run is refused at once, not after the import.
    """
    if writes_to is not None:
        from pinn.runs import check_output_root

        check_output_root(writes_to)
    if "torch" in sys.modules:
        yield
        return
    with console.status("loading torch"):
        import torch  # noqa: F401  (some commands import it only later, inside their first phase)

        yield


class RichReporter(Reporter):
    """Shows each phase of a library call: a progress bar when its length is known, else a spinner."""

    @contextmanager
    def _display(self, name: str, total: Optional[int]) -> Iterator[Update]:
        if total is None:
            start = time.perf_counter()
            with console.status(name) as status:
                def update(done: int = 0, text: str = "", total: Optional[int] = None) -> None:
                    status.update(f"{name}: {text}" if text else name)

                yield update
            console.print(f"{name}: {time.perf_counter() - start:.1f} s", style="dim", highlight=False)
            return
        with progress_bar(name, total) as bar:
            yield lambda done, status="", total=None: bar(done, total, status)

    def message(self, text: str) -> None:
        console.print(text, markup=False)


def metrics_table(title: str, rows: list[tuple[str, str]]) -> Table:
    """A two-column table of (quantity, value)."""
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


def fmt(value: Optional[float], spec: str = ".3e") -> str:
    """Format a number, or '-' for None."""
    return "-" if value is None else format(value, spec)
