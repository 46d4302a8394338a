"""Running ``pinn`` as a real subprocess for the tests that send it signals or limit its files.

A subprocess is started in its own session (so a signal can go to its whole process group, as Ctrl-C in a
terminal does), with one torch thread and unbuffered output; a reader thread collects its stdout lines so
a test can wait for a line such as ``epoch   2/``.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

PINN = [sys.executable, "-c", "import sys; from cli.main import main; sys.argv[0] = 'pinn'; main()"]


@dataclass
class Running:
    """A started ``pinn`` process and the stdout lines it printed so far."""

    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    @property
    def stderr(self) -> str:
        return "".join(self.errors)

    def wait_for(self, ready: Callable[[], bool], timeout: float = 120.0) -> None:
        """Wait until ``ready()`` is true; AssertionError (with the output) if the process ends or time runs out."""
        end = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None:
                raise AssertionError(f"pinn ended (exit {self.process.returncode}) before it was ready: "
                                     f"{''.join(self.lines)[-800:]} {self.stderr[-800:]}")
            if time.monotonic() > end:
                self.process.kill()
                raise AssertionError(f"pinn was not ready after {timeout} s: {''.join(self.lines)[-800:]}")
            time.sleep(0.05)

    def signal(self, signum: int, group: bool = False) -> None:
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)

    def finish(self, timeout: float = 120.0) -> int:
        """Wait for the exit code; the rest of stdout lands in ``lines`` and stderr in ``stderr``."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"pinn did not exit within {timeout} s") from None
        for reader in self.readers:
            reader.join(timeout=10)
        return code


def start(args: Sequence[str], cwd: Path, file_limit: Optional[int] = None) -> Running:
    """Start ``pinn ARGS`` in ``cwd``; ``file_limit`` bytes caps the size of any file it writes (as
    ``ulimit -f``: a larger write fails with EFBIG, as on a full disk)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
           "COLUMNS": "200", "PINN_DEBUG": ""}

    def limit() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a shell's background job ignores Ctrl-C; pinn must not
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    process = subprocess.Popen([*PINN, *map(str, args)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=limit)
    running = Running(process)

    def read(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    for stream, into in ((process.stdout, running.lines), (process.stderr, running.errors)):
        reader = threading.Thread(target=read, args=(stream, into), daemon=True)
        reader.start()
        running.readers.append(reader)
    return running


def run(args: Sequence[str], cwd: Path, file_limit: Optional[int] = None, timeout: float = 180.0,
        prefix: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run ``pinn ARGS`` to the end (optionally behind a ``prefix`` such as an ``unshare`` wrapper)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COLUMNS": "200", "PINN_DEBUG": ""}

    def limit() -> None:
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return subprocess.run([*prefix, *PINN, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit)


def one_error_line(stderr: str) -> str:
    """The single non-empty stderr line (AssertionError otherwise)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr[-1500:]}"
    return lines[0]
