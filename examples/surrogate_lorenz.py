"""Learn the Lorenz flow map from the notes' trajectories with the library API (about a minute on one core).

    .venv/bin/python examples/surrogate_lorenz.py

The same as ``pinn surrogate train lorenz --epochs 100``: simulate 100 + 20 trajectories, train a residual
MLP u_{t+1} = u_t + dt (A z + MLP(z)) with Adam then L-BFGS, and evaluate it on the 20 unseen ones.
"""

from __future__ import annotations

from pathlib import Path

import torch

from pinn.surrogate import plots
from pinn.surrogate.data import DataConfig, make_dataset
from pinn.surrogate.evaluate import ReferenceSet, evaluate
from pinn.surrogate.models import ModelSpec
from pinn.surrogate.train import TrainConfig, train_surrogate
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants


def main() -> None:
    torch.manual_seed(0)
    data = make_dataset(lorenz_rhs, 3, DataConfig())  # 100 + 20 trajectories, dt = 0.01, t in [0, 8]
    reference = ReferenceSet.build(lorenz_rhs, data, horizon=25.0)
    result = train_surrogate(data, ModelSpec(width=32, depth=3, linear_skip=True),
                             TrainConfig(epochs=100, stride=5, adam_fraction=0.05))
    evaluation = evaluate(result.model, data, reference, lyapunov=0.906)
    for name, value in evaluation.summary().items():
        print(f"{name:>24}: {value:.4g}")
    out = Path("runs/example-surrogate")
    out.mkdir(parents=True, exist_ok=True)
    plots.plot_error_growth(evaluation.t, evaluation.error, 0.906, out / "error_growth.png")
    plots.plot_attractor(evaluation.pred[0], evaluation.true[0], ("x", "y", "z"), out / "attractor.png")
    print(f"figures in {out}")


if __name__ == "__main__":
    main()
