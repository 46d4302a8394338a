"""Progress of long library calls: named phases, each timed, optionally with a step count.

A library function that can run for more than a couple of seconds takes a ``report: Reporter`` and wraps
each phase of its work::

    with report.phase("training", total=epochs) as update:
        for epoch in range(1, epochs + 1):
            ...
            update(epoch, f"loss {loss:.2e}")

The base class only records the seconds of every phase (``report.seconds``, written into metrics.json as
``phase_seconds``); the command line passes a subclass that draws a rich progress bar (or a spinner when
``total`` is None) naming the phase. Python users get silence unless they pass a reporter of their own.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

Update = Callable[..., None]
"""update(done, status="", total=None): steps done so far, a short status text, and optionally a new total."""


class Reporter:
    """Times named phases; subclasses display them. ``seconds`` maps phase name -> seconds spent."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str, total: Optional[int] = None) -> Iterator[Update]:
        """Run one phase: yields ``update(done, status="", total=None)``; the phase's time is recorded
        (added up when a phase of the same name runs again)."""
        start = time.perf_counter()
        try:
            with self._display(name, total) as update:
                yield update
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    @contextmanager
    def _display(self, name: str, total: Optional[int]) -> Iterator[Update]:
        yield _ignore

    def message(self, text: str) -> None:
        """A line worth showing the user (a fitted equation, a warning); silent by default."""


def _ignore(done: int = 0, status: str = "", total: Optional[int] = None) -> None:
    return None

