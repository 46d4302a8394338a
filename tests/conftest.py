"""Shared fixtures: a fixed seed for every test and a CLI runner; on a terminal, a heartbeat while the xdist
workers start and while slow tests run, so that ``make test`` is never silent for long."""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy: one BLAS thread per worker, also without make

import numpy as np
import pytest
from typer.testing import CliRunner


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread in the processes that run tests (small solves are fastest, and timings steadiest, on
    one thread). The xdist controller only hands out tests: it does not import torch (2 s before the workers
    can start)."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        import torch

        torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def seed() -> int:
    """Seed python, numpy and torch identically before each test."""
    import torch

    random.seed(1234)
    np.random.seed(1234)
    torch.manual_seed(1234)
    return 1234


@pytest.fixture
def runner() -> CliRunner:
    """typer's CLI runner (stderr captured apart from stdout)."""
    return CliRunner()


class SuiteHeartbeat:
    """On a terminal the controller is never silent for long: a status line while the xdist workers start
    (each imports torch and collects every test file), then, while slow tests run, the seconds since the last
    result after the dots, erased before the next dot."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter
        self.collected, self.done, self.lock = threading.Event(), threading.Event(), threading.Lock()
        self.last = time.perf_counter()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        start = time.perf_counter()
        while not self.done.wait(0.5):
            with self.lock:
                now = time.perf_counter()
                if not self.collected.is_set():
                    self.reporter.write(f"\rworkers starting: importing torch, collecting tests ({now - start:.0f} s)")
                    self.reporter.flush()
                elif now - self.last >= 1.0 and not self.done.is_set():
                    _beside_the_dots(f"\x1b7 ({now - self.last:.0f} s)\x1b8")  # save cursor, text, restore

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Any) -> None:
        with self.lock:
            if not self.collected.is_set():
                self.collected.set()
                self.last = time.perf_counter()
                self.reporter.write("\r\x1b[K")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        with self.lock:
            self.last = time.perf_counter()
            if self.collected.is_set():
                _beside_the_dots("\x1b[K")

    @pytest.hookimpl(trylast=True)  # after xdist has shut its workers down, before the summary is printed
    def pytest_sessionfinish(self) -> None:
        self.done.set()
        self.thread.join()
        _beside_the_dots("\x1b[K")


def _beside_the_dots(text: str) -> None:
    """Terminal control text on the real stderr (the pytest terminal writer counts every character it writes
    towards its line width, which would shift the percentages)."""
    sys.__stderr__.write(text)
    sys.__stderr__.flush()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    on_controller = not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if on_controller and reporter is not None and reporter.isatty:
        heartbeat = SuiteHeartbeat(reporter)
        config.pluginmanager.register(heartbeat, "pinn-suite-heartbeat")
        heartbeat.thread.start()
