"""``pinn problems``: the catalogue of registered problems with their equations, parameters and sources."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from cli.console import console
from pinn.spec import ODESpec
from problems import REGISTRY


def _parameters(spec: Any) -> str:
    return ", ".join(f"{p.name} = {p.default_text}" for p in spec.parameters)


def _rows(spec: Any) -> list[tuple[str, str]]:
    if isinstance(spec, ODESpec):
        state = ", ".join(f"{c} = {v:g}" for c, v in zip(spec.components, spec.u0))
        note = f"; {spec.initial_state_note}" if spec.initial_state_note else ""
        return [("equations", spec.equations), ("parameters", _parameters(spec)), ("initial state", state + note),
                ("interval", f"t in [{spec.t0:g}, {spec.t1:g}]"), ("source", spec.source),
                ("commands", "solve, simulate, identify" + (", surrogate, sweep" if spec.surrogate else ""))]
    return [("equation", spec.equations), ("parameters", _parameters(spec)), ("domain", spec.domain),
            ("conditions", spec.conditions), ("reference", spec.reference), ("source", spec.source),
            ("commands", "solve" + (", simulate, identify" if spec.ranges and not spec.steady else ""))]


def problems() -> None:
    """List the registered problems (ODEs, then PDEs): equations, parameters with defaults, initial and
    boundary conditions, interval or domain, reference and source."""
    specs = sorted(REGISTRY, key=lambda s: (not isinstance(s, ODESpec), s.name))
    for spec in specs:
        table = Table(title=f"{spec.name}: {spec.title}", title_justify="left", show_header=False, box=None,
                      padding=(0, 1))
        table.add_column("what", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        for row in _rows(spec):
            table.add_row(*row)
        console.print(table)
        console.print()
