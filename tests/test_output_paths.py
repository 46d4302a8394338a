"""Output paths that cannot hold a run, and a full disk: one line, exit code 2, no partial run folder.

Every command that writes is tried with --out pointing at a file, below a file, at /dev/null and at a
read-only folder (before any work starts), at a missing folder (created), and under a file size limit
(``ulimit -f`` in a real subprocess: the first large write fails with EFBIG, as on a full disk) and, when
the tests run as root, on a tiny tmpfs that fills up and on a read-only mount.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from subprocess_cli import one_error_line, run
from typer.testing import CliRunner

from cli.main import app

TINY = {
    "solve": ["solve", "lorenz", "--t-final", "0.2", "--eval-points", "2000", "--features", "10", "--points", "12",
              "--tol", "1e-4"],
    "identify": ["identify", "lorenz", "--data", "{obs}", "--unknown", "sigma", "--features", "6", "--points", "8",
                 "--max-iter", "3"],
    "fourier": ["fourier", "square", "--harmonics", "1", "3"],
    "classify": ["classify", "digits", "--model", "notes-digits", "--epochs", "1"],
    "surrogate": ["surrogate", "train", "lorenz", "--model", "sindy", "--trajectories", "6", "--test-trajectories",
                  "1", "--t-final", "2", "--no-reference-span", "--horizon", "0.5"],
    "sweep": ["sweep", "lorenz", "--width", "4", "--epochs", "1", "--trajectories", "6", "--test-trajectories", "1",
              "--t-final", "2", "--horizon", "0.5"],
    "simulate": ["simulate", "lorenz", "--trajectories", "10", "--t-final", "2"],
}
"""Each writing command at a size that runs in a second or two (the files it writes exceed 16 KB)."""

SLOW = pytest.mark.slow


def commands(*fast: str) -> list:
    """Every writing command; those not in ``fast`` run only with the slow tests (each is a subprocess with
    torch's import, a few seconds)."""
    return [name if name in fast else pytest.param(name, marks=SLOW) for name in TINY]


def out_args(name: str, folder: Path) -> list[str]:
    """--out for ``name``: a parent folder, the sweep folder itself, or simulate's file."""
    target = folder / "x.npz" if name == "simulate" else folder / "sweep" if name == "sweep" else folder
    return ["--out", str(target)]


@pytest.fixture(scope="module")
def observations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("obs") / "obs.csv"
    result = CliRunner().invoke(app, ["simulate", "lorenz", "--t-final", "1", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def command(name: str, observations: Path) -> list[str]:
    return [w.replace("{obs}", str(observations)) for w in TINY[name]]


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def bad_roots(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "file.txt").write_text("a file\n")
    roots = {"a file": tmp_path / "file.txt", "below a file": tmp_path / "file.txt" / "child",
             "/dev/null": Path("/dev/null")}
    if os.geteuid() != 0:  # root writes through permission bits; read-only mounts cover it below
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        readonly.chmod(0o555)
        roots["a read-only folder"] = readonly
    return roots


@pytest.mark.parametrize("name", list(TINY))
def test_an_output_path_that_cannot_hold_the_run_is_one_line_and_creates_nothing(tmp_path: Path, name: str,
                                                                                 observations: Path) -> None:
    for kind, root in bad_roots(tmp_path).items():
        before = snapshot(tmp_path)
        result = CliRunner().invoke(app, [*command(name, observations), *out_args(name, root)])
        assert result.exit_code == 2, (kind, result.output)
        line = one_error_line(result.stderr)
        assert line.startswith("pinn: error: --out ") or line.startswith("pinn: error: cannot write"), (kind, line)
        assert str(root) in line or str(root.parent) in line, (kind, line)
        assert snapshot(tmp_path) == before, kind


@pytest.mark.parametrize("name", commands("solve", "simulate"))
def test_a_missing_output_folder_is_created(tmp_path: Path, name: str, observations: Path) -> None:
    root = tmp_path / "new" / "deeper"
    result = CliRunner().invoke(app, [*command(name, observations), *out_args(name, root)])
    assert result.exit_code == 0, result.output
    assert root.is_dir() and any(root.iterdir())


@pytest.mark.parametrize("name", commands("solve"))
def test_a_full_disk_is_one_line_and_leaves_no_partial_run_folder(tmp_path: Path, name: str,
                                                                  observations: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run([*command(name, observations), *out_args(name, out)], tmp_path, file_limit=16 * 1024)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    line = one_error_line(result.stderr)
    assert "file size limit" in line and "choose another --out" in line, line
    assert str(out) in line, line
    assert list(out.iterdir()) == [], f"left behind: {list(out.rglob('*'))}"


def _unshare() -> list[str]:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting a tmpfs needs root and unshare")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare -m is not permitted here")
    return ["unshare", "-m", "sh", "-c"]


@pytest.mark.parametrize("name", ["solve", pytest.param("classify", marks=SLOW), pytest.param("surrogate", marks=SLOW)])
def test_a_tmpfs_that_fills_up_is_one_line_and_leaves_no_partial_run_folder(tmp_path: Path, name: str,
                                                                            observations: Path) -> None:
    prefix = _unshare()
    mount = tmp_path / "small"
    mount.mkdir()
    python = " ".join(f"'{w}'" for w in [*command(name, observations), "--out", str(mount / "runs")])
    script = (f"mount -t tmpfs -o size=64k tmpfs {mount} && \"$0\" \"$@\" {python}; code=$?; "
              f"ls -A {mount}/runs > {tmp_path}/left.txt 2>/dev/null; exit $code")
    result = run([], tmp_path, prefix=[*prefix, script])
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    line = one_error_line(result.stderr)
    assert "the disk is full" in line and "was removed" in line, line
    assert (tmp_path / "left.txt").read_text().strip() == "", "a run folder was left on the full disk"


def test_a_read_only_mount_is_refused_before_any_work(tmp_path: Path, observations: Path) -> None:
    prefix = _unshare()
    mount = tmp_path / "ro"
    mount.mkdir()
    python = " ".join(f"'{w}'" for w in [*command("solve", observations), "--out", str(mount / "runs")])
    script = f"mount -t tmpfs -o ro,size=64k tmpfs {mount} && \"$0\" \"$@\" {python}"
    result = run([], tmp_path, prefix=[*prefix, script])
    assert result.returncode == 2, result.stderr
    assert one_error_line(result.stderr) == (f"pinn: error: --out {mount / 'runs'}: the folder {mount} is not "
                                             "writable; choose another --out")
