"""Data-driven surrogates of dynamical systems and their evaluation.

Models: trained flow-map MLPs and LSTM/GRU (``.models``, ``.train``), least-squares flow maps on random or
polynomial features (``.lsq``), an echo state network (``.reservoir``), the SINDy baseline (``.sindy``) and
a SINDy autoencoder for high-dimensional observations (``.autoencoder``). Evaluation: one-step error, valid
prediction time bounded by the references' agreement span, attractor statistics, Lyapunov exponents
(``.evaluate``, ``.vpt``, ``.references``, ``.lyapunov``). The commands: ``.config`` (options and each
model's recipe) and ``.pipeline`` (``run_surrogate``, ``run_rollout``); grid studies in ``.sweep``.

Import the submodules directly.
"""
