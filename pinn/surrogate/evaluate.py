"""Evaluating a surrogate on held-out initial states: one-step error, free rollout, valid prediction time
(two definitions) and the attractor's statistics.

Valid prediction time (VPT), measured from the start of the free rollout, in the time units of the
equation; divide by the Lyapunov time 1 / lambda_max (multiply by lambda_max) for Lyapunov times:
    'norm'  (Pathak et al. 2018): first t with ||u_pred - u_true|| / sqrt(<||u_true||^2>) > 0.4, the
            average <.> over the reference trajectory's samples;
    'nrmse' (Vlachas et al. 2020): first t with sqrt(mean_i ((u_pred,i - u_true,i) / sigma_i)^2) > 0.5,
            sigma_i the standard deviation of component i over the reference.
A rollout whose error never crosses the threshold gets the horizon (a lower bound, flagged as censored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.stats import wasserstein_distance

from pinn.errors import PinnError
from pinn.problem import Rhs
from pinn.surrogate.data import TrajectoryData, flow_pairs, integrate, windows
from pinn.surrogate.models import Stepper

NORM_THRESHOLD = 0.4
"""Pathak et al. (2018), Phys. Rev. Lett. 120, 024102: normalised error threshold for VPT."""
NRMSE_THRESHOLD = 0.5
"""Vlachas et al. (2020), Neural Networks 126, 191: NRMSE threshold for VPT."""


def _dtype(stepper: Stepper) -> torch.dtype:
    if isinstance(stepper, torch.nn.Module):
        for tensor in list(stepper.parameters()) + list(stepper.buffers()):
            if tensor.is_floating_point():
                return tensor.dtype
    return torch.float64


def one_step_errors(stepper: Stepper, states: np.ndarray, t: np.ndarray, stride: int = 1,
                    chunk: int = 65536) -> np.ndarray:
    """Relative one-step errors ||u_pred_{t+1} - u_{t+1}|| / ||u_{t+1}|| over trajectories (m, n, d): (k,)."""
    w = int(stepper.history_length)
    if w == 1:
        u, times, nxt = flow_pairs(states, t, stride)
        hist = u[:, None, :]
    else:
        hist, times, nxt = windows(states, t, w, stride)
    dtype = _dtype(stepper)
    out = np.empty(hist.shape[0])
    with torch.no_grad():
        for i in range(0, hist.shape[0], chunk):
            sl = slice(i, i + chunk)
            pred = stepper.predict_next(torch.as_tensor(hist[sl], dtype=dtype),
                                        torch.as_tensor(times[sl], dtype=dtype)).double().numpy()
            out[sl] = np.linalg.norm(pred - nxt[sl], axis=1) / np.maximum(np.linalg.norm(nxt[sl], axis=1), 1e-300)
    return out


def rollout(stepper: Stepper, history: np.ndarray, t_last: float, n_steps: int) -> np.ndarray:
    """Free-running prediction: each prediction is fed back as input.

    Args:
        history: (b, w, d) true states that start the rollout (w = the model's history length), the last
            one at time ``t_last``.
        n_steps: number of predicted steps.
    Returns:
        (b, n_steps + 1, d): the last history state followed by the predictions, at t_last + k dt.
        Once a state stops being finite the rest stays NaN.
    """
    history = np.asarray(history, dtype=float)
    if history.ndim != 3 or history.shape[1] != stepper.history_length:
        raise PinnError(f"rollout needs history of shape (b, {stepper.history_length}, d), got {history.shape}")
    dtype = _dtype(stepper)
    hist = torch.as_tensor(history, dtype=dtype)
    b = hist.shape[0]
    out = torch.empty(b, n_steps + 1, hist.shape[2], dtype=torch.float64)
    out[:, 0] = hist[:, -1]
    with torch.no_grad():
        for k in range(1, n_steps + 1):
            t = torch.full((b, 1), t_last + (k - 1) * stepper.dt, dtype=dtype)
            nxt = stepper.predict_next(hist, t)
            nxt = torch.where(torch.isfinite(nxt), nxt, torch.full_like(nxt, float("nan")))
            out[:, k] = nxt
            hist = torch.cat((hist[:, 1:], nxt[:, None, :]), dim=1)
    return out.numpy()


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


@dataclass
class ReferenceSet:
    """Reference trajectories from the test initial states over a long horizon: t (n,), states (m, n, d)."""

    t: np.ndarray
    states: np.ndarray

    @staticmethod
    def build(rhs: Rhs, data: TrajectoryData, horizon: float, substeps: int | None = None) -> "ReferenceSet":
        """RK4 (as the data) from each test trajectory's initial state over [0, horizon]."""
        t = np.arange(int(round(horizon / data.config.dt)) + 1) * data.config.dt
        u0 = data.subset("test")[:, 0]
        return ReferenceSet(t, integrate(rhs, u0, t, substeps or data.config.substeps))


@dataclass
class Evaluation:
    """Metrics of one surrogate on the test set, plus the arrays the plots need."""

    one_step: np.ndarray
    vpt_norm: np.ndarray
    vpt_nrmse: np.ndarray
    censored: np.ndarray
    lyapunov: float
    t: np.ndarray
    pred: np.ndarray
    true: np.ndarray
    error: np.ndarray
    histograms: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Scalar metrics (VPTs in time units and in Lyapunov times)."""
        lam = self.lyapunov
        finite = self.one_step[np.isfinite(self.one_step)]
        return {
            "one_step_median": float(np.median(self.one_step)) if finite.size == self.one_step.size else float("inf"),
            "one_step_p90": float(np.percentile(finite, 90)) if finite.size else float("inf"),
            "vpt_median": float(np.median(self.vpt_norm)),
            "vpt_median_lyap": float(np.median(self.vpt_norm) * lam),
            "vpt_min_lyap": float(np.min(self.vpt_norm) * lam),
            "vpt_nrmse_median": float(np.median(self.vpt_nrmse)),
            "vpt_nrmse_median_lyap": float(np.median(self.vpt_nrmse) * lam),
            "vpt_censored": int(np.sum(self.censored)),
            "lyapunov": lam,
            "attractor_w1": float(self.histograms.get("w1_mean", float("nan"))),
            "n_test": int(self.vpt_norm.size),
        }


def _density(samples: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram normalised by all samples (those outside the edges count as missing mass)."""
    counts = np.histogram(samples, edges)[0].astype(float)
    return counts / (max(samples.size, 1) * np.diff(edges))


def attractor_statistics(pred: np.ndarray, true: np.ndarray, bins: int = 60) -> dict[str, Any]:
    """Histograms of each component of a long rollout against the reference on common bins.

    ``pred`` and ``true`` are (..., d) samples (flattened over trajectories and time). Also the
    1-Wasserstein distance per component divided by the reference's standard deviation, and its mean
    ('w1_mean'); a non-finite rollout gives inf.
    """
    d = true.shape[-1]
    p, q = pred.reshape(-1, d), true.reshape(-1, d)
    ok = np.all(np.isfinite(p), axis=1)
    stats: dict[str, Any] = {"edges": [], "pred": [], "true": [], "w1": []}
    for i in range(d):
        lo, hi = float(q[:, i].min()), float(q[:, i].max())
        edges = np.linspace(lo, hi, bins + 1)
        stats["edges"].append(edges)
        stats["true"].append(_density(q[:, i], edges))
        stats["pred"].append(_density(p[ok, i], edges))
        w1 = wasserstein_distance(p[ok, i], q[:, i]) / q[:, i].std() if ok.all() else float("inf")
        stats["w1"].append(float(w1))
    stats["w1_mean"] = float(np.mean(stats["w1"]))
    return stats


def evaluate(stepper: Stepper, data: TrajectoryData, reference: ReferenceSet, lyapunov: float,
             transient: float = 2.0, stride: int = 1) -> Evaluation:
    """All test metrics of ``stepper``.

    One-step errors over the test trajectories; free rollouts from each test initial state (a recurrent
    model is first given its window of true states) against ``reference``; VPT by both definitions;
    attractor statistics of the rollouts after ``transient`` time units (the test states start off the
    attractor, inside the box of initial states).
    """
    one = one_step_errors(stepper, data.subset("test"), data.t, stride)
    w = int(stepper.history_length)
    ref = reference.states
    n_steps = ref.shape[1] - w
    if n_steps < 1:
        raise PinnError("the reference horizon is shorter than the model's window")
    pred = rollout(stepper, ref[:, :w], float(reference.t[w - 1]), n_steps)
    true = ref[:, w - 1:]
    t = reference.t[w - 1:]
    err = normalised_error(pred, true)
    sigma = true.reshape(-1, true.shape[-1]).std(axis=0)
    vpt, censored = valid_prediction_time(err, t, NORM_THRESHOLD)
    vpt2, _ = valid_prediction_time(nrmse(pred, true, sigma), t, NRMSE_THRESHOLD)
    keep = t - t[0] >= min(transient, 0.5 * (t[-1] - t[0]))  # a short horizon keeps its second half
    hist = attractor_statistics(pred[:, keep], true[:, keep])
    return Evaluation(one, vpt, vpt2, censored, float(lyapunov), t, pred, true, err, hist)
