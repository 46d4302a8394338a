"""Trajectory data for surrogates: seeded simulation, split by trajectory, normalisation fitted on train.

The lecture notes' recipe: 100 initial states drawn uniformly from the box [-15, 15]^3, each integrated
with a step dt = 0.01 on t in [0, 8] (801 samples per trajectory), input x_t and target x_{t+1}. The
integrator is the order-30 Taylor series of :mod:`pinn.taylor` (round-off accurate) when the right-hand
side supports it, else the vectorised classical RK4 of :mod:`pinn.reference` at a fine inner step
(dt / substeps; on Lorenz 20 substeps leave samples up to 8e-5 away from the Taylor solution over
t in [0, 8], enough to cap a perfect surrogate's VPT near 20 Lyapunov times).

Whole trajectories go to one set each (train, validation or test): consecutive samples of one trajectory
are nearly identical, so splitting samples would leak the test set into training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pinn.errors import PinnError
from pinn.problem import Rhs
from pinn.reference import rk4
from pinn.runs import to_json
from pinn.surrogate.config import Integrator


def sample_times(dt: float, t_final: float) -> np.ndarray:
    """The notes' grid t = 0, dt, ..., t_final: (n,) with n = round(t_final / dt) + 1."""
    if dt <= 0 or t_final <= 0:
        raise PinnError(f"need dt > 0 and t_final > 0, got dt={dt}, t_final={t_final}")
    n = int(round(t_final / dt))
    if n < 1:
        raise PinnError(f"t_final ({t_final}) must be at least one step dt ({dt})")
    return np.arange(n + 1, dtype=float) * dt


def integrate(rhs: Rhs, u0: np.ndarray, t: np.ndarray, substeps: int = 20) -> np.ndarray:
    """RK4 from the states ``u0`` (b, d) on the uniform grid ``t`` (n,), with ``substeps`` inner steps per
    interval (inner step (t[1] - t[0]) / substeps); returns (b, n, d) float64."""
    if substeps < 1:
        raise PinnError(f"substeps must be >= 1, got {substeps}")
    t = np.asarray(t, dtype=float)
    fine = t[0] + (t[1] - t[0]) / substeps * np.arange((t.size - 1) * substeps + 1)
    return rk4(rhs, np.atleast_2d(np.asarray(u0, dtype=float)), fine)[:, ::substeps].numpy()


def simulate_trajectories(rhs: Rhs, n_traj: int, dt: float, t_final: float,
                          box: tuple[float, float] = (-15.0, 15.0), seed: int = 0, dim: int = 3,
                          substeps: int = 20, integrator: Integrator = Integrator.rk4) -> tuple[np.ndarray, np.ndarray]:
    """The notes' data set: ``n_traj`` initial states uniform in ``box``^dim, integrated on [0, t_final].

    Initial states come from ``numpy.random.default_rng(seed).uniform(box[0], box[1], (n_traj, dim))``, so
    asking for more trajectories with the same seed keeps the first ones unchanged.

    Args:
        rhs: f(t, u), t (b, 1), u (b, d) -> (b, d) in torch.
        n_traj: number of trajectories (>= 1); dt: sample step; t_final: last time.
        box: (low, high) of the uniform initial states; seed: generator seed; dim: state size d.
        substeps: RK4 inner steps per sample step.
        integrator: 'rk4' or 'taylor' (:class:`pinn.surrogate.references.Integrator`; Taylor falls back to
            RK4 for a right-hand side it cannot expand).
    Returns:
        t (n,) and states (n_traj, n, dim), float64.
    """
    if n_traj < 1:
        raise PinnError(f"need at least one trajectory, got {n_traj}")
    if not box[0] < box[1]:
        raise PinnError(f"the box needs low < high, got {box}")
    t = sample_times(dt, t_final)
    u0 = np.random.default_rng(seed).uniform(box[0], box[1], (n_traj, dim))
    from pinn.surrogate.references import integrate_states

    states, _ = integrate_states(rhs, u0, t, Integrator(integrator), substeps)
    if not np.all(np.isfinite(states)):
        raise PinnError("the simulated trajectories blew up: reduce dt or the box of initial states")
    return t, states


@dataclass(frozen=True)
class DataConfig:
    """How a surrogate data set is made (saved inside the NPZ and the run folder).

    ``n_traj`` trajectories (the notes' set) are split into train and validation (``val_fraction`` of them,
    at least one); ``n_test`` further trajectories from the same seeded stream are the unseen test set.
    ``drive_freqs`` are the angular frequencies of an external periodic drive (empty for an autonomous
    system); the surrogates then also see cos(w t), sin(w t). ``integrator``: 'taylor' (round-off accurate,
    the default) or 'rk4' with ``substeps`` inner steps.
    """

    problem: str = "lorenz"
    n_traj: int = 100
    n_test: int = 20
    dt: float = 0.01
    t_final: float = 8.0
    box: tuple[float, float] = (-15.0, 15.0)
    seed: int = 0
    substeps: int = 20
    val_fraction: float = 0.1
    drive_freqs: tuple[float, ...] = ()
    integrator: Integrator = Integrator.taylor

    def __post_init__(self) -> None:
        if self.n_traj < 2:
            raise PinnError(f"need at least 2 trajectories (train and validation), got {self.n_traj}")
        if self.n_test < 1:
            raise PinnError(f"need at least one test trajectory, got {self.n_test}")
        if not 0.0 < self.val_fraction < 1.0:
            raise PinnError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        try:
            object.__setattr__(self, "integrator", Integrator(self.integrator))  # JSON gives the plain value
        except ValueError:
            raise PinnError(f"integrator must be taylor or rk4, got {self.integrator!r}") from None


@dataclass(frozen=True)
class Normaliser:
    """Per-component affine scalings fitted on the training trajectories only.

    state: z = (u - state_mean) / state_std;  rate: r = ((u_{t+1} - u_t) / dt - rate_mean) / rate_std.
    All arrays (d,).
    """

    state_mean: np.ndarray
    state_std: np.ndarray
    rate_mean: np.ndarray
    rate_std: np.ndarray

    @staticmethod
    def fit(states: np.ndarray, dt: float) -> "Normaliser":
        """Fit on training trajectories ``states`` (m, n, d)."""
        flat = states.reshape(-1, states.shape[-1])
        rate = (np.diff(states, axis=1) / dt).reshape(-1, states.shape[-1])
        tiny = 1e-12
        return Normaliser(flat.mean(0), np.maximum(flat.std(0), tiny), rate.mean(0),
                          np.maximum(rate.std(0), tiny))


def split_trajectories(n_traj: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded permutation of range(n_traj) cut into (train, validation) index arrays, each non-empty."""
    order = np.random.default_rng(seed + 1).permutation(n_traj)
    n_val = min(n_traj - 1, max(1, int(round(val_fraction * n_traj))))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


@dataclass
class TrajectoryData:
    """Simulated trajectories with their split and normalisation.

    Attributes:
        config: how the data were made.
        t: (n,) sample times; states: (n_traj + n_test, n, d).
        train, val, test: trajectory indices into ``states`` (disjoint).
        normaliser: fitted on ``states[train]``.
    """

    config: DataConfig
    t: np.ndarray
    states: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    normaliser: Normaliser = field(repr=False)

    @property
    def dim(self) -> int:
        """State size d."""
        return int(self.states.shape[-1])

    def subset(self, which: str) -> np.ndarray:
        """Trajectories of one set ('train', 'val' or 'test'): (m, n, d)."""
        if which not in ("train", "val", "test"):
            raise PinnError(f"unknown subset {which!r}: use train, val or test")
        return self.states[getattr(self, which)]

    def save(self, path: Path) -> None:
        """Write an NPZ holding the arrays and the config (as JSON text under the key 'config')."""
        from pinn.files import save_npz

        n = self.normaliser
        save_npz(path, t=self.t, states=self.states, train=self.train, val=self.val, test=self.test,
                 state_mean=n.state_mean, state_std=n.state_std, rate_mean=n.rate_mean, rate_std=n.rate_std,
                 config=np.array(json.dumps(to_json(self.config))))

    @staticmethod
    def load(path: Path) -> "TrajectoryData":
        """Read an NPZ written by :meth:`save`; PinnError naming the file if it is not one."""
        from pinn.files import read_npz

        path = Path(path)
        keys = ("t", "states", "train", "val", "test", "state_mean", "state_std", "rate_mean", "rate_std", "config")
        z = read_npz(path, keys)
        try:
            raw = json.loads(str(z["config"]))
            raw["box"] = tuple(raw["box"])
            raw["drive_freqs"] = tuple(raw["drive_freqs"])
            config = DataConfig(**raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PinnError(f"{path} is not a surrogate data file (its config: {type(exc).__name__})") from None
        check_trajectories(path, z["t"], z["states"])
        n = len(z["states"])
        for name in ("train", "val", "test"):
            idx = z[name]
            if idx.ndim != 1 or idx.dtype.kind not in "iu" or idx.size == 0 or idx.min() < 0 or idx.max() >= n:
                raise PinnError(f"{path}: the {name} indices are not trajectory numbers below {n}")
        norm = Normaliser(z["state_mean"], z["state_std"], z["rate_mean"], z["rate_std"])
        return TrajectoryData(config, z["t"], z["states"], z["train"], z["val"], z["test"], norm)


def check_trajectories(path: Path | str, t: np.ndarray, states: np.ndarray) -> None:
    """PinnError naming ``path`` unless t is (n,) strictly increasing and uniform, states (m, n, d) finite
    floats with n >= 2."""
    if t.ndim != 1 or t.size < 2 or t.dtype.kind not in "fiu" or states.dtype.kind not in "fiu":
        raise PinnError(f"{path}: 't' must hold at least 2 numbers, got shape {t.shape} ({t.dtype})")
    if states.ndim != 3 or states.shape[1] != t.size or states.shape[2] < 1:
        raise PinnError(f"{path}: 'states' must be (trajectories, {t.size} times, components), got {states.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(states))):
        raise PinnError(f"{path} holds NaN or infinite values")
    steps = np.diff(t.astype(float))
    if not (steps[0] > 0 and np.allclose(steps, steps[0], rtol=1e-9, atol=1e-12)):
        raise PinnError(f"{path}: the times must be uniform and increasing")


def from_trajectories(t: np.ndarray, states: np.ndarray, config: DataConfig) -> TrajectoryData:
    """Split trajectories made elsewhere (e.g. ``pinn simulate``'s NPZ): the last ``config.n_test`` are
    the test set, the others are cut into train and validation as in :func:`make_dataset`."""
    states = np.asarray(states, dtype=float)
    t = np.asarray(t, dtype=float)
    if states.ndim != 3 or states.shape[1] != t.size:
        raise PinnError(f"trajectories must be (m, n, d) with n = len(t) = {t.size}, got {states.shape}")
    n_traj = states.shape[0] - config.n_test
    if n_traj < 2:
        raise PinnError(f"{states.shape[0]} trajectories leave fewer than 2 for training after "
                        f"{config.n_test} test ones; simulate more or lower the test count")
    train, val = split_trajectories(n_traj, config.val_fraction, config.seed)
    test = np.arange(n_traj, states.shape[0])
    dt = float(t[1] - t[0])
    if not np.allclose(np.diff(t), dt, rtol=1e-9, atol=1e-12):
        raise PinnError("the trajectories must be sampled on a uniform time grid")
    from dataclasses import replace

    config = replace(config, n_traj=n_traj, dt=dt, t_final=float(t[-1] - t[0]))
    return TrajectoryData(config, t, states, train, val, test, Normaliser.fit(states[train], dt))


def make_dataset(rhs: Rhs, dim: int, config: DataConfig) -> TrajectoryData:
    """Simulate ``config.n_traj + config.n_test`` trajectories of du/dt = rhs and split them.

    The first ``n_traj`` are the notes' set (train + validation); the last ``n_test`` are the test set.
    """
    t, states = simulate_trajectories(rhs, config.n_traj + config.n_test, config.dt, config.t_final,
                                      config.box, config.seed, dim, config.substeps, config.integrator)
    train, val = split_trajectories(config.n_traj, config.val_fraction, config.seed)
    test = np.arange(config.n_traj, config.n_traj + config.n_test)
    return TrajectoryData(config, t, states, train, val, test, Normaliser.fit(states[train], config.dt))


def pair_indices(n: int, stride: int = 1, dense: int = 0) -> np.ndarray:
    """Start indices of the one-step pairs kept from a trajectory of n samples: all of the first ``dense``,
    then every ``stride``-th."""
    stride = max(1, int(stride))
    dense = min(max(0, int(dense)), n - 1)
    return np.concatenate((np.arange(dense), np.arange(dense, n - 1, stride)))


def flow_pairs(states: np.ndarray, t: np.ndarray, stride: int = 1,
               dense: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs u_t, times t and targets u_{t+1} of every trajectory, flattened.

    Args:
        states: (m, n, d); t: (n,); stride: keep every ``stride``-th pair (consecutive pairs are nearly
            duplicates, so a stride trades little information for speed); dense: keep all of the first
            ``dense`` pairs (the transient from a random initial state visits each region only once).
    Returns:
        u (k, d), t (k, 1), u_next (k, d), k = m * len(pair_indices(n, stride, dense)).
    """
    m, n, d = states.shape
    idx = pair_indices(n, stride, dense)
    u = states[:, idx].reshape(-1, d)
    u_next = states[:, idx + 1].reshape(-1, d)
    times = np.broadcast_to(t[idx], (m, idx.size)).reshape(-1, 1)
    return u, times.copy(), u_next


def windows(states: np.ndarray, t: np.ndarray, window: int,
            stride: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sliding windows for recurrent models: w consecutive states and the state after them.

    Returns:
        history (k, w, d), times of the last window state (k, 1), next state (k, d).
    """
    m, n, d = states.shape
    if window < 1 or window >= n:
        raise PinnError(f"window must be between 1 and {n - 1} samples, got {window}")
    starts = np.arange(0, n - window, max(1, int(stride)))
    idx = starts[:, None] + np.arange(window)[None, :]  # (k, w)
    history = states[:, idx].reshape(-1, window, d)
    target = states[:, starts + window].reshape(-1, d)
    times = np.broadcast_to(t[starts + window - 1], (m, starts.size)).reshape(-1, 1)
    return history, times.copy(), target


def load_trajectories(path: Path, config: DataConfig) -> TrajectoryData:
    """Read a surrogate data file (:meth:`TrajectoryData.save`) or a plain NPZ with ``t`` (n,) and
    ``states`` (m, n, d) such as ``pinn simulate`` writes (split with :func:`from_trajectories`)."""
    from pinn.files import read_npz

    path = Path(path)
    z = read_npz(path)
    if {"train", "val", "test"} <= set(z):
        data = TrajectoryData.load(path)
        if data.config.problem != config.problem:
            raise PinnError(f"{path} holds {data.config.problem} trajectories, not {config.problem}")
        return data
    if not {"t", "states"} <= set(z):
        raise PinnError(f"{path} has neither a surrogate data set nor 't' and 'states' arrays")
    t, states = z["t"], z["states"]
    check_trajectories(path, t, states)
    name = config.problem
    if "config" in z:
        try:
            name = json.loads(str(z["config"])).get("problem", name)
        except (ValueError, AttributeError):
            raise PinnError(f"{path}: its 'config' entry is not a JSON object") from None
    if name != config.problem:
        raise PinnError(f"{path} holds {name} trajectories, not {config.problem}")
    return from_trajectories(t, states, config)


def unrolled_windows(states: np.ndarray, t: np.ndarray, window: int, unroll: int,
                     stride: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of w states and the ``unroll`` states after them, for multi-step training.

    Returns:
        history (k, w, d), times of the last window state (k, 1), next states (k, unroll, d).
    """
    m, n, d = states.shape
    if window < 1 or unroll < 1 or window + unroll > n:
        raise PinnError(f"window ({window}) + unroll ({unroll}) must be at most the {n} samples of a trajectory")
    starts = np.arange(0, n - window - unroll + 1, max(1, int(stride)))
    idx = starts[:, None] + np.arange(window)[None, :]  # (k, w)
    history = states[:, idx].reshape(-1, window, d)
    ahead = starts[:, None] + window + np.arange(unroll)[None, :]  # (k, unroll)
    target = states[:, ahead].reshape(-1, unroll, d)
    times = np.broadcast_to(t[starts + window - 1], (m, starts.size)).reshape(-1, 1)
    return history, times.copy(), target
