"""Reservoir computing: an echo state network (ESN) as a forecasting model and as the baseline users reach for.

A fixed random recurrent network (the reservoir, N units) is driven by the normalised state x_k:

    r_k = (1 - leak) r_{k-1} + leak tanh(W r_{k-1} + W_in (1, x_k)),          r_{-1} = 0,
    u_{k+1} = u_k + dt (r_mean + r_std W_out^T (1, x_k, r_k, r_k^2)),

W sparse (``connections`` non-zeros per row, N(0, 1) values) rescaled to the given spectral radius, W_in
uniform in [-input_scaling, input_scaling]; only W_out is fitted, by ridge regression on the training
trajectories driven with the true states (teacher forcing) after a washout of ``warmup`` samples. The
squared reservoir units break the tanh reservoir's r -> -r symmetry, which the Lorenz system's (x, y, z) ->
(-x, -y, z) symmetry would otherwise mirror into the forecast (Pathak et al. 2017, Chaos 27, 121102; Lu et
al. 2017, Chaos 27, 041102). Hyper-parameters follow Lukosevicius, "A practical guide to applying echo
state networks" (2012).

Forecasting: the reservoir first reads ``warmup`` true states of the trajectory to forecast (the warm-up
that synchronises it with the system; nothing later is seen), then runs on its own predictions. Its
valid prediction time counts from the end of the warm-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
from torch import nn

from pinn.errors import PinnError
from pinn.surrogate.data import Normaliser, TrajectoryData


@dataclass(frozen=True)
class ReservoirSpec:
    """size N; spectral_radius of W; leak rate in (0, 1]; input_scaling of W_in; connections: non-zeros
    per row of W; warmup: true samples read before a forecast (and the training washout); seed of W, W_in."""

    size: int = 600
    spectral_radius: float = 0.9
    leak: float = 0.5
    input_scaling: float = 0.5
    connections: int = 6
    warmup: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if self.size < 1:
            raise PinnError(f"the reservoir size must be >= 1, got {self.size}")
        for name in ("spectral_radius", "input_scaling"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise PinnError(f"the reservoir's {name.replace('_', ' ')} must be positive and finite, got {value}")
        if not (math.isfinite(self.leak) and 0 < self.leak <= 1):
            raise PinnError(f"the reservoir's leak rate must be in (0, 1], got {self.leak}")
        if self.connections < 1 or self.warmup < 1:
            raise PinnError(f"connections and warmup must be >= 1, got {self.connections} and {self.warmup}")


def reservoir_matrices(spec: ReservoirSpec, n_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """(W (N, N) with spectral radius spec.spectral_radius, W_in (N, 1 + n_inputs)) from spec.seed."""
    rng = np.random.default_rng(spec.seed)
    n = spec.size
    w = np.zeros((n, n))
    k = min(spec.connections, n)
    for i in range(n):
        w[i, rng.choice(n, k, replace=False)] = rng.normal(size=k)
    radius = float(np.max(np.abs(np.linalg.eigvals(w)))) if n > 1 else abs(float(w[0, 0]))
    w *= spec.spectral_radius / max(radius, 1e-300)
    w_in = rng.uniform(-spec.input_scaling, spec.input_scaling, (n, 1 + n_inputs))
    return w, w_in


class EchoStateNetwork(nn.Module):
    """The echo state network of the module docstring, float64, with a fitted readout ``output`` (K, d),
    K = 1 + m + 2N (m = state plus drive inputs)."""

    def __init__(self, spec: ReservoirSpec, normaliser: Normaliser, dt: float,
                 drive_freqs: Sequence[float] = ()) -> None:
        super().__init__()
        self.spec, self.dt = spec, float(dt)
        self.history_length = spec.warmup
        f64 = torch.float64
        for name in ("state_mean", "state_std", "rate_mean", "rate_std"):
            self.register_buffer(name, torch.tensor(np.asarray(getattr(normaliser, name), dtype=float), dtype=f64))
        self.register_buffer("freqs", torch.tensor(list(drive_freqs), dtype=f64))
        dim = int(self.state_mean.numel())
        m = dim + 2 * len(drive_freqs)
        w, w_in = reservoir_matrices(spec, m)
        self.register_buffer("w", torch.tensor(w, dtype=f64))
        self.register_buffer("w_in", torch.tensor(w_in, dtype=f64))
        self.register_buffer("output", torch.zeros(1 + m + 2 * spec.size, dim, dtype=f64))

    def inputs(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """(1, x): u (b, d), t (b, 1) -> (b, 1 + m)."""
        phase = t * self.freqs
        x = torch.cat(((u - self.state_mean) / self.state_std, torch.cos(phase), torch.sin(phase)), dim=1)
        return torch.cat((torch.ones(u.shape[0], 1, dtype=u.dtype), x), dim=1)

    def drive(self, r: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """One reservoir update: r (b, N), inputs (b, 1 + m) -> (b, N)."""
        leak = self.spec.leak
        return (1 - leak) * r + leak * torch.tanh(r @ self.w.T + inputs @ self.w_in.T)

    @staticmethod
    def readout_features(r: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """(1, x, r, r^2): (b, K)."""
        return torch.cat((inputs, r, r * r), dim=1)

    def predict(self, r: torch.Tensor, u: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """u_{k+1} from r_k and u_k: (b, d)."""
        return u + self.dt * (self.rate_mean + self.rate_std * (self.readout_features(r, inputs) @ self.output))

    def start(self, history: torch.Tensor, t_last: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Read the warm-up ``history`` (b, w, d), the last state at ``t_last``: state (r, u_last)."""
        history = history.to(torch.float64)
        b, w, _ = history.shape
        r = torch.zeros(b, self.spec.size, dtype=torch.float64)
        for k in range(w):
            t = torch.full((b, 1), t_last - (w - 1 - k) * self.dt, dtype=torch.float64)
            r = self.drive(r, self.inputs(history[:, k], t))
        return r, history[:, -1]

    def advance(self, state: tuple[torch.Tensor, torch.Tensor], t: torch.Tensor
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Predict the next state from (r_k, u_k) at times t (b, 1), then read the prediction."""
        r, u = state
        nxt = self.predict(r, u, self.inputs(u, t))
        return nxt, (self.drive(r, self.inputs(nxt, t + self.dt)), nxt)

    def predict_next(self, history: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """From a full warm-up window (b, w, d): the next state (b, d)."""
        r, u = self.start(history, float(t.reshape(-1)[0]))
        return self.predict(r, u, self.inputs(u, t))

    def teacher_forced(self, states: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Drive along true trajectories (m, n, d): predictions of samples w .. n-1, each from the true
        past only, (m, n - w, d)."""
        u = torch.as_tensor(states, dtype=torch.float64)
        m, n, _ = u.shape
        w = self.history_length
        r = torch.zeros(m, self.spec.size, dtype=torch.float64)
        out = torch.empty(m, n - w, u.shape[2], dtype=torch.float64)
        with torch.no_grad():
            for k in range(n - 1):
                inputs = self.inputs(u[:, k], torch.full((m, 1), float(t[k]), dtype=torch.float64))
                r = self.drive(r, inputs)
                if k >= w - 1:
                    out[:, k - w + 1] = self.predict(r, u[:, k], inputs)
        return out.numpy()

    def checkpoint(self) -> dict[str, Any]:
        from pinn.runs import to_json

        return {"kind": "reservoir", "spec": to_json(self.spec), "dt": self.dt, "state": self.state_dict()}

    @staticmethod
    def from_checkpoint(state: dict[str, Any]) -> "EchoStateNetwork":
        buffers = state["state"]
        norm = Normaliser(*(buffers[k].numpy() for k in ("state_mean", "state_std", "rate_mean", "rate_std")))
        model = EchoStateNetwork(ReservoirSpec(**state["spec"]), norm, float(state["dt"]), buffers["freqs"].tolist())
        model.load_state_dict(buffers)
        return model


def readout_normal_equations(model: EchoStateNetwork, data: TrajectoryData, which: str = "train",
                             stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Phi^T Phi (K, K) and Phi^T Y (K, d) over the teacher-forced trajectories of one subset, every
    ``stride``-th sample after the washout; Y the normalised one-step rate."""
    u = torch.as_tensor(data.subset(which), dtype=torch.float64)
    m, n, _ = u.shape
    w = model.history_length
    if n <= w + 1:
        raise PinnError(f"the trajectories ({n} samples) are too short for a warm-up of {w} samples")
    k_features = model.output.shape[0]
    gram = torch.zeros(k_features, k_features, dtype=torch.float64)
    rhs = torch.zeros(k_features, u.shape[2], dtype=torch.float64)
    r = torch.zeros(m, model.spec.size, dtype=torch.float64)
    block: list[torch.Tensor] = []
    targets: list[torch.Tensor] = []
    with torch.no_grad():
        for k in range(n - 1):
            inputs = model.inputs(u[:, k], torch.full((m, 1), float(data.t[k]), dtype=torch.float64))
            r = model.drive(r, inputs)
            if k >= w - 1 and (k - w + 1) % stride == 0:
                block.append(model.readout_features(r, inputs))
                targets.append(((u[:, k + 1] - u[:, k]) / model.dt - model.rate_mean) / model.rate_std)
            if len(block) * m >= 8192 or (k == n - 2 and block):
                phi, y = torch.cat(block), torch.cat(targets)
                gram += phi.T @ phi
                rhs += phi.T @ y
                block, targets = [], []
    return gram.numpy(), rhs.numpy()


def ridge_solutions(gram: np.ndarray, rhs: np.ndarray, ridges: Sequence[float]) -> list[np.ndarray]:
    """Readouts (K, d) minimising ||Phi W - Y||^2 + ridge ||D W||^2 (D = the feature columns' norms, so
    ridge is relative) for each ridge, from one eigen-decomposition of the scaled Gram matrix."""
    d = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    scaled = gram / np.outer(d, d)
    evals, evecs = np.linalg.eigh(scaled)
    proj = evecs.T @ (rhs / d[:, None])
    out = []
    for ridge in ridges:
        if ridge <= 0 or not math.isfinite(ridge):
            raise PinnError(f"the reservoir's ridge must be positive and finite, got {ridge}")
        out.append((evecs @ (proj / (np.maximum(evals, 0.0) + ridge)[:, None])) / d[:, None])
    return out


RESERVOIR_RIDGES = (1e-16, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6)
"""Relative ridges tried on validation for the readout."""

TUNING_RANGES = {"spectral_radius": (0.05, 1.5), "leak": (0.05, 1.0), "input_scaling": (0.02, 1.0)}
"""Ranges of the validation search (log-uniform), after Lukosevicius (2012) section 3.2."""


@dataclass
class ReservoirTrial:
    """One tried setting and its validation score (mean log10 error of free runs; lower is better)."""

    spec: ReservoirSpec
    ridge: float
    log_error: float
    vpt: float


def fit_reservoir(data: TrajectoryData, spec: ReservoirSpec, ridge: Optional[float] = None,
                  tune: Sequence[str] = (), trials: int = 12, stride: int = 2,
                  on_trial: Optional[Callable[[int, ReservoirTrial], None]] = None
                  ) -> tuple[EchoStateNetwork, list[ReservoirTrial]]:
    """Fit the readout, tuning the named hyper-parameters (``tune`` among 'spectral_radius', 'leak',
    'input_scaling') and the ridge (if ``ridge`` is None) on the validation trajectories.

    The search draws ``trials`` points of a scrambled Sobol sequence (seeded, log-uniform over
    :data:`TUNING_RANGES`); each point is fitted for every ridge of :data:`RESERVOIR_RIDGES`; the winner has
    the lowest validation score (free runs after the warm-up, :func:`pinn.surrogate.evaluate.validation_score`).
    Returns the best network and every trial.
    """
    from scipy.stats import qmc

    from pinn.surrogate.evaluate import validation_score

    unknown = set(tune) - set(TUNING_RANGES)
    if unknown:
        raise PinnError(f"cannot tune {', '.join(sorted(unknown))}; tunable: {', '.join(TUNING_RANGES)}")
    names = [n for n in TUNING_RANGES if n in tune]
    points: list[ReservoirSpec] = [spec]
    if names:
        sobol = qmc.Sobol(len(names), scramble=True, seed=spec.seed).random(max(1, trials))
        points = []
        for row in sobol:
            values = {n: float(np.exp(np.log(TUNING_RANGES[n][0]) + q * np.log(TUNING_RANGES[n][1] / TUNING_RANGES[n][0])))
                      for n, q in zip(names, row)}
            points.append(replace(spec, **values))
    ridges = (ridge,) if ridge is not None else RESERVOIR_RIDGES
    best: Optional[tuple[float, EchoStateNetwork]] = None
    history: list[ReservoirTrial] = []
    for i, point in enumerate(points):
        model = EchoStateNetwork(point, data.normaliser, data.config.dt, data.config.drive_freqs)
        gram, rhs = readout_normal_equations(model, data, "train", stride)
        trial_best: Optional[ReservoirTrial] = None
        for lam, readout in zip(ridges, ridge_solutions(gram, rhs, ridges)):
            model.output.copy_(torch.as_tensor(readout))
            score = validation_score(model, data, point.warmup - 1)
            trial = ReservoirTrial(point, float(lam), score.log_error, score.vpt)
            history.append(trial)
            if math.isfinite(score.log_error) and (best is None or score.log_error < best[0]):
                best = (score.log_error, _copy(model))
            if trial_best is None or score.log_error < trial_best.log_error:
                trial_best = trial
        if on_trial is not None and trial_best is not None:
            on_trial(i + 1, trial_best)
    if best is None:
        raise PinnError("every reservoir setting diverged on the validation trajectories; lower the spectral "
                        "radius or raise the ridge")
    return best[1], history


def _copy(model: EchoStateNetwork) -> EchoStateNetwork:
    return EchoStateNetwork.from_checkpoint(model.checkpoint())
