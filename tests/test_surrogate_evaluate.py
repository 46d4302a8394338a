"""Evaluation metrics: VPT on errors of known growth, rollouts, one-step errors, Lyapunov exponent."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn.errors import PinnError
from pinn.surrogate.config import Integrator
from pinn.surrogate.data import DataConfig, integrate, make_dataset
from pinn.surrogate.evaluate import (
    NORM_THRESHOLD,
    ReferenceSet,
    attractor_statistics,
    evaluate,
    normalised_error,
    nrmse,
    one_step_errors,
    rollout,
    valid_prediction_time,
)
from pinn.surrogate.lyapunov import LyapunovMethod, largest_lyapunov_exponent, map_lyapunov_exponent, rk4_map
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants

LORENZ_LAMBDA = 0.906


class ExactStepper:
    """The reference integrator itself as a 'surrogate' (RK4 with the data's inner steps)."""

    history_length = 1

    def __init__(self, dt: float, substeps: int) -> None:
        self.dt = dt
        self.step = rk4_map(lorenz_rhs, dt, substeps)

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.step(history[:, -1], t)


@pytest.mark.parametrize("lam,e0", [(0.906, 1e-6), (2.0, 1e-3)])
def test_vpt_of_exponential_error_is_the_crossing_time(lam, e0):
    t = np.linspace(0.0, 30.0, 3001)
    error = e0 * np.exp(lam * t)
    vpt, censored = valid_prediction_time(error, t, NORM_THRESHOLD)
    exact = math.log(0.4 / e0) / lam  # Pathak et al. (2018)'s threshold, written out: a changed constant fails
    assert exact <= vpt[0] <= exact + 0.01 and not censored[0]


def test_vpt_never_crossing_is_censored_at_the_horizon():
    t = np.linspace(1.0, 3.0, 21)
    vpt, censored = valid_prediction_time(np.zeros((2, 21)), t, 0.4)
    np.testing.assert_allclose(vpt, 2.0)
    assert censored.all()
    with pytest.raises(PinnError):
        valid_prediction_time(np.zeros(5), t, 0.4)


def test_normalised_errors_by_hand():
    true = np.array([[[3.0, 4.0], [3.0, 4.0]]])  # rms norm 5
    pred = true + np.array([[[0.0, 0.0], [1.0, 0.0]]])
    np.testing.assert_allclose(normalised_error(pred, true), [[0.0, 0.2]])
    np.testing.assert_allclose(nrmse(pred, true, np.array([2.0, 1.0])), [[0.0, math.sqrt(0.125)]])
    pred[0, 1, 0] = np.nan
    assert np.isinf(normalised_error(pred, true)[0, 1])


def test_exact_stepper_has_tiny_one_step_error_and_long_vpt():
    data = make_dataset(lorenz_rhs, 3, DataConfig(n_traj=4, n_test=2, t_final=1.0, substeps=4, integrator="rk4"))
    stepper = ExactStepper(0.01, 4)
    assert np.max(one_step_errors(stepper, data.subset("test"), data.t)) < 1e-13
    ref = ReferenceSet.build(lorenz_rhs, data, 3.0, substeps=4, integrator=Integrator.rk4, span=False)
    ev = evaluate(stepper, data, ref, LORENZ_LAMBDA, transient=1.0)
    assert ev.censored.all() and ev.summary()["vpt_median"] == pytest.approx(3.0)
    assert ev.summary()["attractor_w1"] < 1e-12


class StretchedStepper(ExactStepper):
    """RK4 with a step 20 % longer than the data's: a surrogate whose error reaches O(1) in about 0.1-0.3."""

    def __init__(self, dt: float, substeps: int) -> None:
        self.dt = dt
        self.step = rk4_map(lorenz_rhs, 1.2 * dt, substeps)


def test_evaluate_measures_both_vpts_at_the_published_thresholds():
    data = make_dataset(lorenz_rhs, 3, DataConfig(n_traj=4, n_test=3, t_final=1.0, substeps=4, integrator="rk4"))
    ref = ReferenceSet.build(lorenz_rhs, data, 1.0, substeps=4, integrator=Integrator.rk4, span=False)
    ev = evaluate(StretchedStepper(0.01, 4), data, ref, LORENZ_LAMBDA, transient=0.5)
    diff = ev.pred - ev.true  # (b, n, 3); the errors by their definitions, independent of pinn's functions
    norm_error = np.linalg.norm(diff, axis=-1) / np.sqrt(np.mean(np.sum(ev.true ** 2, axis=-1), axis=-1))[:, None]
    sigma = ev.true.reshape(-1, 3).std(axis=0)
    nrmse_error = np.sqrt(np.mean((diff / sigma) ** 2, axis=-1))

    def crossing(error: np.ndarray, threshold: float) -> np.ndarray:
        assert (error > threshold).any(axis=1).all()  # every rollout crosses within the horizon
        return ev.t[np.argmax(error > threshold, axis=1)] - ev.t[0]

    np.testing.assert_allclose(ev.vpt_norm, crossing(norm_error, 0.4))  # Pathak et al. (2018)
    np.testing.assert_allclose(ev.vpt_nrmse, crossing(nrmse_error, 0.5))  # Vlachas et al. (2020)
    # measured: the norm error crosses 0.4 at 0.25, 0.24, 0.11 and 0.5 at 0.27, 0.25, 0.12, so a threshold
    # moved by 0.1 either way changes the VPTs
    assert (crossing(norm_error, 0.5) > ev.vpt_norm).all() and (crossing(norm_error, 0.3) < ev.vpt_norm).all()


def test_rollout_feeds_predictions_back():
    stepper = ExactStepper(0.01, 2)
    u0 = np.array([[1.0, 1.0, 1.0], [-8.0, 7.0, 27.0]])
    traj = rollout(stepper, u0[:, None, :], 0.0, 50)
    ref = integrate(lorenz_rhs, u0, np.arange(51) * 0.01, substeps=2)
    np.testing.assert_allclose(traj, ref, atol=1e-12)
    with pytest.raises(PinnError):
        rollout(stepper, u0, 0.0, 5)


def test_attractor_statistics_are_zero_for_identical_samples():
    x = np.random.default_rng(0).normal(size=(500, 3))
    stats = attractor_statistics(x, x)
    assert stats["w1_mean"] == 0.0 and len(stats["edges"]) == 3
    assert attractor_statistics(x + 1.0, x)["w1_mean"] == pytest.approx(1.0 / x.std(axis=0).mean(), rel=0.05)


def test_lorenz_largest_lyapunov_exponent_is_0906():
    u0 = np.random.default_rng(3).uniform(-15, 15, (16, 3))
    est = largest_lyapunov_exponent(lorenz_rhs, u0, dt=0.01, t_total=80.0, transient=5.0)
    # measured 0.9014 +- 0.004 (32 starts, T = 100); the literature value is 0.9056
    assert abs(est.value - LORENZ_LAMBDA) / LORENZ_LAMBDA < 0.05
    assert est.stderr < 0.02


def test_variational_and_two_trajectory_methods_agree():
    u0 = np.random.default_rng(1).uniform(-15, 15, (4, 3))
    kw = dict(dt=0.01, t_total=2.0, transient=1.0)
    a = largest_lyapunov_exponent(lorenz_rhs, u0, method=LyapunovMethod.two_trajectories, **kw)
    b = largest_lyapunov_exponent(lorenz_rhs, u0, method=LyapunovMethod.variational, **kw)
    np.testing.assert_allclose(a.per_start, b.per_start, atol=1e-4)


def test_map_lyapunov_exponent_of_a_linear_map():
    growth = 1.5

    def step(u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return growth * u

    est = map_lyapunov_exponent(step, np.zeros((2, 2)), dt=0.1, n_steps=40, transient_steps=0, renorm_every=5)
    assert est.value == pytest.approx(math.log(growth) / 0.1, rel=1e-9)
