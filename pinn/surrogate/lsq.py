"""Least-squares flow maps: fixed features of the state, output layer by regularised linear least squares.

The flow map over one sample step is written as

    u_{t+1} = u_t + dt * (r_mean + r_std * W^T phi(x_t)),   x_t = ((u_t - c) / s, cos(w t), sin(w t)),

with a fixed feature map phi : R^m -> R^K and output weights W (K, d) found in float64 by minimising
||Phi W - Y||^2 + ridge ||W||^2 over all training pairs, Y the normalised one-step rates. This is the
approach that makes ``pinn solve`` exact (random features with least-squares output layers), applied to
data. Feature maps (``FeatureMap``):

    tanh:       phi = (1, x, tanh(x A + b))            A ~ N(0, scale^2), b ~ U(-1.5 scale, 1.5 scale)
    fourier:    phi = (1, x, sin(x A + b))             b ~ U(0, 2 pi) (random Fourier features)
    polynomial: phi = (T_a1(x_1) T_a2(x_2) ...)_{|a| <= p}, T_k the Chebyshev polynomials, all total
                degrees up to p (the polynomial feature maps of next-generation reservoir computing,
                Gauthier et al. 2021, Nat. Commun. 12, 5564, here without delays as the state is observed
                in full; Chebyshev products span the same space as monomials, better conditioned).

Scaling: c and s map the training data's range of each input to [-1, 1] (the drive phases already are).
The solve (``fit_output_layers``) normalises the feature columns, factorises Phi = Q R once (Householder,
never the normal equations, whose squared condition number would cost half the digits), and for each ridge
solves the small augmented system [R; sqrt(ridge) I] W = [Q^T Y; 0]. The features are ordered so that the
first n columns are the model with n features (random features in draw order, polynomials by total degree),
so one factorisation serves every feature count and ridge of a validation search.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import scipy.linalg
import torch
from torch import nn

from pinn.errors import PinnError
from pinn.surrogate.config import FeatureMap


def polynomial_powers(n_inputs: int, degree: int) -> np.ndarray:
    """Exponent rows (K, n_inputs) of every product with total degree <= ``degree``, ordered by degree:
    K = C(n_inputs + degree, degree)."""
    if degree < 0:
        raise PinnError(f"the polynomial degree must be >= 0, got {degree}")
    rows = [e for total in range(degree + 1) for e in itertools.product(range(total + 1), repeat=n_inputs)
            if sum(e) == total]
    return np.array(rows, dtype=np.int64).reshape(-1, n_inputs)


def polynomial_count(n_inputs: int, degree: int) -> int:
    """Number of Chebyshev products of total degree <= degree in n_inputs variables."""
    return math.comb(n_inputs + degree, degree)


def chebyshev_features(x: torch.Tensor, powers: torch.Tensor) -> torch.Tensor:
    """prod_i T_{a_ki}(x_i) for x (b, m) and exponent rows powers (K, m): (b, K)."""
    degree = int(powers.max()) if powers.numel() else 0
    cheb = [torch.ones_like(x), x]  # T_0, T_1, then T_{k+1} = 2 x T_k - T_{k-1}
    for _ in range(2, degree + 1):
        cheb.append(2 * x * cheb[-1] - cheb[-2])
    table = torch.stack(cheb[:degree + 1], dim=2)  # (B, m, degree + 1)
    out = torch.ones(x.shape[0], powers.shape[0], dtype=x.dtype)
    for i in range(x.shape[1]):
        out = out * table[:, i, powers[:, i]]
    return out


@dataclass(frozen=True)
class FeatureSpec:
    """A feature map: kind, number of random features (or the polynomial degree), weight scale, seed."""

    kind: FeatureMap = FeatureMap.tanh
    features: int = 1000
    degree: int = 10
    scale: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.features < 1:
            raise PinnError(f"the feature count must be >= 1, got {self.features}: pass --features N with N >= 1")
        if self.degree < 1:
            raise PinnError(f"the polynomial degree must be >= 1, got {self.degree}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise PinnError(f"the feature weight scale must be positive and finite, got {self.scale}")


class LeastSquaresFlowMap(nn.Module):
    """u_{t+1} = u_t + dt (r_mean + r_std W^T phi(x_t)) with a fixed feature map phi (module docstring).

    Buffers: ``center``/``halfwidth`` (m,) input scaling, ``freqs`` drive frequencies, ``rate_mean``/``rate_std``
    (d,), ``weights`` (m, N) and ``bias`` (N,) of random features or ``powers`` (K, m) of a polynomial, and
    ``output`` (K, d). Everything is float64.
    """

    history_length = 1

    def __init__(self, spec: FeatureSpec, dim: int, dt: float, center: np.ndarray, half: np.ndarray,
                 rate_mean: np.ndarray, rate_std: np.ndarray, drive_freqs: Sequence[float] = ()) -> None:
        super().__init__()
        self.spec, self.dim, self.dt = spec, int(dim), float(dt)
        f64 = torch.float64
        self.register_buffer("freqs", torch.tensor(list(drive_freqs), dtype=f64))
        m = dim + 2 * len(drive_freqs)
        for name, value in (("center", center), ("halfwidth", half)):
            value = np.asarray(value, dtype=float)
            if value.shape != (m,):
                raise PinnError(f"{name} must have {m} entries (state and drive inputs), got {value.shape}")
            self.register_buffer(name, torch.tensor(value, dtype=f64))
        self.register_buffer("rate_mean", torch.tensor(np.asarray(rate_mean, dtype=float), dtype=f64))
        self.register_buffer("rate_std", torch.tensor(np.asarray(rate_std, dtype=float), dtype=f64))
        if spec.kind is FeatureMap.polynomial:
            self.register_buffer("powers", torch.as_tensor(polynomial_powers(m, spec.degree)))
            n_features = self.powers.shape[0]
        else:
            rng = np.random.default_rng(spec.seed)
            weights = rng.normal(0.0, spec.scale, (m, spec.features))
            if spec.kind is FeatureMap.tanh:
                bias = rng.uniform(-1.5 * spec.scale, 1.5 * spec.scale, spec.features)
            else:
                bias = rng.uniform(0.0, 2 * math.pi, spec.features)
            self.register_buffer("weights", torch.tensor(weights, dtype=f64))
            self.register_buffer("bias", torch.tensor(bias, dtype=f64))
            n_features = 1 + m + spec.features
        self.register_buffer("output", torch.zeros(n_features, dim, dtype=f64))

    @property
    def n_features(self) -> int:
        """K, the length of phi (constant and linear terms included)."""
        return int(self.output.shape[0])

    def inputs(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x = ((u - c) / s, drive phases): u (b, d), t (b, 1) -> (b, m)."""
        phase = t * self.freqs
        raw = torch.cat((u, torch.cos(phase), torch.sin(phase)), dim=1)
        return (raw - self.center) / self.halfwidth

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): (b, m) -> (b, K)."""
        if self.spec.kind is FeatureMap.polynomial:
            return chebyshev_features(x, self.powers)
        act = torch.tanh if self.spec.kind is FeatureMap.tanh else torch.sin
        return torch.cat((torch.ones(x.shape[0], 1, dtype=x.dtype), x, act(x @ self.weights + self.bias)), dim=1)

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        u = history[:, -1].to(torch.float64)
        phi = self.features(self.inputs(u, t.to(torch.float64)))
        return u + self.dt * (self.rate_mean + self.rate_std * (phi @ self.output))

    def truncated(self, n: int, output: np.ndarray) -> "LeastSquaresFlowMap":
        """The model with only the first n features (random features: the first n - 1 - m hidden units;
        polynomial: n must be a full degree's count) and output weights (n, d)."""
        from dataclasses import replace

        m = int(self.center.numel())
        if self.spec.kind is FeatureMap.polynomial:
            degree = next((p for p in range(self.spec.degree + 1) if polynomial_count(m, p) == n), None)
            if degree is None:
                raise PinnError(f"{n} is not the size of a complete polynomial basis in {m} inputs")
            spec = replace(self.spec, degree=max(degree, 1))
        else:
            spec = replace(self.spec, features=n - 1 - m)
        out = LeastSquaresFlowMap(spec, self.dim, self.dt, self.center.numpy(), self.halfwidth.numpy(),
                                  self.rate_mean.numpy(), self.rate_std.numpy(), self.freqs.tolist())
        if spec.kind is not FeatureMap.polynomial:
            out.weights.copy_(self.weights[:, :spec.features])
            out.bias.copy_(self.bias[:spec.features])
        out.output.copy_(torch.as_tensor(np.asarray(output, dtype=float)))
        return out

    def checkpoint(self) -> dict[str, Any]:
        """What :meth:`from_checkpoint` needs: the spec, sizes and all buffers."""
        from pinn.runs import to_json

        return {"kind": "least-squares", "spec": to_json(self.spec), "dim": self.dim, "dt": self.dt,
                "state": self.state_dict()}

    @staticmethod
    def from_checkpoint(state: dict[str, Any]) -> "LeastSquaresFlowMap":
        raw = dict(state["spec"])
        raw["kind"] = FeatureMap(raw["kind"])
        buffers = state["state"]
        model = LeastSquaresFlowMap(FeatureSpec(**raw), int(state["dim"]), float(state["dt"]),
                                    buffers["center"].numpy(), buffers["halfwidth"].numpy(),
                                    buffers["rate_mean"].numpy(), buffers["rate_std"].numpy(),
                                    buffers["freqs"].tolist())
        model.load_state_dict(buffers)
        return model


class OrthogonalFactor:
    """Phi = Q R of column-normalised features, kept as (R, Q^T Y, column norms), for many solves.

    The first n columns of Phi factor as Q[:, :n] R[:n, :n], so every leading block is a smaller model."""

    def __init__(self, phi: np.ndarray, target: np.ndarray) -> None:
        self.norms = np.maximum(np.linalg.norm(phi, axis=0), 1e-300)
        scaled = phi / self.norms
        # Q^T Y without forming Q: (Y^T Q)^T
        qty, r = scipy.linalg.qr_multiply(scaled, target.T, mode="right")
        self.r = np.triu(r)
        self.qty = qty.T  # (K, d)

    def solve(self, n: int, ridge: float) -> np.ndarray:
        """Output weights (n, d) of the first n features minimising ||Phi W - Y||^2 + ridge ||D W||^2, D the
        column norms (so ridge is relative to unit-norm features)."""
        if ridge < 0 or not math.isfinite(ridge):
            raise PinnError(f"ridge must be >= 0 and finite, got {ridge}")
        r, qty = self.r[:n, :n], self.qty[:n]
        if ridge > 0:
            stacked = np.vstack((r, math.sqrt(ridge) * np.eye(n)))
            q2, r = np.linalg.qr(stacked)
            qty = q2[:n].T @ qty
        diag = np.abs(np.diag(r))
        if diag.size and diag.min() <= 1e-15 * diag.max():
            # rank-deficient block: a tiny relative ridge keeps the triangular solve finite
            return self.solve(n, max(ridge, 1e-28) * 100 if ridge > 0 else 1e-26)
        return scipy.linalg.solve_triangular(r, qty) / self.norms[:n, None]


def fit_output_layers(model: LeastSquaresFlowMap, u: np.ndarray, t: np.ndarray, u_next: np.ndarray,
                      chunk: int = 200_000) -> OrthogonalFactor:
    """Factor the features of the pairs (u (k, d), t (k, 1)) -> u_next (k, d) for ``model``; the target is
    the normalised rate ((u_next - u) / dt - r_mean) / r_std."""
    with torch.no_grad():
        phi = np.concatenate([model.features(model.inputs(torch.as_tensor(u[i:i + chunk]),
                                                          torch.as_tensor(t[i:i + chunk]))).numpy()
                              for i in range(0, u.shape[0], chunk)])
    target = ((u_next - u) / model.dt - model.rate_mean.numpy()) / model.rate_std.numpy()
    return OrthogonalFactor(phi, target)


def input_scaling(states: np.ndarray, drive_freqs: Sequence[float] = (), margin: float = 0.05
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Center and half-range (m,) mapping the training states (m_traj, n, d) to [-1 - margin, 1 + margin]
    (the drive phases keep center 0, half-range 1)."""
    flat = states.reshape(-1, states.shape[-1])
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    center = (hi + lo) / 2
    half = np.maximum((hi - lo) / 2, 1e-12) * (1 + margin)
    k = 2 * len(drive_freqs)
    return np.r_[center, np.zeros(k)], np.r_[half, np.ones(k)]


def feature_ladder(model: LeastSquaresFlowMap, steps: int = 4) -> list[int]:
    """Feature counts tried on validation, each a prefix of the full map: random features n/2^j (at least 16
    hidden units); polynomials every complete degree from 2 up."""
    m = int(model.center.numel())
    if model.spec.kind is FeatureMap.polynomial:
        return [polynomial_count(m, p) for p in range(min(2, model.spec.degree), model.spec.degree + 1)]
    hidden = model.spec.features
    counts = sorted({max(min(16, hidden), hidden >> j) for j in range(steps)})
    return [1 + m + h for h in counts]


RIDGES = (0.0, 1e-24, 1e-20, 1e-16, 1e-12, 1e-8)
"""Ridge values tried on validation (relative to unit-norm feature columns). Measured on Lorenz: the
unregularised QR solve is best for smooth features (2e-13 one-step error with 1000 tanh features, scale
0.2, against 2e-9 at ridge 1e-17); the larger values are there for noisy data and rough features."""


def candidate_models(model: LeastSquaresFlowMap, factor: OrthogonalFactor, counts: Optional[Sequence[int]] = None,
                     ridges: Sequence[float] = RIDGES) -> list[tuple[int, float, LeastSquaresFlowMap]]:
    """Every (feature count, ridge, fitted model) of a validation search."""
    out = []
    for n in counts or feature_ladder(model):
        for ridge in ridges:
            out.append((n, float(ridge), model.truncated(n, factor.solve(n, ridge))))
    return out


class _VariableProjection:
    """The residual (I - P) Y of a random-feature map with the output layer eliminated, and Kaufman's
    Jacobian, on inputs x (n, m) and targets (n, d) (see :func:`refine_hidden_layer`)."""

    def __init__(self, x: np.ndarray, target: np.ndarray, tanh: bool) -> None:
        self.x, self.target, self.tanh = x, target, tanh
        self.xe = np.c_[x, np.ones(x.shape[0])]  # (n, m + 1): inputs and the bias's unit input

    def evaluate(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pre-activations s (n, N), orthonormal basis q of the feature columns, output layer w, residual)."""
        s = self.x @ a + b
        act = np.tanh(s) if self.tanh else np.sin(s)
        phi = np.c_[np.ones(self.x.shape[0]), self.x, act]
        q, _ = np.linalg.qr(phi / np.linalg.norm(phi, axis=0))
        w = np.linalg.lstsq(phi, self.target, rcond=None)[0]
        return s, q, w, self.target - phi @ w

    def jacobian(self, s: np.ndarray, q: np.ndarray, w: np.ndarray, resid: np.ndarray) -> np.ndarray:
        """-(I - P) d(Phi W)/d(A, b) up to sign, flattened to (n d, (m + 1) N)."""
        n, m_in = self.x.shape
        deriv = 1 - np.tanh(s) ** 2 if self.tanh else np.cos(s)  # (n, N)
        w_hidden = w[1 + m_in:]  # (N, d)
        # d(Phi W)/d(theta) for theta = (A, b) stacked as (m + 1, N): (n, d, m + 1, N)
        jac = np.einsum("ij,ik,jo->iokj", deriv, self.xe, w_hidden).reshape(n, -1)
        jac -= q @ (q.T @ jac)  # (I - P) on the sample axis
        return jac.reshape(n * self.target.shape[1], -1)

    def damped_step(self, jac: np.ndarray, resid: np.ndarray, mu: float) -> np.ndarray:
        """The Levenberg-Marquardt step with Marquardt's column scaling, as (m + 1, N) = (dA; db)."""
        scale = np.sqrt(np.maximum(np.sum(jac ** 2, axis=0), 1e-300))
        lhs = np.vstack((jac / scale, np.sqrt(mu) * np.eye(jac.shape[1])))
        delta = np.linalg.lstsq(lhs, np.r_[resid.reshape(-1), np.zeros(jac.shape[1])], rcond=None)[0] / scale
        return delta.reshape(self.x.shape[1] + 1, -1)


def refine_hidden_layer(model: LeastSquaresFlowMap, u: np.ndarray, t: np.ndarray, u_next: np.ndarray,
                        iterations: int = 10, samples: int = 5000, seed: int = 0) -> list[float]:
    """Gauss-Newton (Levenberg-Marquardt) refinement of the hidden weights A and biases b of a random-feature
    map, in place, with the output layer eliminated (variable projection, Golub & Pereyra 1973).

    For fixed (A, b) the output layer is the least-squares solution W*, so the residual is
    r(A, b) = (I - P) Y with P the projection onto the feature columns; Kaufman's (1975) Jacobian
    J = -(I - P) d(Phi W*)/d(A, b) drops the derivative of W*. Each step solves min |r + J delta|^2 +
    mu |D delta|^2 (D^2 = diag J^T J), accepted if the residual falls (mu / 3) and otherwise retried with
    mu x 4. Works on a random subset of ``samples`` training pairs; the hidden layer has N (m + 1)
    parameters, so keep N in the hundreds. Afterwards refit the output layer on all pairs
    (:func:`fit_output_layers`). Returns the subset's residual norm after each accepted step (first: start).
    """
    if model.spec.kind is FeatureMap.polynomial:
        raise PinnError("Gauss-Newton refinement is for random features (tanh, fourier), not polynomials")
    if iterations < 1:
        return []
    rng = np.random.default_rng(seed)
    pick = rng.choice(u.shape[0], min(samples, u.shape[0]), replace=False)
    with torch.no_grad():
        x = model.inputs(torch.as_tensor(u[pick]), torch.as_tensor(t[pick])).numpy()  # (n, m)
    target = ((u_next[pick] - u[pick]) / model.dt - model.rate_mean.numpy()) / model.rate_std.numpy()
    projection = _VariableProjection(x, target, model.spec.kind is FeatureMap.tanh)
    weights, bias = model.weights.numpy().copy(), model.bias.numpy().copy()
    fit = projection.evaluate(weights, bias)
    norms = [float(np.linalg.norm(fit[3]))]
    mu = 1e-3
    for _ in range(iterations):
        jac = projection.jacobian(*fit)
        for _ in range(8):
            step = projection.damped_step(jac, fit[3], mu)
            trial = projection.evaluate(weights + step[:-1], bias + step[-1])
            if np.linalg.norm(trial[3]) < norms[-1]:
                weights, bias, fit = weights + step[:-1], bias + step[-1], trial
                norms.append(float(np.linalg.norm(fit[3])))
                mu /= 3
                break
            mu *= 4
        else:
            break
    with torch.no_grad():
        model.weights.copy_(torch.as_tensor(weights))
        model.bias.copy_(torch.as_tensor(bias))
    return norms
