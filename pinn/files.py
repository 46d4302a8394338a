"""Files users hand to pinn, read strictly, and files pinn writes, written atomically.

Every reader validates structure and types and turns every failure into one :class:`PinnError` line that
names the file and says what is wrong: CSV tables (comma-separated, unquoted numbers, one header row, every
row as long as the header, UTF-8), JSON, NPZ arrays (no pickled objects) and torch checkpoints (loaded with
``weights_only=True``, so a crafted pickle is refused, and checked against the keys and shapes expected).
Every writer writes a temporary sibling and renames it into place, so a crash, a Ctrl-C or a full disk
never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from pinn.errors import PinnError, WriteError

WRITE_ERRORS = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file size limit was reached",
                errno.EDQUOT: "the disk quota is exhausted", errno.EROFS: "the file system is read-only",
                errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                errno.ENOTDIR: "a part of the path is a file, not a folder",
                errno.ENAMETOOLONG: "the name is too long"}


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (zlib, tarfile, torch messages may span several)."""
    return " ".join(str(exc).split())


def write_problem(exc: OSError) -> str:
    """Why a write failed, in words (disk full, file size limit, read-only, ...)."""
    return WRITE_ERRORS.get(exc.errno or 0, exc.strerror or one_line(exc))


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; on success it is renamed onto ``path``, on any
    failure it is removed and ``path`` keeps its old content. A write that fails for lack of space or
    permission raises PinnError naming the file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {write_problem(exc)}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_atomic(path: Path | str, write: Callable[[Any], None], mode: str = "w") -> None:
    """Open a temporary sibling of ``path`` in ``mode``, call ``write(handle)``, rename it into place."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **({"newline": ""} if "b" not in mode else {})) as handle:
            write(handle)
            handle.flush()


def write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) atomically."""
    write_atomic(path, lambda handle: handle.write(text), "w")


def save_npz(path: Path | str, **arrays: Any) -> None:
    """Write arrays as an uncompressed NPZ atomically (the name is kept as given)."""
    write_atomic(path, lambda handle: np.savez(handle, **arrays), "wb")


# ---------------------------------------------------------------------------------------------- reading

def _check_size(path: Path, factor: float, what: str) -> None:
    """Refuse a file whose parsed form (``factor`` times its size) would not fit in memory."""
    from pinn.checks import memory

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PinnError(f"{path}: cannot read the {what} ({one_line(exc)})") from None
    memory(factor * size, f"reading {path} ({size / 2 ** 20:.0f} MiB)", "give a smaller file")


def _csv_rows(path: Path) -> list[list[str]]:
    """The rows of ``path`` split at commas, refusing other separators, quotes and non-UTF-8 text."""
    _check_size(path, 40.0, "CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle, delimiter=",", quoting=csv.QUOTE_NONE, strict=True)]
    except FileNotFoundError:
        raise PinnError(f"no CSV file at {path}") from None
    except UnicodeDecodeError as exc:
        raise PinnError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8 CSV") from None
    except (OSError, csv.Error) as exc:
        raise PinnError(f"{path}: cannot read the CSV file ({one_line(exc)})") from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise PinnError(f"{path} is empty; expected a header row such as 't,x' and rows of numbers")
    return rows


def _cell(text: str, path: Path, row: int, column: str) -> float:
    value = text.strip()
    if value == "" or value.lower() == "nan":
        return float("nan")
    if '"' in value or "'" in value:
        raise PinnError(f"{path}, row {row}, column {column}: quoted field {text!r}; write numbers without "
                        "quotes")
    try:
        return float(value)
    except ValueError:
        raise PinnError(f"{path}, row {row}, column {column}: {text!r} is not a number") from None


def read_csv(path: Path | str) -> tuple[list[str], np.ndarray]:
    """Read a comma-separated table: the header (names) and an (n, k) float array, '' or 'nan' as NaN.

    The dialect is fixed and checked: ',' between fields, no quotes, every row as long as the header,
    UTF-8 (a byte-order mark is allowed). Anything else is a PinnError naming the file, row and column.
    """
    path = Path(path)
    rows = _csv_rows(path)
    header = [h.strip() for h in rows[0]]
    if len(header) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header[0]:
                raise PinnError(f"{path} separates its fields with {name}; pinn reads comma-separated files "
                                "(t,x,...)")
    if any(not h for h in header) or any('"' in h or "'" in h for h in header):
        raise PinnError(f"{path}: the header {','.join(rows[0])!r} needs a plain name in every column, no quotes")
    data = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise PinnError(f"{path}, row {i + 2}: {len(row)} fields but the header has {len(header)}; every row "
                            "needs one value (or an empty cell) per column")
        data[i] = [_cell(v, path, i + 2, header[j]) for j, v in enumerate(row)]
    return header, data


def read_json(path: Path | str, what: str = "file") -> Any:
    """The JSON content of ``path``; PinnError naming the file when it is missing or not valid JSON."""
    path = Path(path)
    try:
        _check_size(path, 20.0, what)
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PinnError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise PinnError(f"{path} is a folder, not a {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PinnError(f"{path}: cannot read the {what} ({one_line(exc)})") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise PinnError(f"{path}: not valid JSON ({reason}{where})") from None


def read_npz(path: Path | str, required: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """The arrays of an NPZ file (pickled objects refused); PinnError naming the file and the problem,
    including when one of ``required`` is missing."""
    path = Path(path)
    if not path.is_file():
        raise PinnError(f"no data file at {path}" + (" (it is a folder)" if path.is_dir() else ""))
    _check_size(path, 3.0, "NPZ file")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise PinnError(f"{path} holds a single array, not an NPZ archive of named arrays")
            arrays = {name: z[name] for name in z.files}
    except PinnError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError) as exc:
        raise PinnError(f"cannot read {path} as NPZ ({one_line(exc)[:160]})") from None
    missing = [k for k in required if k not in arrays]
    if missing:
        raise PinnError(f"{path} lacks the array{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                        f"(it holds {', '.join(sorted(arrays)) or 'nothing'})")
    return arrays


def load_checkpoint(path: Path | str, required: Sequence[str] = (), what: str = "checkpoint") -> dict[str, Any]:
    """A torch checkpoint loaded with ``weights_only=True`` (tensors and plain data only, so a crafted
    pickle is refused without running it), checked to be a mapping holding ``required`` keys."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise PinnError(f"no {what} at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a foreign or corrupt file
        first = one_line(exc).split(". ")[0][:120]
        raise PinnError(f"{path} is not a {what} pinn can load safely ({type(exc).__name__}: {first}); train "
                        "again or restore a copy") from None
    if not isinstance(state, dict):
        raise PinnError(f"{path} holds a {type(state).__name__}, not a {what}")
    missing = [k for k in required if k not in state]
    if missing:
        raise PinnError(f"{path} is not a {what} of this kind: it lacks {', '.join(map(repr, missing))}")
    return state


def check_state_dict(expected: Mapping[str, Any], given: Any, path: Path | str) -> None:
    """PinnError unless ``given`` is a mapping of tensors with the keys and shapes of ``expected``."""
    import torch

    if not isinstance(given, Mapping):
        raise PinnError(f"{path}: the weights are a {type(given).__name__}, not a mapping of tensors")
    missing = [k for k in expected if k not in given]
    extra = [k for k in given if k not in expected]
    if missing or extra:
        part = f"lacks {missing[0]!r}" if missing else f"has the unexpected {extra[0]!r}"
        raise PinnError(f"{path} does not match the model: its weights {part}")
    for key, want in expected.items():
        have = given[key]
        shape = tuple(getattr(want, "shape", ()))
        if not isinstance(have, (torch.Tensor, np.ndarray)) or tuple(have.shape) != shape:
            got = tuple(have.shape) if hasattr(have, "shape") else type(have).__name__
            raise PinnError(f"{path} does not match the model: {key!r} is {got}, expected {shape}")


def require(mapping: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: Path | str,
            what: Optional[str] = None) -> Any:
    """``mapping[key]`` if present and of type ``kind``; else PinnError naming the file and the key."""
    if key not in mapping:
        raise PinnError(f"{path}: missing {what or repr(key)}")
    value = mapping[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise PinnError(f"{path}: {what or repr(key)} has the wrong type (bool)")
    if not isinstance(value, kind):
        raise PinnError(f"{path}: {what or repr(key)} has the wrong type ({type(value).__name__})")
    return value
