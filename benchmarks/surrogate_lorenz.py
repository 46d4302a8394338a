"""Benchmark of issue 11's Lorenz forecasting targets, every model on the same data, split and metric.

Data: the notes' 100 trajectories from U[-15, 15]^3, dt = 0.01, t in [0, 8] (90 train, 10 validation),
integrated by the order-30 Taylor series, plus 20 unseen test trajectories; reference rollouts from the 20
test initial states over t in [0, 45] by the Taylor series, with the agreement span of Taylor and DOP853
(rtol = atol = 1e-13) as the ground-truth horizon: a VPT beyond it is shown as "> span".

Models (each through :func:`pinn.surrogate.pipeline.fit_surrogate`, the code path of `pinn surrogate train`):
the trained MLP (one-step loss for 400 epochs; and 100 one-step epochs followed by 100 with the loss over 3
unrolled steps, about the same cost), the LSTM, SINDy, least-squares
flow maps (tanh random features, Chebyshev polynomial features), the echo state network (tuned on
validation; its VPT counts from the end of its 100-sample warm-up), and the SINDy autoencoder on the
128-dimensional lifted observations (VPT in the lifted space). Writes benchmarks/results/surrogate_lorenz.{json,md}.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/surrogate_lorenz.py            # about 15 min on one core
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/surrogate_lorenz.py --only polynomial reservoir
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from pinn.progress import Reporter
from pinn.runs import to_json
from pinn.surrogate.autoencoder import lift, lifted_dataset
from pinn.surrogate.config import SurrogateConfig, SurrogateKind
from pinn.surrogate.data import DataConfig, make_dataset
from pinn.surrogate.evaluate import ReferenceSet, evaluate
from pinn.surrogate.pipeline import fit_surrogate
from pinn.surrogate.vpt import format_bounded
from problems import REGISTRY

HORIZON = 45.0
MODELS = {
    "mlp": SurrogateConfig(model=SurrogateKind.mlp, epochs=400),
    "mlp-unroll3": SurrogateConfig(model=SurrogateKind.mlp, epochs=200, unroll=3),
    "lstm": SurrogateConfig(model=SurrogateKind.lstm),
    "sindy": SurrogateConfig(model=SurrogateKind.sindy),
    "random-features": SurrogateConfig(model=SurrogateKind.random_features),
    "polynomial": SurrogateConfig(model=SurrogateKind.polynomial),
    "reservoir": SurrogateConfig(model=SurrogateKind.reservoir),
    "autoencoder": SurrogateConfig(model=SurrogateKind.autoencoder, observe="lifted128"),
}


def row_of(name: str, summary: dict, fitted: dict) -> dict:
    keep = ("one_step_median", "vpt_median_lyap", "vpt_median_lower_bound", "vpt_min_lyap", "vpt_min_lower_bound",
            "vpt_nrmse_median_lyap", "attractor_w1", "vpt_beyond_span", "reference_span_median_lyap",
            "reference_span_min_lyap")
    row = {"model": name, **{k: summary[k] for k in keep}, "train_seconds": fitted["train_seconds"],
           "train_process_seconds": fitted["train_process_seconds"],
           "warmup_steps": int(fitted["stepper"].history_length) - 1}
    for k in ("features", "ridge", "reservoir", "equations", "parameters", "epochs", "val_reconstruction",
              "latent_affine_residual", "latent_field_error", "active_terms"):
        if k in fitted:
            row[k] = fitted[k]
    print(json.dumps(to_json(row)), flush=True)
    return row


def markdown(rows: list[dict], span: dict, total: float) -> str:
    lines = [f"Lorenz forecasting: the notes' 100 trajectories (90 train, 10 validation; Taylor-series data), "
             f"20 unseen test initial states, reference rollouts over {HORIZON:g} time units. Ground-truth "
             f"horizon (Taylor vs DOP853 at 1e-13 agree within the VPT threshold): median "
             f"{span['median']:.2f}, min {span['min']:.2f} Lyapunov times; a VPT at or beyond it is shown as "
             f"'> value'. Lyapunov times use lambda_max = 0.906. Training seconds are process time of one "
             f"single-threaded process (the machine was shared); whole benchmark {total:.0f} s wall.", "",
             "| model | one-step rel. error (median) | VPT median (Lyapunov times) | VPT min | "
             "attractor W1/sigma | training s | notes |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        notes = []
        if "features" in r:
            notes.append(f"{r['features']} features, ridge {r['ridge']:g} (chosen on validation)")
        if "reservoir" in r:
            res = r["reservoir"]
            notes.append(f"{res['size']} units, spectral radius {res['spectral_radius']:.3g}, leak {res['leak']:.3g}, "
                         f"input scaling {res['input_scaling']:.3g}, ridge {res['ridge']:g} (tuned on validation); "
                         f"VPT from the end of a {r['warmup_steps']}-step warm-up")
        if "latent_field_error" in r:
            notes.append(f"lifted 128-dim observations; {r['active_terms']} latent terms; latent = affine image of the "
                         f"state to {r['latent_affine_residual']:.1e}; field error mapped back {r['latent_field_error']:.1e}")
        lines.append(f"| {r['model']} | {r['one_step_median']:.2e} | "
                     f"{format_bounded(r['vpt_median_lyap'], r['vpt_median_lower_bound'])} | "
                     f"{format_bounded(r['vpt_min_lyap'], r['vpt_min_lower_bound'])} | {r['attractor_w1']:.3f} | "
                     f"{r['train_process_seconds']:.1f} | {'; '.join(notes)} |")
    for r in rows:
        if r.get("equations"):
            lines += ["", f"{r['model']} equations:", "", "```", *r["equations"], "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-surrogate-lorenz"))
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--only", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    problem = REGISTRY.get("lorenz", purpose="surrogates").surrogate_problem()
    start = time.perf_counter()
    data = make_dataset(problem.rhs, 3, DataConfig())
    reference = ReferenceSet.build(problem.rhs, data, HORIZON)
    lam = problem.lyapunov
    span = {"median": float(np.median(reference.span) * lam), "min": float(np.min(reference.span) * lam)}
    print(f"data, reference and span: {time.perf_counter() - start:.1f} s; span {span}", flush=True)
    rows = []
    for name in args.only:
        config = MODELS[name].resolved()
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        observed, ref = data, reference
        if name == "autoencoder":
            observed, ref = lifted_dataset(data), reference.transformed(lift)
        torch.manual_seed(0)
        fitted = fit_surrogate(config, observed, data, problem, folder, Reporter())
        summary = evaluate(fitted["stepper"], observed, ref, lam).summary()
        rows.append(row_of(name, summary, fitted))
    total = time.perf_counter() - start
    args.results.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.only == list(MODELS) else "_partial"
    (args.results / f"surrogate_lorenz{suffix}.json").write_text(
        json.dumps(to_json({"span": span, "rows": rows}), indent=2) + "\n")
    (args.results / f"surrogate_lorenz{suffix}.md").write_text(markdown(rows, span, total))
    print(markdown(rows, span, total))


if __name__ == "__main__":
    main()
