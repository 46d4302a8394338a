"""Fetching data sets: the cache folder, resumable md5-checked HTTP downloads, and safe tar extraction.

The cache folder is ``$PINN_CACHE`` when set, else ``~/.cache/pinn``. A download streams into
``<file>.part`` (kept after a cut connection so the next call resumes it with an HTTP ``Range`` request),
is checked against its md5 and only then renamed to its final name, so the final name never holds a
partial or corrupt file. An archive is extracted into a temporary sibling folder, after every member has
been checked to stay inside the target, and renamed into place only when extraction succeeded.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from pinn.errors import PinnError

CHUNK_BYTES = 1 << 16


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (tarfile, zlib and urllib messages may span several)."""
    return " ".join(str(exc).split())


def cache_dir() -> Path:
    """The user cache folder for data sets: ``$PINN_CACHE`` if set, else ``~/.cache/pinn``."""
    env = os.environ.get("PINN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pinn"


def md5_of(path: Path) -> str:
    """Hex md5 digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_once(url: str, part: Path, progress: Progress | None, timeout: float) -> None:
    """One HTTP request appending to ``part`` from its current size (``Range``); raises OSError on a cut."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the partial file is complete
            return
        raise
    with response:
        if have and response.status != 206:  # the server ignored the range: start over
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        task = progress.add_task(Path(url).name, total=total, completed=have) if progress else None
        received = 0
        with open(part, "ab" if have else "wb") as handle:
            while True:
                block = response.read(CHUNK_BYTES)
                if not block:
                    break
                handle.write(block)
                received += len(block)
                if progress is not None:
                    progress.update(task, advance=len(block))
        if length is not None and received < int(length):
            raise http.client.IncompleteRead(b"", int(length) - received)


def download(url: str, dest: Path, md5: str | None, retries: int = 3, timeout: float = 60.0,
             console: Console | None = None) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, resuming ``dest.part`` after a cut connection.

    ``dest`` appears only once the whole file is there and its md5 equals ``md5`` (when given); on a
    mismatch the partial file is deleted and :class:`PinnError` raised. After ``retries`` failed resumes
    the ``.part`` file stays so that the next call continues where this one stopped. Returns ``dest``.
    """
    dest = Path(dest)
    if dest.exists() and (md5 is None or md5_of(dest) == md5):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    last_error: Exception | None = None
    with Progress(*columns, console=console, disable=console is None, transient=True) as progress:
        for _ in range(retries + 1):
            try:
                _fetch_once(url, part, progress, timeout)
                last_error = None
                break
            except urllib.error.HTTPError as exc:
                raise PinnError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
            except (OSError, http.client.HTTPException) as exc:
                last_error = exc
    if last_error is not None:
        if not part.exists() or part.stat().st_size == 0:
            part.unlink(missing_ok=True)
            raise PinnError(f"could not download {url} ({type(last_error).__name__}: {one_line(last_error)}): "
                            "check the network, or give a local copy of the data with --data-dir")
        raise PinnError(f"download of {url} was cut off ({type(last_error).__name__}: {one_line(last_error)}); "
                        f"run the command again to resume from {part}")
    if md5 is not None:
        got = md5_of(part)
        if got != md5:
            part.unlink()
            raise PinnError(f"download of {url} is corrupt: md5 {got} differs from the published {md5}; "
                            "the partial file was removed, run the command again")
    os.replace(part, dest)
    return dest


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    """Refuse members that could write outside the extraction folder or are not plain files/folders."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or member.name.startswith(("/", "\\")) \
            or any(":" in part for part in name.parts[:1]):
        raise PinnError(f"archive {archive} is unsafe: member {member.name!r} would escape the target folder")
    if not (member.isfile() or member.isdir()):
        raise PinnError(f"archive {archive} is unsafe: member {member.name!r} is a link or special file")


def extract_tar(archive: Path, target: Path) -> Path:
    """Extract the (gzipped) tar ``archive`` into the folder ``target`` safely and atomically.

    Every member is checked first (no absolute path, no ``..``, no links or devices); the archive is
    unpacked into a temporary sibling folder that replaces ``target`` only on success, so a corrupt,
    truncated or unsafe archive raises :class:`PinnError` and leaves nothing behind. Returns ``target``.
    """
    archive, target = Path(archive), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, archive)
            tar.extractall(staging, members=members, filter="data")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise PinnError(f"archive {archive} is corrupt or truncated ({type(exc).__name__}: {one_line(exc)}); "
                        "delete it and download it again") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
