"""PDEs: problems in one space dimension plus time and steady problems in two, solved by space-time
least squares (random-feature networks on cells, output layers fitted by linear or Gauss-Newton least
squares, marching in time blocks) or by the classic gradient-trained PINN.

    problem = PDEProblem(...)                       # domain, residual, initial/boundary conditions
    result = solve_pde(problem, PDESolveConfig())   # prediction, reference and errors on a grid
    write_pde_run(run_dir, result)                  # config.json, metrics.json, model.pt, figures
"""

from pinn.pde.features import FeatureActivation
from pinn.pde.problem import (Derivatives, Dirichlet, Field, Interval, Neumann, PDEProblem, Periodic, Rectangle,
                              Side, derivatives_by_autograd)
from pinn.pde.runs import write_pde_run
from pinn.pde.solve import PDEMethod, PDEResult, PDESolveConfig, solve_pde
from pinn.pde.config import InitialState, LeastSquaresConfig, SolveProgress

__all__ = ["PDEProblem", "Interval", "Rectangle", "Side", "Dirichlet", "Neumann", "Periodic", "Field",
           "Derivatives", "derivatives_by_autograd", "LeastSquaresConfig", "InitialState", "FeatureActivation", "PDEMethod",
           "PDESolveConfig", "PDEResult", "SolveProgress", "solve_pde", "write_pde_run"]
