"""CNN image classification: data sets, networks, training (single process or torchrun), grid search.

The user-facing names are re-exported here; the modules hold the rest::

    from pinn.vision import default_config, classify
    run_dir, metrics = classify(default_config("digits"), out_root="runs")
"""

from pinn.vision.config import ClassifyConfig, default_config
from pinn.vision.datasets import DatasetName, ImageSet, load_images
from pinn.vision.experiment import classify, evaluate_run
from pinn.vision.grid import grid_search, run_grid
from pinn.vision.models import ModelName, build_model

__all__ = ["ClassifyConfig", "DatasetName", "ImageSet", "ModelName", "build_model", "classify", "default_config",
           "evaluate_run", "grid_search", "load_images", "run_grid"]
