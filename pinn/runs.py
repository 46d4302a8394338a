"""Run folders: ``runs/<name>-<time>/`` with config.json, metrics.json, CSV data, checkpoint and figures."""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import enum
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, torch.Tensor):
        return _jsonable(value.detach().cpu().tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def to_json(value: Any) -> Any:
    """Plain-JSON form of dataclasses, enums, paths, numpy and torch values (NaN/inf as strings)."""
    return _jsonable(value)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON atomically (a temporary file renamed into place)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(to_json(value), indent=2) + "\n")
    os.replace(tmp, path)


def new_run_dir(root: Path | str, name: str) -> Path:
    """Create and return a fresh folder ``root/<name>-<YYYYmmdd-HHMMSS>`` (suffixed -2, -3... if taken)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / f"{name}-{stamp}"
    path, k = base, 1
    while True:
        try:
            path.mkdir()
            return path
        except FileExistsError:
            k += 1
            path = Path(f"{base}-{k}")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save a checkpoint atomically so a crash mid-write never replaces a good one.

    ``state`` holds tensors, numbers, strings, lists and dicts only, so it loads with
    ``torch.load(path, weights_only=True)``.
    """
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def write_csv(path: Path, header: Sequence[str], columns: Iterable[np.ndarray]) -> None:
    """Write equal-length columns to CSV with full double precision (``repr`` of each float)."""
    cols = [np.asarray(c, dtype=float).ravel() for c in columns]
    if len({len(c) for c in cols}) > 1:
        raise ValueError("write_csv: columns differ in length")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(header))
        for row in zip(*cols):
            writer.writerow([repr(float(v)) for v in row])


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """Read a CSV written by :func:`write_csv` (or by a user): header and (n, k) float array, '' as NaN."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    data = np.array([[float(v) if v.strip() not in ("", "nan", "NaN") else np.nan for v in r]
                     for r in rows[1:] if r], dtype=float).reshape(-1, len(header))
    return header, data
