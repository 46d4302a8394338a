"""Observations of a trajectory: synthetic noisy samples, and the CSV files identification reads.

CSV format: a header row whose first column is ``t`` followed by one column per observed state component
(names as the problem's components, e.g. ``x,y,z`` for Lorenz); one row per observation time, strictly
increasing; an empty cell (or ``nan``) is a missing value. Components without a column are unobserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from pinn.errors import PinnError
from pinn.problem import ODEProblem
from pinn.reference import reference_solution
from pinn.runs import read_csv


@dataclass(frozen=True)
class Observations:
    """Measured values of some state components.

    t: (n,) strictly increasing times; values: (n, k) with NaN where missing; names: the k observed
    components; index: their positions in the problem's state vector (k,).
    """

    t: np.ndarray
    values: np.ndarray
    names: tuple[str, ...]
    index: tuple[int, ...]

    @property
    def count(self) -> int:
        """Number of finite observed values."""
        return int(np.isfinite(self.values).sum())

    @property
    def mask(self) -> np.ndarray:
        """(n, k) True where a value was observed."""
        return np.isfinite(self.values)

    def scale(self) -> np.ndarray:
        """Root-mean-square of each observed column, (k,): the unit in which misfits are measured."""
        out = np.empty(len(self.names))
        for j in range(len(self.names)):
            col = self.values[:, j][np.isfinite(self.values[:, j])]
            out[j] = float(np.sqrt(np.mean(col ** 2)))
        return np.where(out > 0, out, 1.0)


def observation_times(t0: float, t1: float, every: float) -> np.ndarray:
    """t0, t0 + every, t0 + 2 every, ... up to and including t1 (within 1e-9 of a step): (n,)."""
    if not every > 0:
        raise PinnError(f"--every must be positive, got {every}")
    n = int(np.floor((t1 - t0) / every + 1e-9)) + 1
    return t0 + every * np.arange(n)


def make_observations(problem: ODEProblem, every: float, observe: Sequence[str], noise: float,
                      seed: int) -> tuple[list[str], np.ndarray]:
    """Sample the problem's reference solution and add relative Gaussian noise.

    Rows at t0, t0 + every, ... <= t1; each observed component c gets noise ~ N(0, (noise * rms_c)^2),
    independent across samples, where rms_c = sqrt(mean_i u_c(t_i)^2) is the root-mean-square of that
    component over the samples (so ``noise=0.01`` is "1 % noise").

    Returns:
        The CSV header ``["t", *observe]`` and the (n, 1 + len(observe)) table (write it with
        :func:`pinn.runs.write_csv`).
    """
    observe = [c.strip() for c in observe]
    if not observe:
        raise PinnError(f"observe at least one component of {problem.name} ({', '.join(problem.components)})")
    bad = [c for c in observe if c not in problem.components]
    if bad:
        raise PinnError(f"{problem.name} has no component {', '.join(repr(b) for b in bad)}: choose among "
                        f"{', '.join(problem.components)}")
    if len(set(observe)) != len(observe):
        raise PinnError(f"a component is listed twice in --observe ({', '.join(observe)})")
    if not (noise >= 0 and np.isfinite(noise)):
        raise PinnError(f"--noise must be a finite number >= 0, got {noise}")
    t = observation_times(problem.t0, problem.t1, every)
    u = reference_solution(problem, t)[:, [problem.components.index(c) for c in observe]]  # (n, k)
    rms = np.sqrt(np.mean(u ** 2, axis=0))
    rng = np.random.default_rng(seed)
    noisy = u + noise * rms * rng.standard_normal(u.shape)
    return ["t", *observe], np.column_stack([t, noisy])


def check_observations(header: Sequence[str], table: np.ndarray, components: Sequence[str], source: str,
                       unknowns: int = 0) -> Observations:
    """Validate a table of observations (see the module docstring) and return it as :class:`Observations`.

    ``unknowns`` is the number of quantities to be estimated; at least that many values must be observed.
    """
    header = [h.strip() for h in header]
    if "t" not in header:
        raise PinnError(f"{source} has no 't' column: the first header entry must be t, then observed "
                        f"components among {', '.join(components)}")
    names = [h for h in header if h != "t"]
    bad = [h for h in names if h not in components]
    if bad:
        raise PinnError(f"{source}: column {', '.join(repr(b) for b in bad)} is not a component; expected "
                        f"t and some of {', '.join(components)}")
    if len(set(header)) != len(header):
        raise PinnError(f"{source}: a column name appears twice in the header ({', '.join(header)})")
    if not names:
        raise PinnError(f"{source} has a 't' column but no observed component among {', '.join(components)}")
    table = np.asarray(table, dtype=float).reshape(-1, len(header))
    t = table[:, header.index("t")]
    if t.size == 0:
        raise PinnError(f"{source} has no rows of data")
    if not np.all(np.isfinite(t)):
        raise PinnError(f"{source}: every row needs a finite time t")
    steps = np.diff(t)
    if np.any(steps == 0):
        i = int(np.argmax(steps == 0))
        raise PinnError(f"{source}: time t = {t[i]:g} appears twice (rows {i + 2} and {i + 3}); times must be "
                        "distinct")
    if np.any(steps < 0):
        i = int(np.argmax(steps < 0))
        raise PinnError(f"{source}: times are not sorted (t = {t[i]:g} then {t[i + 1]:g} at rows {i + 2}-{i + 3}); "
                        "sort the rows by t")
    values = table[:, [header.index(n) for n in names]]
    if np.any(np.isinf(values)):
        raise PinnError(f"{source} holds an infinite value; leave a cell empty for a missing value")
    empty = [n for j, n in enumerate(names) if not np.any(np.isfinite(values[:, j]))]
    if empty:
        raise PinnError(f"{source}: column {', '.join(repr(e) for e in empty)} has no values (all NaN); drop it "
                        "or fill it in")
    count = int(np.isfinite(values).sum())
    if count < unknowns:
        raise PinnError(f"{source} has {count} observed values but {unknowns} quantities are unknown; "
                        "give more observations or fewer unknowns")
    return Observations(t=t.copy(), values=values.copy(), names=tuple(names),
                        index=tuple(list(components).index(n) for n in names))


def load_observations(path: Path | str, components: Sequence[str], unknowns: int = 0) -> Observations:
    """Read and validate an observations CSV (format in the module docstring); PinnError if malformed.

    Args:
        path: the CSV file.
        components: the problem's state component names, in state order.
        unknowns: how many quantities are estimated (constants plus initial state); fewer finite
            observed values than this is an error.
    """
    path = Path(path)
    if "\x00" in str(path) or not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise PinnError(f"no observations file at {str(path)!r} ({what}); give a CSV with a header 't,...'")
    header, table = read_csv(path)
    return check_observations(header, table, components, str(path), unknowns)
