"""Valid prediction time (VPT): the error measures, their thresholds, and the crossing time.

    'norm'  (Pathak et al. 2018): first t with ||u_pred - u_true|| / sqrt(<||u_true||^2>) > 0.4, the
            average <.> over the reference trajectory's samples;
    'nrmse' (Vlachas et al. 2020): first t with sqrt(mean_i ((u_pred,i - u_true,i) / sigma_i)^2) > 0.5,
            sigma_i the standard deviation of component i over the reference.
A rollout whose error never crosses the threshold gets the horizon (a lower bound, flagged as censored);
a VPT beyond the references' agreement span (:mod:`pinn.surrogate.references`) is a lower bound too.
"""

from __future__ import annotations

import numpy as np

from pinn.errors import PinnError

NORM_THRESHOLD = 0.4
"""Pathak et al. (2018), Phys. Rev. Lett. 120, 024102: normalised error threshold for VPT."""
NRMSE_THRESHOLD = 0.5
"""Vlachas et al. (2020), Neural Networks 126, 191: NRMSE threshold for VPT."""


def normalised_error(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """||u_pred - u_true|| / sqrt(mean_t ||u_true||^2) per trajectory: (b, n, d) -> (b, n) (NaN -> inf)."""
    scale = np.sqrt(np.mean(np.sum(true ** 2, axis=-1), axis=-1, keepdims=True))
    err = np.linalg.norm(pred - true, axis=-1) / scale
    return np.where(np.isfinite(err), err, np.inf)


def nrmse(pred: np.ndarray, true: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """sqrt(mean_i ((u_pred,i - u_true,i) / sigma_i)^2): (b, n, d), sigma (d,) -> (b, n) (NaN -> inf)."""
    err = np.sqrt(np.mean(((pred - true) / sigma) ** 2, axis=-1))
    return np.where(np.isfinite(err), err, np.inf)


def valid_prediction_time(error: np.ndarray, t: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """First time t_k - t_0 with error_k > threshold, per row of ``error`` (b, n) or (n,).

    Returns (vpt (b,), censored (b,) bool): a row that never crosses gets the horizon t_{n-1} - t_0 and
    censored = True.
    """
    err = np.atleast_2d(np.asarray(error, dtype=float))
    t = np.asarray(t, dtype=float)
    if err.shape[1] != t.size:
        raise PinnError(f"error has {err.shape[1]} samples per row but t has {t.size}")
    over = err > threshold
    crossed = over.any(axis=1)
    first = np.where(crossed, over.argmax(axis=1), t.size - 1)
    return t[first] - t[0], ~crossed


def bounded_vpt(vpt: np.ndarray, span: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """VPTs limited by what can be known: (min(vpt, span) (b,), lower_bound (b,) bool).

    A VPT at or beyond the references' agreement span ``span`` is replaced by the span and flagged, as is one
    that never crossed within the horizon (``censored``)."""
    vpt, span = np.asarray(vpt, dtype=float), np.asarray(span, dtype=float)
    beyond = vpt >= span
    return np.minimum(vpt, span), beyond | np.asarray(censored, dtype=bool)


def bounded_statistic(values: np.ndarray, lower_bound: np.ndarray, which: str) -> tuple[float, bool]:
    """The 'median' or 'min' of values (b,) some of which are lower bounds: (value, is_lower_bound).

    The median is a lower bound when one of the middle values is; the minimum when the smallest value is."""
    values, lower_bound = np.asarray(values, dtype=float), np.asarray(lower_bound, dtype=bool)
    order = np.argsort(values, kind="stable")
    n = values.size
    if which == "min":
        pick = order[:1]
    elif which == "median":
        pick = order[[(n - 1) // 2, n // 2]]
    else:
        raise PinnError(f"bounded_statistic knows 'median' and 'min', not {which!r}")
    return float(np.mean(values[pick])), bool(lower_bound[pick].any())


def format_bounded(value: float, lower_bound: bool, spec: str = ".2f") -> str:
    """'12.34' or '> 12.34' for a lower bound (a VPT at the reference span or the horizon)."""
    return f"> {value:{spec}}" if lower_bound else f"{value:{spec}}"
