"""``pinn problems``: the catalogue of registered problems with their equations, parameters and sources."""

from __future__ import annotations

from rich.table import Table

from cli.console import console
from problems import REGISTRY


def _parameters(spec) -> str:
    return ", ".join(f"{p.name} = {p.default_text}" for p in spec.parameters)


def problems() -> None:
    """List the registered problems: equations, parameters (defaults), initial state, interval and source."""
    for spec in REGISTRY:
        table = Table(title=f"{spec.name}: {spec.title}", title_justify="left", show_header=False, box=None,
                      padding=(0, 1))
        table.add_column("what", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        state = ", ".join(f"{c} = {v:g}" for c, v in zip(spec.components, spec.u0))
        note = f"; {spec.initial_state_note}" if spec.initial_state_note else ""
        table.add_row("equations", spec.equations)
        table.add_row("parameters", _parameters(spec))
        table.add_row("initial state", state + note)
        table.add_row("interval", f"t in [{spec.t0:g}, {spec.t1:g}]")
        table.add_row("source", spec.source)
        table.add_row("commands", "solve, simulate, identify" + (", surrogate" if spec.surrogate else ""))
        console.print(table)
        console.print()
