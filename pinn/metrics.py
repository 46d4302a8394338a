"""Error metrics of a solution against a reference on a dense evaluation grid."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np


def relative_l2(u: np.ndarray, ref: np.ndarray) -> float:
    """||u - ref||_2 / ||ref||_2 over all points and components.

    For a reference that is zero (a solution resting at a fixed point such as the origin): 0 when u matches
    it exactly, else inf (never the NaN of 0 / 0)."""
    error, size = float(np.linalg.norm(u - ref)), float(np.linalg.norm(ref))
    if size > 0:
        return error / size
    return 0.0 if error == 0 else math.inf


def pointwise_relative_error(u: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """e(t_i) = ||u(t_i) - ref(t_i)|| / sqrt(mean_j ||ref(t_j)||^2): (n,).

    Normalised by the RMS size of the reference over the interval, so that passing near zero (an
    oscillator's node) does not inflate the error.
    """
    scale = np.sqrt(np.mean(np.sum(ref ** 2, axis=1)))
    error = np.linalg.norm(u - ref, axis=1)
    if scale > 0:
        return error / scale
    return np.where(error == 0, 0.0, np.inf)  # a zero reference: exact, or infinitely wrong


def time_to_threshold(t: np.ndarray, err: np.ndarray, threshold: float = 0.01) -> Optional[float]:
    """First time at which ``err`` exceeds ``threshold`` (None if it never does)."""
    above = np.nonzero(err > threshold)[0]
    return float(t[above[0]]) if above.size else None


def solution_metrics(t: np.ndarray, u: np.ndarray, ref: np.ndarray, residual: np.ndarray,
                     components: Sequence[str]) -> dict:
    """Metrics on the grid t (n,): relative L2 and max abs error against ``ref`` (both (n, d)), mean and
    max |residual| of du/dt - f(t, u) (n, d), per-component relative L2, and the time at which the pointwise
    relative error first exceeds 1% (``time_to_1pct``, None if never)."""
    err = pointwise_relative_error(u, ref)
    return {
        "eval_points": int(t.size),
        "relative_l2": relative_l2(u, ref),
        "max_abs_error": float(np.abs(u - ref).max()),
        "mean_abs_residual": float(np.abs(residual).mean()),
        "max_abs_residual": float(np.abs(residual).max()),
        "time_to_1pct": time_to_threshold(t, err, 0.01),
        "relative_l2_per_component": {c: relative_l2(u[:, k], ref[:, k]) for k, c in enumerate(components)},
    }
