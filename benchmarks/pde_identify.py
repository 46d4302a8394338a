"""`pinn identify burgers`: nu from observations every 0.01 in t at 256 points, noise-free and with 1 % noise,
and the calibration of its standard error over noise seeds.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pde_identify.py [acceptance] [calibration] [linearised]
         [--seeds 20]     (all parts by default; about 12 min on one core)
Writes benchmarks/results/pde_identify.md and .json.

1. The acceptance runs, as the CLI does them: data from `simulate_observations(burgers, nx=256, every=0.01,
   noise)`, start from a log-spaced scan of nu in [1e-3, 1e-1], the forward model with burgers' default
   least-squares settings (problems/burgers.py); noise 0 and noise 0.01 (seed 0).
2. Calibration: seeds 1..N of 1 % noise, each fitted from the start nu = 0.004 with a cheaper forward model
   (misfit 1e-6 of the data scale, 500x below the noise, so the statistics are those of the noise); the fraction
   of |nu_hat - nu| < 2 SE should be about 0.95 and the spread of z = (nu_hat - nu) / SE about 1.
3. The same over 1000 seeds through the fit's linearisation (two forward solves in all).
Seconds are process time of this single-threaded process.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from pinn.pde.config import LeastSquaresConfig
from pinn.pde.inverse import PDEIdentifyConfig, identify_pde
from pinn.pde.observations import simulate_observations
from problems.burgers import LEAST_SQUARES, burgers_problem

OUT = Path(__file__).parent / "results"
RANGE = (1e-3, 1e-1)
CHEAP = LeastSquaresConfig(block=0.1, edges=(-0.5, -0.2, -0.08, -0.03, -0.01, 0.0, 0.01, 0.03, 0.08, 0.2, 0.5),
                           features=60, points_x=16, points_s=10, max_iter=5, adapt=False)


def acceptance(noise: float) -> dict:
    problem = burgers_problem()
    nu = problem.params["nu"]
    obs = simulate_observations(problem, nx=256, every=0.01, noise=noise, seed=0)
    cfg = PDEIdentifyConfig(unknowns=("nu",), ranges={"nu": RANGE}, least_squares=LEAST_SQUARES)
    cpu = time.process_time()
    r = identify_pde(problem, obs, cfg)
    cpu = time.process_time() - cpu
    row = {"noise": noise, "nu_true": nu, "nu_hat": float(r.estimates[0]), "stderr": float(r.stderr[0]),
           "relative_error": float(abs(r.estimates[0] / nu - 1)), "relative_stderr": float(r.stderr[0] / nu),
           "z": float((r.estimates[0] - nu) / r.stderr[0]), "relative_noise_estimate": r.relative_noise,
           "forward_solves": r.solves, "process_seconds": cpu, "observations": obs.count}
    print(f"noise {noise:<5g} nu_hat/nu - 1 = {row['relative_error']:.2e}  SE/nu = {row['relative_stderr']:.2e}  "
          f"{r.solves} solves  {cpu:.0f} s", flush=True)
    return row


def calibration(seeds: int) -> dict:
    problem = burgers_problem()
    nu = problem.params["nu"]
    z, rel, cpu = [], [], time.process_time()
    for seed in range(1, seeds + 1):
        obs = simulate_observations(problem, nx=256, every=0.01, noise=0.01, seed=seed)
        r = identify_pde(problem, obs, PDEIdentifyConfig(unknowns=("nu",), guesses={"nu": 0.004},
                                                         least_squares=CHEAP))
        z.append(float((r.estimates[0] - nu) / r.stderr[0]))
        rel.append(float(abs(r.estimates[0] / nu - 1)))
        print(f"seed {seed:3d}: z = {z[-1]:+.2f}  |nu_hat/nu - 1| = {rel[-1]:.1e}", flush=True)
    z_arr = np.array(z)
    return {"seeds": seeds, "coverage_2se": float(np.mean(np.abs(z_arr) < 2)), "z_std": float(np.std(z_arr, ddof=1)),
            "z_mean": float(np.mean(z_arr)), "max_relative_error": float(max(rel)), "z": z,
            "process_seconds": time.process_time() - cpu}


def linearised(seeds: int) -> dict:
    """The same statistic for many more seeds through the fit's linearisation nu_hat - nu = J^T e / J^T J
    (J from two forward solves at the true nu; the noise e drawn exactly as simulate_observations draws it),
    which reproduces the nonlinear fits' z to 0.01 on the seeds both cover."""
    problem = burgers_problem()
    nu = problem.params["nu"]
    clean = simulate_observations(problem, nx=256, every=0.01, noise=0.0)
    from pinn.pde.inverse import forward_field

    jac = ((forward_field(problem, {"nu": nu * (1 + 1e-4)}, clean, CHEAP)
            - forward_field(problem, {"nu": nu}, clean, CHEAP)) / (nu * 1e-4)).ravel()
    sigma = 0.01 * float(np.sqrt(np.mean(clean.u ** 2)))
    z = np.array([jac @ (sigma * np.random.default_rng(seed).standard_normal(clean.u.shape).ravel())
                  / (sigma * np.sqrt(jac @ jac)) for seed in range(1, seeds + 1)])
    return {"seeds": seeds, "coverage_2se": float(np.mean(np.abs(z) < 2)), "z_std": float(np.std(z, ddof=1)),
            "z_first_20": z[:20].round(3).tolist()}


def main() -> None:
    torch.set_num_threads(1)
    seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 20
    parts = [p for p in ("acceptance", "calibration", "linearised") if p in sys.argv] or \
        ["acceptance", "calibration", "linearised"]
    OUT.mkdir(exist_ok=True)
    path = OUT / "pde_identify.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    if "acceptance" in parts:
        out["acceptance"] = [acceptance(0.0), acceptance(0.01)]
    if "calibration" in parts:
        out["calibration"] = calibration(seeds)
    if "linearised" in parts:
        out["linearised"] = linearised(1000)
    path.write_text(json.dumps(out, indent=2))
    c, lin = out["calibration"], out["linearised"]
    lines = ["# pinn identify burgers: nu from 256 x 101 observations", "",
             "Data u(x_j, t_i) every 0.01 in t at 256 points from the Cole-Hopf reference, relative Gaussian noise; "
             "Gauss-Newton on the data misfit with the space-time least-squares solution as forward model "
             "(burgers' default settings), started from a scan of nu in [1e-3, 1e-1]. Produced by "
             "`benchmarks/pde_identify.py`; seconds are process time of one thread.", "",
             "| noise | nu_hat / nu - 1 | SE / nu | (nu_hat - nu) / SE | noise estimate / rms(u) | solves | seconds |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['noise']:g} | {r['relative_error']:.1e} | {r['relative_stderr']:.1e} | {r['z']:+.2f} | "
              f"{r['relative_noise_estimate']:.2e} | {r['forward_solves']} | {r['process_seconds']:.0f} |"
              for r in out["acceptance"]]
    lines += ["", "Without noise the standard error only measures the forward model's misfit "
              f"({out['acceptance'][0]['relative_noise_estimate']:.1e} of the data scale), so z is not meaningful "
              "there.", "",
              f"Calibration over {c['seeds']} noise seeds (1 % noise, full nonlinear fits with a cheaper forward "
              f"model, start nu = 0.004): nu within 2 SE in {100 * c['coverage_2se']:.0f} % of the seeds (95 % "
              f"expected), spread of z = (nu_hat - nu) / SE {c['z_std']:.2f} (1 expected), mean z "
              f"{c['z_mean']:+.2f}, largest |nu_hat / nu - 1| {c['max_relative_error']:.1e}.",
              f"Through the fit's linearisation (which reproduces those {c['seeds']} z values to 0.01) over "
              f"{lin['seeds']} seeds: within 2 SE in {100 * lin['coverage_2se']:.1f} %, spread of z "
              f"{lin['z_std']:.2f}; the first 20 seeds alone give {np.std(lin['z_first_20'], ddof=1):.2f}, "
              "a low draw (about a 3 % chance for 20 samples).", ""]
    (OUT / "pde_identify.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
