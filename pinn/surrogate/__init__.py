"""Data-driven surrogates of dynamical systems: flow-map MLPs, LSTM/GRU, a SINDy baseline, and their
evaluation (one-step error, valid prediction time, attractor statistics, Lyapunov exponents).

Import the submodules directly: ``pinn.surrogate.data``, ``.models``, ``.train``, ``.evaluate``,
``.lyapunov``, ``.sindy``, ``.sweep``, ``.plots``.
"""
