"""Forecasting surrogates: least-squares flow maps, the references' agreement span, VPT lower bounds,
reservoir warm-up, multi-step training data and the lifted observations of the autoencoder path."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from pinn.surrogate.config import FeatureMap
from pinn.surrogate.data import DataConfig, flow_pairs, from_trajectories, make_dataset, unrolled_windows
from pinn.surrogate.evaluate import ReferenceSet, evaluate, rollout
from pinn.surrogate.lsq import (
    FeatureSpec,
    LeastSquaresFlowMap,
    chebyshev_features,
    fit_output_layers,
    input_scaling,
    polynomial_powers,
)
from pinn.surrogate.references import agreement_span, dop853_states, integrate_states
from pinn.surrogate.reservoir import EchoStateNetwork, ReservoirSpec, fit_reservoir
from pinn.surrogate.vpt import bounded_statistic, bounded_vpt, format_bounded, valid_prediction_time
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants

A = np.array([[-0.1, 2.0], [-2.0, -0.1]])  # a damped rotation: du/dt = A u


def linear_data(dt: float = 0.05, n_steps: int = 200, n_traj: int = 8) -> object:
    """Exact trajectories of du/dt = A u (matrix exponential), split like the notes' data."""
    rng = np.random.default_rng(0)
    u0 = rng.uniform(-1, 1, (n_traj, 2))
    t = np.arange(n_steps + 1) * dt
    prop = np.stack([scipy.linalg.expm(A * tk) for tk in t])  # (n, 2, 2)
    states = np.einsum("nij,mj->mni", prop, u0)
    return from_trajectories(t, states, DataConfig(problem="linear", n_test=2))


@pytest.mark.parametrize("spec", [FeatureSpec(FeatureMap.polynomial, degree=1),
                                  FeatureSpec(FeatureMap.polynomial, degree=3),
                                  FeatureSpec(FeatureMap.tanh, features=40, scale=0.2)])
def test_least_squares_flow_map_recovers_the_exact_linear_propagator(spec):
    data = linear_data()
    center, half = input_scaling(data.subset("train"))
    n = data.normaliser
    model = LeastSquaresFlowMap(spec, 2, data.config.dt, center, half, n.rate_mean, n.rate_std)
    u, t, u_next = flow_pairs(data.subset("train"), data.t)
    factor = fit_output_layers(model, u, t, u_next)
    model = model.truncated(model.n_features, factor.solve(model.n_features, 0.0))
    probe = np.random.default_rng(5).uniform(-0.5, 0.5, (50, 2))
    exact = probe @ scipy.linalg.expm(A * data.config.dt).T
    with torch.no_grad():
        pred = model.predict_next(torch.as_tensor(probe)[:, None, :], torch.zeros(50, 1, dtype=torch.float64)).numpy()
    # measured: 2e-16 (degree 1), 4e-16 (degree 3), 3e-15 (40 tanh features); round-off is 1e-16
    assert np.max(np.linalg.norm(pred - exact, axis=1) / np.linalg.norm(exact, axis=1)) < 1e-13


def test_chebyshev_features_are_products_of_chebyshev_polynomials():
    x = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    powers = torch.as_tensor(polynomial_powers(2, 3))
    feats = chebyshev_features(x, powers)[0].numpy()
    cheb = [np.polynomial.chebyshev.Chebyshev.basis(k) for k in range(4)]
    expected = [cheb[a](0.3) * cheb[b](-0.7) for a, b in polynomial_powers(2, 3)]
    np.testing.assert_allclose(feats, expected, rtol=1e-14, atol=1e-15)
    assert powers.shape[0] == 10 and list(powers[:3].sum(1)) == [0, 1, 1]  # ordered by total degree


def test_vpt_beyond_the_reference_span_is_reported_as_a_lower_bound():
    t = np.linspace(0.0, 40.0, 4001)
    crossing = np.array([10.0, 20.0, 30.0])  # error e0 exp(lambda t) crosses 0.4 at these times
    lam = 0.9
    error = 0.4 * np.exp(lam * (t[None, :] - crossing[:, None]))
    vpt, censored = valid_prediction_time(error, t, 0.4)
    np.testing.assert_allclose(vpt, crossing, atol=0.011)
    span = np.array([25.0, 25.0, 25.0])
    capped, lower = bounded_vpt(vpt, span, censored)
    np.testing.assert_allclose(capped, [vpt[0], vpt[1], 25.0])
    assert list(lower) == [False, False, True]
    assert bounded_statistic(capped, lower, "median") == (pytest.approx(vpt[1]), False)
    assert bounded_statistic(capped, lower, "min") == (pytest.approx(vpt[0]), False)
    value, bound = bounded_statistic(np.array([25.0, 25.0, 5.0]), np.array([True, True, False]), "median")
    assert bound and value == 25.0 and format_bounded(value * lam, bound) == "> 22.50"


def test_agreement_span_of_taylor_and_dop853_on_a_short_horizon():
    u0 = np.array([[1.0, 1.0, 1.0], [-8.0, 7.0, 27.0]])
    t = np.arange(301) * 0.01
    taylor, used = integrate_states(lorenz_rhs, u0, t)
    dop = dop853_states(lorenz_rhs, u0, t)
    span, censored = agreement_span(taylor, dop, t)
    assert used.value == "taylor" and censored.all() and np.allclose(span, 3.0)
    scale = np.sqrt(np.mean(np.sum(taylor ** 2, -1), -1))[:, None]
    assert np.max(np.linalg.norm(taylor - dop, axis=-1) / scale) < 1e-10  # measured 4e-12
    # a coarse second reference (RK4 with one or two steps per sample of 0.02) parts from the Taylor series
    t_long = np.arange(1001) * 0.02
    exact, _ = integrate_states(lorenz_rhs, u0, t_long)
    coarse, _ = integrate_states(lorenz_rhs, u0, t_long, "rk4", substeps=1)
    finer, _ = integrate_states(lorenz_rhs, u0, t_long, "rk4", substeps=2)
    span, censored = agreement_span(exact, coarse, t_long)
    span_finer, _ = agreement_span(exact, finer, t_long)
    # measured 16.8 and 8.6 time units (h = 0.02); 20 (never parted) and 11.0 with h = 0.01
    assert not censored.any() and np.all((span > 5.0) & (span < 19.0))
    assert np.all(span_finer > span)


@pytest.fixture(scope="module")
def small_lorenz():
    return make_dataset(lorenz_rhs, 3, DataConfig(n_traj=6, n_test=2, t_final=3.0))


def test_reservoir_warm_up_reads_only_the_past(small_lorenz):
    data = small_lorenz
    spec = ReservoirSpec(size=60, warmup=40, spectral_radius=0.5, leak=0.6, input_scaling=0.3)
    model, trials = fit_reservoir(data, spec, ridge=1e-8)
    assert len(trials) == 1
    states = data.subset("test")
    base = model.teacher_forced(states, data.t)
    corrupted = states.copy()
    corrupted[:, 150:] += 5.0
    after = model.teacher_forced(corrupted, data.t)
    w = spec.warmup
    # prediction j is of sample w + j: those of samples <= 150 use samples < 150 only
    np.testing.assert_array_equal(after[:, :150 - w + 1], base[:, :150 - w + 1])
    assert np.all(np.abs(after[:, 150 - w + 1:] - base[:, 150 - w + 1:]).max(axis=(1, 2)) > 1e-3)
    reference = ReferenceSet(data.t, states)
    future = ReferenceSet(data.t, corrupted)
    free, free_corrupted = evaluate(model, data, reference, 0.906), evaluate(model, data, future, 0.906)
    np.testing.assert_array_equal(free.pred, free_corrupted.pred)  # the free run never sees the true future
    changed = states.copy()
    changed[:, w - 5] += 1.0
    moved = rollout(model, changed[:, :w], float(data.t[w - 1]), 20)
    assert np.abs(moved - free.pred[:, :21]).max() > 1e-6  # ...but does read its warm-up


def test_reservoir_checkpoint_round_trip(small_lorenz):
    spec = ReservoirSpec(size=30, warmup=20)
    model, _ = fit_reservoir(small_lorenz, spec, ridge=1e-6)
    again = EchoStateNetwork.from_checkpoint(model.checkpoint())
    states = small_lorenz.subset("test")
    np.testing.assert_array_equal(again.teacher_forced(states, small_lorenz.t), model.teacher_forced(states, small_lorenz.t))


def test_unrolled_windows_line_up():
    states = np.arange(2 * 10 * 1, dtype=float).reshape(2, 10, 1)
    hist, t, target = unrolled_windows(states, np.arange(10) * 0.1, window=2, unroll=3, stride=2)
    assert hist.shape == (6, 2, 1) and target.shape == (6, 3, 1)
    np.testing.assert_array_equal(hist[1, :, 0], [2, 3])
    np.testing.assert_array_equal(target[1, :, 0], [4, 5, 6])
    np.testing.assert_allclose(t[1], [0.3])


def test_multi_step_loss_reduces_to_the_one_step_loss():
    from pinn.surrogate.models import ModelSpec, build_model
    from pinn.surrogate.train import _loss

    data = linear_data()
    model = build_model(ModelSpec(dim=2, width=8, depth=1, dt=data.config.dt), data.normaliser)
    hist, t, target = unrolled_windows(data.subset("train"), data.t, 1, 1)
    h, tt, y = (torch.as_tensor(a) for a in (hist, t, target))
    with torch.no_grad():
        assert float(_loss(model, h, tt, y)) == pytest.approx(float(_loss(model, h, tt, y[:, 0])), rel=1e-14)
        hist3, t3, target3 = (torch.as_tensor(a) for a in unrolled_windows(data.subset("train"), data.t, 1, 3))
        # an untrained map's error grows over free steps, so the 3-step loss exceeds the first step's
        assert float(_loss(model, hist3, t3, target3)) > float(_loss(model, hist3, t3, target3[:, 0]))


def test_lift_is_the_legendre_sum_of_linear_and_cubic_terms():
    from pinn.surrogate.autoencoder import lift

    u = np.array([8.0, -4.0, 20.0])
    x = lift(u, n_points=128, scale=40.0)
    v = u / 40.0
    # at y = 1 every Legendre polynomial is 1; at y = -1 P_k = (-1)^k
    assert x[-1] == pytest.approx(v.sum() + (v ** 3).sum(), rel=1e-14)
    signs = np.array([1, -1, 1, -1, 1, -1])
    assert x[0] == pytest.approx(np.r_[v, v ** 3] @ signs, rel=1e-14)
    assert x.shape == (128,)


def test_autoencoder_reconstructs_a_held_out_batch(small_lorenz):
    from pinn.surrogate.autoencoder import AutoencoderSpec, lifted_dataset, reconstruction_error, train_autoencoder

    lifted = lifted_dataset(small_lorenz)
    fit = train_autoencoder(lifted, AutoencoderSpec(width=32, epochs=100, lr=3e-3, batch_size=128, stride=2))
    # held-out batches: measured 0.046 on the validation trajectory and 0.110 on the two unseen test ones
    # (5 short training trajectories; the full data reach 0.015); the principal-component start alone
    # (3 linear modes of the cubic lift) leaves 0.185 on the test ones
    assert fit.val_reconstruction < 0.08
    assert reconstruction_error(fit.model, lifted.subset("test")) < 0.15
    assert fit.history[-1]["dz"] < 0.1 * fit.history[0]["dz"]  # measured 7e-4 from 2.8e-2


def test_gauss_newton_refinement_of_the_hidden_layer_lowers_the_one_step_error(small_lorenz):
    from pinn.surrogate.evaluate import one_step_errors
    from pinn.surrogate.lsq import refine_hidden_layer

    data = small_lorenz
    center, half = input_scaling(data.subset("train"))
    n = data.normaliser
    model = LeastSquaresFlowMap(FeatureSpec(FeatureMap.tanh, features=16, scale=0.2), 3, data.config.dt, center,
                                half, n.rate_mean, n.rate_std)
    u, t, u_next = flow_pairs(data.subset("train"), data.t, 2)

    def fitted_error() -> float:
        factor = fit_output_layers(model, u, t, u_next)
        fitted = model.truncated(model.n_features, factor.solve(model.n_features, 0.0))
        return float(np.median(one_step_errors(fitted, data.subset("val"), data.t)))

    before = fitted_error()
    norms = refine_hidden_layer(model, u, t, u_next, iterations=10, samples=2000)
    after = fitted_error()
    # measured: validation one-step error 2.0e-4 -> 8.4e-6 in 10 steps (the residual falls at every step)
    assert all(b < a for a, b in zip(norms, norms[1:])) and len(norms) > 5
    assert after < before / 10
