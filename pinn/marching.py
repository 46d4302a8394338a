"""Time-marching physics-informed extreme learning machine with Gauss-Newton output-layer fits.

On each window [a, b] the solution is the trial function u(t) = u_a + (t - a) Phi(t) C, where Phi (n, M) are
the hidden features of a fixed random network (input scaled to [-1, 1] over the window) and C (M, d) is the
output layer. u(a) = u_a holds exactly. C minimises the ODE residual at collocation points,

    R(C) = du/dt - f(t, u) = (Phi + (t - a) Phi') C - f(t, u_a + (t - a) Phi C),

by Gauss-Newton / Levenberg-Marquardt iterations, each a linear least-squares solve (one solve suffices for
a linear ODE). The next window starts from u(b). This is the physics-informed extreme learning machine of
Dwivedi & Srinivasan (2020) with the block time-marching of Dong & Li (2021).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.networks import MLP
from pinn.problem import ODEProblem
from pinn.solve_config import DEFAULT_WINDOW, MarchingConfig


def lobatto_nodes(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """n Chebyshev-Gauss-Lobatto nodes on [-1, 1], increasing: (n,)."""
    k = torch.arange(n, dtype=dtype)
    return -torch.cos(torch.pi * k / (n - 1))


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
    from pinn.choices import Optimizer
    from pinn.train import GradientConfig, train_gradient

    first = replace(problem, t1=min(problem.t1, problem.t0 + cfg.window), breakpoints=())
    gcfg = GradientConfig(width=cfg.features, depth=cfg.depth, activation=cfg.activation,
                          optimizer=Optimizer.adam, lr=1e-3, epochs=cfg.hidden_epochs, lbfgs_iters=0,
                          points=cfg.points, seed=cfg.seed)
    model, _ = train_gradient(first, gcfg, dtype=dtype)
    net = feature_network(cfg, dtype)
    net.hidden.load_state_dict(model.net.hidden.state_dict())
    net.requires_grad_(False)
    return net


def features_and_slopes(net: MLP, s: torch.Tensor, h: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Phi and dPhi/dt at window-local s in [-1, 1] for a window of length h: s (n,) -> (n, M), (n, M)."""
    s = s.reshape(-1, 1)
    phi, dphi_ds = torch.func.jvp(net.features, (s,), (torch.ones_like(s),))
    return phi, dphi_ds * (2.0 / h)


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


@dataclass
class WindowFit:
    """One solved window: u(t) = u_a + (t - a) Phi(s(t)) C on [a, b]."""

    a: float
    b: float
    u_a: torch.Tensor  # (d,)
    coef: torch.Tensor  # (M, d)
    iterations: int
    residual_rms: float
    u_b: torch.Tensor  # (d,) state at the window's end, the next window's start


class MarchingSolution:
    """The piecewise solution: evaluate anywhere in [t0, t1]; holds the windows and the feature network."""

    def __init__(self, net: MLP, windows: list[WindowFit]) -> None:
        self.net = net
        self.windows = windows
        self.edges = np.array([w.a for w in windows] + [windows[-1].b])

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


def drive_aligned_window(period: float, harmonics: int, max_window: float = 0.5,
                         periods_per_window: float = 2.5) -> float:
    """Window length for a periodic drive of ``period`` with ``harmonics`` Fourier terms.

    The window divides the drive period exactly (windows stay aligned to the drive, and to its jumps when
    those sit at fractions of the period), is at most ``max_window``, and holds at most ``periods_per_window``
    periods of the highest harmonic, which the window's random features can then resolve.
    """
    longest = min(max_window, period * periods_per_window / max(1, harmonics))
    if longest >= period:
        return period * np.floor(longest / period)
    return period / np.ceil(period / longest)


def solve_window(rhs: Callable, net: MLP, a: float, b: float, u_a: torch.Tensor, cfg: MarchingConfig,
                 cache: dict, one_sided: bool = False) -> WindowFit:
    """Gauss-Newton / Levenberg-Marquardt fit of the output layer on one window [a, b].

    ``one_sided``: f jumps at the window's ends, so it is evaluated just inside them (its one-sided limits).
    """
    h = b - a
    key = round(h, 14)
    if key not in cache:
        s = lobatto_nodes(cfg.points, u_a.dtype)
        phi, dphi = features_and_slopes(net, s, h)
        tau = ((s + 1.0) * (h / 2.0)).reshape(-1, 1)
        cache[key] = (s, tau, tau * phi, phi + tau * dphi)
    s, tau, B, D = cache[key]  # B = (t - a) Phi, D = d/dt of B; both (Q, M)
    Q, M = B.shape
    d = u_a.numel()
    t = a + tau
    if one_sided:
        # the window ends at jumps of f: evaluate f at times nudged inside, i.e. its one-sided limits
        t = t.clamp(a + 1e-9 * h, b - 1e-9 * h)
    coef = torch.zeros(M, d, dtype=u_a.dtype)
    eye = torch.eye(d, dtype=u_a.dtype)
    lam = 0.0
    r = D @ coef - rhs(t, u_a + B @ coef)
    cost = float((r ** 2).sum())
    it = 0
    for it in range(1, cfg.max_iter + 1):
        u = u_a + B @ coef
        G = state_jacobian(rhs, t, u)  # (Q, d, d)
        # J[(k, q), (l, m)] = delta_kl D[q, m] - G[q, k, l] B[q, m]
        J = eye[:, None, :, None] * D[None, :, None, :] - G.permute(1, 0, 2)[..., None] * B[None, :, None, :]
        J = J.reshape(d * Q, d * M)
        rhs_vec = -r.T.reshape(-1)
        if lam > 0:
            J = torch.cat([J, lam ** 0.5 * torch.eye(d * M, dtype=J.dtype)])
            rhs_vec = torch.cat([rhs_vec, torch.zeros(d * M, dtype=J.dtype)])
        step = torch.linalg.lstsq(J, rhs_vec.reshape(-1, 1), driver="gelsd").solution.reshape(d, M).T
        trial = coef + step
        r_new = D @ trial - rhs(t, u_a + B @ trial)
        cost_new = float((r_new ** 2).sum())
        if not np.isfinite(cost_new):
            raise PinnError(f"the residual became NaN on window [{a:.6g}, {b:.6g}]: try a shorter --window")
        if cost_new <= cost or cost_new < 1e-28:
            full_step, stalled = lam == 0.0, cost_new > 0.9 * cost
            coef, r, cost = trial, r_new, cost_new
            lam = lam / 10.0 if lam > 1e-12 else 0.0
            # a full Gauss-Newton step that barely lowers the cost means the cost is at its floor
            if float(step.norm()) <= cfg.tol * (1.0 + float(coef.norm())) or (full_step and stalled):
                break
        else:
            lam = max(10.0 * lam, 1e-6 * float((J ** 2).sum()) / J.shape[1])
    u_b = u_a + B[-1] @ coef  # the last Lobatto node is t = b
    return WindowFit(a, b, u_a.clone(), coef, it, float((r ** 2).mean() ** 0.5), u_b)


def solve_marching(problem: ODEProblem, cfg: MarchingConfig = MarchingConfig(),
                   progress: Optional[Callable[[int, int, WindowFit], None]] = None,
                   dtype: torch.dtype = torch.float64) -> MarchingSolution:
    """March the problem's ODE over [t0, t1] window by window; ``progress(i, n, fit)`` after each window.

    Use float64: the Gauss-Newton solves reach residuals near 1e-12, far below float32's resolution.
    """
    if cfg.window is None:
        cfg = replace(cfg, window=problem.window or DEFAULT_WINDOW)
    net = pretrained_feature_network(problem, cfg, dtype) if cfg.hidden_epochs else feature_network(cfg, dtype)
    edges = window_edges(problem.t0, problem.t1, cfg.window, problem.breakpoints)
    u_a = problem.u0_tensor(dtype)[0]
    cache: dict = {}
    fits = []
    n = len(edges) - 1
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        fit = solve_window(problem.rhs, net, a, b, u_a, cfg, cache, one_sided=bool(problem.breakpoints))
        fits.append(fit)
        u_a = fit.u_b
        if not torch.all(torch.isfinite(u_a)):
            raise PinnError(f"the solution became NaN at t = {b:.6g}: try a shorter --window")
        if progress is not None:
            progress(i + 1, n, fit)
    return MarchingSolution(net, fits)
