"""Surrogate run folders: the data set of a run, its checkpoint and history, the evaluation summary,
reloading a trained surrogate, and a free rollout from one initial state against the reference.

A run folder made by ``pinn surrogate train`` holds config.json (``"surrogate": true``, the problem, the
model kind, the data config, the horizon and lambda_max), model.pt, data.npz, metrics.json and figures;
``rollout`` adds a ``rollout-<time>/`` folder with rollout.json and rollout.csv.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from pinn.errors import PinnError
from pinn.files import write_text
from pinn.problem import Rhs
from pinn.runs import save_checkpoint, write_csv, write_json
from pinn.surrogate.data import DataConfig, TrajectoryData
from pinn.surrogate.models import Stepper

LYAPUNOV_SEED = 12345
"""Seed of the starting states of :func:`estimate_lyapunov` (fixed so the estimate is reproducible)."""


def estimate_lyapunov(rhs: Rhs, box: tuple[float, float], dim: int, dt: float) -> float:
    """lambda_max of du/dt = rhs(t, u) by Benettin's method: 32 starts drawn from U[box]^dim, 100 time units
    after a transient of 10, step dt. Returns 1 / time units."""
    from pinn.surrogate.lyapunov import largest_lyapunov_exponent

    rng = np.random.default_rng(LYAPUNOV_SEED)
    u0 = rng.uniform(box[0], box[1], (32, dim))  # (32, dim)
    return largest_lyapunov_exponent(rhs, u0, dt=dt, t_total=100.0, transient=10.0).value


def surrogate_dataset(rhs: Rhs, dim: int, config: DataConfig, path: Optional[Path] = None) -> TrajectoryData:
    """The trajectories of a run: read from the NPZ at ``path`` if given, else simulated from ``rhs``."""
    from pinn.surrogate.data import load_trajectories, make_dataset

    if path is not None:
        return load_trajectories(path, config)
    return make_dataset(rhs, dim, config)


def save_sindy(folder: Path, model: Any, equations: Sequence[str]) -> None:
    """Write a fitted SINDy :class:`PolynomialField` as model.pt and its equations as equations.txt."""
    save_checkpoint(folder / "model.pt", {"kind": "sindy", "powers": model.powers,
                                          "coefficients": model.coefficients, "substeps": model.substeps})
    write_text(folder / "equations.txt", "\n".join(equations) + "\n")


HISTORY_COLUMNS = ("epoch", "train_loss", "val_loss", "lr", "seconds")


def write_history(folder: Path, history: Sequence[dict[str, float]]) -> None:
    """Write the per-epoch training history as history.csv (columns :data:`HISTORY_COLUMNS`)."""
    write_csv(folder / "history.csv", list(HISTORY_COLUMNS),
              [np.array([h[k] for h in history]) for k in HISTORY_COLUMNS])


def load_stepper(folder: Path) -> tuple[Stepper, dict[str, Any]]:
    """Rebuild the surrogate saved in a run folder: (stepper, config dict). A folder of another command, a
    config.json or model.pt that is malformed, foreign or crafted (loaded with ``weights_only=True``), or a
    model that does not match the run's model type, is a :class:`PinnError` naming the file."""
    from pinn.files import load_checkpoint, one_line, read_json, require

    folder = Path(folder)
    config_path, model_path = folder / "config.json", folder / "model.pt"
    if not config_path.is_file() or not model_path.is_file():
        raise PinnError(f"{folder} is not a surrogate run folder (config.json and model.pt are needed)")
    config = read_json(config_path, "run configuration")
    if not isinstance(config, dict) or not config.get("surrogate"):
        raise PinnError(f"{folder} is not a surrogate run folder (made by another command)")
    for key, kind in (("model", str), ("problem", str), ("data", dict), ("lyapunov", (int, float))):
        require(config, key, kind, config_path)
    for key, kind in (("dt", (int, float)), ("substeps", int)):
        require(config["data"], key, kind, config_path, f"data.{key}")
    if not (config["data"]["dt"] > 0 and config["data"]["substeps"] >= 1):
        raise PinnError(f"{config_path}: data.dt must be > 0 and data.substeps >= 1")
    state = load_checkpoint(model_path, what="surrogate model")
    try:
        return _rebuild(config, state), config
    except PinnError:
        raise
    except Exception as exc:  # a foreign file can break a rebuild in many ways; none may surface as a crash
        raise PinnError(f"{model_path} does not hold a {config['model']} surrogate this version can read "
                        f"({type(exc).__name__}: {one_line(exc)[:150]})") from None


def _rebuild(config: dict[str, Any], state: dict[str, Any]) -> Stepper:
    from pinn.surrogate.config import SurrogateKind
    from pinn.surrogate.data import Normaliser
    from pinn.surrogate.models import PolynomialField, build_model, spec_from_json

    kind = SurrogateKind(config["model"])
    data_cfg = config["data"]
    saved_kind = state.get("kind")
    from pinn.surrogate.scratch_rnn import CHECKPOINT_KIND, load_checkpoint_state

    if saved_kind == CHECKPOINT_KIND:
        return load_checkpoint_state(state)
    expected = {SurrogateKind.sindy: "sindy", SurrogateKind.random_features: "least-squares",
                SurrogateKind.polynomial: "least-squares", SurrogateKind.reservoir: "reservoir",
                SurrogateKind.autoencoder: "autoencoder"}.get(kind, "network")
    if saved_kind not in (expected, None if expected == "network" else expected):
        raise ValueError(f"the model file holds a {saved_kind} model, the run says {kind.value}")
    if kind is SurrogateKind.sindy:
        return PolynomialField(state["powers"].numpy(), state["coefficients"].numpy(), data_cfg["dt"],
                               data_cfg["drive_freqs"], int(state["substeps"]))
    if expected == "least-squares":
        from pinn.surrogate.lsq import LeastSquaresFlowMap

        return LeastSquaresFlowMap.from_checkpoint(state)
    if kind is SurrogateKind.reservoir:
        from pinn.surrogate.reservoir import EchoStateNetwork

        return EchoStateNetwork.from_checkpoint(state)
    if kind is SurrogateKind.autoencoder:
        from pinn.surrogate.autoencoder import SindyAutoencoder

        return SindyAutoencoder.from_checkpoint(state)
    spec = spec_from_json(state["spec"])
    if spec.kind is not kind:
        raise ValueError(f"the model file holds a {spec.kind.value} network, the run says {kind.value}")
    zeros = np.zeros(spec.dim)
    # the normaliser's statistics are buffers of the model, so load_state_dict restores them
    stepper = build_model(spec, Normaliser(zeros, zeros + 1, zeros, zeros + 1))
    stepper.load_state_dict(state["state"])
    stepper.eval()
    return stepper


@dataclass(frozen=True)
class RolloutResult:
    """One free rollout against the reference.

    t: (n+1,) sample times from 0; pred, true: (1, n+1, d), pred copying true over the first w-1 samples
    (the model's warm-up window); window: w; tt: (n-w+2,) times from the end of the warm-up; error: (1,
    n-w+2) normalised error on tt; vpt / vpt_nrmse: valid prediction times (time units, from tt[0]);
    censored: the norm error never crossed its threshold; stats: attractor statistics after the transient.
    """

    t: np.ndarray
    pred: np.ndarray
    true: np.ndarray
    window: int
    tt: np.ndarray
    error: np.ndarray
    vpt: float
    vpt_nrmse: float
    censored: bool
    stats: dict[str, Any]


def rollout_run(stepper: Stepper, rhs: Rhs, u0: Sequence[float], dt: float, substeps: int,
                t_final: float, observe: Any = "state") -> RolloutResult:
    """Run ``stepper`` freely from ``u0`` (d,) for ``t_final`` time units at sample step ``dt`` and compare it
    with the reference of ``rhs`` (the Taylor series, or RK4 with ``substeps`` inner steps per sample), seen
    through ``observe`` ('state' or 'lifted128'). The first w samples of the reference seed a model reading
    a window (or warm-up) of w states. VPT thresholds: NORM_THRESHOLD and NRMSE_THRESHOLD of
    :mod:`pinn.surrogate.evaluate`; the attractor statistics skip the first min(2, half the rollout)."""
    from pinn.surrogate.config import Observation
    from pinn.surrogate.evaluate import (
        NORM_THRESHOLD,
        NRMSE_THRESHOLD,
        attractor_statistics,
        normalised_error,
        nrmse,
        valid_prediction_time,
    )
    from pinn.surrogate.evaluate import rollout as free_rollout
    from pinn.surrogate.references import integrate_states

    n = int(round(t_final / dt))
    w = int(stepper.history_length)
    if n <= w:
        raise PinnError(f"--t-final {t_final} is shorter than the model's window ({w} steps of {dt})")
    t = np.arange(n + 1) * dt
    true, _ = integrate_states(rhs, np.array([u0], dtype=float), t, substeps=substeps)  # (1, n+1, d)
    if not np.all(np.isfinite(true)):
        raise PinnError(f"the reference solution from {list(u0)} leaves the finite numbers before t = {t_final:g}; "
                        "choose an initial state nearer the training data")
    if Observation(observe) is Observation.lifted128:
        from pinn.surrogate.autoencoder import lift

        true = lift(true)
    d = true.shape[-1]
    pred = np.concatenate((true[:, :w - 1], free_rollout(stepper, true[:, :w], float(t[w - 1]), n - w + 1)), axis=1)
    tt, p, q = t[w - 1:], pred[:, w - 1:], true[:, w - 1:]
    err = normalised_error(p, q)
    sigma = q.reshape(-1, d).std(axis=0)
    vpt, censored = valid_prediction_time(err, tt, NORM_THRESHOLD)
    vpt2, _ = valid_prediction_time(nrmse(p, q, np.maximum(sigma, 1e-12)), tt, NRMSE_THRESHOLD)
    later = tt - tt[0] >= min(2.0, 0.5 * (tt[-1] - tt[0]))  # the long-run statistics skip the transient
    stats = attractor_statistics(p[:, later], q[:, later])
    return RolloutResult(t, pred, true, w, tt, err, float(vpt[0]), float(vpt2[0]), bool(censored[0]), stats)


def blow_up_time(result: RolloutResult) -> Optional[float]:
    """The first time at which the surrogate's rollout left the finite numbers, or None."""
    bad = ~np.isfinite(result.pred[0]).all(axis=-1)  # (n+1,)
    return float(result.t[int(np.argmax(bad))]) if bad.any() else None


def write_rollout(folder: Path, result: RolloutResult, components: Sequence[str], u0: Sequence[float],
                  t_final: float, lyapunov: float) -> None:
    """Write rollout.json (VPTs, W1, settings) and rollout.csv (t, <c>_pred, <c>_true, error) into folder."""
    write_json(folder / "rollout.json", {"ic": u0, "t_final": t_final, "vpt": result.vpt,
                                         "vpt_nrmse": result.vpt_nrmse, "censored": result.censored,
                                         "lyapunov": lyapunov, "attractor_w1": result.stats["w1"],
                                         "attractor_w1_mean": result.stats["w1_mean"],
                                         "blew_up_at": blow_up_time(result)})
    header = ["t", *[f"{c}_pred" for c in components], *[f"{c}_true" for c in components], "error"]
    write_csv(folder / "rollout.csv", header, [result.t, *result.pred[0].T, *result.true[0].T,
                                               np.r_[np.zeros(result.window - 1), result.error[0]]])
