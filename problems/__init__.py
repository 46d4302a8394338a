"""The problem zoo: concrete equations written against pinn's public API, one module per problem.

Each module defines its problem as a :class:`pinn.spec.ODESpec` (the equation, its constants with defaults,
ranges and sources, the default initial state and interval, and the settings of every command) next to the
pure functions it needs. Every module-level spec in this package is registered in :data:`REGISTRY`, so
adding a problem to every command (solve, simulate, identify, surrogate, problems) is one new module here.
Modules are imported when the registry is built, so they import only light modules at the top (numpy,
pinn.spec): torch, scipy and matplotlib are imported inside the functions that use them, which keeps
``pinn --help`` instant.
"""

from __future__ import annotations

import importlib
import pkgutil

from pinn.spec import ODESpec, Registry


def _discover() -> Registry:
    registry = Registry()
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, ODESpec) and getattr(value.rhs, "__module__", None) == loaded.__name__:
                registry.add(value)
    return registry


REGISTRY: Registry = _discover()
"""Every registered problem by name (``REGISTRY.get("lorenz")``)."""
