"""Learning dynamics from high-dimensional observations: a SINDy autoencoder and a latent forecaster.

Observations. The state u (d,) is seen only through a fixed nonlinear lift to n = 128 dimensions, as in
the SINDy-autoencoder study of Champion, Lusch, Kutz & Brunton (2019, PNAS 116, 22445):

    x(u) = sum_{i=1}^{d} P_{i-1}(y) (u_i / s) + sum_{i=1}^{d} P_{d+i-1}(y) (u_i / s)^3,

P_k the Legendre polynomials on n equispaced points y in [-1, 1] and s a fixed scale (10 for Lorenz, so
u / s is of order one).

Model. An encoder z = phi(x) (n -> 3; linear by default, optionally plus a tanh MLP), a decoder x = psi(z)
(3 -> n, a linear map plus a tanh MLP), and latent dynamics dz/dt = Theta(z) Xi with Theta the monomials of z up to degree 2 (10 terms), trained
jointly (Champion et al.'s loss, on observations normalised per channel):

    L = |x - psi(phi(x))|^2 + w_dz |J_phi(x) xdot - Theta(phi(x)) Xi|^2 / <|J_phi xdot|^2>
        + w_dx |xdot - J_psi(z) Theta(z) Xi|^2 + w_1 |Xi|_1,

xdot by fourth-order central differences of the observed series; J v products by forward-mode autodiff.
With ``projected`` (the default) Xi is not a trained parameter: on every batch it is the least-squares
solution of Theta(z) Xi = J_phi xdot (variable projection, Golub & Pereyra 1973), so the loss measures how
far the latent coordinates are from having polynomial dynamics at all, and the encoder is trained against
that; otherwise Xi is trained jointly with an L1 penalty and sequential thresholding every
``threshold_every`` epochs (Champion et al.). After training the encoder is frozen, the latent trajectories
z_k = phi(x_k) are computed, and Xi is fitted on them by sequentially thresholded least squares (STLSQ:
coefficients below ``threshold`` times the largest of their equation are dropped, the rest refitted). Forecast: encode the first observation, integrate the latent
model with RK4, decode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
from numpy.polynomial import legendre
from torch import nn

from pinn.errors import PinnError
from pinn.surrogate.config import Observation  # noqa: F401  (re-exported)
from pinn.surrogate.data import TrajectoryData


def legendre_modes(n_points: int, n_modes: int) -> np.ndarray:
    """P_0 .. P_{n_modes-1} on n_points equispaced points of [-1, 1]: (n_modes, n_points)."""
    y = np.linspace(-1.0, 1.0, n_points)
    return np.stack([legendre.legval(y, np.eye(n_modes)[k]) for k in range(n_modes)])


def lift(states: np.ndarray, n_points: int = 128, scale: float = 40.0) -> np.ndarray:
    """The fixed nonlinear observation map x(u) of the module docstring: (..., d) -> (..., n_points)."""
    states = np.asarray(states, dtype=float)
    d = states.shape[-1]
    modes = legendre_modes(n_points, 2 * d)  # (2d, n)
    v = states / scale
    return np.concatenate((v, v ** 3), axis=-1) @ modes


def lifted_dataset(data: TrajectoryData, n_points: int = 128, scale: float = 40.0) -> TrajectoryData:
    """The same trajectories, split and config, observed through :func:`lift` (normaliser refitted)."""
    from pinn.surrogate.data import Normaliser

    states = lift(data.states, n_points, scale)
    return TrajectoryData(data.config, data.t, states, data.train, data.val, data.test,
                          Normaliser.fit(states[data.train], data.config.dt))


def central_derivative(series: np.ndarray, dt: float) -> np.ndarray:
    """Fourth-order central differences along axis 1 of (m, n, k), one-sided second order at the ends:
    (m, n, k)."""
    x = np.asarray(series, dtype=float)
    out = np.empty_like(x)
    out[:, 2:-2] = (x[:, :-4] - 8 * x[:, 1:-3] + 8 * x[:, 3:-1] - x[:, 4:]) / (12 * dt)
    for i in (0, 1):
        out[:, i] = (-3 * x[:, i] + 4 * x[:, i + 1] - x[:, i + 2]) / (2 * dt)
    for i in (-1, -2):
        out[:, i] = (3 * x[:, i] - 4 * x[:, i - 1] + x[:, i - 2]) / (2 * dt)
    return out


LATENT_DIM = 3
LIBRARY_DEGREE = 2


def monomial_powers(dim: int = LATENT_DIM, degree: int = LIBRARY_DEGREE) -> np.ndarray:
    """Exponents (K, dim) of all monomials up to ``degree``, ordered by degree (1, z1, z2, z3, z1^2, ...)."""
    from pinn.surrogate.lsq import polynomial_powers

    return polynomial_powers(dim, degree)


def library(z: torch.Tensor, powers: torch.Tensor) -> torch.Tensor:
    """Theta(z): (b, dim) -> (b, K) monomials."""
    return torch.prod(z[:, None, :] ** powers[None, :, :], dim=2)


def term_names(powers: np.ndarray, names: Sequence[str]) -> list[str]:
    """'1', 'z1', 'z1 z2', 'z3^2', ... for exponent rows."""
    out = []
    for row in powers:
        parts = [n if p == 1 else f"{n}^{int(p)}" for n, p in zip(names, row) if p > 0]
        out.append(" ".join(parts) or "1")
    return out


@dataclass(frozen=True)
class AutoencoderSpec:
    """Architecture and training of the SINDy autoencoder (module docstring).

    width: units of the coders' two tanh layers; epochs, batch_size, lr (Adam, cosine decay to lr / 20),
    stride (every stride-th sample of the training trajectories); weight_dz, weight_dx: the loss weights;
    weight_l1, threshold_every: the joint (not projected) variant's L1 weight and thresholding period;
    threshold: STLSQ's relative cut when Xi is fitted on the latent trajectories; substeps: RK4 steps per
    sample step of the latent model; encoder_mlp: add a tanh MLP to the linear encoder; projected: eliminate
    Xi by least squares on every batch (variable projection)."""

    width: int = 64
    epochs: int = 300
    batch_size: int = 512
    lr: float = 1e-3
    stride: int = 4
    weight_dz: float = 1.0
    weight_dx: float = 1e-2
    weight_l1: float = 1e-5
    threshold: float = 0.02
    threshold_every: int = 100
    substeps: int = 10
    seed: int = 0
    encoder_mlp: bool = False
    projected: bool = True

    def __post_init__(self) -> None:
        if self.width < 1 or self.epochs < 1 or self.batch_size < 1 or self.stride < 1 or self.substeps < 1:
            raise PinnError("the autoencoder needs width, epochs, batch size, stride and substeps >= 1")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise PinnError(f"the autoencoder's learning rate must be positive, got {self.lr}")
        for name in ("weight_dz", "weight_dx", "weight_l1", "threshold"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise PinnError(f"{name} must be >= 0 and finite, got {value}")


def _coder(n_in: int, n_out: int, width: int) -> nn.ModuleDict:
    mlp = nn.Sequential(nn.Linear(n_in, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                        nn.Linear(width, n_out))
    nn.init.zeros_(mlp[-1].weight)
    nn.init.zeros_(mlp[-1].bias)
    return nn.ModuleDict({"linear": nn.Linear(n_in, n_out), "mlp": mlp})


class SindyAutoencoder(nn.Module):
    """Encoder, decoder and sparse latent dynamics (module docstring); observations are normalised by the
    training mean and standard deviation per channel (buffers), the latent space is not."""

    def __init__(self, n_obs: int, spec: AutoencoderSpec, mean: np.ndarray, std: np.ndarray, dt: float) -> None:
        super().__init__()
        self.spec, self.dt, self.history_length = spec, float(dt), 1
        f64 = torch.float64
        self.register_buffer("mean", torch.tensor(np.asarray(mean, dtype=float), dtype=f64))
        self.register_buffer("std", torch.tensor(np.asarray(std, dtype=float), dtype=f64))
        self.register_buffer("powers", torch.as_tensor(monomial_powers(), dtype=f64))
        self.encoder = _coder(n_obs, LATENT_DIM, spec.width) if spec.encoder_mlp else nn.ModuleDict(
            {"linear": nn.Linear(n_obs, LATENT_DIM)})
        self.decoder = _coder(LATENT_DIM, n_obs, spec.width)
        self.xi = nn.Parameter(torch.zeros(self.powers.shape[0], LATENT_DIM, dtype=f64))
        self.register_buffer("mask", torch.ones(self.powers.shape[0], LATENT_DIM, dtype=f64))
        self.to(f64)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """phi: observations (b, n) in physical units -> latent (b, 3)."""
        return self._encode((x - self.mean) / self.std)

    def _encode(self, v: torch.Tensor) -> torch.Tensor:
        out = self.encoder["linear"](v)
        return out + self.encoder["mlp"](v) if "mlp" in self.encoder else out

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """psi: latent (b, 3) -> observations (b, n) in physical units."""
        return self.mean + self.std * (self.decoder["linear"](z) + self.decoder["mlp"](z))

    def latent_field(self, z: torch.Tensor) -> torch.Tensor:
        """dz/dt = Theta(z) (Xi * mask): (b, 3)."""
        return library(z, self.powers) @ (self.xi * self.mask)

    def latent_step(self, z: torch.Tensor) -> torch.Tensor:
        """RK4 over one sample step with ``substeps`` inner steps."""
        h = self.dt / self.spec.substeps
        for _ in range(self.spec.substeps):
            k1 = self.latent_field(z)
            k2 = self.latent_field(z + h / 2 * k1)
            k3 = self.latent_field(z + h / 2 * k2)
            k4 = self.latent_field(z + h * k3)
            z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return z

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.decode(self.latent_step(self.encode(history[:, -1].to(torch.float64))))

    def start(self, history: torch.Tensor, t_last: float) -> torch.Tensor:
        """Encode the last observation: the latent state (b, 3)."""
        return self.encode(history[:, -1].to(torch.float64))

    def advance(self, z: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Step the latent model and decode: (observation (b, n), latent (b, 3))."""
        z = self.latent_step(z)
        return self.decode(z), z

    def losses(self, x: torch.Tensor, xdot: torch.Tensor) -> dict[str, torch.Tensor]:
        """The terms of the training loss on a batch x, xdot (b, n) (module docstring), normalised units."""
        from torch.func import jvp

        v, vdot = (x - self.mean) / self.std, xdot / self.std
        enc = self._encode
        dec = lambda a: self.decoder["linear"](a) + self.decoder["mlp"](a)  # noqa: E731
        z, zdot = jvp(enc, (v,), (vdot,))
        if self.spec.projected:
            theta = library(z, self.powers)
            norms = theta.norm(dim=0).clamp_min(1e-12)
            scaled = theta / norms
            gram = scaled.T @ scaled + 1e-10 * torch.eye(theta.shape[1], dtype=theta.dtype)
            xi = torch.linalg.solve(gram, scaled.T @ zdot) / norms[:, None]
            with torch.no_grad():
                self.xi.copy_(xi)
            field = theta @ xi
        else:
            field = self.latent_field(z)
        recon, vdot_model = jvp(dec, (z,), (field,))
        return {"reconstruction": (recon - v).pow(2).mean(),
                "dz": (zdot - field).pow(2).mean() / zdot.pow(2).mean().clamp_min(1e-12),
                "dx": (vdot_model - vdot).pow(2).mean() / vdot.pow(2).mean().clamp_min(1e-12),
                "l1": (self.xi * self.mask).abs().mean()}

    def equations(self, names: Sequence[str] = ("z1", "z2", "z3"), digits: int = 4) -> list[str]:
        """The latent model as text: 'z1' = -10.0 z1 + 10.0 z2', one line per latent variable."""
        xi = (self.xi * self.mask).detach().numpy()
        terms = term_names(self.powers.numpy(), names)
        lines = []
        for j, name in enumerate(names):
            parts = [f"{xi[k, j]:+.{digits}g} {terms[k]}".replace(" 1", "") if terms[k] == "1"
                     else f"{xi[k, j]:+.{digits}g} {terms[k]}" for k in range(len(terms)) if xi[k, j] != 0]
            lines.append(f"{name}' = " + (" ".join(parts) if parts else "0"))
        return lines

    def checkpoint(self) -> dict[str, Any]:
        from pinn.runs import to_json

        return {"kind": "autoencoder", "spec": to_json(self.spec), "n_obs": int(self.mean.numel()), "dt": self.dt,
                "state": self.state_dict()}

    @staticmethod
    def from_checkpoint(state: dict[str, Any]) -> "SindyAutoencoder":
        buffers = state["state"]
        model = SindyAutoencoder(int(state["n_obs"]), AutoencoderSpec(**state["spec"]), buffers["mean"].numpy(),
                                 buffers["std"].numpy(), float(state["dt"]))
        model.load_state_dict(buffers)
        return model


@dataclass
class AutoencoderFit:
    """The trained model, its loss history (one dict per epoch) and the held-out reconstruction error
    (relative, on the validation trajectories)."""

    model: SindyAutoencoder
    history: list[dict[str, float]]
    val_reconstruction: float


def reconstruction_error(model: SindyAutoencoder, observations: np.ndarray) -> float:
    """|x - psi(phi(x))| / |x - mean| over observations (..., n): relative, in physical units."""
    x = torch.as_tensor(observations.reshape(-1, observations.shape[-1]), dtype=torch.float64)
    with torch.no_grad():
        recon = model.decode(model.encode(x))
    return float((recon - x).norm() / (x - model.mean).norm())


def refit_latent_model(model: SindyAutoencoder, data: TrajectoryData, threshold: float = 0.0) -> None:
    """Freeze the autoencoder, encode the training trajectories and fit Xi on the current support by
    least squares on fourth-order finite-difference derivatives of the latent trajectories; with
    ``threshold`` > 0, sequentially drop coefficients below threshold x the largest |coefficient x column
    rms| of their equation and refit (STLSQ, 10 rounds)."""
    x = torch.as_tensor(data.subset("train"), dtype=torch.float64)
    m, n, k = x.shape
    with torch.no_grad():
        z = model.encode(x.reshape(-1, k)).reshape(m, n, LATENT_DIM).numpy()
        zdot = central_derivative(z, data.config.dt)[:, 2:-2].reshape(-1, LATENT_DIM)
        theta = library(torch.as_tensor(z[:, 2:-2].reshape(-1, LATENT_DIM)), model.powers).numpy()
    mask = model.mask.numpy().astype(bool)
    rms = np.sqrt(np.mean(theta ** 2, axis=0))
    xi = np.zeros_like(mask, dtype=float)
    for _ in range(10 if threshold > 0 else 1):
        for j in range(LATENT_DIM):
            cols = np.flatnonzero(mask[:, j])
            xi[:, j] = 0.0
            if cols.size:
                xi[cols, j] = np.linalg.lstsq(theta[:, cols], zdot[:, j], rcond=None)[0]
        if threshold > 0:
            size = np.abs(xi) * rms[:, None]  # each term's typical contribution to dz/dt
            new = mask & (size >= threshold * size.max(axis=0, keepdims=True))
            if (new == mask).all():
                break
            mask = new
    with torch.no_grad():
        model.xi.copy_(torch.as_tensor(xi))
        model.mask.copy_(torch.as_tensor(mask.astype(float)))


def train_autoencoder(data: TrajectoryData, spec: AutoencoderSpec,
                      on_epoch: Optional[Callable[[int, dict[str, float]], None]] = None) -> AutoencoderFit:
    """Train on ``data`` (observations (m, n, 128) with split), then threshold and refit the latent model.

    Adam (cosine learning-rate decay) on mini-batches of every ``stride``-th sample of the training
    trajectories, the encoder and decoder's linear parts started from the principal components; finally
    :func:`refit_latent_model` with STLSQ."""
    torch.manual_seed(spec.seed)
    obs = data.subset("train")
    xdot = central_derivative(obs, data.config.dt)
    keep = np.arange(2, obs.shape[1] - 2, spec.stride)  # the ends have only second-order derivatives
    x = torch.as_tensor(obs[:, keep].reshape(-1, obs.shape[-1]))
    xd = torch.as_tensor(xdot[:, keep].reshape(-1, obs.shape[-1]))
    flat = obs.reshape(-1, obs.shape[-1])
    model = SindyAutoencoder(obs.shape[-1], spec, flat.mean(0), np.maximum(flat.std(0), 1e-12), data.config.dt)
    with torch.no_grad():  # start from the principal components: the linear part of the encoder/decoder
        v = (x - model.mean) / model.std
        _, _, vt = torch.linalg.svd(v - v.mean(0), full_matrices=False)
        model.encoder["linear"].weight.copy_(vt[:LATENT_DIM])
        model.encoder["linear"].bias.copy_(-(v.mean(0) @ vt[:LATENT_DIM].T))
        model.decoder["linear"].weight.copy_(vt[:LATENT_DIM].T)
        model.decoder["linear"].bias.copy_(v.mean(0))
    opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, spec.epochs, eta_min=spec.lr / 20)
    generator = torch.Generator().manual_seed(spec.seed)
    history: list[dict[str, float]] = []
    for epoch in range(1, spec.epochs + 1):
        order = torch.randperm(x.shape[0], generator=generator)
        sums: dict[str, float] = {}
        for i in range(0, x.shape[0], spec.batch_size):
            idx = order[i:i + spec.batch_size]
            parts = model.losses(x[idx], xd[idx])
            loss = parts["reconstruction"] + spec.weight_dz * parts["dz"] + spec.weight_dx * parts["dx"]
            if not spec.projected:
                loss = loss + spec.weight_l1 * parts["l1"]
            opt.zero_grad()
            loss.backward()
            opt.step()
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach()) * idx.numel()
        sched.step()
        row = {"epoch": epoch, **{k: v / x.shape[0] for k, v in sums.items()}}
        history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row)
        if not all(math.isfinite(v) for v in row.values()):
            raise PinnError("autoencoder training diverged; lower --lr")
        if not spec.projected and spec.threshold > 0 and epoch % spec.threshold_every == 0 and epoch < spec.epochs:
            with torch.no_grad():
                xi = (model.xi * model.mask).abs()
                model.mask.mul_((xi >= spec.threshold * xi.max(dim=0, keepdim=True).values).to(xi.dtype))
    refit_latent_model(model, data, spec.threshold)
    model.eval()
    return AutoencoderFit(model, history, reconstruction_error(model, data.subset("val")))


def affine_equivalence(latent: np.ndarray, states: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """How far the latent variables are from an affine image of the true state: fit u = A z + b by least
    squares over samples (latent (k, 3), states (k, d)); returns (relative residual |u - A z - b| /
    |u - mean u|, A (d, 3), b (d,))."""
    design = np.c_[latent, np.ones(latent.shape[0])]
    coef = np.linalg.lstsq(design, states, rcond=None)[0]
    resid = states - design @ coef
    return float(np.linalg.norm(resid) / np.linalg.norm(states - states.mean(0))), coef[:3].T, coef[3]


def mapped_field_error(model: SindyAutoencoder, observations: np.ndarray, states: np.ndarray,
                       rhs_values: np.ndarray) -> float:
    """The latent model carried back to the state: with u = A z + b from :func:`affine_equivalence`, the
    relative error |A Theta(z) Xi - f(u)| / |f(u)| over samples (observations (k, n), states (k, d), the
    true field rhs_values (k, d)). Small means the latent model is the true system in other coordinates."""
    with torch.no_grad():
        z = model.encode(torch.as_tensor(observations, dtype=torch.float64))
        field = model.latent_field(z).numpy()
    _, a, _ = affine_equivalence(z.numpy(), states)
    return float(np.linalg.norm(field @ a.T - rhs_values) / np.linalg.norm(rhs_values))
