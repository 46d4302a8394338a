"""Observations of a PDE's field: what ``pinn simulate PDE`` writes and ``pinn identify PDE`` reads.

u sampled from the problem's exact or reference solution on nx equispaced points (ends included) at
t0, t0 + every, ... <= t1, plus independent Gaussian noise of standard deviation noise * rms(u) (rms over all
samples, so ``noise = 0.01`` is "1 % noise"). Saved as .npz with arrays ``x`` (nx,), ``t`` (nt,) (``y`` for
a steady problem), ``u`` (nt, nx) (NaN = missing), and the scalars ``problem``, ``noise``, ``seed``,
``params`` (JSON of the constants used).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from pinn.errors import PinnError
from pinn.inverse.observations import observation_times
from pinn.pde.config import PDESimulateConfig
from pinn.pde.problem import PDEProblem
from pinn.progress import Reporter


@dataclass(frozen=True)
class FieldObservations:
    """Noisy samples of u on a grid: x (nx,), s (ns,) = t (or y), u (ns, nx) with NaN where missing.

    problem: the problem's name; noise: the relative noise level they were made with (NaN if unknown);
    seed: the noise seed (-1 if unknown); params: the constants they were made with (for the record only).
    """

    x: np.ndarray
    s: np.ndarray
    u: np.ndarray
    problem: str = ""
    noise: float = math.nan
    seed: int = -1
    params: Mapping[str, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Number of observed (finite) values."""
        return int(np.isfinite(self.u).sum())


def simulate_observations(problem: PDEProblem, nx: int = 256, every: float = 0.01, noise: float = 0.01,
                          seed: int = 0) -> FieldObservations:
    """Sample the problem's exact/reference solution and add relative Gaussian noise (module docstring).

    Args:
        problem: an evolution problem with an exact solution or a grid reference.
        nx: points along x, equispaced with both ends (>= 2).
        every: time between observations (> 0); the times are t0, t0 + every, ... <= t1.
        noise: relative noise level (>= 0): standard deviation noise * rms(u).
        seed: seed of the noise.
    """
    if problem.steady:
        raise PinnError(f"{problem.name} is steady: observations are made of evolution problems")
    if not problem.has_reference:
        raise PinnError(f"{problem.name} has no exact or reference solution to sample observations from")
    if int(nx) != nx or nx < 2:
        raise PinnError(f"--nx must be an integer >= 2 (a grid of one point has no extent), got {nx}")
    if not (math.isfinite(noise) and noise >= 0):
        raise PinnError(f"--noise must be a finite number >= 0, got {noise}")
    if not (math.isfinite(every) and every > 0):
        raise PinnError(f"--every must be a positive time, got {every}")
    T = problem.time
    if every > T.length:
        raise PinnError(f"--every {every:g} exceeds the time interval [{T.a:g}, {T.b:g}]")
    t = observation_times(T.a, T.b, every)
    t = t[t <= T.b + 1e-12]
    x = np.linspace(problem.x_interval.a, problem.x_interval.b, int(nx))
    u = problem.exact_on_grid(x, t)  # (nt, nx)
    rms = float(np.sqrt(np.mean(u ** 2)))
    noisy = u + noise * rms * np.random.default_rng(seed).standard_normal(u.shape)
    return FieldObservations(x, t, noisy, problem.name, float(noise), int(seed),
                             {k: float(v) for k, v in problem.params.items()})


def save_observations(path: Path | str, obs: FieldObservations) -> Path:
    """Write ``obs`` as .npz (module docstring); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # a file object keeps numpy from appending .npz to another suffix
        np.savez(fh, x=obs.x, t=obs.s, u=obs.u, problem=np.str_(obs.problem), noise=np.float64(obs.noise),
                 seed=np.int64(obs.seed), params=np.str_(json.dumps(dict(obs.params))))
    return path


def load_observations(path: Path | str, problem: Optional[PDEProblem] = None,
                      unknowns: int = 0) -> FieldObservations:
    """Read and validate observations written by :func:`save_observations` (or any .npz with ``x``, ``t``
    and ``u``); PinnError saying what is wrong otherwise. With ``problem``, the grid must lie in its domain.
    """
    path = Path(path)
    if not path.is_file():
        raise PinnError(f"no observations file at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise PinnError(f"cannot read {path} as .npz observations ({exc}); make them with pinn simulate") from None
    second = "y" if "y" in arrays and "t" not in arrays else "t"
    missing = [k for k in ("x", second, "u") if k not in arrays]
    if missing:
        raise PinnError(f"{path} lacks the array(s) {', '.join(missing)}; expected x (nx,), t (nt,), u (nt, nx)")
    x, s, u = (np.asarray(arrays[k], dtype=float) for k in ("x", second, "u"))
    if x.ndim != 1 or s.ndim != 1 or u.shape != (s.size, x.size):
        raise PinnError(f"{path}: u must have shape (len(t), len(x)) = ({s.size}, {x.size}), got {u.shape}")
    if x.size < 2 or s.size < 1:
        raise PinnError(f"{path}: need at least 2 points in x and 1 time, got {x.size} and {s.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(s))):
        raise PinnError(f"{path}: the coordinates x and {second} must be finite")
    if np.any(np.diff(x) <= 0) or np.any(np.diff(s) <= 0):
        raise PinnError(f"{path}: x and {second} must be strictly increasing")
    if np.any(np.isinf(u)):
        raise PinnError(f"{path}: u holds an infinite value (use NaN for a missing value)")
    obs = FieldObservations(x, s, u, str(arrays.get("problem", "")), float(arrays.get("noise", math.nan)),
                            int(arrays.get("seed", -1)), json.loads(str(arrays.get("params", "{}"))))
    if obs.count <= unknowns:
        raise PinnError(f"{path} has {obs.count} observed values for {unknowns} unknowns; more data are needed")
    if problem is not None:
        ix, js = problem.x_interval, problem.second_interval
        tol = 1e-9 * max(1.0, ix.length, js.length)
        if x[0] < ix.a - tol or x[-1] > ix.b + tol or s[0] < js.a - tol or s[-1] > js.b + tol:
            raise PinnError(f"{path}: the grid x in [{x[0]:g}, {x[-1]:g}], {second} in [{s[0]:g}, {s[-1]:g}] "
                            f"leaves the domain of {problem.name} (x in [{ix.a:g}, {ix.b:g}], {second} in "
                            f"[{js.a:g}, {js.b:g}])")
    return obs


MAX_OBSERVATIONS = 5_000_000
"""Samples above which observations are refused as a mistake (a 5-million-sample field)."""


def run_pde_simulate(spec: Any, cfg: PDESimulateConfig, report: Optional[Reporter] = None) -> dict[str, Any]:
    """What ``pinn simulate PDE`` does: sample the reference solution with noise into an .npz (atomically)."""
    from pinn.runs import check_output_root

    report = report or Reporter()
    problem = spec.problem(cfg.values, cfg.t1)
    if not problem.steady and cfg.every > problem.time.length:
        raise PinnError(f"--every {cfg.every:g} exceeds the time interval [{problem.time.a:g}, {problem.time.b:g}]")
    times = problem.second_interval.length / cfg.every
    samples = cfg.nx * (math.floor(times) + 1) if times <= MAX_OBSERVATIONS else math.inf  # inf: 1/every overflowed
    if samples > MAX_OBSERVATIONS:
        raise PinnError(f"{samples:.3g} samples is more than {MAX_OBSERVATIONS:.0e}; lower --nx or raise --every")
    out = Path(cfg.out)
    check_output_root(out.parent)
    with report.phase(f"sampling the {spec.name} reference ({samples:,} values)"):
        obs = simulate_observations(problem, cfg.nx, cfg.every, cfg.noise, cfg.seed)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        save_observations(tmp, obs)
        os.replace(tmp, out)
    except OSError as exc:
        raise PinnError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return {"file": str(out), "times": int(obs.s.size), "points": int(obs.x.size), "noise": cfg.noise}
