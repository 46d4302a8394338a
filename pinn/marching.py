"""Time-marching physics-informed extreme learning machine with Gauss-Newton output-layer fits and
error-controlled windows.

On each window [a, b] the solution is the trial function u(t) = u_a + (t - a) Phi(t) C, where Phi (n, M) are
the hidden features of a fixed random network (input scaled to [-1, 1] over the window) and C (M, d) is the
output layer. u(a) = u_a holds exactly. C minimises the ODE residual at Q Chebyshev-Lobatto collocation points,

    R(C) = du/dt - f(t, u) = (Phi + (t - a) Phi') C - f(t, u_a + (t - a) Phi C),

by Gauss-Newton iterations, each a linear least-squares solve (one suffices for a linear ODE). The next window
starts from u(b). This is the physics-informed extreme learning machine of Dwivedi & Srinivasan (2020) with the
block time-marching of Dong & Li (2021).

What makes a window cheap (issue 13): the features and their derivatives in closed form, in an orthonormal
basis that is the same for every window length (:mod:`pinn.features`); the Jacobian of f by one batched
finite difference; one Cholesky factorisation of the Gauss-Newton normal matrix reused across iterations
(chord iterations), refreshed only when they converge slowly.

Error control: after the fit, the defect du/dt - f(t, u) at the Q - 1 points between the collocation nodes
(which the fit never saw) estimates the window's error, h rms(defect) / DEFECT_TO_ERROR. With ``window`` unset,
:func:`pinn.step_control.march` accepts or rejects each window against the tolerance and grows or shrinks the
next, like an adaptive integrator; :mod:`pinn.global_error` then transports the windows' errors with their
sensitivities du(b)/du(a) to an estimate of the relative L2 error over the whole interval, and a second pass
with tightened windows follows when that estimate misses the tolerance. A tolerance that cannot be met raises
PinnError instead of returning a wrong solution; so does a fixed window whose estimate fails its check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Optional

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.features import features_and_slopes, lobatto_nodes, window_basis
from pinn.global_error import ErrorTransport, transport_errors
from pinn.networks import MLP
from pinn.problem import ODEProblem
from pinn.solve_config import DEFAULT_TOL, ErrorControl, MarchingConfig
from pinn.step_control import StepControl, StepSizeTooSmall, Trial, march
from pinn.threads import solve_threads, torch_threads
from pinn.window_fit import ROUNDOFF_FLOOR, WindowFit, WindowSolver

__all__ = ["MarchingSolution", "WindowFit", "solve_marching", "window_edges",
           "feature_network", "features_and_slopes", "lobatto_nodes", "state_jacobian",
           "window_system_entries"]

FIXED_WINDOW_CHECK = 1e-6
"""With a fixed window and no tolerance, a window whose estimated error exceeds this fraction of the solution's
RMS size stops the solve: the fit has failed (issue 13: window 0.2 gave relative error 0.2 silently)."""

HANDED_ON = 1.0
"""Error of the state handed to the next window / the window's estimated interior error. Measured
(benchmarks/results/window_error_estimate.md) end error / true interior error: median 0.14-0.6, 90th percentile
up to 6 on loose Lorenz windows, where the estimate itself is 4-6x the true interior error."""

NEWTON_FRACTION = 0.01
"""Newton iterations stop when the correction is below this fraction of the error the window may make."""

INTERVAL_SAFETY = 0.5
"""A second pass aims at this fraction of the tolerance."""

TRUSTED_PASS = 1e-3
"""A pass whose estimated error is below this follows the true trajectory closely enough for its amplification
to judge whether rounding alone rules the tolerance out (a loose pass on a chaotic problem may not)."""

SHORTEST_FRACTION = 8.0
"""A tightened pass accepts a window of 1/8 of the last pass's window there even when it misses its allowance
(rounding noise in the defect would otherwise drive the windows ever shorter); the pass's total estimate
decides whether the tolerance is met."""

WINDOW_GROWTH = 20
"""A tightened pass may use at most this many times the windows of the pass before it (at least 2000)."""

MAX_PASSES = 3
"""Error-controlled marches over the interval before the solve gives up on ErrorControl.interval."""

def feature_network(cfg: MarchingConfig, dtype: torch.dtype = torch.float64) -> MLP:
    """The random hidden network on [-1, 1] (window-local time), weights ~ U(-scale, scale)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    net = MLP(n_out=1, width=cfg.features, depth=cfg.depth, activation=cfg.activation, t0=-1.0, t1=1.0,
              dtype=dtype)
    with torch.no_grad():
        for layer in net.hidden:
            if isinstance(layer, torch.nn.Linear):
                fan_scale = cfg.scale if layer.in_features == 1 else cfg.scale / layer.in_features ** 0.5
                layer.weight.copy_((torch.rand(layer.weight.shape, generator=gen, dtype=dtype) * 2 - 1) * fan_scale)
                layer.bias.copy_((torch.rand(layer.bias.shape, generator=gen, dtype=dtype) * 2 - 1) * cfg.scale)
    net.requires_grad_(False)
    return net


def pretrained_feature_network(problem: ODEProblem, cfg: MarchingConfig, dtype: torch.dtype) -> MLP:
    """Hidden layers trained by Adam on the first window's residual, then frozen (see ``hidden_epochs``)."""

    from pinn.optim import Optimizer
    from pinn.train import GradientConfig, train_gradient

    length = cfg.window if cfg.window is not None else first_window(problem, cfg)
    first = replace(problem, t1=min(problem.t1, problem.t0 + length), breakpoints=())
    gcfg = GradientConfig(width=cfg.features, depth=cfg.depth, activation=cfg.activation,
                          optimizer=Optimizer.adam, lr=1e-3, epochs=cfg.hidden_epochs, lbfgs_iters=0,
                          points=cfg.points, seed=cfg.seed)
    model, _ = train_gradient(first, gcfg, dtype=dtype)
    net = feature_network(cfg, dtype)
    net.hidden.load_state_dict(model.net.hidden.state_dict())
    net.requires_grad_(False)
    return net


def state_jacobian(rhs: Callable, t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Pointwise Jacobians df_k/du_l of f(t, u): t (n, 1), u (n, d) -> (n, d, d)."""
    d = u.shape[1]
    cols = []
    for col in range(d):
        tangent = torch.zeros_like(u)
        tangent[:, col] = 1.0
        _, jv = torch.func.jvp(lambda v: rhs(t, v), (u,), (tangent,))
        cols.append(jv)
    return torch.stack(cols, dim=2)


class MarchingSolution:
    """The piecewise solution: evaluate anywhere in [t0, t1]; holds the windows and the feature network."""

    def __init__(self, net: MLP, windows: list[WindowFit], error_estimate: float = math.nan, rejected: int = 0,
                 passes: int = 1) -> None:
        self.net = net
        self.windows = windows
        self.edges = np.array([w.a for w in windows] + [windows[-1].b])
        self.error_estimate = error_estimate  # estimated relative L2 error over the interval
        self.rejected = rejected  # rejected window attempts (error-controlled windows)
        self.passes = passes  # marches run (2 when the first missed the tolerance over the interval)

    def _window_index(self, t: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.windows) - 1)

    def __call__(self, t: np.ndarray, derivative: bool = False) -> np.ndarray:
        """u(t) (or du/dt with ``derivative=True``) at times t (n,): returns (n, d) float64."""
        t = np.asarray(t, dtype=float).ravel()
        idx = self._window_index(t)
        d = self.windows[0].u_a.numel()
        out = np.empty((t.size, d))
        for k in np.unique(idx):
            w = self.windows[k]
            mask = idx == k
            tt = torch.from_numpy(t[mask]).to(w.coef.dtype)
            h = w.b - w.a
            phi, dphi = features_and_slopes(self.net, 2.0 * (tt - w.a) / h - 1.0, h)
            tau = (tt - w.a).reshape(-1, 1)
            if derivative:
                val = (phi + tau * dphi) @ w.coef
            else:
                val = w.u_a + tau * (phi @ w.coef)
            out[mask] = val.numpy()
        return out

    def state_dict(self) -> dict:
        """Everything needed to rebuild the solution, as tensors (loads with weights_only=True)."""
        return {
            "features": self.net.state_dict(),
            "edges": torch.tensor(self.edges),
            "u_start": torch.stack([w.u_a for w in self.windows]),
            "coef": torch.stack([w.coef for w in self.windows]),
        }


def window_edges(t0: float, t1: float, h: float, breakpoints: tuple[float, ...] = ()) -> list[float]:
    """Window edges from t0 to t1 of length <= h, with every breakpoint inside (t0, t1) an edge."""
    cuts = [t0] + sorted(b for b in breakpoints if t0 < b < t1) + [t1]
    edges = [t0]
    for a, b in zip(cuts[:-1], cuts[1:]):
        n = max(1, int(np.ceil((b - a) / h - 1e-9)))
        edges += list(np.linspace(a, b, n + 1)[1:])
    return edges


def window_system_entries(dim: int, cfg: MarchingConfig) -> int:
    """Entries of one window's Gauss-Newton matrix, (d Q) x (d M) at most: the size :mod:`pinn.threads` needs."""
    return dim * cfg.points * dim * cfg.features


def first_window(problem: ODEProblem, cfg: MarchingConfig) -> float:
    """Length of the first error-controlled window: half the time the initial rate of change takes to move the
    state by its own size, |u0| / |f(t0, u0)| / 2 (Hairer et al.'s starting-step idea), within
    [min_window, max_window]; 1/100 of the interval when the state or its rate is zero."""
    u0 = problem.u0_tensor(torch.float64)
    with torch.no_grad():
        rate = float(problem.rhs(torch.full((1, 1), problem.t0, dtype=torch.float64), u0).norm())
    size = float(u0.norm())
    span = problem.t1 - problem.t0
    guess = 0.5 * size / rate if size > 0 and rate > 0 else 0.01 * span
    lo, hi = _window_limits(problem, cfg)
    return min(hi, max(lo, guess))


def _window_limits(problem: ODEProblem, cfg: MarchingConfig) -> tuple[float, float]:
    span = problem.t1 - problem.t0
    lo = cfg.min_window if cfg.min_window is not None else 1e-6 * span
    hi = cfg.max_window if cfg.max_window is not None else span
    return lo, hi


@dataclass
class _Pass:
    """Outcome of one march over the interval."""

    fits: list[WindowFit]
    rejected: int
    transport: ErrorTransport
    solution_l2: float  # sqrt(int |u|^2 dt)
    weighted: bool = False  # the allowance was weighted by a previous pass's amplification


def _transport(fits: list[WindowFit]) -> tuple[ErrorTransport, float]:
    lengths = np.array([w.b - w.a for w in fits])
    solution_l2 = math.sqrt(max(float(np.sum(lengths * np.array([w.mean_square for w in fits]))), 1e-300))
    interior = np.array([w.error for w in fits])  # includes each window's rounding floor
    handed_on = HANDED_ON * interior
    sens = np.stack([w.sensitivity.numpy() for w in fits])
    return transport_errors(lengths, sens, interior, handed_on, solution_l2), solution_l2


Allowance = Callable[[float, float, float], float]
"""allowance(a, h, size): the RMS error a window [a, a + h] may make, given the solution's RMS size so far."""


def _adaptive_pass(problem: ODEProblem, cfg: MarchingConfig, solver: WindowSolver, u0: torch.Tensor, tol: float,
                   allowance: Allowance, progress: Optional[Callable[[int, int, WindowFit], None]],
                   max_windows: Optional[int] = None, shortest: Optional[Callable[[float], float]] = None) -> _Pass:
    """One error-controlled march: a window is accepted when its estimated error is within ``allowance``, or
    when it is no longer than ``shortest(a)`` (best effort: the pass's total estimate is the judge then); more
    than ``max_windows`` windows raise PinnError (the tolerance is too tight to be worth the time)."""
    lo, hi = _window_limits(problem, cfg)
    state = {"u_a": u0, "sq": 0.0, "time": 0.0, "count": 0}

    def size_with(extra_time: float = 0.0, extra_sq: float = 0.0) -> float:
        if state["time"] + extra_time > 0:
            return math.sqrt((state["sq"] + extra_sq) / (state["time"] + extra_time))
        return float(state["u_a"].norm())

    def attempt(a: float, b: float) -> Trial[WindowFit]:
        h = b - a
        newton_tol = max(NEWTON_FRACTION * allowance(a, h, size_with()), cfg.tol * size_with())
        fit, why = solver.fit(a, b, state["u_a"], newton_tol, cfg.max_iter)
        if fit is None:
            return Trial(math.inf, None, why)
        ratio = fit.error / max(allowance(a, h, size_with(h, h * fit.mean_square)), 1e-300)
        if shortest is not None and h <= shortest(a) * (1.0 + 1e-9):
            ratio = min(ratio, 1.0)
        return Trial(ratio, fit)

    def accepted(fit: WindowFit, next_step: float) -> None:
        if not torch.all(torch.isfinite(fit.u_b)):
            raise PinnError(f"the solution became NaN at t = {fit.b:.6g}")
        h = fit.b - fit.a
        state.update(u_a=fit.u_b, count=state["count"] + 1, sq=state["sq"] + h * fit.mean_square,
                     time=state["time"] + h)
        if max_windows is not None and state["count"] > max_windows:
            raise PinnError(f"cannot meet --tol {_tol_text(tol)}: it would take more than {max_windows} windows "
                            f"(stopped at t = {fit.b:.6g}); loosen --tol")
        if progress is not None:
            remaining = math.ceil((problem.t1 - fit.b) / max(next_step, 1e-300) - 1e-9)
            progress(state["count"], state["count"] + max(0, remaining), fit)

    try:
        fits, rejected = march(problem.t0, problem.t1, first_window(problem, cfg), attempt, StepControl(),
                               lo, hi, problem.breakpoints, accepted, shortest)
    except StepSizeTooSmall as exc:
        if exc.stalled:
            raise PinnError(f"cannot meet --tol {_tol_text(tol)} at t = {exc.t:.6g}: the window error estimate "
                            f"stopped decreasing at window length {exc.step:.3g} (round-off level, "
                            f"{exc.ratio:.2g} x the tolerance); loosen --tol") from None
        raise PinnError(f"cannot meet --tol {_tol_text(tol)} at the minimum window length {exc.step:.3g} at "
                        f"t = {exc.t:.6g} ({exc.reason or f'estimated error {exc.ratio:.2g} x the tolerance'}); "
                        f"loosen --tol, or raise --features (more basis functions per window)") from None
    transport, solution_l2 = _transport(fits)
    return _Pass(fits, rejected, transport, solution_l2)


def _tol_text(tol: float) -> str:
    return f"{tol:.3g}"


def _fixed_march(problem: ODEProblem, cfg: MarchingConfig, solver: WindowSolver, u0: torch.Tensor,
                 tol: Optional[float], progress: Optional[Callable[[int, int, WindowFit], None]]) -> _Pass:
    """March on windows of length cfg.window; a window whose estimated error exceeds ``tol`` (or
    FIXED_WINDOW_CHECK without one) times the solution's RMS size so far raises PinnError."""
    edges = window_edges(problem.t0, problem.t1, cfg.window, problem.breakpoints)
    check = tol if tol is not None else FIXED_WINDOW_CHECK
    fits: list[WindowFit] = []
    u_a, sq, time_so_far = u0, 0.0, 0.0
    n = len(edges) - 1
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        known = math.sqrt(sq / time_so_far) if time_so_far > 0 else float(u_a.norm())
        newton_tol = cfg.tol * known if tol is None else max(NEWTON_FRACTION * tol, cfg.tol) * known
        fit, why = solver.fit(a, b, u_a, newton_tol, cfg.max_iter)
        if fit is None:
            raise PinnError(f"window [{a:.6g}, {b:.6g}] failed: {why}; use a shorter --window, or drop --window "
                            f"and let --tol choose the windows")
        h = b - a
        sq, time_so_far = sq + h * fit.mean_square, time_so_far + h
        relative = fit.error / max(math.sqrt(sq / time_so_far), 1e-300)
        if relative > check:
            raise PinnError(f"window [{a:.6g}, {b:.6g}] fails the accuracy check: its estimated error is "
                            f"{relative:.2g} of the solution's size (> {check:.2g}); use a shorter --window or "
                            f"more --features, or drop --window and let --tol choose the windows")
        fits.append(fit)
        u_a = fit.u_b
        if not torch.all(torch.isfinite(u_a)):
            raise PinnError(f"the solution became NaN at t = {b:.6g}: try a shorter --window")
        if progress is not None:
            progress(i + 1, n, fit)
    transport, solution_l2 = _transport(fits)
    return _Pass(fits, 0, transport, solution_l2)


def solve_marching(problem: ODEProblem, cfg: MarchingConfig = MarchingConfig(),
                   progress: Optional[Callable[[int, int, WindowFit], None]] = None,
                   dtype: torch.dtype = torch.float64, tol: Optional[float] = None,
                   threads: Optional[int] = None) -> MarchingSolution:
    """March the problem's ODE over [t0, t1] window by window; ``progress(i, n, fit)`` after each window (n is
    an estimate with error-controlled windows).

    tol: relative L2 error to reach (error-controlled windows, see :class:`ErrorControl`; default DEFAULT_TOL).
        With a fixed ``cfg.window`` it is a check instead: a window whose estimated error exceeds tol x the
        solution's size raises PinnError (without tol, a loose check catches failed fits).
    threads: intra-op torch threads (None: :func:`pinn.threads.solve_threads` decides, one for small windows);
        the previous setting is restored on return.
    Use float64: the Gauss-Newton solves reach residuals near 1e-12, far below float32's resolution.
    """
    if (cfg.window is not None and cfg.window <= 0) or cfg.features < 1 or cfg.points < 3 or cfg.max_iter < 1:
        raise PinnError("marching needs window > 0, features >= 1, points >= 3 and at least one iteration")
    if tol is not None and not (0 < tol < 1):
        raise PinnError(f"--tol must lie between 0 and 1 (a relative error), got {tol}")
    with torch_threads(solve_threads(window_system_entries(problem.dim, cfg), threads)):
        return _solve_marching(problem, cfg, progress, dtype, tol)


def _solve_marching(problem: ODEProblem, cfg: MarchingConfig,
                    progress: Optional[Callable[[int, int, WindowFit], None]], dtype: torch.dtype,
                    tol: Optional[float]) -> MarchingSolution:
    net = pretrained_feature_network(problem, cfg, dtype) if cfg.hidden_epochs else feature_network(cfg, dtype)
    solver = WindowSolver(problem.rhs, net, window_basis(net, cfg.points), problem.dim, bool(problem.breakpoints))
    u0 = problem.u0_tensor(dtype)[0]
    with torch.no_grad():
        if cfg.window is not None:
            run = _fixed_march(problem, cfg, solver, u0, tol, progress)
            return MarchingSolution(net, run.fits, run.transport.relative_l2)
        tol = DEFAULT_TOL if tol is None else tol
        run = _adaptive_pass(problem, cfg, solver, u0, tol, lambda a, h, size: tol * size, progress)
        passes, rejected = 1, run.rejected
        while ErrorControl(cfg.error_control) is ErrorControl.interval and run.transport.relative_l2 > tol:
            if passes == MAX_PASSES:
                raise PinnError(f"cannot meet --tol {_tol_text(tol)} on [{problem.t0:g}, {problem.t1:g}]: after "
                                f"{passes} passes with tightened windows the estimated relative L2 error is still "
                                f"{run.transport.relative_l2:.2g}; loosen --tol or shorten the interval")
            run = _weighted_pass(problem, cfg, solver, u0, tol, run, progress)
            passes, rejected = passes + 1, rejected + run.rejected
    return MarchingSolution(net, run.fits, run.transport.relative_l2, rejected, passes)


def _weighted_pass(problem: ODEProblem, cfg: MarchingConfig, solver: WindowSolver, u0: torch.Tensor, tol: float,
                   last: _Pass, progress: Optional[Callable[[int, int, WindowFit], None]]) -> _Pass:
    """March again with each window's allowance weighted by how much the last pass says its errors grow.

    An error eps at a grows to an RMS of amp(a) eps over the rest of the interval T, so it adds about
    eps^2 (amp^2 T + h) to int |e|^2 dt. Spreading the budget (tol ||u||_L2)^2 evenly over time gives the
    allowance eps <= s tol ||u||_L2 sqrt(h / (T (amp(a)^2 T + h))), with s = INTERVAL_SAFETY times the last
    pass's miss factor when it was itself weighted, and h the last pass's window at a (not the window being
    tried: an allowance that shrank with the trial window would chase a rounding floor into ever shorter
    windows). Raises PinnError when rounding alone, transported the same way, already exceeds tol.
    """
    lengths = np.array([w.b - w.a for w in last.fits])
    norms = np.sqrt([w.mean_square for w in last.fits])
    floor = last.transport.floor(lengths, norms, last.solution_l2, ROUNDOFF_FLOOR)
    if floor > INTERVAL_SAFETY * tol and last.transport.relative_l2 < TRUSTED_PASS:
        raise PinnError(f"cannot meet --tol {_tol_text(tol)} on [{problem.t0:g}, {problem.t1:g}]: this problem "
                        f"amplifies errors up to {float(last.transport.amplification.max()):.2g}x, so float64 "
                        f"rounding alone gives a relative L2 error of about {floor:.1g}; loosen --tol to "
                        f"{_tol_text(4 * floor)} or more, or shorten the interval")
    starts = np.array([w.a for w in last.fits])
    amplification = last.transport.amplification
    span = problem.t1 - problem.t0
    safety = INTERVAL_SAFETY * min(1.0, tol / last.transport.relative_l2) if last.weighted else INTERVAL_SAFETY
    budget = safety * tol * last.solution_l2

    def index(a: float) -> int:
        return max(0, int(np.searchsorted(starts, a, side="right")) - 1)

    def allowance(a: float, h: float, size: float) -> float:
        k = index(a)
        amp, h_ref = float(amplification[k]), float(lengths[k])
        # never below twice the window's rounding floor: the floors' total was checked above
        return max(budget * math.sqrt(h_ref / (span * (amp * amp * span + h_ref))), 2.0 * ROUNDOFF_FLOOR * norms[k])

    run = _adaptive_pass(problem, cfg, solver, u0, tol, allowance, progress,
                         max_windows=max(2000, WINDOW_GROWTH * len(last.fits)),
                         shortest=lambda a: lengths[index(a)] / SHORTEST_FRACTION)
    run.weighted = True
    return run
