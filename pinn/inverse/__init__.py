"""Parameter identification: the piecewise trajectory, the joint least-squares fit with standard errors,
the gradient-trained alternative, observations, and the ``pinn identify`` run (:mod:`pinn.inverse.identify`)."""
