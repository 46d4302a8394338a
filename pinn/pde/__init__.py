"""PDEs: problems in one space dimension plus time and steady problems in two, solved by space-time
least squares (random-feature networks on subdomains, output layers fitted by linear or Gauss-Newton least
squares, marching in time blocks).
"""

from pinn.pde.problem import (Derivatives, Dirichlet, Field, Interval, Neumann, PDEProblem, Periodic, Rectangle,
                              Side, derivatives_by_autograd)

__all__ = ["PDEProblem", "Interval", "Rectangle", "Side", "Dirichlet", "Neumann", "Periodic", "Field",
           "Derivatives", "derivatives_by_autograd"]
