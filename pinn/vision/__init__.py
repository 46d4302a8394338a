"""CNN image classification: data sets, networks, training (single process or torchrun), grid search,
with PyTorch or the from-scratch NumPy library as the backend.

The user-facing names load on first use (importing the package costs nothing)::

    from pinn.vision import default_config, classify
    run_dir, metrics = classify(default_config("digits"), out_root="runs")
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"ClassifyConfig": "pinn.vision.config", "default_config": "pinn.vision.config",
            "DatasetName": "pinn.vision.names", "ModelName": "pinn.vision.names", "ImageSet": "pinn.vision.datasets",
            "load_images": "pinn.vision.datasets", "classify": "pinn.vision.experiment",
            "evaluate_run": "pinn.vision.experiment", "grid_search": "pinn.vision.grid", "run_grid": "pinn.vision.grid",
            "build_model": "pinn.vision.models"}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pinn.vision' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
