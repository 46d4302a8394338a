"""Install pinn with its dev extras into the running interpreter's environment (``make install`` calls it with
``.venv/bin/python``), never silent for more than a second or two.

pip is quiet for long stretches: resolving, and unpacking torch (tens of seconds on a fresh machine). This
runs ``pip install -c constraints.txt -e '.[dev]'``, passes its lines through, and while pip says nothing
keeps one status line alive with the seconds elapsed (on a terminal; in a log, a line every 15 s). Then it
compiles the project's modules to bytecode, as pip does for the packages it installs, so the first ``pinn``
command starts as fast as the later ones. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-c", "constraints.txt", "-e", ".[dev]"]
QUIET_AFTER = 1.0  # seconds without a pip line before the status line shows


def run_pip() -> int:
    """Run pip, echoing its output; a heartbeat thread fills its silences. Returns pip's exit code."""
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
                sys.stdout.write(f"\r  installing: {elapsed:.0f} s (pip is unpacking and linking packages)")
                shown = True
            elif quiet >= 15:
                sys.stdout.write(f"  installing: {elapsed:.0f} s\n")
                last[0] = time.perf_counter()
            sys.stdout.flush()
        if shown:
            sys.stdout.write("\r\x1b[K")

    print("$ " + " ".join(PIP[2:]), flush=True)
    proc = subprocess.Popen(PIP, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
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
    print(f"pip finished in {time.perf_counter() - start:.0f} s", flush=True)
    return code


def main() -> int:
    code = run_pip()
    if code != 0:
        print(f"make install: pip failed (exit {code}); see its message above", file=sys.stderr)
        return code
    for package in ("pinn", "cli", "problems"):
        compileall.compile_dir(ROOT / package, quiet=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
