"""What a surrogate run will cost, checked before any work: ``pinn surrogate train`` and ``pinn sweep``.

:func:`prepare_surrogate` resolves a :class:`SurrogateConfig` against the problem, reads the sizes of the
data set (simulated, or the ``--data`` file), checks the relations between options that need those sizes
(a stride or a window longer than a trajectory, a batch larger than the data set), estimates memory and
floating-point operations, and refuses absurd requests with the estimate and the limit, before a run folder
exists. The operation counts are rough upper bounds (a multiply-add is 2 operations, a training step
about 3 forward passes); they guard against mistakes such as ``--trajectories 1000000000`` or
``--epochs 10000000``, not against a slow machine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from pinn import checks
from pinn.choices import Optimizer
from pinn.errors import PinnError
from pinn.spec import SurrogateProblem
from pinn.surrogate.config import Observation, SurrogateConfig, SurrogateKind

LIFTED = 128
"""Dimension of the lifted observations (:mod:`pinn.surrogate.autoencoder`)."""


@dataclass(frozen=True)
class DataSize:
    """Trajectories (train + validation, test), samples per trajectory, state size and sample step."""

    n_traj: int
    n_test: int
    samples: int
    dim: int
    dt: float

    @property
    def train_trajectories(self) -> int:
        return max(1, self.n_traj - max(1, round(0.1 * self.n_traj)))


def data_size(config: SurrogateConfig, problem: SurrogateProblem) -> DataSize:
    """The size of the data set the run will use: read from the ``--data`` file, or the simulated one."""
    dim = len(problem.components)
    if config.data is not None:
        from pinn.files import read_npz

        arrays = read_npz(Path(config.data), ("t", "states"))
        t, states = arrays["t"], arrays["states"]
        if states.ndim != 3 or t.ndim != 1 or states.shape[1] != t.size or t.size < 2:
            raise PinnError(f"{config.data}: 'states' must be (trajectories, times, {dim}) with one time per "
                            f"column of 't', got {states.shape} and {t.shape}")
        if states.shape[2] != dim:
            raise PinnError(f"{config.data} holds {states.shape[2]}-component states; {problem.name} has {dim}")
        n_test = config.test_trajectories or problem.n_test
        return DataSize(states.shape[0] - n_test, n_test, t.size, dim, float(t[1] - t[0]))
    dt = config.dt or problem.dt
    t_final = config.t_final or problem.t_final
    samples = checks.whole(t_final / dt + 0.5) + 1
    if samples > 1e9:
        raise PinnError(f"--t-final {t_final:g} over --dt {dt:g} is {samples:.3g} samples per trajectory; "
                        "use a larger --dt or a shorter --t-final")
    samples = int(samples)
    if samples < 2:
        raise PinnError(f"--t-final {t_final:g} is shorter than one step --dt {dt:g}")
    return DataSize(config.trajectories or problem.n_traj, config.test_trajectories or problem.n_test, samples,
                    dim, dt)


def check_relations(config: SurrogateConfig, size: DataSize, batch_size: Optional[int] = None) -> None:
    """Options that must fit the data set: stride, window + unroll and warm-up shorter than a trajectory,
    a batch given on the command line (``batch_size``; a recipe's default is clipped instead) no larger than
    the training pairs, at least 2 trajectories for training and validation."""
    n = size.samples
    if size.n_traj < 2:
        raise PinnError(f"{size.n_traj + size.n_test} trajectories leave {size.n_traj} for training and "
                        f"validation after {size.n_test} test ones; at least 2 are needed")
    stride = config.stride or 1
    if stride >= n - 1:
        raise PinnError(f"--stride {stride} leaves at most one training pair per trajectory of {n} samples; use a "
                        f"stride below {n - 1}")
    window = config.window or 1
    if window + config.unroll > n:
        raise PinnError(f"--window {window} plus --unroll {config.unroll} exceed the {n} samples of a trajectory")
    if config.model is SurrogateKind.reservoir and config.warmup >= n - 1:
        raise PinnError(f"--warmup {config.warmup} is not shorter than a trajectory of {n} samples")
    pairs = size.train_trajectories * max(1, (n - window - config.unroll) // stride + 1)
    if batch_size and batch_size > pairs:
        raise PinnError(f"--batch-size {batch_size} exceeds the {pairs} training pairs; give at most "
                        f"{pairs} (or 0 for the whole set)")


def _network_parameters(config: SurrogateConfig, d: int) -> float:
    width, depth = config.width or 64, config.depth or 1
    if config.model.recurrent:
        gates = {SurrogateKind.lstm: 4, SurrogateKind.gru: 3}.get(config.model, 1)
        return depth * gates * width * (width + d + 2) + width * d
    return width * (d + 2) + (depth - 1) * width * (width + 1) + width * d + d * d


def work_estimate(config: SurrogateConfig, size: DataSize) -> dict[str, Any]:
    """Memory (bytes) and floating-point operations of fitting ``config`` (resolved) on data of ``size``."""
    d = LIFTED if config.observe is Observation.lifted128 else size.dim
    n, stride = size.samples, config.stride or 1
    pairs = size.train_trajectories * max(1, (n - 1) // stride)
    memory = 8.0 * (size.n_traj + size.n_test) * n * (size.dim * 6 + (2 * LIFTED if d == LIFTED else 0))
    kind = config.model
    if kind.trained_network or kind is SurrogateKind.autoencoder:
        params = _network_parameters(config, d) if kind.trained_network else 4.0 * LIFTED * (config.width or 64)
        inner = 1 + 25 * config.lbfgs_iters if config.optimizer in (Optimizer.lbfgs, Optimizer.adam_lbfgs) else 1
        flops = 6.0 * (config.epochs or 1) * inner * pairs * params * config.unroll * (config.window or 1)
        batch = config.batch_size or pairs
        memory += 8.0 * batch * (config.width or 64) * (config.depth or 1) * (config.window or 1) * 8 + 8.0 * params * 8
    elif kind in (SurrogateKind.random_features, SurrogateKind.polynomial, SurrogateKind.sindy):
        from pinn.surrogate.lsq import polynomial_count

        features = config.features or 0
        if kind is not SurrogateKind.random_features:
            features = polynomial_count(d, config.degree or 2)
        refine = 2.0 * (1 + config.gauss_newton) * pairs * features * d * 10
        flops = 2.0 * pairs * features ** 2 * 4 + 2.0 * features ** 3 * 8 + refine
        memory += 8.0 * pairs * features * 3 + 8.0 * features ** 2 * 4
    else:
        units = config.reservoir_size or 600
        flops = config.trials * (2.0 * pairs * stride * units * 7 + 2.0 * pairs * units ** 2 + 2.0 * units ** 3)
        memory += 8.0 * pairs * units * 2 + 8.0 * units ** 2 * 3
    return {"trajectories": size.n_traj + size.n_test, "samples_per_trajectory": n, "training_pairs": pairs,
            "flops": flops, "memory_bytes": memory}


def prepare_surrogate(config: SurrogateConfig, problem: SurrogateProblem,
                      out: Optional[str] = None) -> tuple[SurrogateConfig, dict[str, Any]]:
    """Everything ``pinn surrogate train`` checks before any work: the resolved config, the data file and
    its sizes, the relations between options, the output folder, memory and time. Returns the resolved
    config and the estimate (PinnError, one line, on anything wrong)."""
    from pinn.runs import check_output_root

    asked, config = config, config.resolved()
    if config.data is not None and not Path(config.data).is_file():
        raise PinnError(f"no data file at {config.data}")
    size = data_size(config, problem)
    dt = config.dt or size.dt
    replace(config, horizon=config.horizon or problem.horizon).check_horizon(dt)
    check_relations(config, size, asked.batch_size)
    check_output_root(out if out is not None else config.out)
    estimate = work_estimate(config, size)
    checks.memory(estimate["memory_bytes"], "this surrogate", "use fewer --trajectories, a shorter --t-final, a "
                  "larger --stride or a smaller model")
    estimate["seconds_bound"] = checks.budget(estimate.pop("flops"), "this surrogate", "lower --epochs, "
                                              "--trajectories or the model size, or raise --stride")
    return config, estimate
