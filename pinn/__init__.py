"""pinn: physics-informed neural networks for ODEs, data-driven surrogates and CNN classifiers.

The public surface: describe an ODE as an :class:`ODEProblem`, pick a :class:`SolveConfig`, call
:func:`solve`, and write a run folder with :func:`write_run`; register a problem for the command line as an
:class:`ODESpec`. Everything else is importable from its module. Names load on first use, so importing
``pinn`` costs nothing until the numerics are needed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PinnError": "pinn.errors",
    "ODEProblem": "pinn.problem",
    "ODESpec": "pinn.spec",
    "Parameter": "pinn.spec",
    "Registry": "pinn.spec",
    "Method": "pinn.choices",
    "DType": "pinn.choices",
    "Activation": "pinn.choices",
    "SolveConfig": "pinn.solver",
    "SolveResult": "pinn.solver",
    "solve": "pinn.solver",
    "write_run": "pinn.solver",
    "MarchingConfig": "pinn.marching",
    "GradientConfig": "pinn.train",
    "MLP": "pinn.networks",
    "rk4": "pinn.reference",
    "dop853": "pinn.reference",
    "reference_solution": "pinn.reference",
    "taylor_solve": "pinn.taylor",
}

__all__ = list(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pinn' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
