"""Fitting one marching window: Gauss-Newton on the ODE residual in the orthonormal window basis, with the
window's error estimate and its sensitivity du(b)/du(a).

On a window [a, b] of length h, u(t) = u_a + (h / 2) E(s) y and du/dt = U(s) y (:class:`pinn.features.WindowBasis`,
y (r, d) the coordinates). y minimises the residual U y - f(t, u_a + (h / 2) E y) at the Q collocation nodes.
After the fit, the defect du/dt - f(t, u) at the Q - 1 check points between the nodes (which the fit never saw)
gives the error estimate h rms(defect) / DEFECT_TO_ERROR, and differentiating the converged residual with
respect to u_a gives the sensitivity that :mod:`pinn.global_error` transports errors with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from pinn.features import WindowBasis
from pinn.networks import MLP

DEFECT_TO_ERROR = 10.0
"""h rms(defect at the check points) / RMS error inside the window, a conservative choice. The defect of a
least-squares fit changes sign about once per basis direction across the window, so its integral, the error,
is much smaller: benchmarks/results/window_error_estimate.md measures h rms(defect) / error at 35-63 (10th to
90th percentile) on Lorenz windows and 4-44 on square-wave-driven oscillator windows, so the estimate is 0.4 to
6 times the true error."""

MAX_REFRESH = 8
"""At most this many Jacobian refreshes per window attempt; a window that needs more is too long."""

UNIT_ROUNDOFF = 2.0 ** -52

ROUNDOFF_FLOOR = 2.0 * UNIT_ROUNDOFF
"""A window's error estimate is at least this fraction of the solution's RMS size on it: the state it hands on
is rounded at least that much, however short the window (without the floor, h rms(defect) would promise any
accuracy for a short enough window)."""


def state_jacobian_fd(rhs: Callable, t: torch.Tensor, u: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Pointwise Jacobians df_k/du_l by forward differences in one batched call of f: (n, d, d).

    t (n, 1), u (n, d), f = f(t, u) (n, d). The step in component l is sqrt(eps) (|u_l| + mean |u_l|), so
    the Jacobian is good to about 1e-8 relative: plenty for Newton directions (the fit itself depends only
    on the residual, which is exact), at a tenth of the cost of forward-mode autograd.
    """
    n, d = u.shape
    step = 1.5e-8 * (u.abs() + u.abs().mean(dim=0) + 1e-300)  # (n, d)
    shifted = u.unsqueeze(0).repeat(d, 1, 1)  # (d, n, d): copy l moves component l
    idx = torch.arange(d)
    shifted[idx, :, idx] += step.T
    moved = rhs(t.repeat(d, 1), shifted.reshape(d * n, d)).reshape(d, n, d)
    return ((moved - f) / step.T.unsqueeze(2)).permute(1, 2, 0)


@dataclass
class WindowFit:
    """One solved window: u(t) = u_a + (t - a) Phi(s(t)) C on [a, b].

    error: estimated RMS error inside the window, h rms(defect) / DEFECT_TO_ERROR, at least ROUNDOFF_FLOOR x
        the RMS of |u| (absolute, state units).
    sensitivity: (d, d) du(b)/du(a), for transporting errors across windows.
    coords: (r, d) the fit in the orthonormal window basis (C = W coords).
    mean_square: mean |u|^2 over the collocation nodes (the solution's size on this window).
    residual_rms: RMS of the defect du/dt - f(t, u) at the check points between the nodes.
    """

    a: float
    b: float
    u_a: torch.Tensor  # (d,)
    coef: torch.Tensor  # (M, d)
    iterations: int
    residual_rms: float
    u_b: torch.Tensor  # (d,) state at the window's end, the next window's start
    error: float = math.nan
    sensitivity: Optional[torch.Tensor] = None
    coords: Optional[torch.Tensor] = None
    mean_square: float = math.nan
    net: Optional[MLP] = field(default=None, repr=False, compare=False)  # the features, to evaluate the fit


class WindowSolver:
    """Fits windows of one problem: the right-hand side, the feature network and its window basis.

    ``one_sided``: f jumps at window ends (breakpoints), so it is evaluated just inside them (one-sided limits).
    """

    def __init__(self, rhs: Callable, net: MLP, basis: WindowBasis, dim: int, one_sided: bool = False) -> None:
        self.rhs, self.net, self.basis, self.d, self.one_sided = rhs, net, basis, dim, one_sided
        b = basis
        self.Q, self.r = b.slope.shape
        self.block_slope = torch.block_diag(*([b.slope] * dim))  # (d Q, d r): kron(I_d, U)
        self.eye = torch.eye(dim, dtype=b.slope.dtype)

    def _times(self, a: float, h: float, s: torch.Tensor) -> torch.Tensor:
        t = (a + (s + 1.0) * (0.5 * h)).reshape(-1, 1)
        if self.one_sided:
            t = t.clamp(a + 1e-9 * h, a + h - 1e-9 * h)
        return t

    def fit(self, a: float, b: float, u_a: torch.Tensor, newton_tol: float, max_iter: int
            ) -> tuple[Optional[WindowFit], str]:
        """Gauss-Newton fit on [a, b] from u(a) = u_a; returns (fit, "") or (None, why it failed).

        First iterate: one Picard step from the constant state u_a, u' = f(t, u_a) at the nodes; the first
        Newton step then solves the problem linearised at u_a. (Extrapolating the previous window's fit was
        measured as a first guess too: random-feature fits diverge quickly outside their window, by 1 to 7000
        state units on Lorenz windows of 0.2-0.6, and the solve took 30-50% longer.)

        Chord iterations: one Cholesky factorisation of the normal matrix J^T J, J = kron(I, U) - (h/2) G E with
        G the Jacobian of f at the first iterate, serves every step until the steps shrink by less than 4x each;
        then J is refreshed. U is orthonormal, so J is well conditioned for h |G| of order one and the normal
        equations lose little; the steps only steer the iteration, whose fixed point depends on the residual.
        Stops when the predicted remaining correction theta / (1 - theta) |du| is below ``newton_tol``.
        """
        B, d, Q, r = self.basis, self.d, self.Q, self.r
        h = b - a
        half = 0.5 * h
        t = self._times(a, h, B.nodes)
        y = B.slope.T @ self.rhs(t, u_a.expand(Q, d))  # (r, d): one Picard step from u_a
        factor = None
        prev, refreshes, it = math.inf, 0, 0
        for it in range(1, max_iter + 1):
            u = u_a + half * (B.value @ y)  # (Q, d)
            f = self.rhs(t, u)
            res = B.slope @ y - f
            if factor is None:
                J = self._gauss_newton_matrix(state_jacobian_fd(self.rhs, t, u, f), half)
                L, info = torch.linalg.cholesky_ex(J.T @ J)
                if int(info) != 0:  # NaN or overflow in the Jacobian: the state left the range of floats
                    return None, "the Gauss-Newton matrix is not positive definite"
                factor = (J, L)
                prev = math.inf
            J, L = factor
            step = torch.cholesky_solve(J.T @ res.T.reshape(-1, 1), L)
            size = half * B.value_norm * float(step.norm())
            if not math.isfinite(size):
                return None, "the Gauss-Newton iteration produced NaN"
            theta = size / prev  # contraction of the steps (0 on the first step with this factorisation)
            y = y - step.reshape(d, r).T
            floor = 8.0 * UNIT_ROUNDOFF * float(u.abs().max())
            if size <= max(newton_tol, floor) or (0.0 < theta < 1.0 and theta / (1.0 - theta) * size <= newton_tol):
                break
            if theta > 0.25:  # far from the solution or slow chord steps: Newton with a fresh Jacobian
                if refreshes >= MAX_REFRESH:
                    return None, "the Gauss-Newton iteration did not settle"
                factor, refreshes = None, refreshes + 1
            prev = size
        else:
            return None, f"the Gauss-Newton iteration did not converge in {max_iter} iterations"
        return self._finish(a, b, u_a, y, it)

    def _gauss_newton_matrix(self, G: torch.Tensor, half: float) -> torch.Tensor:
        """J[(k, q), (l, j)] = delta_kl U[q, j] - (h/2) G[q, k, l] E[q, j]: (d Q, d r), from G (Q, d, d)."""
        d, Q, r = self.d, self.Q, self.r
        return self.block_slope - half * (G.permute(1, 0, 2).unsqueeze(3) * self.basis.value[None, :, None, :]
                                          ).reshape(d * Q, d * r)

    def _finish(self, a: float, b: float, u_a: torch.Tensor, y: torch.Tensor,
                iterations: int) -> tuple[Optional[WindowFit], str]:
        """Error estimate, sensitivity and end state of a converged fit (None and the reason if they fail)."""
        B, d = self.basis, self.d
        h = b - a
        half = 0.5 * h
        t_check = self._times(a, h, B.check_nodes)
        defect = B.check_slope @ y - self.rhs(t_check, u_a + half * (B.check_value @ y))  # (Q - 1, d)
        defect_rms = float(defect.pow(2).sum(dim=1).mean().sqrt())
        # d/du_a of the residual U y - f(t, u_a + (h/2) E y) = 0: J dy = G du_a, in the least-squares sense,
        # with G and J at the converged fit (the iteration's factorisation may be several steps old)
        t = self._times(a, h, B.nodes)
        u = u_a + half * (B.value @ y)
        G = state_jacobian_fd(self.rhs, t, u, self.rhs(t, u))
        J = self._gauss_newton_matrix(G, half)
        L, info = torch.linalg.cholesky_ex(J.T @ J)
        if int(info) != 0:
            return None, "the Gauss-Newton matrix at the fit is not positive definite"
        dy = torch.cholesky_solve(J.T @ G.permute(1, 0, 2).reshape(-1, d), L)
        sensitivity = self.eye + half * torch.einsum("j,kjm->km", B.end, dy.reshape(d, self.r, d))
        mean_square = float(u.pow(2).sum(dim=1).mean())
        return WindowFit(a, b, u_a.clone(), B.to_coef @ y, iterations, defect_rms, u_a + half * (B.end @ y),
                         error=max(h * defect_rms / DEFECT_TO_ERROR, ROUNDOFF_FLOOR * math.sqrt(mean_square)),
                         sensitivity=sensitivity, coords=y, mean_square=mean_square, net=self.net), ""
