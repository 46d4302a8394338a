"""Compile to bytecode the modules that pinn, its command line and its tests import (run by ``make install``
with the new venv's interpreter, after pip).

    .venv/bin/python scripts/precompile.py

pip installs with ``--no-compile``: compiling all 10,000 modules of the installed packages takes longer than
the install itself, and pinn uses under half of them. This imports what the project's source imports
(every ``import`` statement of pinn/, cli/, problems/, tests/, examples/ and benchmarks/, those inside
functions too), the pytest plugins, and what torch imports on its own later (``torch._dynamo``, on the first
optimizer step), with bytecode writing on, so each of those modules is compiled once, here; small packages
that the command line and the test runner import piecemeal (typer, rich, pydantic, pytest, ...) are compiled
whole. A module left out is still compiled when first imported, only not ahead of time. Two processes share
the work: one imports torch and what builds on it, the other the rest.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pinn", "cli", "problems", "tests", "examples", "benchmarks", "scripts")
OWN = {"pinn", "cli", "problems", "tests"}
LATER = ("torch._dynamo", "torch.distributed.run", "torch.utils.serialization", "torch._decomp.decompositions_for_jvp",
         "mpl_toolkits.mplot3d", "matplotlib.backends.backend_agg")
"""Imported by the libraries themselves after start-up (torch on the first optimizer step, by torchrun, by
torch.save and forward-mode AD; matplotlib for a 3-D axis and for writing a PNG)."""
WHOLE = ("typer", "rich", "markdown_it", "mdurl", "pydantic", "pydantic_core", "annotated_types", "typing_inspection",
         "shellingham", "PIL", "_pytest", "pytest", "pluggy", "iniconfig", "execnet", "xdist", "hypothesis",
         "sortedcontainers")
"""Small packages compiled whole: the command line (parsing, help, errors) and the test runner import their
modules lazily, a few at a time."""


def imported_names() -> set[str]:
    """Absolute module names in the import statements of the project's source files."""
    names: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            try:
                tree = ast.parse(path.read_text(), str(path))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
    return names


def own_modules() -> list[str]:
    """Every module of pinn, cli and problems (``__main__`` excepted: importing it runs the program)."""
    names = []
    for package in ("pinn", "cli", "problems"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def plan() -> tuple[list[str], list[str]]:
    """(modules for the torch process, modules for the other one): third-party names and the project's own."""
    third = sorted(n for n in imported_names() | set(LATER) if n.split(".")[0] not in OWN)
    plugins = sorted({ep.value.split(":")[0] for ep in importlib.metadata.entry_points(group="pytest11")})
    heavy = [n for n in third if n.split(".")[0] == "torch"] + own_modules()
    light = [n for n in third + plugins if n.split(".")[0] != "torch"]
    return heavy, light


def import_all(names: list[str]) -> int:
    """Import ``names``, skipping those that are not installed (optional comparisons such as deepxde)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.simplefilter("ignore")
    done = 0
    for name in names:
        try:
            importlib.import_module(name)
            done += 1
        except Exception:  # noqa: BLE001  (a missing optional package or a module that needs a GPU)
            continue
    return done


def compile_whole(packages: tuple[str, ...]) -> None:
    """Compile every module of ``packages`` (those installed)."""
    import compileall
    import importlib.util

    for name in packages:
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=2)


def main() -> int:
    if len(sys.argv) > 1:  # a worker: import the names given (the light one also compiles WHOLE first)
        if sys.argv[1] == "--whole":
            compile_whole(WHOLE)
            sys.argv.pop(1)
        import_all(sys.argv[1:])
        return 0
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["OMP_NUM_THREADS"] = "1"
    heavy, light = plan()
    workers = [subprocess.Popen([sys.executable, __file__, *names], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for names in (heavy, ["--whole", *light])]
    codes = [w.wait() for w in workers]
    print(f"compiled what {len(heavy) + len(light)} imports need", flush=True)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
