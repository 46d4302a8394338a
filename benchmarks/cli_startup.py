"""How fast the command line answers: `pinn --help`, `pinn problems`, a sub-command's help and an option
error, against `python -c "import numpy"` (and torch) measured in the same run.

Run: .venv/bin/python benchmarks/cli_startup.py
Writes benchmarks/results/cli_startup.md and .json: the median wall time of 7 runs of each, the ratio to
importing numpy, and the 12 slowest imports of `pinn --help` and `pinn problems` (python -X importtime). The
project's modules are byte-compiled first, as `make install` leaves them.
"""

from __future__ import annotations

import compileall
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PINN = [PYTHON, "-m", "cli"]
COMMANDS = {
    'python -c "import numpy"': [PYTHON, "-c", "import numpy"],
    'python -c "import torch"': [PYTHON, "-c", "import torch"],
    "pinn --help": [*PINN, "--help"],
    "pinn problems": [*PINN, "problems"],
    "pinn solve lorenz --help": [*PINN, "solve", "lorenz", "--help"],
    "pinn solve lorenz --epochs -5 (option error)": [*PINN, "solve", "lorenz", "--epochs", "-5"],
    "pinn solve lorenz --out /dev/null/x (refused folder)": [*PINN, "solve", "lorenz", "--out", "/dev/null/x"],
}


def median_seconds(command: list[str], repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def slowest_imports(*args: str, count: int = 12) -> list[str]:
    out = subprocess.run([PYTHON, "-X", "importtime", "-m", "cli", *args], capture_output=True, text=True,
                         cwd=ROOT)
    rows = []
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if line.startswith("import time:") and len(parts) == 3 and parts[1].isdigit():
            rows.append((int(parts[1]), parts[2]))
    rows.sort(reverse=True)
    return [f"{c / 1e3:8.1f} ms  {n}" for c, n in rows[:count]]


def main() -> None:
    for package in ("pinn", "cli", "problems"):
        compileall.compile_dir(ROOT / package, quiet=1)
    seconds = {label: median_seconds(cmd) for label, cmd in COMMANDS.items()}
    numpy_s = seconds['python -c "import numpy"']
    lines = ["| command | median wall seconds | / import numpy |", "|---|---|---|"]
    for label, value in seconds.items():
        lines.append(f"| `{label}` | {value:.3f} | {value / numpy_s:.1f} |")
    top = slowest_imports("--help")
    top_problems = slowest_imports("problems")
    text = ("# Command-line start-up\n\nMedian of 7 runs each, measured in one run "
            f"({time.strftime('%Y-%m-%d %H:%M')}).\n\n" + "\n".join(lines) +
            "\n\nSlowest imports of `pinn --help` (cumulative, python -X importtime):\n\n```\n" + "\n".join(top)
            + "\n```\n\nSlowest imports of `pinn problems`:\n\n```\n" + "\n".join(top_problems) + "\n```\n")
    OUT.mkdir(exist_ok=True)
    (OUT / "cli_startup.md").write_text(text)
    (OUT / "cli_startup.json").write_text(json.dumps({"seconds": seconds, "slowest_imports": top,
                                                           "slowest_imports_problems": top_problems}, indent=2))
    print(text)
    if any(m in " ".join(top) for m in ("torch", "scipy", "matplotlib")):
        sys.exit("pinn --help imports the numerics")


if __name__ == "__main__":
    main()
