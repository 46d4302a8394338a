"""The trajectory of an identification: piecewise random-feature functions on windows, continuous in time.

On window k = [e_k, e_{k+1}] of length h_k the state is u(t) = a_k + (t - e_k) Phi(s) V C_k, with Phi the
features of the fixed random network of :mod:`pinn.marching` at the window-local time s in [-1, 1], V an
orthonormalising change of basis (:class:`WindowBasis`, M of the raw features' directions kept) and C_k (M, d)
the window's output layer. The window starts are chained, a_{k+1} = u(e_{k+1}) from window k, i.e.

    a_k = a_0 + sum_{j<k} h_j Phi(1) V C_j,

so u is continuous and the free variables are the initial state a_0 = u(t0) and the coefficients C_k.
Packed order of those variables: a_0 (d), then for each window the coefficients component by component,
index d + k d M + l M + m for C_k[m, l].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pinn.features import features_and_slopes, lobatto_nodes
from pinn.marching import feature_network, window_edges
from pinn.networks import MLP
from pinn.solve_config import MarchingConfig

RCOND = 1e-13
"""Directions of the window basis whose singular value is below RCOND times the largest are dropped."""


@dataclass(frozen=True)
class WindowBasis:
    """Cached matrices of one window length h: B = (t - a) Phi V and D = dB/dt at the Q collocation nodes.

    V (M_raw, M) orthonormalises the raw random features: with [B_raw; h D_raw] = U S W^T (values and
    scaled slopes at the nodes), V = W_r S_r^-1 keeps the directions with S > RCOND S_max, so every
    coefficient moves the state by a comparable amount and least-squares steps stay well conditioned.
    """

    tau: torch.Tensor  # (Q, 1) time since the window start
    B: torch.Tensor  # (Q, M)
    D: torch.Tensor  # (Q, M)
    end: torch.Tensor  # (M,) B at the window end, h Phi(1) V
    transform: torch.Tensor  # (M_raw, M)


class WindowedTrajectory:
    """Layout and evaluation of the piecewise trajectory on [t0, t1] (see the module docstring).

    Args:
        cfg: feature settings (``features`` M, ``points`` Q collocation nodes per window, ``depth``,
            ``scale``, ``activation``, ``seed``) and the window length ``window``.
        t0, t1: the interval; d: the state size.
    """

    def __init__(self, cfg: MarchingConfig, t0: float, t1: float, d: int,
                 dtype: torch.dtype = torch.float64) -> None:
        self.cfg = cfg
        self.net: MLP = feature_network(cfg, dtype)
        self.edges = np.asarray(window_edges(t0, t1, cfg.window))
        self.d, self.Q = d, cfg.points
        self.dtype = dtype
        self._nodes = lobatto_nodes(cfg.points, dtype)
        raw = {round(float(h), 14): self._raw_basis(float(h)) for h in np.diff(self.edges)}
        self.M = min(int((S > RCOND * S[0]).sum()) for *_, S, _ in raw.values())
        cache = {}
        for key, (tau, B, D, S, Wt) in raw.items():
            V = Wt[: self.M].T / S[: self.M]
            cache[key] = WindowBasis(tau, B @ V, D @ V, (B @ V)[-1], V)
        self.bases: list[WindowBasis] = [cache[round(float(h), 14)] for h in np.diff(self.edges)]

    def _raw_basis(self, h: float) -> tuple[torch.Tensor, ...]:
        """tau, B_raw, D_raw at the nodes and the SVD factors S, W^T of [B_raw; h D_raw]."""
        phi, dphi = features_and_slopes(self.net, self._nodes, h)
        tau = ((self._nodes + 1.0) * (h / 2.0)).reshape(-1, 1)
        B, D = tau * phi, phi + tau * dphi
        _, S, Wt = torch.linalg.svd(torch.cat([B, h * D]), full_matrices=False)
        return tau, B, D, S, Wt

    @property
    def windows(self) -> int:
        """Number of windows K."""
        return len(self.bases)

    @property
    def size(self) -> int:
        """Number of free variables, d + K d M."""
        return self.d + self.windows * self.d * self.M

    def offset(self, k: int) -> int:
        """Packed index of C_k[0, 0]."""
        return self.d + k * self.d * self.M

    def unpack(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Packed variables (size,) -> initial state a_0 (d,) and coefficients C (K, M, d)."""
        coef = z[self.d:].reshape(self.windows, self.d, self.M).transpose(1, 2)
        return z[: self.d], coef

    def pack(self, a0: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`unpack`."""
        return torch.cat([a0.reshape(-1), coef.transpose(1, 2).reshape(-1)])

    def starts(self, z: torch.Tensor) -> torch.Tensor:
        """Window starts a_k = a_0 + sum_{j<k} B_j(end) C_j: (K, d)."""
        a0, coef = self.unpack(z)
        jumps = torch.stack([b.end @ c for b, c in zip(self.bases, coef)])  # (K, d)
        return a0 + torch.cat([torch.zeros_like(a0)[None], torch.cumsum(jumps, 0)[:-1]])

    def locate(self, t: np.ndarray) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
        """Window index (n,), B(t) = (t - e_k) Phi (n, M) and dB/dt (n, M) at arbitrary times t (n,)."""
        t = np.asarray(t, dtype=float).ravel()
        idx = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, self.windows - 1)
        B = torch.empty(t.size, self.M, dtype=self.dtype)
        D = torch.empty(t.size, self.M, dtype=self.dtype)
        for k in np.unique(idx):
            mask = idx == k
            a, h = self.edges[k], self.edges[k + 1] - self.edges[k]
            tt = torch.from_numpy(t[mask]).to(self.dtype)
            phi, dphi = features_and_slopes(self.net, 2.0 * (tt - a) / h - 1.0, float(h))
            tau = (tt - a).reshape(-1, 1)
            V = self.bases[k].transform
            B[torch.from_numpy(mask)] = (tau * phi) @ V
            D[torch.from_numpy(mask)] = (phi + tau * dphi) @ V
        return idx, B, D

    def __call__(self, z: torch.Tensor, t: np.ndarray, derivative: bool = False) -> np.ndarray:
        """u(t) (or du/dt) at times t (n,) for packed variables z: (n, d) float64."""
        idx, B, D = self.locate(t)
        _, coef = self.unpack(z)
        starts = self.starts(z)
        k = torch.from_numpy(idx)
        basis = D if derivative else B
        out = torch.einsum("nm,nmd->nd", basis, coef[k])
        if not derivative:
            out = out + starts[k]
        return out.detach().numpy()

    def project(self, states: np.ndarray) -> torch.Tensor:
        """Packed variables of the trajectory closest to given states at the collocation nodes (K, Q, d):
        a_0 = states[0, 0], and on each window the least-squares fit of the increments from the window's
        first node."""
        u = torch.from_numpy(np.asarray(states, dtype=float)).to(self.dtype)
        coef = torch.stack([torch.linalg.lstsq(b.B, u[k] - u[k, :1]).solution for k, b in enumerate(self.bases)])
        return self.pack(u[0, 0], coef)

    def collocation_times(self) -> np.ndarray:
        """All collocation times, window by window: (K, Q)."""
        return np.stack([self.edges[k] + b.tau[:, 0].numpy() for k, b in enumerate(self.bases)])

    def state_dict(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Tensors that rebuild the trajectory (load with ``torch.load(..., weights_only=True)``)."""
        a0, coef = self.unpack(z.detach())
        return {"features": self.net.state_dict(), "edges": torch.tensor(self.edges),
                "transform": torch.stack([b.transform for b in self.bases]), "u_start": self.starts(z.detach()),
                "coef": coef, "u0": a0}
