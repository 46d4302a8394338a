"""The step-size controller and the global error transport, on model problems with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pinn.global_error import transport_errors
from pinn.step_control import StepControl, StepSizeController, StepSizeTooSmall, Trial, march


def power_law_attempt(best: float, order: float, log: list):
    """A step whose error ratio is (h / best)^order: steps up to ``best`` pass."""
    def attempt(a: float, b: float) -> Trial:
        log.append((a, b))
        return Trial(((b - a) / best) ** order, (a, b))
    return attempt


def test_march_covers_the_interval_and_lands_on_every_stop() -> None:
    log: list = []
    steps, _ = march(0.0, 1.0, 0.01, power_law_attempt(0.07, 8.0, log), stops=(0.3, 0.7, 5.0))
    ends = [b for _, b in steps]
    assert ends[-1] == 1.0 and 0.3 in ends and 0.7 in ends
    assert all(b1 == a2 for (_, b1), (a2, _) in zip(steps[:-1], steps[1:]))
    assert steps[0][0] == 0.0


def test_controller_settles_near_the_largest_passing_step() -> None:
    log: list = []
    steps, rejected = march(0.0, 10.0, 0.001, power_law_attempt(0.1, 8.0, log))
    lengths = np.array([b - a for a, b in steps])
    # after growing from 0.001, the steps stay between half the passing step and the passing step
    assert np.median(lengths) > 0.05 and lengths.max() <= 0.1 + 1e-12
    assert rejected <= 0.25 * len(steps)  # measured: 5 rejections for 120 steps


def test_the_order_of_the_error_is_learnt_from_retries() -> None:
    controller = StepSizeController(StepControl(order=4.0))
    for _ in range(6):
        controller.learn(0.2, (0.2 / 0.1) ** 16, 0.12, (0.12 / 0.1) ** 16)
    assert abs(controller.order - 16.0) < 0.5


def test_a_failed_step_caps_later_steps() -> None:
    log: list = []

    def attempt(a: float, b: float) -> Trial:
        log.append(b - a)
        if b - a > 0.3:  # e.g. Newton does not converge on long windows
            return Trial(math.inf, None, "no convergence")
        return Trial(1e-6, (a, b))

    steps, rejected = march(0.0, 30.0, 0.2, attempt)
    # without the cap the step would double after every success and fail every other time (about 50 failures)
    assert rejected <= 12  # measured 7
    assert len(steps) < 150


def test_an_unreachable_tolerance_stops_at_the_minimum_step() -> None:
    with pytest.raises(StepSizeTooSmall) as info:
        march(0.0, 1.0, 0.1, lambda a, b: Trial(2e3 * (b - a), (a, b)), min_step=1e-3)
    assert info.value.t == 0.0 and info.value.step == pytest.approx(1e-3)
    assert not info.value.stalled


def test_an_error_floor_stops_the_march_early() -> None:
    calls: list = []

    def attempt(a: float, b: float) -> Trial:
        calls.append(b - a)
        return Trial(5.0, (a, b))  # the same error whatever the step: round-off

    with pytest.raises(StepSizeTooSmall) as info:
        march(0.0, 1.0, 0.1, attempt, min_step=1e-12)
    assert info.value.stalled
    assert len(calls) <= 6


def test_error_transport_matches_the_closed_form_for_exponential_growth() -> None:
    # u' = lam u on K equal steps: S = exp(lam h); an error at the end of step k grows to exp(lam (t - b_k))
    lam, h, K = 0.9, 0.1, 80
    span = K * h
    S = np.full((K, 1, 1), math.exp(lam * h))
    unit = np.zeros(K)
    unit[0] = 1.0  # one unit error handed on by the first step
    est = transport_errors(np.full(K, h), S, np.zeros(K), unit, solution_l2=1.0)
    # its squared L2 over the rest of the interval, with the steps' left-point rule: sum_i h exp(2 lam i h)
    exact = math.sqrt(sum(h * math.exp(2 * lam * i * h) for i in range(K - 1)))
    assert est.relative_l2 == pytest.approx(exact, rel=1e-12)
    assert est.amplification[0] == pytest.approx(exact / math.sqrt(span), rel=1e-12)
    assert est.amplification[-1] == 0.0


def test_error_transport_adds_independent_errors_in_quadrature() -> None:
    K, h = 50, 0.2
    est = transport_errors(np.full(K, h), np.tile(np.eye(2), (K, 1, 1)), np.full(K, 1e-3), np.zeros(K), 1.0)
    assert est.relative_l2 == pytest.approx(1e-3 * math.sqrt(K * h), rel=1e-12)


def test_error_transport_gramian_matches_brute_force_products() -> None:
    rng = np.random.default_rng(7)
    K, d = 12, 3
    lengths = rng.uniform(0.05, 0.2, K)
    S = np.eye(d) + 0.3 * rng.standard_normal((K, d, d))  # non-symmetric, non-commuting steps
    handed_on = rng.uniform(0.5, 2.0, K)
    est = transport_errors(lengths, S, np.zeros(K), handed_on, solution_l2=1.0)
    total = 0.0
    for j in range(K):  # error handed on by step j, seen at the start of every later step i
        psi = np.eye(d)
        for i in range(j + 1, K):
            total += lengths[i] * handed_on[j] ** 2 * np.trace(psi.T @ psi) / d
            psi = S[i] @ psi
    assert est.relative_l2 == pytest.approx(math.sqrt(total), rel=1e-12)
