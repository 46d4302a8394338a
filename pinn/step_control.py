"""Error-controlled step sizes for time marching: accept or reject a step from its error estimate, and
choose the next step, the way an adaptive Runge-Kutta integrator does (Hairer, Norsett & Wanner, Solving
Ordinary Differential Equations I, 2nd ed., Sec. II.4).

Nothing here knows what a step computes: an ODE window of the marching solver today, a PDE time block later.
The caller supplies ``attempt(a, b)``, which solves the step [a, b] and returns a :class:`Trial` holding
the ratio of its estimated error to the tolerance (<= 1 accepts) or the reason it failed. :func:`march`
covers [t0, t1] with accepted steps, lands exactly on every stop time (jumps of a forcing, output times),
and raises :class:`StepSizeTooSmall` instead of creeping on when no step above the minimum passes.

Step-size rule: with the error behaving like C h^p, the step that would just meet the tolerance is
h (1 / ratio)^(1/p); the proposal is that times a safety factor, clipped to [min_factor, max_factor] times
the current step. Marching windows of random features are nearly spectral (the error falls like h^10 to
h^20), so ``p`` is learnt from repeated attempts at the same start, where the error ratio changes with h
alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Generic, Optional, Sequence, TypeVar

from pinn.errors import PinnError

T = TypeVar("T")


class StepSizeTooSmall(PinnError):
    """No step of at least the minimum length meets the tolerance at time ``t``.

    Attributes: t (where the march stopped), step (the last step tried), ratio (its error / tolerance, inf
    when it failed), reason (a short description of the last failure, or None), stalled (True when the march
    stopped early because shrinking the step no longer lowered the error: a floor such as round-off).
    """

    def __init__(self, t: float, step: float, ratio: float, reason: Optional[str] = None,
                 stalled: bool = False) -> None:
        self.t, self.step, self.ratio, self.reason, self.stalled = t, step, ratio, reason, stalled
        what = reason or f"estimated error {ratio:.3g} x the tolerance"
        if stalled:
            what += "; the estimate stopped decreasing as the step shrank"
        super().__init__(f"no step of length >= {step:.3g} meets the tolerance at t = {t:.6g} ({what})")


@dataclass(frozen=True)
class StepControl:
    """Settings of the step-size controller.

    order: initial guess of p in error ~ h^p, refined from rejected-and-retried steps (within
        [min_order, max_order]).
    safety: the proposal aims at safety x the step that would just meet the tolerance.
    min_factor, max_factor: the next step is between these multiples of the current one.
    failure_factor: step multiple after a step that failed without an error estimate (no convergence).
    failure_cap, cap_relax: after a step of length h fails that way, later steps stay below failure_cap h, a
        limit that grows by cap_relax per accepted step (the failure says more about the problem than the
        error ratio of the steps before it).
    """

    order: float = 10.0
    min_order: float = 2.0
    max_order: float = 24.0
    safety: float = 0.8
    min_factor: float = 0.2
    max_factor: float = 2.0
    failure_factor: float = 0.7
    failure_cap: float = 0.85
    cap_relax: float = 1.01


@dataclass
class Trial(Generic[T]):
    """Outcome of one attempted step: ``error_ratio`` = estimated error / tolerance (accept if <= 1; inf
    when the step failed, with ``failure`` saying why) and the step's ``result`` (kept if accepted)."""

    error_ratio: float
    result: Optional[T] = None
    failure: Optional[str] = None

    @property
    def accepted(self) -> bool:
        """Whether the step meets the tolerance."""
        return self.error_ratio <= 1.0 and self.result is not None


class StepSizeController:
    """Proposes step sizes from error ratios (see the module docstring); one per march, as it learns p."""

    def __init__(self, control: StepControl = StepControl()) -> None:
        self.control = control
        self.order = control.order
        self.cap = math.inf  # upper limit on steps after a failure

    def learn(self, step_before: float, ratio_before: float, step_after: float, ratio_after: float) -> None:
        """Update p from two attempts at the same start: p = log(ratio ratio) / log(step ratio)."""
        c = self.control
        if not (math.isfinite(ratio_before) and math.isfinite(ratio_after)) or min(ratio_before, ratio_after) <= 0:
            return
        lever = math.log(step_before / step_after)
        if abs(lever) < math.log(1.1):
            return
        observed = math.log(ratio_before / ratio_after) / lever
        self.order = min(c.max_order, max(c.min_order, 0.5 * (self.order + observed)))

    def propose(self, step: float, ratio: float) -> float:
        """The next step after a step of length ``step`` with error ratio ``ratio`` (accepted or not)."""
        c = self.control
        if not math.isfinite(ratio):
            self.cap = min(self.cap, c.failure_cap * step)
            return step * c.failure_factor
        if ratio <= 1.0:
            self.cap *= c.cap_relax
        factor = c.safety * max(ratio, 1e-300) ** (-1.0 / self.order)
        return min(self.cap, step * min(c.max_factor, max(c.min_factor, factor)))


def next_stop(a: float, stops: Sequence[float], t1: float) -> float:
    """The first stop time after a (or t1)."""
    for s in stops:
        if s > a:
            return min(s, t1)
    return t1


def step_end(a: float, step: float, stop: float) -> float:
    """End of a step from a that lands on ``stop`` without leaving a sliver: ``stop`` itself if the rest is
    under 1.1 steps, the middle of [a, stop] if under 2 steps, else a + step."""
    rest = stop - a
    if rest <= 1.1 * step:
        return stop
    if rest < 2.0 * step:
        return a + 0.5 * rest
    return a + step


def march(t0: float, t1: float, first_step: float, attempt: Callable[[float, float], Trial[T]],
          control: StepControl = StepControl(), min_step: float = 0.0, max_step: float = math.inf,
          stops: Sequence[float] = (), on_accept: Optional[Callable[[T, float], None]] = None,
          floor_step: Optional[Callable[[float], float]] = None, max_steps: int = 100_000) -> tuple[list[T], int]:
    """Cover [t0, t1] with accepted steps; returns their results in order and the number of rejected attempts.

    Args:
        first_step: length of the first attempt.
        attempt: attempt(a, b) solves the step [a, b] (the caller keeps what it needs from earlier accepted
            steps, e.g. to extrapolate a first guess) and returns a :class:`Trial`.
        min_step: a rejected step at or below this length raises :class:`StepSizeTooSmall`.
        max_step: cap on the step length.
        stops: times every step must land on (sorted or not; those outside (t0, t1) are ignored).
        on_accept: called as on_accept(result, step_to_try_next) after each accepted step.
        floor_step: floor_step(a) is the shortest step proposed at time a (the caller accepts steps that short
            whatever their error: a best-effort mode whose overall error is judged elsewhere).
        max_steps: more accepted steps than this raise PinnError (a march that crawls).
    """
    if not (t1 > t0 and first_step > 0 and max_step > 0 and min_step >= 0):
        raise PinnError(f"march needs t1 > t0 and positive steps, got [{t0}, {t1}], first step {first_step}")
    stops = sorted(s for s in stops if t0 < s < t1)
    controller = StepSizeController(control)
    accepted: list[T] = []
    rejected = 0
    a, step = t0, min(first_step, max_step)
    while a < t1:
        b = step_end(a, max(step, min_step), next_stop(a, stops, t1))
        history: list[tuple[float, float]] = []  # (step, ratio) of the attempts at this start
        while True:
            h = b - a
            trial = attempt(a, b)
            ratio = trial.error_ratio
            if history:
                controller.learn(history[-1][0], history[-1][1], h, ratio)
            history.append((h, ratio))
            if trial.accepted:
                break
            rejected += 1
            stalled = _stalled(history)
            if h <= min_step * (1.0 + 1e-9) or stalled:
                raise StepSizeTooSmall(a, h, ratio, trial.failure, stalled)
            shorter = max(min_step, min(controller.propose(h, ratio), 0.9 * h))
            b = a + (max(shorter, floor_step(a)) if floor_step is not None else shorter)
        step = min(max_step, controller.propose(h, ratio))
        if len(history) > 1:  # just rejected here: do not grow again at once
            step = min(step, h)
        accepted.append(trial.result)
        if len(accepted) > max_steps:
            raise PinnError(f"more than {max_steps} steps by t = {b:.6g} of [{t0:g}, {t1:g}]: the tolerance is "
                            f"too tight for this problem")
        a = b
        if floor_step is not None and a < t1:
            step = max(step, floor_step(a))
        if on_accept is not None:
            on_accept(trial.result, step)
    return accepted, rejected


def _stalled(history: list[tuple[float, float]]) -> bool:
    """True when the last two shrinks at this start at least halved the step but the (finite) error ratio
    fell more slowly than sqrt(step): the estimate sits on a floor (round-off) that shorter steps cannot lower."""
    if len(history) < 3:
        return False
    (h0, r0), (_, r1), (h2, r2) = history[-3:]
    finite = all(math.isfinite(r) and r > 0 for r in (r0, r1, r2))
    return finite and h2 <= 0.5 * h0 and r2 >= r0 * math.sqrt(h2 / h0)
