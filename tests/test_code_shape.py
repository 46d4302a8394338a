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


@pytest.mark.parametrize("module", ["problems", "cli.main"])
def test_building_the_command_line_imports_no_numerics(module: str) -> None:
    code = (f"import sys, {module}; heavy = [m for m in ('torch', 'scipy', 'matplotlib', 'sklearn', 'pysindy') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"importing {module} loads {out.stdout.strip()}"
