"""One-step error and valid prediction time of least-squares flow maps as the feature count grows (issue 11).

Same data, split, test states and metric as benchmarks/surrogate_lorenz.py (Taylor-series data, reference
rollouts over 45 time units with the Taylor/DOP853 agreement span). For tanh and Fourier random features
(weight scale 0.2) one factorisation of the largest feature matrix serves every smaller count (the first n
columns are the model with n features); for Chebyshev polynomial features every total degree 2..12. Ridge 0
(the unregularised QR solve; the validation search of `pinn surrogate train` picks it on Lorenz). Rows
"+ Gauss-Newton" refine the hidden layer of a small tanh map first (15 Levenberg-Marquardt steps, variable
projection) and are compared with the same count without it. Writes
benchmarks/results/surrogate_features.{json,md}.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/surrogate_features.py     # about 5 min on one core
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from pinn.runs import to_json
from pinn.surrogate.config import FeatureMap
from pinn.surrogate.data import DataConfig, flow_pairs, make_dataset
from pinn.surrogate.evaluate import ReferenceSet, evaluate
from pinn.surrogate.lsq import (
    FeatureSpec,
    LeastSquaresFlowMap,
    feature_ladder,
    fit_output_layers,
    input_scaling,
    polynomial_count,
    refine_hidden_layer,
)
from pinn.surrogate.vpt import format_bounded
from problems import REGISTRY

HORIZON = 45.0


def study(spec: FeatureSpec, counts: list[int], data, reference, lam: float, gauss_newton: int = 0) -> list[dict]:
    center, half = input_scaling(data.subset("train"))
    n = data.normaliser
    full = LeastSquaresFlowMap(spec, 3, data.config.dt, center, half, n.rate_mean, n.rate_std)
    u, t, u_next = flow_pairs(data.subset("train"), data.t, 2)
    start = time.process_time()
    if gauss_newton:
        refine_hidden_layer(full, u, t, u_next, gauss_newton)
    factor = fit_output_layers(full, u, t, u_next)
    factor_seconds = time.process_time() - start
    rows = []
    for count in counts:
        t0 = time.process_time()
        model = full.truncated(count, factor.solve(count, 0.0))
        solve_seconds = time.process_time() - t0
        s = evaluate(model, data, reference, lam, stride=4).summary()
        row = {"features": spec.kind.value + (f" + Gauss-Newton ({gauss_newton} steps)" if gauss_newton else ""),
               "count": count, "one_step_median": s["one_step_median"],
               "vpt_median_lyap": s["vpt_median_lyap"], "vpt_median_lower_bound": s["vpt_median_lower_bound"],
               "vpt_min_lyap": s["vpt_min_lyap"], "vpt_min_lower_bound": s["vpt_min_lower_bound"],
               "fit_process_seconds": factor_seconds + solve_seconds}
        print(json.dumps(to_json(row)), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    torch.set_num_threads(1)
    problem = REGISTRY.get("lorenz", purpose="surrogates").surrogate_problem()
    data = make_dataset(problem.rhs, 3, DataConfig())
    reference = ReferenceSet.build(problem.rhs, data, HORIZON)
    lam = problem.lyapunov
    rows = []
    for kind in (FeatureMap.tanh, FeatureMap.fourier):
        spec = FeatureSpec(kind, features=2000, scale=0.2)
        center, half = input_scaling(data.subset("train"))
        probe = LeastSquaresFlowMap(spec, 3, 0.01, center, half, np.zeros(3), np.ones(3))
        rows += study(spec, feature_ladder(probe, steps=5), data, reference, lam)
    for hidden in (32, 128):  # the refinement costs N (m + 1) parameters: small maps only
        rows += study(FeatureSpec(FeatureMap.tanh, features=hidden, scale=0.2), [1 + 3 + hidden], data, reference,
                      lam, gauss_newton=15)
    rows += study(FeatureSpec(FeatureMap.polynomial, degree=12), [polynomial_count(3, p) for p in range(2, 13)],
                  data, reference, lam)
    span = (float(np.median(reference.span) * lam), float(np.min(reference.span) * lam))
    lines = [f"Least-squares flow maps on Lorenz: feature count against one-step error (median over the test "
             f"trajectories) and VPT (Lyapunov times, 20 unseen initial states). Reference agreement span: median "
             f"{span[0]:.2f}, min {span[1]:.2f} Lyapunov times ('> value': at the span). Fit seconds: process time "
             f"(factorisation of the largest matrix + this count's solve).", "",
             "| features | count | one-step error | VPT median | VPT min | fit s |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['features']} | {r['count']} | {r['one_step_median']:.2e} | "
                     f"{format_bounded(r['vpt_median_lyap'], r['vpt_median_lower_bound'])} | "
                     f"{format_bounded(r['vpt_min_lyap'], r['vpt_min_lower_bound'])} | {r['fit_process_seconds']:.1f} |")
    out = Path("benchmarks/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "surrogate_features.json").write_text(json.dumps(to_json({"span": span, "rows": rows}), indent=2) + "\n")
    (out / "surrogate_features.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
