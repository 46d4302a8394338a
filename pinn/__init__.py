"""pinn: physics-informed neural networks for ODEs, data-driven surrogates and CNN classifiers.

The public surface: describe an ODE as an :class:`ODEProblem`, pick a :class:`SolveConfig`, call
:func:`solve`, and write a run folder with :func:`write_run`. Everything else is importable from its module.
"""

from pinn.errors import PinnError
from pinn.marching import MarchingConfig
from pinn.networks import MLP, Activation
from pinn.problem import ODEProblem
from pinn.reference import dop853, reference_solution, rk4
from pinn.solver import DType, Method, SolveConfig, SolveResult, solve, write_run
from pinn.train import GradientConfig

__all__ = ["PinnError", "ODEProblem", "SolveConfig", "SolveResult", "Method", "DType", "MarchingConfig",
           "GradientConfig", "MLP", "Activation", "solve", "write_run", "rk4", "dop853", "reference_solution"]
__version__ = "0.1.0"
