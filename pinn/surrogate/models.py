"""Surrogate models of a flow map u_t -> u_{t+dt}: MLPs (direct, residual, RK4-structured) and LSTM/GRU.

Every model works in physical units at its boundary and normalises inside (the training set's mean and
standard deviation, stored as buffers, so a checkpoint is self-contained). Each one answers
``predict_next(history, t)``: from the last ``history_length`` states (b, w, d), the last of them at time
t (b, 1), the next state (b, d).

Forms of the MLP flow map (z = (u - mean) / std, N the network):
    direct:    u_{t+1} = mean + std * N(z_t)                       (the notes' x_t -> x_{t+1})
    residual:  u_{t+1} = u_t + dt * (r_mean + r_std * N(z_t))     (N learns the mean rate over one step)
    rk4:       u_{t+1} = RK4 step of du/dt = r_mean + r_std * N(z) (N learns the vector field itself)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np
import torch
from torch import nn

from pinn.choices import Activation, DType
from pinn.errors import PinnError
from pinn.networks import activation_module
from pinn.surrogate.config import FlowForm, SurrogateKind  # noqa: F401  (re-exported)
from pinn.surrogate.data import Normaliser


class Stepper(Protocol):
    """Anything that advances a trajectory: an MLP, a recurrent net, the SINDy model."""

    history_length: int
    dt: float

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """history (b, w, d), t (b, 1) of the last state -> next state (b, d)."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a network from its checkpoint.

    width/depth: hidden units and hidden layers of the MLP (or of the recurrent cell: hidden size and
    stacked layers); window: states a recurrent model reads; drive_freqs: angular frequencies of a
    periodic drive whose phase (cos, sin) is an extra input; linear_skip: add a linear map of the MLP's
    input to its output (N(z) = A z + b + MLP(z)), so the hidden layers fit only the nonlinear part.
    """

    kind: SurrogateKind = SurrogateKind.mlp
    form: FlowForm = FlowForm.residual
    dim: int = 3
    width: int = 64
    depth: int = 3
    activation: Activation = Activation.tanh
    dropout: float = 0.0
    window: int = 1
    dt: float = 0.01
    drive_freqs: tuple[float, ...] = ()
    precision: DType = DType.float64
    linear_skip: bool = False

    def __post_init__(self) -> None:
        if self.width < 1 or self.depth < 1:
            raise PinnError(f"width and depth must be >= 1, got width={self.width}, depth={self.depth}")
        if not 0.0 <= self.dropout < 1.0:
            raise PinnError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.window < 1:
            raise PinnError(f"window must be >= 1, got {self.window}")


def mlp_body(n_in: int, n_out: int, width: int, depth: int, activation: Activation,
             dropout: float = 0.0) -> nn.Sequential:
    """Linear -> activation (-> dropout), ``depth`` times, then a linear output; Xavier-normal weights."""
    layers: list[nn.Module] = []
    size = n_in
    for _ in range(depth):
        layers += [nn.Linear(size, width), activation_module(activation)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        size = width
    layers.append(nn.Linear(size, n_out))
    body = nn.Sequential(*layers)
    for m in body.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
    return body


class Scaled(nn.Module):
    """Base: the training normalisation as buffers, the drive's phase features, and the step dt."""

    def __init__(self, spec: ModelSpec, normaliser: Normaliser) -> None:
        super().__init__()
        self.spec = spec
        self.dt = float(spec.dt)
        dtype = spec.precision.torch
        for name in ("state_mean", "state_std", "rate_mean", "rate_std"):
            value = np.asarray(getattr(normaliser, name), dtype=float)
            if value.shape != (spec.dim,):
                raise PinnError(f"normaliser {name} has shape {value.shape}, the model has {spec.dim} components")
            self.register_buffer(name, torch.tensor(value, dtype=dtype))
        self.register_buffer("freqs", torch.tensor(list(spec.drive_freqs), dtype=dtype))

    @property
    def n_drive(self) -> int:
        """Number of drive features (2 per frequency)."""
        return 2 * int(self.freqs.numel())

    def normalise(self, u: torch.Tensor) -> torch.Tensor:
        return (u - self.state_mean) / self.state_std

    def drive(self, t: torch.Tensor) -> torch.Tensor:
        """[cos(w_j t), sin(w_j t)]_j for t (b, 1): (b, 2k) (empty for an autonomous system)."""
        phase = t * self.freqs
        return torch.cat((torch.cos(phase), torch.sin(phase)), dim=1)

    def rate(self, z_out: torch.Tensor) -> torch.Tensor:
        """Network output in normalised rate units -> physical rate du/dt."""
        return self.rate_mean + self.rate_std * z_out

    def scaled_error(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(pred - target) / (dt * rate_std): the one-step error in normalised rate units, the loss's term."""
        return (pred - target) / (self.dt * self.rate_std)


class FlowMapMLP(Scaled):
    """MLP flow map in the direct, residual or RK4-structured form (module docstring)."""

    history_length = 1

    def __init__(self, spec: ModelSpec, normaliser: Normaliser) -> None:
        super().__init__(spec, normaliser)
        n_in = spec.dim + self.n_drive
        self.body = mlp_body(n_in, spec.dim, spec.width, spec.depth, spec.activation,
                             spec.dropout).to(spec.precision.torch)
        self.skip = nn.Linear(n_in, spec.dim).to(spec.precision.torch) if spec.linear_skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)

    def network(self, z: torch.Tensor) -> torch.Tensor:
        """N(z): (b, d + 2k) -> (b, d), with the linear shortcut if the spec asks for it."""
        out = self.body(z)
        return out if self.skip is None else out + self.skip(z)

    def field(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The learned rate at (u (b, d), t (b, 1)): (b, d)."""
        return self.rate(self.network(torch.cat((self.normalise(u), self.drive(t)), dim=1)))

    def step(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """u_t (b, d) at times t (b, 1) -> u_{t+dt} (b, d)."""
        form, dt = self.spec.form, self.dt
        if form is FlowForm.direct:
            z = self.network(torch.cat((self.normalise(u), self.drive(t)), dim=1))
            return self.state_mean + self.state_std * z
        if form is FlowForm.residual:
            return u + dt * self.field(u, t)
        k1 = self.field(u, t)
        k2 = self.field(u + dt / 2 * k1, t + dt / 2)
        k3 = self.field(u + dt / 2 * k2, t + dt / 2)
        k4 = self.field(u + dt * k3, t + dt)
        return u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.step(history[:, -1], t)


class RecurrentFlow(Scaled):
    """LSTM, GRU or Elman RNN (tanh) over the last ``window`` states; u_{t+1} = u_t + dt * (r_mean + r_std * W h_T).

    Each step's input is the normalised state (and the drive's phase); the head reads the last hidden
    state h_T. ``width`` is the hidden size and ``depth`` the number of stacked layers.
    """

    def __init__(self, spec: ModelSpec, normaliser: Normaliser) -> None:
        super().__init__(spec, normaliser)
        cells = {SurrogateKind.lstm: nn.LSTM, SurrogateKind.gru: nn.GRU, SurrogateKind.rnn: nn.RNN}
        if spec.kind not in cells:
            raise PinnError(f"RecurrentFlow is for lstm, gru or rnn, got {spec.kind.value}")
        cell = cells[spec.kind]
        self.cell = cell(spec.dim + self.n_drive, spec.width, num_layers=spec.depth, batch_first=True,
                         dropout=spec.dropout if spec.depth > 1 else 0.0)
        self.head = nn.Linear(spec.width, spec.dim)
        nn.init.xavier_normal_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.to(spec.precision.torch)
        self.history_length = spec.window

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        b, w, d = history.shape  # (B, W, D)
        lags = torch.arange(w - 1, -1, -1, dtype=history.dtype, device=history.device) * self.dt
        times = (t - lags[None, :]).reshape(b * w, 1)
        x = torch.cat((self.normalise(history.reshape(b * w, d)), self.drive(times)), dim=1)
        out, _ = self.cell(x.reshape(b, w, -1))  # (B, W, H)
        return history[:, -1] + self.dt * self.rate(self.head(out[:, -1]))


def build_model(spec: ModelSpec, normaliser: Normaliser) -> Scaled:
    """A fresh network for ``spec`` (MLP or recurrent)."""
    if spec.kind is SurrogateKind.mlp:
        return FlowMapMLP(spec, normaliser)
    if spec.kind.recurrent:
        return RecurrentFlow(spec, normaliser)
    raise PinnError(f"{spec.kind.value} is not a network; fit it with pinn.surrogate.sindy")


class PolynomialField(nn.Module):
    """du/dt = Theta(v) Xi with monomials Theta_k(v) = prod_i v_i^{p_ki}, v = (u, drive features).

    Holds a polynomial model fitted elsewhere (pysindy); ``powers`` (K, m) and ``coefficients`` (d, K).
    Stepping is RK4 with ``substeps`` inner steps per dt.
    """

    history_length = 1

    def __init__(self, powers: np.ndarray, coefficients: np.ndarray, dt: float,
                 drive_freqs: Sequence[float] = (), substeps: int = 10) -> None:
        super().__init__()
        self.register_buffer("powers", torch.as_tensor(np.asarray(powers), dtype=torch.float64))
        self.register_buffer("coefficients", torch.as_tensor(np.asarray(coefficients), dtype=torch.float64))
        self.register_buffer("freqs", torch.tensor(list(drive_freqs), dtype=torch.float64))
        self.dt = float(dt)
        self.substeps = int(substeps)

    def field(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """f(u (b, d), t (b, 1)) -> (b, d)."""
        phase = t * self.freqs
        v = torch.cat((u, torch.cos(phase), torch.sin(phase)), dim=1)
        theta = torch.prod(v[:, None, :] ** self.powers[None, :, :], dim=2)  # (B, K)
        return theta @ self.coefficients.T

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        u, h = history[:, -1], self.dt / self.substeps
        for _ in range(self.substeps):
            k1 = self.field(u, t)
            k2 = self.field(u + h / 2 * k1, t + h / 2)
            k3 = self.field(u + h / 2 * k2, t + h / 2)
            k4 = self.field(u + h * k3, t + h)
            u, t = u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), t + h
        return u


def model_state(model: nn.Module, spec: ModelSpec | None) -> dict[str, Any]:
    """Checkpoint contents: the spec (as plain values) and the state dict."""
    from pinn.runs import to_json

    return {"spec": to_json(spec) if spec is not None else None, "state": model.state_dict()}


def spec_from_json(raw: dict[str, Any]) -> ModelSpec:
    """Rebuild a :class:`ModelSpec` from its JSON form."""
    raw = dict(raw)
    raw["kind"] = SurrogateKind(raw["kind"])
    raw["form"] = FlowForm(raw["form"])
    raw["activation"] = Activation(raw["activation"])
    raw["precision"] = DType(raw["precision"])
    raw["drive_freqs"] = tuple(raw.get("drive_freqs", ()))
    return ModelSpec(**raw)
