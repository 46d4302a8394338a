"""scripts/precompile.py (run by ``make install``): what it compiles ahead of time covers what pinn imports."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("precompile", ROOT / "scripts" / "precompile.py")
precompile = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(precompile)


def test_the_plan_holds_lazy_imports_torch_internals_and_every_project_module() -> None:
    heavy, light = precompile.plan()
    # imported inside functions only (pinn keeps them off the start-up path), and by torch itself
    assert {"sklearn.datasets", "matplotlib.pyplot", "scipy.integrate", "pysindy"} <= set(light)
    assert {"torch", "torch._dynamo", "torch.distributed.run"} <= set(heavy)
    own = {p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
           for package in ("pinn", "cli", "problems") for p in (ROOT / package).rglob("*.py")}
    assert own - {"cli.__main__"} <= set(heavy) and "cli.__main__" not in heavy
    assert not [n for n in light if n.split(".")[0] in ("torch", "pinn", "cli", "problems")]


def test_a_worker_imports_what_it_is_given_and_skips_what_is_missing(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "json.tool", raising=False)
    assert precompile.import_all(["json.tool", "no_such_package_pinn_test", "deepxde_not_installed"]) == 1
    assert "json.tool" in sys.modules
