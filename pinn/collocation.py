"""Collocation points in time: a uniform grid, uniformly random points, or a scrambled Sobol sequence."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.stats import qmc

from pinn.choices import Sampling


def collocation_points(kind: Sampling, n: int, t0: float, t1: float, seed: int = 0,
                       dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu") -> torch.Tensor:
    """n times in [t0, t1] as a (n, 1) tensor, sorted; random kinds are reproducible through ``seed``.

    grid: equally spaced including both ends; uniform: i.i.d. U(t0, t1); sobol: scrambled Sobol points
    (scipy.stats.qmc), low-discrepancy, which cover the interval more evenly than i.i.d. draws.
    """
    kind = Sampling(kind)
    if n < 1:
        raise ValueError("need at least one collocation point")
    if kind is Sampling.grid:
        s = np.linspace(0.0, 1.0, n)
    elif kind is Sampling.uniform:
        s = np.random.default_rng(seed).random(n)
    else:
        with warnings.catch_warnings():  # scipy warns when n is not a power of two; balance is not needed here
            warnings.simplefilter("ignore", UserWarning)
            s = qmc.Sobol(d=1, scramble=True, seed=seed).random(n)[:, 0]
    t = t0 + (t1 - t0) * np.sort(s)
    return torch.tensor(t, dtype=dtype, device=device).reshape(-1, 1)
