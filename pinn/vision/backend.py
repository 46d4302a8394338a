"""Which framework computes a classifier: PyTorch, or the from-scratch NumPy library :mod:`pinn.scratch`.

Both backends train the same architecture from the same initial weights on the same batches; everything
else of a run (data, split, schedule, metrics, figures, run folder) is shared code. This module imports
neither framework, so the command line can name the choices cheaply.
"""

from __future__ import annotations

NUMPY_MODELS = ("notes-digits", "notes-cifar", "digits-cnn", "fashion-cnn")
"""Architectures the numpy backend builds (cifar-resnet needs residual blocks and global pooling, which
pinn.scratch does not have)."""
