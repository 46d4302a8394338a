"""Benchmark of the issue's Lorenz surrogate targets, on the notes' data set.

Data: 100 trajectories from U[-15, 15]^3, dt = 0.01, t in [0, 8] (90 train, 10 validation) plus 20 unseen
test trajectories; reference rollouts from the 20 test initial states over t in [0, 25].
Reports, as JSON and a markdown table in --out:
  - lambda_max of the Lorenz system by Benettin's method (32 starts, 100 time units);
  - the best MLP flow map (residual form, float64, Adam then L-BFGS): median one-step relative error,
    median VPT (both definitions) in Lyapunov times, training seconds;
  - an LSTM (or GRU) over a window of states; the SINDy baseline (pysindy), with the same metrics.

Run timed numbers under the shared lock:
    flock /tmp/pinn-bench.lock taskset -c 0,1 .venv/bin/python benchmarks/surrogate_lorenz.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from pinn.optim import Optimizer, Schedule
from pinn.runs import save_checkpoint, to_json
from pinn.surrogate import plots
from pinn.surrogate.data import DataConfig, make_dataset
from pinn.surrogate.evaluate import ReferenceSet, evaluate
from pinn.surrogate.lyapunov import largest_lyapunov_exponent
from pinn.surrogate.models import ModelSpec, Precision, SurrogateKind, model_state
from pinn.surrogate.sindy import SindyConfig, fit_sindy
from pinn.surrogate.train import TrainConfig, count_parameters, train_surrogate
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants

LAMBDA = 0.906  # literature value at sigma = 10, rho = 28, beta = 8/3
COMPONENTS = ("x", "y", "z")

MLP = (ModelSpec(width=32, depth=3, linear_skip=True),
       TrainConfig(optimizer=Optimizer.adam_lbfgs, epochs=400, adam_fraction=0.05, stride=5, max_seconds=175.0))
RNN = (ModelSpec(kind=SurrogateKind.lstm, width=64, depth=1, window=10, precision=Precision.float32),
       TrainConfig(optimizer=Optimizer.adam, lr=3e-3, schedule=Schedule.cosine, epochs=40, batch_size=256,
                   stride=2))


def report(name: str, evaluation, seconds: float, extra: dict | None = None) -> dict:
    s = evaluation.summary()
    row = {"model": name, "one_step_median": s["one_step_median"], "vpt_median_lyap": s["vpt_median_lyap"],
           "vpt_nrmse_median_lyap": s["vpt_nrmse_median_lyap"], "vpt_min_lyap": s["vpt_min_lyap"],
           "attractor_w1": s["attractor_w1"], "train_seconds": seconds, **(extra or {})}
    print(json.dumps(to_json(row)), flush=True)
    return row


def markdown(rows: list[dict], threads: int, total: float) -> str:
    """The results as a markdown table."""
    lines = [f"Lorenz surrogates: trained on the notes' 100 trajectories (90 train, 10 validation), tested on "
             f"20 unseen ones; {threads} torch thread(s); whole benchmark {total:.0f} s.", ""]
    for row in rows:
        if "lambda_max" in row:
            lines.append(f"Largest Lyapunov exponent (Benettin, 32 starts x 100 time units): "
                         f"{row['lambda_max']:.4f} +- {row['stderr']:.4f} (literature 0.9056); Lyapunov time "
                         f"units below use 0.906.")
            lines.append("")
    lines += ["| model | one-step rel. error (median) | VPT norm>0.4 (median, Lyapunov times) | "
              "VPT NRMSE>0.5 (median, Lyapunov times) | VPT min | attractor W1/sigma | training s |",
              "|---|---|---|---|---|---|---|"]
    for row in rows:
        if "lambda_max" in row:
            continue
        lines.append(f"| {row['model']} | {row['one_step_median']:.2e} | {row['vpt_median_lyap']:.2f} | "
                     f"{row['vpt_nrmse_median_lyap']:.2f} | {row['vpt_min_lyap']:.2f} | {row['attractor_w1']:.3f} | "
                     f"{row['train_seconds']:.1f} |")
    return "\n".join(lines) + "\n"


def figures(out: Path, name: str, ev) -> None:
    i = int(np.argsort(ev.vpt_norm)[len(ev.vpt_norm) // 2])
    plots.plot_rollout(ev.t, ev.pred[i], ev.true[i], COMPONENTS, out / f"{name}_rollout.png", float(ev.vpt_norm[i]))
    plots.plot_attractor(ev.pred[i], ev.true[i], COMPONENTS, out / f"{name}_attractor.png")
    plots.plot_error_growth(ev.t, ev.error, LAMBDA, out / f"{name}_error_growth.png")
    plots.plot_histograms(ev.histograms, COMPONENTS, out / f"{name}_histograms.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-surrogate-lorenz"), help="figures")
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results"), help="json + markdown")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=["lyapunov", "mlp", "rnn", "sindy"])
    parser.add_argument("--rnn", choices=["lstm", "gru"], default="lstm")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []

    start = time.perf_counter()
    data = make_dataset(lorenz_rhs, 3, DataConfig())
    reference = ReferenceSet.build(lorenz_rhs, data, 25.0)
    print(f"data and reference: {time.perf_counter() - start:.1f} s", flush=True)

    if "lyapunov" in args.only:
        t0 = time.perf_counter()
        u0 = np.random.default_rng(12345).uniform(-15, 15, (32, 3))
        est = largest_lyapunov_exponent(lorenz_rhs, u0, dt=0.01, t_total=100.0, transient=10.0)
        rows.append({"model": "lyapunov (Benettin)", "lambda_max": est.value, "stderr": est.stderr,
                     "seconds": time.perf_counter() - t0})
        print(json.dumps(to_json(rows[-1])), flush=True)
    if "mlp" in args.only:
        torch.manual_seed(0)
        result = train_surrogate(data, *MLP)
        ev = evaluate(result.model, data, reference, LAMBDA)
        rows.append(report("mlp residual", ev, result.seconds, {"params": count_parameters(result.model),
                                                                "epochs": len(result.history)}))
        save_checkpoint(args.out / "mlp.pt", model_state(result.model, MLP[0]))
        figures(args.out, "mlp", ev)
    if "rnn" in args.only:
        from dataclasses import replace

        torch.manual_seed(0)
        spec = replace(RNN[0], kind=SurrogateKind(args.rnn))
        result = train_surrogate(data, spec, RNN[1])
        ev = evaluate(result.model, data, reference, LAMBDA)
        rows.append(report(args.rnn, ev, result.seconds, {"params": count_parameters(result.model),
                                                          "epochs": len(result.history)}))
        figures(args.out, args.rnn, ev)
    if "sindy" in args.only:
        fit = fit_sindy(data, SindyConfig())
        ev = evaluate(fit.model, data, reference, LAMBDA)
        rows.append(report("sindy", ev, fit.seconds, {"equations": fit.equations}))
    total = time.perf_counter() - start
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "surrogate_lorenz.json").write_text(json.dumps(to_json(rows), indent=2) + "\n")
    (args.results / "surrogate_lorenz.md").write_text(markdown(rows, args.threads, total))
    print(f"total {total:.1f} s; written {args.results / 'surrogate_lorenz.md'}")


if __name__ == "__main__":
    main()
