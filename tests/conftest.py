"""Shared fixtures: a fixed seed for every test and a CLI runner; on a terminal, a status line while the
xdist workers start (each imports torch and collects every test file, several seconds with nothing shown)."""

from __future__ import annotations

import os
import random
import threading
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy: one BLAS thread per worker, also without make

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

torch.set_num_threads(1)  # small solves are fastest, and timings steadiest, on one thread


@pytest.fixture(autouse=True)
def seed() -> int:
    """Seed python, numpy and torch identically before each test."""
    random.seed(1234)
    np.random.seed(1234)
    torch.manual_seed(1234)
    return 1234


@pytest.fixture
def runner() -> CliRunner:
    """typer's CLI runner (stderr captured apart from stdout)."""
    return CliRunner()


class WorkerStartStatus:
    """A live status line on the controller from the start of the session until a worker has collected."""

    def __init__(self, config: pytest.Config) -> None:
        self.reporter = config.pluginmanager.get_plugin("terminalreporter")
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._show, daemon=True)

    def _show(self) -> None:
        start = time.perf_counter()
        while not self.done.wait(0.5):
            self.reporter.write(f"\rworkers starting: importing torch, collecting tests "
                                f"({time.perf_counter() - start:.0f} s)")
            self.reporter.flush()
        self.reporter.write("\r\x1b[K")

    def stop(self) -> None:
        if not self.done.is_set():
            self.done.set()
            self.thread.join()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    on_controller = not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if on_controller and reporter is not None and reporter.isatty:
        status = WorkerStartStatus(config)
        config.stash[STATUS] = status
        status.thread.start()


def _stop_status(config: pytest.Config) -> None:
    status = config.stash.get(STATUS, None)
    if status is not None:
        status.stop()


STATUS = pytest.StashKey[WorkerStartStatus]()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    _stop_status(node.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    _stop_status(session.config)
