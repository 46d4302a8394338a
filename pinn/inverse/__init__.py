"""Parameter identification: the parametric model, the piecewise trajectory, the joint least-squares fit."""

from pinn.inverse.model import ParametricODE, parameter_jacobian

__all__ = ["ParametricODE", "parameter_jacobian"]
