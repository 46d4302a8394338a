"""The shape of the code base, as the style guide asks: layering, short functions, a command line that
builds without the numerics."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for folder in ("pinn", "problems", "cli") for p in sorted((ROOT / folder).rglob("*.py"))]


def test_the_framework_never_imports_problems_or_the_command_line() -> None:
    offenders = []
    for path in (ROOT / "pinn").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("problems", "cli")]
    assert not offenders, offenders


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, long


HEAVY = ("torch", "scipy", "matplotlib", "sklearn", "pysindy")


@pytest.mark.parametrize("setup", ["import problems", "import cli.main",
                                   "from cli.main import COMMANDS, load_command; [load_command(n) for n in COMMANDS]"])
def test_building_the_command_line_imports_no_numerics(setup: str) -> None:
    code = f"import sys; {setup}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"{setup} loads {out.stdout.strip()}"


def modules_after(*args: str) -> set[str]:
    """The modules loaded once ``pinn ARGS`` has finished (run in a fresh interpreter)."""
    code = (f"import sys; sys.argv = ['pinn', *{list(args)!r}]; from cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('MODULES', ' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    (line,) = [ln for ln in out.stdout.splitlines() if ln.startswith("MODULES ")]
    return set(line.split()[1:])


def test_pinn_help_loads_no_command_and_no_numpy() -> None:
    loaded = modules_after("--help")
    assert not {m for m in loaded if m.split(".")[0] in ("numpy", "problems", *HEAVY)}, sorted(loaded)
    assert not {m for m in loaded if m.startswith("cli.") and m not in ("cli.main", "cli.console", "cli.options")}


def test_pinn_problems_builds_no_other_command() -> None:
    loaded = modules_after("problems")
    assert "problems.lorenz" in loaded and not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert {m for m in loaded if m.startswith("cli.")} == {"cli.main", "cli.console", "cli.options",
                                                           "cli.problems_cmd"}


@pytest.mark.parametrize("args", [("solve", "lorenz"), ("simulate", "lorenz", "--out", "/dev/null/x/obs.csv"),
                                  ("surrogate", "train", "lorenz"), ("classify", "digits")], ids=" ".join)
def test_an_output_folder_that_cannot_hold_the_run_is_refused_before_torch_loads(args: tuple[str, ...]) -> None:
    loaded = modules_after(*args, *(() if "--out" in args else ("--out", "/dev/null/x")))
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}, sorted(m for m in loaded if m.split(".")[0] in HEAVY)
