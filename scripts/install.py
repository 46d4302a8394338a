"""Create the virtual environment and install pinn with its dev extras into it (``make install``), never
silent for more than a second or two.

    python3 scripts/install.py .venv

Creating a venv (ensurepip) and pip itself are quiet for long stretches: resolving, and unpacking torch
(tens of seconds on a fresh machine). This runs ``python -m venv`` when the folder has no interpreter yet,
then ``pip install -c constraints.txt -e '.[dev]'`` with the venv's interpreter, passes their lines through,
and while they say nothing keeps one status line alive with the seconds elapsed (on a terminal; in a log, a
line every 15 s). pip runs with ``--no-compile``: it would compile all 10,000 installed modules to bytecode on
one core, a third of its time. Instead scripts/precompile.py compiles, on two cores, the modules that pinn and
its tests import (under half of them), so the first ``pinn`` command starts as fast as the later ones, also
where PYTHONDONTWRITEBYTECODE is set. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUIET_AFTER = 1.0  # seconds without output before the status line shows


def run_streaming(command: list[str], what: str) -> int:
    """Run ``command`` in the project root, echoing its output; a heartbeat thread fills its silences with
    ``what`` and the seconds elapsed. Returns the exit code."""
    start = time.perf_counter()
    last = [start]
    done = threading.Event()
    tty = sys.stdout.isatty()

    def heartbeat() -> None:
        shown = False
        while not done.wait(0.5):
            quiet = time.perf_counter() - last[0]
            if quiet < QUIET_AFTER:
                continue
            elapsed = time.perf_counter() - start
            if tty:
                sys.stdout.write(f"\r  {what}: {elapsed:.0f} s")
                shown = True
            elif quiet >= 15:
                sys.stdout.write(f"  {what}: {elapsed:.0f} s\n")
                last[0] = time.perf_counter()
            sys.stdout.flush()
        if shown:
            sys.stdout.write("\r\x1b[K")

    print("$ " + " ".join(command), flush=True)
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)
    watcher = threading.Thread(target=heartbeat, daemon=True)
    watcher.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        last[0] = time.perf_counter()
        sys.stdout.write(("\r\x1b[K" if tty else "") + line)
        sys.stdout.flush()
    code = proc.wait()
    done.set()
    watcher.join()
    print(f"{what}: done in {time.perf_counter() - start:.0f} s", flush=True)
    return code


def main() -> int:
    venv = ROOT / (sys.argv[1] if len(sys.argv) > 1 else ".venv")
    python = venv / "bin" / "python"
    # (command, what it does, whether a failure stops the install)
    steps = [([sys.executable, "-m", "venv", str(venv)], "creating the virtual environment", True)] \
        if not python.exists() else []
    # editable_mode=compat: a .pth line puts the project on sys.path, where setuptools' default editable
    # finder is a module imported by every Python start (about 25 ms of each `pinn` command)
    steps += [([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile", "-c",
                "constraints.txt", "-e", ".[dev]", "--config-settings", "editable_mode=compat"],
               "installing pinn and its dependencies (pip)", True),
              # not fatal, as pip's own compiling: a module compiles anyway when it is first imported
              ([str(python), "scripts/precompile.py"], "compiling what pinn and its tests import to bytecode", False),
              ([str(python), "-m", "compileall", "-q", "-j", "0", "pinn", "cli", "problems"],
               "compiling pinn to bytecode", True)]
    for command, what, fatal in steps:
        code = run_streaming(command, what)
        if code != 0 and fatal:
            print(f"make install: {what} failed (exit {code}); see the message above", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
