"""Burgers and wave through DeepXDE, side by side with pinn (least squares and gradient PINN): error and seconds.

Run (DeepXDE is an optional dependency, never imported by pinn or the tests):
    .venv/bin/pip install -c constraints.txt -e '.[compare]'
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pde_gradient.py        # the pinn gradient rows (first)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/deepxde_compare.py     # about 5 min per DeepXDE case
Writes benchmarks/results/deepxde_compare.md and .json.

The DeepXDE set-up is the one of pinn's gradient benchmark (benchmarks/pde_gradient.py, ``SETTINGS``): a 4 x 50
tanh network (Glorot normal), 2000 interior Sobol points, 200 boundary and 200 initial points, Adam (lr 1e-3)
5000 steps then L-BFGS <= 3000 iterations, float64, the PyTorch backend, with DeepXDE's usual soft
(penalty) conditions as in its Burgers and wave examples. Errors: relative L2 on the same 256 x 101 grid
against the same references (Cole-Hopf; the exact wave solution). Seconds: process time of one thread.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from pde_gradient import SETTINGS  # noqa: E402  (one set of settings for both libraries)

from pinn.pde.config import PDESolveConfig  # noqa: E402
from pinn.pde.solve import evaluation_grid, solve_pde  # noqa: E402
from problems import burgers as burgers_mod  # noqa: E402
from problems import wave as wave_mod

OUT = Path(__file__).parent / "results"


def deepxde_case(case: str) -> dict:
    """Train DeepXDE on ``case`` and measure it against pinn's reference on the evaluation grid."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")  # before the import: no backend config file is written
    import deepxde as dde

    dde.config.set_default_float("float64")
    dde.config.set_random_seed(SETTINGS.seed)
    if case == "burgers":
        problem = burgers_mod.burgers_problem()
        nu = problem.params["nu"]
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 1))

        def pde(z, u):
            return (dde.grad.jacobian(u, z, i=0, j=1) + u * dde.grad.jacobian(u, z, i=0, j=0)
                    - nu * dde.grad.hessian(u, z, i=0, j=0))

        conditions = [dde.icbc.DirichletBC(geom, lambda z: 0.0, lambda _, on_b: on_b),
                      dde.icbc.IC(geom, lambda z: -np.sin(np.pi * z[:, 0:1]), lambda _, on_i: on_i)]
    else:
        problem = wave_mod.wave_problem()
        c = 2.0
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(0, 1), dde.geometry.TimeDomain(0, 1))

        def pde(z, u):
            return dde.grad.hessian(u, z, i=1, j=1) - c ** 2 * dde.grad.hessian(u, z, i=0, j=0)

        conditions = [dde.icbc.DirichletBC(geom, lambda z: 0.0, lambda _, on_b: on_b),
                      dde.icbc.IC(geom, lambda z: np.sin(np.pi * z[:, 0:1]) + 0.5 * np.sin(4 * np.pi * z[:, 0:1]),
                                  lambda _, on_i: on_i),
                      dde.icbc.OperatorBC(geom, lambda z, u, _: dde.grad.jacobian(u, z, i=0, j=1),
                                          lambda _, on_i: on_i)]
    data = dde.data.TimePDE(geom, pde, conditions, num_domain=SETTINGS.points,
                            num_boundary=2 * SETTINGS.boundary_points, num_initial=SETTINGS.initial_points,
                            train_distribution="Sobol")
    net = dde.nn.FNN([2] + [SETTINGS.width] * SETTINGS.depth + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    cpu, wall = time.process_time(), time.perf_counter()
    model.compile("adam", lr=SETTINGS.lr)
    model.train(iterations=SETTINGS.epochs, display_every=1000, verbose=0)
    dde.optimizers.config.set_LBFGS_options(maxiter=SETTINGS.lbfgs_iters)
    opts = dde.optimizers.config.LBFGS_options  # the per-call chunk is fixed at import; follow maxiter
    opts["iter_per_step"] = min(1000, SETTINGS.lbfgs_iters)
    opts["fun_per_step"] = opts["maxfun"] * opts["iter_per_step"] // opts["maxiter"]
    model.compile("L-BFGS")
    _, state = model.train(display_every=1000, verbose=0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    x, t = evaluation_grid(problem, (256, 101))
    xx, tt = np.meshgrid(x, t)
    u = model.predict(np.column_stack([xx.ravel(), tt.ravel()])).reshape(xx.shape)
    ref = problem.exact_on_grid(x, t)
    row = {"case": case, "method": f"DeepXDE {dde.__version__}, gradient PINN (penalty conditions)",
           "relative_l2": float(np.linalg.norm(u - ref) / np.linalg.norm(ref)),
           "max_abs_error": float(np.abs(u - ref).max()), "final_loss": float(np.sum(state.loss_train)),
           "steps": int(state.step), "process_seconds": cpu, "wall_seconds": wall,
           "version": dde.__version__}
    print(f"{case:8s} DeepXDE       relL2 {row['relative_l2']:.2e}  {cpu:6.0f} s cpu", flush=True)
    return row


def least_squares_case(case: str) -> dict:
    """pinn's default method with the problem's default settings (what ``pinn solve <case>`` runs)."""
    module = burgers_mod if case == "burgers" else wave_mod
    problem = getattr(module, f"{case}_problem")()
    cpu, wall = time.process_time(), time.perf_counter()
    result = solve_pde(problem, PDESolveConfig(least_squares=module.LEAST_SQUARES))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    m = result.metrics
    print(f"{case:8s} least squares relL2 {m['relative_l2']:.2e}  {cpu:6.0f} s cpu", flush=True)
    return {"case": case, "method": "pinn, space-time least squares (default)", "relative_l2": m["relative_l2"],
            "max_abs_error": m["max_abs_error"], "process_seconds": cpu, "wall_seconds": wall}


def main() -> None:
    torch.set_num_threads(1)
    grad_path = OUT / "pde_gradient.json"
    if not grad_path.exists():
        raise SystemExit("run benchmarks/pde_gradient.py first (it writes the pinn gradient rows)")
    gradient = json.loads(grad_path.read_text())
    rows = []
    for case in ("burgers", "wave"):
        rows.append(least_squares_case(case))
        for g in gradient:
            if g["case"] == case:
                rows.append({"case": case, "method": f"pinn, gradient PINN ({g['constraints']} conditions)",
                             **{k: g[k] for k in ("relative_l2", "max_abs_error", "process_seconds",
                                                  "wall_seconds")}})
        rows.append(deepxde_case(case))
    OUT.mkdir(exist_ok=True)
    (OUT / "deepxde_compare.json").write_text(json.dumps(rows, indent=2))
    lines = ["# pinn and DeepXDE on the same PDE set-ups", "",
             "Relative L2 and max abs error on 256 x 101 points against the same references; seconds are process "
             "time of one thread on the shared 2-core CPU (wall time in the JSON). Gradient PINNs (pinn and "
             "DeepXDE): 4 x 50 tanh, 2000 + 200 + 200 points, Adam 5000 steps then L-BFGS <= 3000 iterations, "
             "float64. Produced by `benchmarks/deepxde_compare.py`.", "",
             "| problem | method | rel. L2 | max abs error | seconds |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | {r['method']} | {r['relative_l2']:.2e} | {r['max_abs_error']:.2e} | "
              f"{r['process_seconds']:.0f} |" for r in rows]
    (OUT / "deepxde_compare.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
