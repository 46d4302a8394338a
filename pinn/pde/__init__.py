"""PDEs: problems in one space dimension plus time and steady problems in two, solved by space-time
least squares (random-feature networks on cells, output layers fitted by linear or Gauss-Newton least
squares, marching in time blocks) or by the classic gradient-trained PINN.

    problem = PDEProblem(...)                       # domain, residual, initial/boundary conditions
    result = solve_pde(problem, PDESolveConfig())   # prediction, reference and errors on a grid
    write_pde_run(run_dir, result)                  # config.json, metrics.json, model.pt, figures

The names below load on first use, so importing ``pinn.pde`` costs nothing until the numerics are needed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    **{name: "pinn.pde.problem" for name in ("PDEProblem", "Interval", "Rectangle", "Side", "Dirichlet", "Neumann",
                                              "Periodic", "Field", "Derivatives", "derivatives_by_autograd")},
    **{name: "pinn.pde.config" for name in ("LeastSquaresConfig", "InitialState", "FeatureActivation", "PDEMethod",
                                             "PDESolveConfig", "PDEGradientConfig", "SolveProgress")},
    "PDEResult": "pinn.pde.solve",
    "solve_pde": "pinn.pde.solve",
    "write_pde_run": "pinn.pde.runs",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pinn.pde' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
