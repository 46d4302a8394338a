"""Evaluating a surrogate on held-out initial states: one-step error, free rollout, valid prediction time
(two definitions, :mod:`pinn.surrogate.vpt`) and the attractor's statistics.

VPT is measured from the start of the free rollout, in the time units of the equation; multiply by
lambda_max for Lyapunov times. The reference rollouts come from the Taylor-series integrator where the
right-hand side allows it, and carry their agreement span with DOP853 (:mod:`pinn.surrogate.references`):
a VPT beyond it is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import torch
from scipy.stats import wasserstein_distance

from pinn.errors import PinnError
from pinn.problem import Rhs
from pinn.surrogate.data import TrajectoryData, flow_pairs, windows
from pinn.surrogate.models import Stepper
from pinn.surrogate.references import Integrator, agreement_span, dop853_states, integrate_states
from pinn.surrogate.vpt import (  # noqa: F401
    NORM_THRESHOLD,
    NRMSE_THRESHOLD,
    bounded_statistic,
    bounded_vpt,
    normalised_error,
    nrmse,
    valid_prediction_time,
)


def _dtype(stepper: Stepper) -> torch.dtype:
    if isinstance(stepper, torch.nn.Module):
        for tensor in list(stepper.parameters()) + list(stepper.buffers()):
            if tensor.is_floating_point():
                return tensor.dtype
    return torch.float64


def one_step_errors(stepper: Stepper, states: np.ndarray, t: np.ndarray, stride: int = 1,
                    chunk: int = 65536) -> np.ndarray:
    """Relative one-step errors ||u_pred_{t+1} - u_{t+1}|| / ||u_{t+1}|| over trajectories (m, n, d): (k,).

    A stateful model (one with ``teacher_forced``, e.g. a reservoir) is driven along each true trajectory and
    judged on every prediction after its warm-up; a windowed model sees the true window before each step."""
    if hasattr(stepper, "teacher_forced"):
        w = int(stepper.history_length)
        pred = stepper.teacher_forced(states, t)  # (m, n - w, d): predictions of samples w .. n-1
        nxt = states[:, w:]
        err = np.linalg.norm(pred - nxt, axis=-1) / np.maximum(np.linalg.norm(nxt, axis=-1), 1e-300)
        return err[:, ::max(1, int(stride))].ravel()
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
        history: (b, w, d) true states that start the rollout (w = the model's history length: its input
            window, or the warm-up of a stateful model), the last one at time ``t_last``.
        n_steps: number of predicted steps.
    Returns:
        (b, n_steps + 1, d): the last history state followed by the predictions, at t_last + k dt.
        Once a state stops being finite the rest stays NaN. Only ``history`` is seen: nothing of the true
        future reaches the model.

    A stateful model (``start(history, t_last) -> state`` and ``advance(state, t) -> (next, state)``, such as
    a reservoir or an autoencoder's latent model) carries its own state; any other model gets its window of
    the last w states, predictions included, at every step.
    """
    history = np.asarray(history, dtype=float)
    if history.ndim != 3 or history.shape[1] != stepper.history_length:
        raise PinnError(f"rollout needs history of shape (b, {stepper.history_length}, d), got {history.shape}")
    dtype = _dtype(stepper)
    hist = torch.as_tensor(history, dtype=dtype)
    b = hist.shape[0]
    out = torch.empty(b, n_steps + 1, hist.shape[2], dtype=torch.float64)
    out[:, 0] = hist[:, -1]
    stateful = hasattr(stepper, "start")
    with torch.no_grad():
        state = stepper.start(hist, t_last) if stateful else None
        for k in range(1, n_steps + 1):
            t = torch.full((b, 1), t_last + (k - 1) * stepper.dt, dtype=dtype)
            if stateful:
                nxt, state = stepper.advance(state, t)
            else:
                nxt = stepper.predict_next(hist, t)
                hist = torch.cat((hist[:, 1:], nxt[:, None, :]), dim=1)
            out[:, k] = torch.where(torch.isfinite(nxt), nxt, torch.full_like(nxt, float("nan")))
    return out.numpy()


@dataclass
class ReferenceSet:
    """Reference trajectories from the test initial states over a long horizon: t (n,), states (m, n, d).

    ``span`` (m,) is the ground-truth horizon of each (time units over which the reference and an
    independent second integration agree within the VPT threshold, see :mod:`pinn.surrogate.references`);
    ``span_censored`` marks spans that reach the horizon; ``method`` names the integrator."""

    t: np.ndarray
    states: np.ndarray
    span: Optional[np.ndarray] = None
    span_censored: Optional[np.ndarray] = None
    method: str = "rk4"

    @staticmethod
    def build(rhs: Rhs, data: TrajectoryData, horizon: float, substeps: int | None = None,
              integrator: Integrator = Integrator.taylor, span: bool = True) -> "ReferenceSet":
        """From each test trajectory's initial state over [0, horizon]: the Taylor series if the
        right-hand side supports it (else RK4 with ``substeps`` inner steps), and with ``span`` the
        agreement span against DOP853 at rtol = atol = 1e-13."""
        t = np.arange(int(round(horizon / data.config.dt)) + 1) * data.config.dt
        u0 = data.subset("test")[:, 0]
        states, used = integrate_states(rhs, u0, t, integrator, substeps or data.config.substeps)
        ref = ReferenceSet(t, states, method=used.value)
        if span:
            ref.span, ref.span_censored = agreement_span(states, dop853_states(rhs, u0, t), t)
        return ref

    def transformed(self, observe: Callable[[np.ndarray], np.ndarray]) -> "ReferenceSet":
        """The same reference seen through an observation map (e.g. a lift to many dimensions)."""
        return ReferenceSet(self.t, observe(self.states), self.span, self.span_censored, self.method)


@dataclass
class Evaluation:
    """Metrics of one surrogate on the test set, plus the arrays the plots need.

    ``span`` (b,): the references' agreement span from the rollout's start (time units; the horizon where
    the references never part); VPTs at or beyond it count as lower bounds."""

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
    span: Optional[np.ndarray] = None

    def summary(self) -> dict[str, Any]:
        """Scalar metrics (VPTs in time units and in Lyapunov times).

        vpt_median_lyap / vpt_min_lyap use VPTs capped at each trajectory's reference span, with
        *_lower_bound telling whether the statistic is a lower bound ("> value")."""
        lam = self.lyapunov
        finite = self.one_step[np.isfinite(self.one_step)]
        horizon = float(self.t[-1] - self.t[0])
        span = self.span if self.span is not None else np.full(self.vpt_norm.shape, horizon)
        capped, lower = bounded_vpt(self.vpt_norm, span, self.censored)
        median, median_lower = bounded_statistic(capped, lower, "median")
        least, least_lower = bounded_statistic(capped, lower, "min")
        capped2, lower2 = bounded_vpt(self.vpt_nrmse, span, self.vpt_nrmse >= horizon)
        median2, median2_lower = bounded_statistic(capped2, lower2, "median")
        return {
            "one_step_median": float(np.median(self.one_step)) if finite.size == self.one_step.size else float("inf"),
            "one_step_p90": float(np.percentile(finite, 90)) if finite.size else float("inf"),
            "vpt_median": median,
            "vpt_median_lyap": median * lam,
            "vpt_median_lower_bound": median_lower,
            "vpt_min_lyap": least * lam,
            "vpt_min_lower_bound": least_lower,
            "vpt_nrmse_median": median2,
            "vpt_nrmse_median_lyap": median2 * lam,
            "vpt_nrmse_median_lower_bound": median2_lower,
            "vpt_censored": int(np.sum(self.censored)),
            "vpt_beyond_span": int(np.sum(self.vpt_norm >= span)),
            "reference_span_median_lyap": float(np.median(span) * lam),
            "reference_span_min_lyap": float(np.min(span) * lam),
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

    One-step errors over the test trajectories; free rollouts from each test initial state (a model with a
    window or warm-up of w states is first given the w true states, and its VPT counts from the last of
    them) against ``reference``; VPT by both definitions; attractor statistics of the rollouts after
    ``transient`` time units (the test states start off the attractor, inside the box of initial states).
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
    span = None
    if reference.span is not None:
        span = np.maximum(reference.span - (t[0] - reference.t[0]), 0.0)
        span = np.where(reference.span_censored, t[-1] - t[0], span)
    return Evaluation(one, vpt, vpt2, censored, float(lyapunov), t, pred, true, err, hist, span)


@dataclass(frozen=True)
class ValidationScore:
    """How well free rollouts follow the validation trajectories: ``log_error`` is the mean over
    trajectories and rollout samples of log10 of the normalised error (clipped to [1e-16, 10]; lower is
    better, and it keeps ranking models whose VPT exceeds the trajectories' length); ``vpt`` the median VPT
    in time units (censored at the trajectory's end)."""

    log_error: float
    vpt: float


def validation_score(stepper: Stepper, data: TrajectoryData, start: int = 0) -> ValidationScore:
    """Free rollouts from sample ``start`` of each validation trajectory (a model with a window or warm-up
    of w states gets samples start - w + 1 .. start) to the trajectory's end."""
    states = data.subset("val")
    w = int(stepper.history_length)
    start = max(int(start), w - 1)
    if start >= states.shape[1] - 1:
        raise PinnError(f"the validation trajectories ({states.shape[1]} samples) are shorter than the warm-up")
    pred = rollout(stepper, states[:, start - w + 1:start + 1], float(data.t[start]), states.shape[1] - 1 - start)
    true = states[:, start:]
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging candidate scores inf, not a warning
        err = normalised_error(pred, true)
    vpt, _ = valid_prediction_time(err, data.t[start:], NORM_THRESHOLD)
    return ValidationScore(float(np.mean(np.log10(np.clip(err[:, 1:], 1e-16, 10.0)))), float(np.median(vpt)))
