"""The problem zoo: concrete equations written against pinn's public API, one module per problem.

Each module defines its problem as a :class:`pinn.spec.ODESpec` or :class:`pinn.spec.PDESpec` (the equation, its constants with defaults,
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

from pinn.spec import ODESpec, PDESpec, Registry


def _discover() -> Registry:
    registry = Registry()
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(loaded).values():
            home = value.rhs if isinstance(value, ODESpec) else value.build if isinstance(value, PDESpec) else None
            if home is not None and getattr(home, "__module__", None) == loaded.__name__:
                registry.add(value)
    return registry


REGISTRY: Registry = _discover()
"""Every registered problem by name (``REGISTRY.get("lorenz")``)."""
