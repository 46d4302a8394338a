"""The README is a contract: its result tables are the benchmark files', its other measured numbers appear in
benchmarks/results/, and every `pinn` command in it parses and validates."""

from __future__ import annotations

import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
NUMBER = re.compile(r"(?<![\w.\-/])(\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+)(?![\w.])")
SETTINGS = {"0.01", "1e4", "0.4", "0.2", "0.5", "0.1", "1.5", "1e-13", "1e-8", "1e-10", "0.906", "3.10"}
"""Inputs and settings the prose names (noise levels, thresholds, tolerances, defaults, Python's version),
not measurements; each is also an option value or a registry default."""


def prose(text: str) -> str:
    """The README without fenced code, result tables and inline code."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"<!-- results:.*?<!-- end results -->", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


def measured_values() -> list[float]:
    values = []
    for path in (ROOT / "benchmarks" / "results").iterdir():
        if path.suffix in (".md", ".json", ".jsonl", ".txt"):
            for token in re.findall(r"[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?", path.read_text()):
                try:
                    values.append(abs(float(token)))
                except ValueError:
                    pass
    return values


def quoted(token: str, values: list[float]) -> bool:
    """True when some measured value rounds to ``token`` (or to it as a percentage)."""
    x = float(token)
    mantissa = token.split("e")[0]
    exponent = int(token.split("e")[1]) if "e" in token else 0
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    tol = 0.5 * 10.0 ** (exponent - decimals) * (1 + 1e-9)
    return any(abs(v - x) <= tol or abs(100 * v - x) <= tol for v in values if math.isfinite(v))


def test_result_tables_are_the_benchmark_files() -> None:
    out = subprocess.run([sys.executable, "scripts/readme_tables.py", "--check"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout


def test_every_measured_number_in_the_prose_comes_from_a_results_file() -> None:
    values = measured_values()
    missing = [t for t in NUMBER.findall(prose(README)) if t not in SETTINGS and not quoted(t, values)]
    assert not missing, f"numbers in README.md found in no benchmarks/results file: {missing}"


def readme_pinn_lines() -> list[list[str]]:
    lines = []
    for block in re.findall(r"^```sh\n(.*?)^```", README, flags=re.S | re.M):
        for raw in block.splitlines():
            line = raw.split("#")[0].strip()
            if line.startswith("pinn "):
                lines.append(shlex.split(line)[1:])
    return lines


DRY = ("solve", "simulate", "identify", "surrogate", "sweep", "classify")


@pytest.mark.parametrize("args", readme_pinn_lines(), ids=lambda a: " ".join(a[:3]))
def test_every_readme_command_parses_and_validates(args: list[str], runner, tmp_path: Path, monkeypatch) -> None:
    """Commands that make something run with --dry-run (they validate everything and create nothing); the
    ones that read a run folder made earlier in the README (rerun, rollout, evaluate) show their help."""
    from cli.main import app

    monkeypatch.chdir(tmp_path)
    if any("*" in a for a in args):
        result = runner.invoke(app, [a for a in args if "*" not in a][:2] + ["--help"])
    elif args[0] in DRY and "--data" not in args and args[:2] != ["classify", "compare"]:
        result = runner.invoke(app, args + ["--dry-run"])
    else:
        result = runner.invoke(app, [a for a in args if not a.startswith("--data")][:2] + ["--help"])
    assert result.exit_code == 0, f"pinn {' '.join(args)}:\n{result.output}"
