"""A grid study of surrogate training choices: every combination of the chosen axes, trained with the same
seed, data and budget, in parallel processes, resumable, summarised as CSV, markdown and figures.

The sweep folder holds ``sweep.json`` (the fixed settings), ``data.npz`` and ``reference.npz`` (made once,
shared by every point), ``results.csv`` (one row per finished point, rewritten atomically after each),
``results.md`` and the figures. Running again on the same folder skips the points already in
``results.csv``; a folder made with other fixed settings is refused rather than mixed.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import itertools
import json
import math
import multiprocessing
import shutil
import signal
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from pinn.choices import Optimizer, Schedule
from pinn import checks
from pinn.errors import Interrupted, PinnError, WriteError
from pinn.problem import Rhs
from pinn.progress import Reporter
from pinn.files import save_npz, write_problem, write_text
from pinn.runs import to_json, write_json
from pinn.spec import SurrogateProblem
from pinn.surrogate.config import SweepAxis, SweepCommand, axis_values
from pinn.surrogate.data import TrajectoryData
from pinn.surrogate.evaluate import ReferenceSet, evaluate
from pinn.surrogate.models import FlowForm, ModelSpec, SurrogateKind
from pinn.surrogate.train import TrainConfig, count_parameters, train_surrogate

_SPEC_AXES = {SweepAxis.width, SweepAxis.depth, SweepAxis.activation, SweepAxis.dropout, SweepAxis.form}

DEFAULT_LR = {Optimizer.gd: 0.05, Optimizer.gd_momentum: 0.01, Optimizer.sgd: 0.05, Optimizer.sgd_momentum: 0.01,
              Optimizer.nesterov: 0.01, Optimizer.adam: 3e-3, Optimizer.adamw: 3e-3, Optimizer.adam_lbfgs: 3e-3,
              Optimizer.lbfgs: 1.0}
"""Learning rate per optimizer when the sweep does not vary it: one lr for all would measure the lr,
not the method. Plain (S)GD takes 5x the momentum variants' step, as momentum 0.9 multiplies the
effective step by 10."""


def parse_axis_values(axis: SweepAxis, values: Sequence[str]) -> tuple[Any, ...]:
    """Typed, de-duplicated values of one axis; an empty axis or a bad value is a :class:`PinnError`."""
    return axis_values(axis, values)


@dataclass(frozen=True)
class SweepConfig:
    """The grid and everything held fixed across its points.

    grid: (axis, values) pairs; spec/train: the settings every point starts from; horizon: time units of
    the free rollout that measures VPT; lyapunov: lambda_max for Lyapunov times; one_step_stride: every
    k-th test pair for the one-step error.
    """

    problem: str
    grid: tuple[tuple[SweepAxis, tuple[Any, ...]], ...]
    spec: ModelSpec
    train: TrainConfig
    horizon: float = 15.0
    lyapunov: float = 0.906
    one_step_stride: int = 4

    def __post_init__(self) -> None:
        if not self.grid:
            raise PinnError("the sweep needs at least one axis")
        seen = set()
        for axis, values in self.grid:
            if not values:
                raise PinnError(f"the sweep axis {axis.value} has no values")
            if axis in seen:
                raise PinnError(f"the sweep axis {axis.value} is given twice")
            seen.add(axis)

    @property
    def axes(self) -> list[str]:
        return [axis.value for axis, _ in self.grid]

    def points(self) -> list[dict[str, Any]]:
        """Every combination, as {axis name: value}, in grid order."""
        names = self.axes
        return [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in self.grid))]

    def fixed(self) -> dict[str, Any]:
        """The settings that must match for a folder to be resumed."""
        raw = to_json(self)
        raw.pop("grid")
        return raw


def point_key(point: dict[str, Any]) -> str:
    """A stable text key: 'width=16|depth=1|...' (enum values, not names)."""
    return "|".join(f"{k}={v.value if isinstance(v, enum.Enum) else v}" for k, v in point.items())


def point_settings(config: SweepConfig, point: dict[str, Any]) -> tuple[ModelSpec, TrainConfig]:
    """The model spec and training config of one grid point."""
    spec_changes = {k: v for k, v in point.items() if SweepAxis(k) in _SPEC_AXES}
    train_changes = {k: v for k, v in point.items() if SweepAxis(k) not in _SPEC_AXES}
    train = replace(config.train, **train_changes)
    if SweepAxis.lr.value not in point and SweepAxis.optimizer.value in point:
        train = replace(train, lr=DEFAULT_LR[Optimizer(point["optimizer"])])
    return replace(config.spec, **spec_changes), train


METRICS = ("val_loss", "one_step_median", "vpt_median_lyap", "vpt_nrmse_median_lyap", "attractor_w1",
           "train_seconds", "epochs", "params", "stopped")


def run_point(folder: str, config_json: str, point: dict[str, Any]) -> dict[str, Any]:
    """Train and evaluate one point (in a worker process); returns its CSV row. Never raises."""
    config = _config_from_json(json.loads(config_json))
    folder_path = Path(folder)
    row: dict[str, Any] = {"key": point_key(point), **{k: _plain(v) for k, v in point.items()}}
    try:
        spec, train = point_settings(config, point)
        data = TrajectoryData.load(folder_path / "data.npz")
        with np.load(folder_path / "reference.npz") as z:
            reference = ReferenceSet(z["t"], z["states"])
        result = train_surrogate(data, spec, train)
        metrics: dict[str, Any] = {"val_loss": result.best_val, "train_seconds": result.seconds,
                                   "epochs": len(result.history), "params": count_parameters(result.model),
                                   "stopped": result.stopped}
        if math.isfinite(result.best_val):
            summary = evaluate(result.model, data, reference, config.lyapunov,
                               stride=config.one_step_stride).summary()
            metrics.update({k: summary[k] for k in ("one_step_median", "vpt_median_lyap",
                                                    "vpt_nrmse_median_lyap", "attractor_w1")})
        else:
            metrics.update(one_step_median=math.inf, vpt_median_lyap=0.0, vpt_nrmse_median_lyap=0.0,
                           attractor_w1=math.inf)
        row.update(metrics)
    except Exception as exc:  # a failed point is recorded and retried on resume, never fatal to the sweep
        row.update({m: math.nan for m in METRICS})
        row["stopped"] = f"failed: {type(exc).__name__}: {exc}".replace("\n", " ")[:200]
    return row


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _config_from_json(raw: dict[str, Any]) -> SweepConfig:
    from pinn.surrogate.models import spec_from_json

    grid = tuple((SweepAxis(a), parse_axis_values(SweepAxis(a), [str(v) for v in vals])) for a, vals in raw["grid"])
    tr = dict(raw["train"])
    tr["optimizer"], tr["schedule"] = Optimizer(tr["optimizer"]), Schedule(tr["schedule"])
    return SweepConfig(raw["problem"], grid, spec_from_json(raw["spec"]), TrainConfig(**tr),
                       raw["horizon"], raw["lyapunov"], raw["one_step_stride"])


def read_results(path: Path) -> list[dict[str, Any]]:
    """Rows of a results CSV (numbers as floats where they parse)."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if isinstance(r.get("key"), str)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PinnError(f"{path} is not a sweep's results table ({type(exc).__name__}); move it away or use a new "
                        "--out folder") from None
    for row in rows:
        for k, v in row.items():
            if k in ("key", "stopped"):
                continue
            try:
                row[k] = float(v)
            except (TypeError, ValueError):
                pass
    return rows


def write_results(path: Path, rows: Sequence[dict[str, Any]], axes: Sequence[str]) -> None:
    """Write the results CSV atomically (key, axes, metrics)."""
    from pinn.files import write_atomic

    def write(handle: Any) -> None:
        writer = csv.DictWriter(handle, fieldnames=["key", *axes, *METRICS], extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})

    write_atomic(path, write)


def prepare_folder(folder: Path, config: SweepConfig, data: TrajectoryData, rhs: Rhs) -> None:
    """Create or check the sweep folder; write the shared data and reference once (atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder / "sweep.json"
    if meta.is_file():
        _check_same_settings(folder, config)
    write_json(meta, config)
    if not (folder / "data.npz").is_file():
        data.save(folder / "data.npz")
    if not (folder / "reference.npz").is_file():
        ref = ReferenceSet.build(rhs, data, config.horizon)
        save_npz(folder / "reference.npz", t=ref.t, states=ref.states)


def _init_worker(threads: int) -> None:
    """A worker computes with ``threads`` torch threads and leaves Ctrl-C to the main process, which stops
    the pool (the terminal sends SIGINT to every process of the group)."""
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)


def run_sweep(folder: Path, config: SweepConfig, jobs: int = 1,
              on_point: Optional[Callable[[dict[str, Any], int, int], None]] = None) -> list[dict[str, Any]]:
    """Run every point of ``config`` not already finished in ``folder`` (after :func:`prepare_folder`).

    ``jobs`` > 1 runs points in that many spawned processes, each with one torch thread (the
    processes share the machine's cores). ``on_point(row, done, total)`` reports each finished point.
    Returns all rows of the grid (old and new), in grid order.
    """
    if jobs < 1:
        raise PinnError(f"--jobs must be >= 1, got {jobs}")
    path = folder / "results.csv"
    done = {r["key"]: r for r in read_results(path) if not str(r.get("stopped", "")).startswith("failed")}
    points = config.points()
    todo = [p for p in points if point_key(p) not in done]
    rows = dict(done)
    total = len(points)
    config_json = json.dumps(to_json(config))
    finished = total - len(todo)

    def record(row: dict[str, Any]) -> None:
        nonlocal finished
        rows[row["key"]] = row
        finished += 1
        write_results(path, [rows[k] for k in (point_key(p) for p in points) if k in rows], config.axes)
        if on_point is not None:
            on_point(row, finished, total)

    if jobs == 1 or len(todo) <= 1:
        for p in todo:
            record(run_point(str(folder), config_json, p))
    else:
        context = multiprocessing.get_context("spawn")
        with _workers_ignore_ctrl_c():
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(1,))
            futures = [pool.submit(run_point, str(folder), config_json, p) for p in todo]
        try:
            for fut in as_completed(futures):
                record(fut.result())
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown()
    return [rows[point_key(p)] for p in points if point_key(p) in rows]


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Ignore SIGINT while the workers are spawned, so that they inherit the ignoring from their first
    instruction (a terminal's Ctrl-C goes to every process of the group; only the main process acts on it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the points not started and end the running workers at once (their points are redone on the
    next run, as they never reached results.csv)."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def markdown_table(rows: Sequence[dict[str, Any]], axes: Sequence[str], sort_by: str = "one_step_median") -> str:
    """Results as a markdown table, best first by ``sort_by`` (ascending)."""
    cols = [*axes, "one_step_median", "vpt_median_lyap", "vpt_nrmse_median_lyap", "val_loss", "train_seconds",
            "stopped"]

    def key(row: dict[str, Any]) -> float:
        v = row.get(sort_by)
        return float(v) if isinstance(v, float) and math.isfinite(v) else math.inf

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if math.isfinite(v) else str(v)
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in sorted(rows, key=key):
        lines.append("| " + " | ".join(fmt(row.get(c, "")) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def summarise(folder: Path, rows: Sequence[dict[str, Any]], config: SweepConfig,
              heatmaps: Sequence[tuple[str, str]] = ()) -> list[Path]:
    """Write results.md and the figures: heat maps (one-step error and VPT) for each (x, y) axis pair in
    ``heatmaps`` (default: the first two varied axes) and bars for every varied axis. Returns the paths."""
    from pinn.surrogate import plots

    written = [folder / "results.md"]
    write_text(written[0], markdown_table(rows, config.axes))
    ok = [r for r in rows if not str(r.get("stopped", "")).startswith("failed")]
    varied = [a.value for a, vals in config.grid if len(vals) > 1]
    for pair in heatmaps:
        for axis in pair:
            if axis not in config.axes:
                raise PinnError(f"heat map axis {axis!r} is not an axis of this sweep ({', '.join(config.axes)})")
    if not ok:
        return written
    pairs = list(heatmaps) or ([(varied[0], varied[1])] if len(varied) >= 2 else [])
    for x, y in pairs:
        written.append(plots.plot_sweep_heatmap(ok, x, y, "one_step_median", folder / f"heatmap_{y}_{x}.png"))
        written.append(plots.plot_sweep_heatmap(ok, x, y, "vpt_median_lyap", folder / f"heatmap_{y}_{x}_vpt.png",
                                                log=False))
    for axis in varied:
        written.append(plots.plot_sweep_bars(ok, axis, "one_step_median", folder / f"bars_{axis}_one_step.png"))
        written.append(plots.plot_sweep_bars(ok, axis, "vpt_median_lyap", folder / f"bars_{axis}_vpt.png",
                                             log=False))
    return written


def default_sweep_spec(dim: int, dt: float, drive_freqs: Sequence[float] = ()) -> ModelSpec:
    """The fixed network settings of a study (float32 for speed; the axes override width, depth, ...)."""
    from pinn.choices import DType

    return ModelSpec(kind=SurrogateKind.mlp, form=FlowForm.residual, dim=dim, width=64, depth=2, dt=dt,
                     drive_freqs=tuple(drive_freqs), precision=DType.float32)



def prepare_sweep(command: SweepCommand, problem: SurrogateProblem) -> tuple[Path, SweepConfig, Any, dict[str, Any]]:
    """Everything ``pinn sweep`` checks before any work: the grid and fixed settings, the data set's size
    against the stride and batch sizes, the sweep folder (writable; if it exists, made with the same fixed
    settings), memory and time. Returns (folder, config, data config, estimate)."""
    from pinn.choices import DType
    from pinn.runs import check_output_root
    from pinn.surrogate.data import DataConfig

    data_config = DataConfig(problem=problem.name, n_traj=command.trajectories or problem.n_traj,
                             n_test=command.test_trajectories or problem.n_test, dt=problem.dt,
                             t_final=command.t_final or problem.t_final, box=problem.box, seed=command.seed,
                             substeps=problem.substeps, drive_freqs=problem.drive_freqs)
    spec = replace(default_sweep_spec(len(problem.components), problem.dt, problem.drive_freqs),
                   precision=DType(command.precision))
    train = TrainConfig(optimizer=Optimizer.adam, schedule=Schedule.none, epochs=command.epochs, batch_size=256,
                        stride=command.stride, seed=command.seed, lr=3e-3)
    grid = tuple((axis, parse_axis_values(axis, values)) for axis, values in command.grid)
    config = SweepConfig(problem.name, grid, spec, train, horizon=command.horizon or min(problem.horizon, 15.0),
                         lyapunov=command.lyapunov if problem.chaotic else 1.0)
    if config.horizon < 2 * problem.dt:
        raise PinnError(f"--horizon {config.horizon:g} is shorter than two sample steps ({problem.dt:g}); the rollout "
                        "that measures the valid prediction time needs more")
    folder = Path(command.out) if command.out is not None else Path("runs") / f"sweep-{problem.name}"
    check_output_root(folder)
    if (folder / "sweep.json").is_file():
        _check_same_settings(folder, config)
    estimate = sweep_estimate(config, data_config)
    checks.memory(estimate["memory_bytes"], "this sweep", "use fewer --trajectories or a shorter --t-final")
    estimate["seconds_bound"] = checks.budget(estimate.pop("flops"), "this sweep", "give fewer grid values, "
                                              "fewer --epochs or a larger --stride")
    return folder, config, data_config, estimate


def sweep_estimate(config: SweepConfig, data: Any) -> dict[str, Any]:
    """Points, training pairs, memory and (an upper bound of) floating-point operations of a sweep; checks
    that the stride and every batch size fit the data set."""
    samples = math.floor(data.t_final / data.dt + 0.5) + 1
    stride = config.train.stride
    if stride >= samples - 1:
        raise PinnError(f"--stride {stride} leaves at most one training pair per trajectory of {samples} samples; "
                        f"use a stride below {samples - 1}")
    pairs = max(1, data.n_traj - max(1, round(0.1 * data.n_traj))) * ((samples - 1) // stride)
    sizes = {axis.value: values for axis, values in config.grid}
    for batch in sizes.get("batch_size", ()):
        if batch > pairs:
            raise PinnError(f"--batch-size {batch} exceeds the {pairs} training pairs of the sweep's data")
    width, depth = max(sizes.get("width", (config.spec.width,))), max(sizes.get("depth", (config.spec.depth,)))
    d = len(config.spec.drive_freqs) * 2 + config.spec.dim
    params = width * (d + 2) + (depth - 1) * width * (width + 1) + width * d
    points = len(config.points())
    return {"points": points, "training_pairs": pairs,
            "flops": points * 6.0 * config.train.epochs * pairs * params,
            "memory_bytes": 8.0 * (data.n_traj + data.n_test) * samples * config.spec.dim * 6 + 8.0 * params * 10}


def _check_same_settings(folder: Path, config: SweepConfig) -> None:
    from pinn.runs import read_json

    old = read_json(folder / "sweep.json", "sweep settings")
    if not isinstance(old, dict):
        raise PinnError(f"{folder / 'sweep.json'} is not a sweep's settings; use a new --out folder")
    old_fixed = {k: v for k, v in old.items() if k != "grid"}
    if old_fixed != json.loads(json.dumps(config.fixed())):
        raise PinnError(f"{folder} holds a sweep with other fixed settings; use a new --out folder")


def run_sweep_command(command: SweepCommand, problem: SurrogateProblem,
                      report: Optional[Reporter] = None) -> tuple[list[dict[str, Any]], Path, list[Path]]:
    """What ``pinn sweep`` does: simulate the data set and references into the sweep folder, train every
    point not yet finished there (``jobs`` processes of one torch thread each), and write the results table
    and heat maps. Returns the rows, the folder and the summary files.

    Ctrl-C keeps results.csv with every finished point (running the same command again skips them); a
    folder this call created is removed again if it ends before the first point finished."""
    from pinn.surrogate.data import make_dataset

    report = report or Reporter()
    folder, config, data_config, _ = prepare_sweep(command, problem)
    created = not folder.exists()
    points = config.points()
    try:
        with report.phase(f"simulating {data_config.n_traj + data_config.n_test} trajectories and the references"):
            prepare_folder(folder, config, make_dataset(problem.rhs, len(problem.components), data_config),
                           problem.rhs)
        with report.phase(f"sweep of {len(points)} points over {', '.join(config.axes)}", len(points)) as update:
            rows = run_sweep(folder, config, command.jobs, lambda row, done, total: update(
                done, f"{row['key']}: one-step {row.get('one_step_median', float('nan')):.2e}"))
    except BaseException as exc:
        done = len(read_results(folder / "results.csv")) if (folder / "results.csv").is_file() else 0
        if created and done == 0:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, KeyboardInterrupt):
            note = (f"{folder / 'results.csv'} keeps {done} of {len(points)} points; run the same command again to "
                    "finish the rest") if done else "no point had finished"
            raise Interrupted(note) from None
        if isinstance(exc, (OSError, WriteError)):
            reason = str(exc) if isinstance(exc, WriteError) else f"cannot write in {folder}: {write_problem(exc)}"
            removed = "the unfinished sweep folder was removed" if created and done == 0 else "finished points are kept"
            raise WriteError(f"{reason}; {removed}: free space or choose another --out") from None
        raise
    try:
        with report.phase("writing the table and heat maps"):
            written = summarise(folder, rows, config, command.heatmaps)
    except KeyboardInterrupt:
        raise Interrupted(f"{folder / 'results.csv'} keeps all {len(rows)} points; run the same command again to "
                          "write the table and heat maps") from None
    return rows, folder, written
