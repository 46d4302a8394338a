"""Shared fixtures: a fixed seed for every test and a CLI runner."""

from __future__ import annotations

import os
import random

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
