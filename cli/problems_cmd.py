"""``pinn problems``: the catalogue of built-in problems with parameters and defaults."""

from __future__ import annotations

from rich.table import Table

from cli.console import console
from problems import CATALOGUE


def problems() -> None:
    """List the built-in problems, their equations, parameters, defaults and sources."""
    table = Table(title="pinn problems", show_lines=True)
    for col in ("name", "equations", "parameters (defaults)", "initial state", "interval", "source"):
        table.add_column(col, overflow="fold")
    for info in CATALOGUE.values():
        table.add_row(info.name, info.equations, info.parameters, info.initial_state, info.interval, info.source)
    console.print(table)
