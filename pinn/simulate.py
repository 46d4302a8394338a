"""``pinn simulate``: reference data of a registered problem, as trajectories (NPZ) or observations (CSV).

- ``.npz``: ``trajectories`` initial states uniform in ``box``^d, integrated by RK4 with ``substeps`` inner
  steps per sample step ``dt`` over [0, t_final] (the notes' data set for surrogates); arrays ``t`` (n,),
  ``states`` (m, n, d), ``components`` and ``config`` (this config as JSON).
- ``.csv``: one trajectory from the initial state, sampled every ``every`` from the reference solution
  (closed form, Taylor series or DOP853, see :func:`pinn.reference.reference_solution`), with relative
  Gaussian noise on the ``observe``d components: the input of ``pinn identify``.
Files are written atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from pinn import checks
from pinn.errors import PinnError, WriteError
from pinn.files import atomic_path, write_problem
from pinn.progress import Reporter
from pinn.spec import ODESpec


@dataclass(frozen=True)
class SimulateConfig:
    """Everything ``pinn simulate PROBLEM`` was asked.

    problem: registry name; out: the .npz or .csv file; values, u0, t0, t1: parameters, initial state and
    interval (None: the problem's); trajectories, dt, box, substeps: the .npz data set (None: the problem's
    surrogate set-up); observe, every, noise: the .csv observations (observe empty: every component);
    seed: initial states and noise.
    """

    problem: str
    out: Path
    values: Mapping[str, Any] = field(default_factory=dict)
    u0: Optional[tuple[float, ...]] = None
    t0: Optional[float] = None
    t1: Optional[float] = None
    trajectories: Optional[int] = None
    dt: Optional[float] = None
    box: Optional[tuple[float, float]] = None
    substeps: Optional[int] = None
    observe: tuple[str, ...] = ()
    every: float = 0.05
    noise: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if Path(self.out).suffix not in (".npz", ".csv"):
            raise PinnError(f"--out must end in .npz (trajectories) or .csv (observations), got {Path(self.out).name!r}")
        if self.trajectories is not None:
            checks.count("trajectories", self.trajectories, 1, 1_000_000)
        if self.dt is not None:
            checks.positive("dt", self.dt, 1e6)
        if self.substeps is not None:
            checks.count("substeps", self.substeps, 1, 10_000)
        if self.box is not None:
            for value in self.box:
                checks.number("box", value, -1e12, 1e12)
            if not self.box[0] < self.box[1]:
                raise PinnError(f"--box needs LOW < HIGH, got {self.box[0]:g} {self.box[1]:g}")
        checks.positive("every", self.every, 1e12)
        checks.number("noise", self.noise, 0.0, 1e6)
        checks.seed("seed", self.seed)

    @property
    def kind(self) -> str:
        """'trajectories' for a .npz, 'observations' for a .csv."""
        return "trajectories" if Path(self.out).suffix == ".npz" else "observations"


MAX_SAMPLES = 50_000_000
"""Stored numbers above which a data set is refused as a mistake (400 MB of float64)."""


def prepare_simulate(spec: ODESpec, cfg: SimulateConfig) -> tuple[Any, dict[str, Any]]:
    """Validate before any work: the problem at the config's values and the size of the data set."""
    problem = spec.problem(cfg.values, cfg.u0, cfg.t0, cfg.t1)
    bad = [c for c in cfg.observe if c not in problem.components]
    if bad:
        raise PinnError(f"{spec.name} has no component {', '.join(repr(b) for b in bad)}: choose among "
                        f"{', '.join(problem.components)}")
    if len(set(cfg.observe)) != len(cfg.observe):
        raise PinnError(f"a component is listed twice in --observe ({', '.join(cfg.observe)})")
    _check_output(Path(cfg.out))
    if cfg.kind == "observations":
        rows = checks.whole((problem.t1 - problem.t0) / cfg.every) + 1
        estimate = {"observations": rows, "memory_bytes": 8.0 * rows * (problem.dim + 1) * 6}
        samples = rows * (problem.dim + 1)
    else:
        s = _settings(spec, cfg, problem)
        steps = checks.whole(s["t_final"] / s["dt"]) + 1
        samples = s["trajectories"] * steps * problem.dim
        estimate = {"trajectories": s["trajectories"], "samples_per_trajectory": steps,
                    "memory_bytes": 8.0 * samples * 3 + 8.0 * s["trajectories"] * problem.dim * 12}
    if samples > MAX_SAMPLES:
        raise PinnError(f"the data set would hold {samples:.3g} numbers (more than {MAX_SAMPLES:.0e}); use fewer "
                        "--trajectories, a larger --dt or --every, or a shorter --t-final")
    estimate = {k: int(v) if k in ("observations", "samples_per_trajectory") else v for k, v in estimate.items()}
    checks.memory(estimate["memory_bytes"], "this data set", "use fewer --trajectories or a larger --dt")
    return problem, estimate


def _settings(spec: ODESpec, cfg: SimulateConfig, problem: Any) -> dict[str, Any]:
    s = spec.surrogate
    return {"trajectories": cfg.trajectories or (s.trajectories + s.test_trajectories if s else 100),
            "dt": cfg.dt or (s.dt if s else 0.01), "box": cfg.box or (s.box if s else (-1.0, 1.0)),
            "substeps": cfg.substeps or (s.substeps if s else 10),
            "t_final": problem.t1}


def _check_output(path: Path) -> None:
    """The output file must not be a folder, and its folder must exist or be creatable and be writable."""
    from pinn.runs import check_output_root

    if path.is_dir():
        raise PinnError(f"--out {path} is a folder; give a file name ending in .npz or .csv")
    check_output_root(path.parent)


def run_simulate(spec: ODESpec, cfg: SimulateConfig, report: Optional[Reporter] = None) -> dict[str, Any]:
    """Write the data set or the observations; returns a summary (what was written, sizes, seconds).

    The file is written under a temporary name and renamed into place, so a failure (a full disk, Ctrl-C)
    leaves neither a partial file nor the folders this call created for it."""
    report = report or Reporter()
    problem, estimate = prepare_simulate(spec, cfg)
    out = Path(cfg.out)
    created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            summary = _simulate_into(tmp, spec, cfg, problem, estimate, report)
    except (OSError, WriteError) as exc:
        _remove_empty(created)
        reason = str(exc) if isinstance(exc, WriteError) else f"cannot write {out}: {write_problem(exc)}"
        raise WriteError(f"{reason}; free space or choose another --out") from None
    except BaseException:
        _remove_empty(created)
        raise
    return {**summary, "file": str(out), "phase_seconds": dict(report.seconds)}


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


def _simulate_into(tmp: Path, spec: ODESpec, cfg: SimulateConfig, problem: Any, estimate: dict[str, Any],
                   report: Reporter) -> dict[str, Any]:
    """Compute the observations or trajectories of ``cfg`` and write them to ``tmp``."""
    import numpy as np

    from pinn.runs import to_json, write_csv

    if cfg.kind == "observations":
        from pinn.inverse.observations import make_observations

        names = cfg.observe or problem.components
        with report.phase(f"observing {problem.name} ({estimate['observations']} times)"):
            header, table = make_observations(problem, cfg.every, names, cfg.noise, cfg.seed)
        if not np.all(np.isfinite(table)):
            raise PinnError(f"the {problem.name} solution leaves the finite numbers before t = {problem.t1:g}; "
                            "shorten --t-final or change the parameters")
        write_csv(tmp, header, table.T)
        return {"observations": int(table.shape[0]), "components": list(header[1:])}
    from pinn.surrogate.data import simulate_trajectories

    s = _settings(spec, cfg, problem)
    with report.phase(f"integrating {s['trajectories']} {problem.name} trajectories"):
        t, states = simulate_trajectories(problem.rhs, s["trajectories"], s["dt"], s["t_final"],
                                          box=tuple(s["box"]), seed=cfg.seed, dim=problem.dim,
                                          substeps=s["substeps"])
    record = {"command": "simulate", **to_json(cfg), "resolved": to_json(s), "params": to_json(dict(problem.params))}
    with open(tmp, "wb") as handle:
        np.savez(handle, t=t, states=states, components=np.array(problem.components),
                 config=np.array(json.dumps(record)))
    return {"trajectories": int(states.shape[0]), "times": int(states.shape[1])}
