"""The error of a whole marched solution, from each step's local error and how later steps amplify it.

A march over steps k = 0..K-1 ([a_k, b_k], length h_k) commits in each step an error inside the step (of
RMS size l_k, the step's own estimate) and an error eps_k in the state it hands on at b_k. Linearised, the
state error entering step k is

    E_k = sum_{j<k} Psi(a_k, b_j) eps_j,     Psi(a_k, b_j) = S_{k-1} ... S_{j+1},

with S_k = d u(b_k) / d u(a_k) the step's sensitivity (its d x d Jacobian). Adding the steps' errors as
independent random vectors (isotropic: E |Psi eps|^2 = |eps|^2 tr(Psi^T Psi) / d), the squared L2 error
over the interval is

    int |e|^2 dt ~ sum_k h_k l_k^2 + sum_j eps_j^2 tr(P_{j+1}) / d,   P_k = h_k I + S_k^T P_{k+1} S_k, P_K = 0,

where P_k = sum_{i>=k} h_i Psi(a_i, a_k)^T Psi(a_i, a_k) weights an error at a_k by how much of the interval it
spoils and by how much (the discrete observability Gramian of the error transport). Dividing by
int |u|^2 dt gives the relative L2 error that :func:`pinn.metrics.relative_l2` measures. This is the
linearised global error estimate of, e.g., Lang & Verwer (2007), "On global error estimation and control
for initial value problems", SIAM J. Sci. Comput. 29, 1460, without the adjoint solve: the sensitivities
come with the steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorTransport:
    """Relative L2 error of a marched solution and the amplification behind it.

    relative_l2: estimated relative L2 error over the interval.
    amplification: (K,) sqrt(tr(P_{k+1}) / (d T)), how much a unit state error at the end of step k grows, as
        an RMS over the rest of the interval (T the interval length); 0 for the last step.
    """

    relative_l2: float
    amplification: np.ndarray

    def floor(self, lengths: np.ndarray, state_norms: np.ndarray, solution_l2: float,
              unit_roundoff: float) -> float:
        """The relative L2 error that rounding alone causes: an error of unit_roundoff |u| per step
        (``state_norms`` (K,), the solution's size on each step), transported like the steps' errors.
        ``solution_l2`` is sqrt(int |u|^2 dt)."""
        span = float(np.sum(lengths))
        sq = np.sum((unit_roundoff * state_norms * self.amplification) ** 2) * span
        return float(np.sqrt(sq) / solution_l2)


def transport_errors(lengths: np.ndarray, sensitivities: np.ndarray, interior: np.ndarray,
                     handed_on: np.ndarray, solution_l2: float) -> ErrorTransport:
    """Estimate the relative L2 error of a march (see the module docstring).

    Args:
        lengths: (K,) step lengths h_k.
        sensitivities: (K, d, d) S_k = d u(b_k) / d u(a_k).
        interior: (K,) RMS error inside each step, l_k.
        handed_on: (K,) error of the state handed to the next step, |eps_k|.
        solution_l2: sqrt(int |u|^2 dt) over the interval (> 0).
    """
    lengths = np.asarray(lengths, dtype=float)
    S = np.asarray(sensitivities, dtype=float)
    K, d = S.shape[0], S.shape[1]
    weight = np.zeros(K)  # tr(P_{k+1}) / d
    P = np.zeros((d, d))
    for k in range(K - 1, -1, -1):
        weight[k] = np.trace(P) / d
        P = lengths[k] * np.eye(d) + S[k].T @ P @ S[k]
    sq = float(np.sum(lengths * np.asarray(interior) ** 2) + np.sum(np.asarray(handed_on) ** 2 * weight))
    span = float(lengths.sum())
    return ErrorTransport(float(np.sqrt(sq) / solution_l2), np.sqrt(weight / span))
