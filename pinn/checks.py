"""Validation at the boundary: the checks every config runs on its own fields, and the resource check.

Configs call these from ``__post_init__`` so that a bad value is refused with one line naming the option
(``--epochs must be a whole number in [0, 100000000], got -5``) before any work starts and before any run
folder exists. Field names map to options by turning underscores into dashes.
"""

from __future__ import annotations

import math
import os
from typing import Any, Optional

from pinn.errors import PinnError

SEED_LIMIT = 2 ** 32 - 1
"""Largest seed: numpy's legacy and torch's generators both accept [0, 2^32 - 1]."""


def flag(name: str) -> str:
    """The command-line option of a config field: ``lbfgs_iters`` -> ``--lbfgs-iters``."""
    return "--" + name.replace("_", "-")


def number(name: str, value: Any, low: float = -math.inf, high: float = math.inf, *, strict_low: bool = False,
           strict_high: bool = False, integer: bool = False) -> None:
    """PinnError unless ``value`` is a finite number (a whole number with ``integer``) in the range."""
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PinnError(f"{flag(name)} must be {kind}, got {value!r}")
    if integer and not float(value).is_integer():
        raise PinnError(f"{flag(name)} must be a whole number, got {value!r}")
    above = value > low if strict_low else value >= low
    below = value < high if strict_high else value <= high
    if not (math.isfinite(value) and above and below):
        left = "(" if strict_low or low == -math.inf else "["
        right = ")" if strict_high or high == math.inf else "]"
        raise PinnError(f"{flag(name)} must be {kind} in {left}{_bound(low)}, {_bound(high)}{right}, got {value!r}")


def _bound(x: float) -> str:
    """A range end as typed: whole numbers in full (4294967295), others as %g (1e+12, 0.5, inf)."""
    return str(int(x)) if math.isfinite(x) and float(x).is_integer() and abs(x) < 1e10 else f"{x:g}"


def positive(name: str, value: Any, high: float = math.inf) -> None:
    """A finite number > 0 (and <= ``high``)."""
    number(name, value, 0.0, high, strict_low=True)


def count(name: str, value: Any, low: int = 0, high: int = 10 ** 8) -> None:
    """A whole number in [low, high]."""
    number(name, value, low, high, integer=True)


def seed(name: str, value: Any) -> None:
    """A seed in [0, 2^32 - 1]."""
    count(name, value, 0, SEED_LIMIT)


def whole(x: float) -> float:
    """floor(x) as a float that stays inf for an infinite x: sizes such as span / step are compared with
    their limits before they become ints, so 1e308 / 1e-300 is refused, never an OverflowError."""
    return float(math.floor(x)) if math.isfinite(x) else x


def available_memory() -> Optional[int]:
    """Bytes of memory available to a new allocation (MemAvailable on Linux), None if unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory(needed: float, what: str, fix: str) -> None:
    """PinnError when ``needed`` bytes exceed 80% of the available memory, with the estimate and the fix."""
    available = available_memory()
    if available is not None and needed > 0.8 * available:
        raise PinnError(f"{what} needs about {needed / 2 ** 30:.3g} GiB but {available / 2 ** 30:.3g} GiB is "
                        f"available; {fix}")


FLOP_RATE = 1e10
"""Floating-point operations per second assumed by time estimates on a CPU: a few vectorised cores."""

GPU_FLOP_RATE = 1e13
"""The same for a CUDA device."""

MAX_SECONDS = 7 * 24 * 3600.0
"""Longest run accepted (one week at the assumed rate); a longer estimate is an absurd budget, not a run."""


def budget(flops: float, what: str, fix: str, rate: float = FLOP_RATE) -> float:
    """Estimated seconds of ``flops`` floating-point operations at ``rate`` per second; PinnError with the
    estimate and the limit when it exceeds :data:`MAX_SECONDS` (an absurd budget such as --epochs 1e8)."""
    seconds = float(flops) / rate
    if not seconds <= MAX_SECONDS:
        raise PinnError(f"{what} needs up to about {_duration(seconds)} of computing ({float(flops):.2g} "
                        f"floating-point operations at {rate:.0e}/s), more than the limit of "
                        f"{_duration(MAX_SECONDS)}; {fix}")
    return seconds


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds:.0f} s"
    if seconds < 86400 * 3:
        return f"{seconds / 3600:.3g} hours"
    if seconds < 86400 * 3650:
        return f"{seconds / 86400:.3g} days"
    return f"{seconds / (86400 * 365):.3g} years"
