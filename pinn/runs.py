"""Run folders: ``runs/<name>-<time>/`` with config.json, metrics.json, CSV data, checkpoint and figures."""

from __future__ import annotations

import collections.abc
import contextlib
import csv
import dataclasses
import datetime as _dt
import enum
import json
import math
import os
import re
import shutil
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, TypeVar

import numpy as np

from pinn.errors import Interrupted, PinnError, WriteError
from pinn.files import read_csv, read_json, write_atomic, write_problem, write_text  # noqa: F401 (re-exported)

T = TypeVar("T")


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
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return _jsonable(value.detach().cpu().tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def to_json(value: Any) -> Any:
    """Plain-JSON form of dataclasses, enums, paths, numpy and torch values (NaN/inf as strings)."""
    return _jsonable(value)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON atomically (a temporary file renamed into place)."""
    write_text(path, json.dumps(to_json(value), indent=2) + "\n")


def _existing_ancestor(root: Path, option: str) -> Path:
    """The nearest part of ``root`` that exists (PinnError for a path the system cannot even look up)."""
    text = str(root)
    if "\x00" in text:
        raise PinnError(f"{option} {text!r} contains a NUL character; choose another {option}")
    if any(len(os.fsencode(part)) > 255 for part in root.parts):
        raise PinnError(f"{option} {text[:60]}...: a folder name is longer than 255 bytes; choose another {option}")
    existing = root
    try:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
    except OSError as exc:
        raise PinnError(f"{option} {root}: {write_problem(exc)}; choose another {option}") from None
    return existing


def check_output_root(root: Path | str, option: str = "--out") -> None:
    """PinnError naming the path and the fix unless ``root`` is, or can be created as, a writable folder."""
    root = Path(root)
    existing = _existing_ancestor(root, option)
    if not existing.is_dir():
        raise PinnError(f"{option} {root}: {existing} is a file, not a folder; choose another {option}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PinnError(f"{option} {root}: the folder {existing} is not writable; choose another {option}")


def new_run_dir(root: Path | str, name: str, option: str = "--out") -> Path:
    """Create and return a fresh folder ``root/<name>-<YYYYmmdd-HHMMSS>`` (suffixed -2, -3... if taken).

    PinnError (one line, naming the path) if ``root`` cannot hold it: a file, read-only, or the disk full.
    """
    root = Path(root)
    check_output_root(root, option)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PinnError(f"{option} {root}: cannot create the folder ({write_problem(exc)})") from None
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
        except OSError as exc:
            raise PinnError(f"{option} {root}: cannot create a run folder there ({write_problem(exc)})") from None


TEMPORARY = re.compile(r"^\..*\.tmp$")
"""Names of files being written (see :func:`pinn.files.atomic_path`)."""


def kept_files(run_dir: Path, ignore: Sequence[str] = ("config.json",)) -> list[str]:
    """Files of ``run_dir`` worth keeping after a failure: all but ``ignore`` and temporary files."""
    if not run_dir.is_dir():
        return []
    return sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*")
                  if p.is_file() and p.name not in ignore and not TEMPORARY.match(p.name))


def _remove(path: Path, created_from: Optional[Path]) -> None:
    """Remove the run folder and then the empty parents this run created (up to ``created_from``)."""
    shutil.rmtree(path, ignore_errors=True)
    parent = path.parent
    while created_from is not None and parent != parent.parent:
        try:
            parent.rmdir()
        except OSError:
            break
        if parent == created_from:
            break
        parent = parent.parent


@contextlib.contextmanager
def run_folder(root: Path | str, name: str, option: str = "--out") -> Iterator[Path]:
    """A fresh run folder (:func:`new_run_dir`) that a failed run does not leave half-done.

    - A write that fails (disk full, file size limit, read-only): the folder, and the parents this run
      created, are removed and the PinnError says so.
    - Any other error: the folder is removed when it holds nothing but config.json; a folder holding
      results (a checkpoint, a failure record written by the run) is kept.
    - Ctrl-C: the same, re-raised as :class:`~pinn.errors.Interrupted` naming what was kept.
    """
    root = Path(root)
    existing = _existing_ancestor(root, option)
    first_missing = next((p for p in (root, *root.parents) if p.parent == existing and p != existing), None)
    path = new_run_dir(root, name, option)
    try:
        yield path
    except (WriteError, OSError) as exc:
        _remove(path, first_missing)
        reason = str(exc) if isinstance(exc, WriteError) else f"cannot write in {path}: {write_problem(exc)}"
        raise WriteError(f"{reason}; the unfinished run folder was removed: free space or choose another "
                         f"{option}") from None
    except BaseException as exc:
        kept = kept_files(path)
        if not kept:
            _remove(path, first_missing)
        if isinstance(exc, KeyboardInterrupt):
            note = f"{path} keeps {', '.join(kept[:4])}" if kept else "nothing was written"
            raise Interrupted(getattr(exc, "note", "") or note) from None
        raise


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save a checkpoint atomically so a crash mid-write never replaces a good one.

    ``state`` holds tensors, numbers, strings, lists and dicts only, so it loads with
    ``torch.load(path, weights_only=True)`` (see :func:`pinn.files.load_checkpoint`).
    """
    import io

    import torch

    buffer = io.BytesIO()  # serialised in memory first: torch reports a failed write as a bare RuntimeError
    torch.save(state, buffer)
    write_atomic(path, lambda handle: handle.write(buffer.getbuffer()), "wb")


def write_csv(path: Path, header: Sequence[str], columns: Iterable[np.ndarray]) -> None:
    """Write equal-length columns to CSV with full double precision (``repr`` of each float), atomically."""
    cols = [np.asarray(c, dtype=float).ravel() for c in columns]
    if len({len(c) for c in cols}) > 1:
        raise ValueError("write_csv: columns differ in length")

    def write(handle: Any) -> None:
        writer = csv.writer(handle)
        writer.writerow(list(header))
        for row in zip(*cols):
            writer.writerow([repr(float(v)) for v in row])

    write_atomic(path, write)


def _from_plain(kind: Any, value: Any, where: str) -> Any:
    """``value`` (plain JSON) as an instance of the annotated type ``kind``."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _from_plain(option, value, where)
            except PinnError as exc:
                errors.append(str(exc))
        raise PinnError(errors[0] if errors else f"{where}: unexpected value {value!r}")
    if dataclasses.is_dataclass(kind):
        return from_json(kind, value, where)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            raise PinnError(f"{where}: {value!r} is not one of {', '.join(str(m.value) for m in kind)}") from None
    if origin in (tuple, list) or kind in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise PinnError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_plain(args[0], v, where) for v in value)
        if origin is tuple and args:
            if len(args) != len(value):
                raise PinnError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(_from_plain(a, v, where) for a, v in zip(args, value))
        items = [_from_plain(args[0], v, where) if args else v for v in value]
        return tuple(items) if (origin or kind) is tuple else items
    if origin in (dict, collections.abc.Mapping) or kind is dict:
        if not isinstance(value, dict):
            raise PinnError(f"{where}: expected a mapping, got {value!r}")
        vkind = args[1] if len(args) == 2 else Any
        return {str(k): _from_plain(vkind, v, f"{where}.{k}") for k, v in value.items()}
    if kind is Path:
        if not isinstance(value, str):
            raise PinnError(f"{where}: expected a path, got {value!r}")
        return Path(value)
    if kind is float:
        if isinstance(value, str) and value in ("nan", "inf", "-inf"):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PinnError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PinnError(f"{where}: expected a whole number, got {value!r}")
        return value
    if kind is bool or kind is str:
        if not isinstance(value, kind):
            raise PinnError(f"{where}: expected a {kind.__name__}, got {value!r}")
        return value
    return value


def from_json(cls: type[T], data: Any, where: str = "config") -> T:
    """Rebuild the (frozen, possibly nested) dataclass ``cls`` from its :func:`to_json` form.

    Every field is checked against its annotation (numbers, enums, tuples, paths, nested configs); a
    missing field takes its default; an unknown or malformed field raises PinnError naming it, and the
    dataclass's own ``__post_init__`` validation runs as for a config built in code.
    """
    if not isinstance(data, dict):
        raise PinnError(f"{where}: expected a mapping of {cls.__name__} fields, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise PinnError(f"{where}: unknown field {unknown[0]!r} for {cls.__name__}")
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _from_plain(hints[name], data[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise PinnError(f"{where}: missing field {name!r} of {cls.__name__}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise PinnError(f"{where}: {exc}") from None


RECORD_KEYS = ("command", "resolved")
"""Keys of config.json that record how a run was resolved rather than what was asked."""


def run_command(run_dir: Path | str) -> tuple[str, dict[str, Any]]:
    """The command that made ``run_dir`` and its saved config (PinnError if it is not a run folder)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PinnError(f"{run_dir} is not a folder; give a run folder such as runs/lorenz-20260101-120000")
    data = read_json(run_dir / "config.json", "run configuration")
    if not isinstance(data, dict):
        raise PinnError(f"{run_dir / 'config.json'} is not a run configuration (expected a JSON object)")
    command = data.get("command")
    if command is None:
        command = "classify" if "dataset" in data else "surrogate" if data.get("surrogate") else "unknown"
    return str(command), data


def load_run_config(run_dir: Path | str, command: str, cls: type[T]) -> T:
    """The config of a run folder made by ``command``, rebuilt and validated as ``cls``.

    PinnError in one line when the folder is of another kind ("runs/x is a solve run folder, not identify"),
    or when its config.json is missing, not JSON, or not a valid ``cls``.
    """
    found, data = run_command(run_dir)
    if found != command:
        raise PinnError(f"{run_dir} is a {found} run folder, not a {command} one")
    plain = {k: v for k, v in data.items() if k not in RECORD_KEYS}
    return from_json(cls, plain, where=f"{Path(run_dir) / 'config.json'}")
