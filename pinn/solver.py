"""One entry point for solving an ODE problem by either method, and writing its run folder."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.losses import PINN, residual
from pinn.marching import MarchingConfig, MarchingSolution, solve_marching, window_system_entries
from pinn.metrics import solution_metrics
from pinn.networks import DType
from pinn.problem import ODEProblem
from pinn.reference import reference_solution
from pinn.runs import save_checkpoint, to_json, write_csv, write_json
from pinn.threads import solve_threads, torch_threads
from pinn.train import Diverged, GradientConfig, TrainState, build_pinn, train_gradient
from pinn.window_fit import WindowFit


class Method(str, enum.Enum):
    """marching: time-marching windows with Gauss-Newton least-squares output layers (solver-grade accuracy);
    gradient: one network over the whole interval trained by gradient descent (the classic PINN)."""

    marching = "marching"
    gradient = "gradient"


def resolve_device(device: str) -> torch.device:
    """'auto' -> CUDA if available else CPU; otherwise the named device (error if CUDA is missing)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise PinnError(f"device {device!r} requested but CUDA is not available; use --device cpu")
    return torch.device(device)


@dataclass(frozen=True)
class SolveConfig:
    """Everything that defines a solve besides the problem: method, precision, device, evaluation grid,
    and the settings of each method.

    tol: marching: the relative L2 error to reach; the windows are then chosen by error control (None:
        ``pinn.marching.DEFAULT_TOL``). With a fixed ``marching.window`` it is a check that raises PinnError
        when a window's estimated error exceeds it.
    threads: intra-op torch threads during the solve (None: one thread when each window's system is small,
        see :mod:`pinn.threads`); the previous setting is restored afterwards.
    """

    method: Method = Method.marching
    dtype: DType = DType.float64
    device: str = "cpu"
    eval_points: int = 4001
    marching: MarchingConfig = field(default_factory=MarchingConfig)
    gradient: GradientConfig = field(default_factory=GradientConfig)
    tol: Optional[float] = None
    threads: Optional[int] = None


@dataclass
class Progress:
    """Reported during a solve: step of total, loss (mean squared residual), and the current relative
    error at the evaluation point ``t`` reached so far (None when not yet known)."""

    step: int
    total: int
    loss: float
    error: Optional[float]
    label: str


@dataclass
class SolveResult:
    """A finished solve: the evaluation grid, prediction, reference, residual, metrics and history."""

    problem: ODEProblem
    config: SolveConfig
    t: np.ndarray
    u: np.ndarray
    reference: np.ndarray
    residual: np.ndarray
    metrics: dict
    history: list[dict]
    seconds: float
    state: dict


def _evaluate_pinn(problem: ODEProblem, model: PINN, t: np.ndarray, dtype: torch.dtype,
                   device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    tt = torch.tensor(t, dtype=dtype, device=device).reshape(-1, 1)
    r, u = residual(problem, model, tt)
    return u.detach().cpu().double().numpy(), r.detach().cpu().double().numpy()


def solve(problem: ODEProblem, cfg: SolveConfig = SolveConfig(),
          progress: Optional[Callable[[Progress], None]] = None,
          on_diverged: Optional[Callable[[dict, int], None]] = None) -> SolveResult:
    """Solve ``problem`` with ``cfg`` and measure it against the reference on ``cfg.eval_points`` times.

    ``on_diverged(last_good_state, step)`` is called before a NaN raises, so the caller can save it.
    """
    if cfg.eval_points < 2:
        raise PinnError("need at least 2 evaluation points")
    t = np.linspace(problem.t0, problem.t1, cfg.eval_points)
    ref = reference_solution(problem, t)
    scale = float(np.sqrt(np.mean(np.sum(ref ** 2, axis=1))))
    dtype = DType(cfg.dtype).torch
    device = resolve_device(cfg.device)
    history: list[dict] = []
    start = time.perf_counter()

    if Method(cfg.method) is Method.marching:
        def on_window(i: int, n: int, fit: WindowFit) -> None:
            if i == 1:
                history.clear()  # a second, tighter pass replaces the first
            history.append({"window": i, "t_end": fit.b, "iterations": fit.iterations,
                            "residual_rms": fit.residual_rms, "error_estimate": fit.error,
                            "seconds": time.perf_counter() - start})
            if progress is not None:
                j = int(np.searchsorted(t, fit.b, side="right")) - 1  # last grid time inside the window
                u_j = MarchingSolution(fit.net, [fit])(t[j:j + 1])[0] if t[j] >= fit.a else fit.u_b.numpy()
                err = float(np.linalg.norm(u_j - ref[j]) / scale)
                progress(Progress(i, n, fit.residual_rms ** 2, err, f"t={fit.b:.4g}"))

        with torch_threads(solve_threads(window_system_entries(problem.dim, cfg.marching), cfg.threads)):
            sol = solve_marching(problem, cfg.marching, on_window, dtype, cfg.tol, cfg.threads)
            u = sol(t)
            with torch.no_grad():
                f = problem.rhs(torch.tensor(t).reshape(-1, 1), torch.tensor(u)).numpy()
            res = sol(t, derivative=True) - f
        state = sol.state_dict()
        marching_info = {"error_estimate": sol.error_estimate, "passes": sol.passes,
                         "rejected_windows": sol.rejected, "windows": len(sol.windows)}
    else:
        model = build_pinn(problem, cfg.gradient, dtype, device)

        def on_step(s: TrainState) -> None:
            if progress is None:
                return
            err = None
            if s.step % 500 == 0 or s.step == s.total:
                u_now, _ = _evaluate_pinn(problem, model, t, dtype, device)
                err = float(np.linalg.norm(u_now - ref) / np.linalg.norm(ref))
            progress(Progress(s.step, s.total, s.loss, err, s.phase))

        try:
            with torch_threads(cfg.threads):
                model, history = train_gradient(problem, cfg.gradient, model, dtype, device, on_step)
        except Diverged as exc:
            if on_diverged is not None:
                on_diverged(exc.last_good, exc.step)
            raise
        u, res = _evaluate_pinn(problem, model, t, dtype, device)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(u)):
        raise PinnError("the solution contains NaN; try a shorter --window or a smaller --lr")
    metrics = solution_metrics(t, u, ref, res, problem.components)
    metrics["seconds"] = seconds
    if Method(cfg.method) is Method.marching:
        metrics.update(marching_info)
    return SolveResult(problem, cfg, t, u, ref, res, metrics, history, seconds, state)


def checkpoint_payload(problem: ODEProblem, cfg: SolveConfig, state: dict) -> dict:
    """model.pt contents: method, config and problem as plain data plus the state (weights_only-safe)."""
    return {"method": Method(cfg.method).value, "config": to_json(cfg),
            "problem": {"name": problem.name, "u0": list(problem.u0), "t0": problem.t0, "t1": problem.t1,
                        "params": to_json(dict(problem.params)), "components": list(problem.components)},
            "state": state}


def run_config(problem: ODEProblem, cfg: SolveConfig, extra: Optional[dict] = None) -> dict:
    """config.json contents: the problem's name, parameters, initial state and interval, and the SolveConfig."""
    return {"problem": problem.name, "params": dict(problem.params), "u0": list(problem.u0), "t0": problem.t0,
            "t1": problem.t1, "solve": cfg, **(extra or {})}


def write_run(run_dir: Path, result: SolveResult, extra_config: Optional[dict] = None) -> list[Path]:
    """Write config.json, metrics.json, model.pt, solution.csv and the PNG figures; returns the paths."""
    from pinn import plots

    p, cfg = result.problem, result.config
    run_dir = Path(run_dir)
    files = []
    write_json(run_dir / "config.json", run_config(p, cfg, extra_config))
    write_json(run_dir / "metrics.json", {"status": "finished", **result.metrics, "history": result.history})
    save_checkpoint(run_dir / "model.pt", checkpoint_payload(p, cfg, result.state))
    header = ["t"] + [f"{c}_pred" for c in p.components] + [f"{c}_ref" for c in p.components]
    write_csv(run_dir / "solution.csv", header, [result.t, *result.u.T, *result.reference.T])
    files += [run_dir / n for n in ("config.json", "metrics.json", "model.pt", "solution.csv")]
    title = f"{p.name}: {Method(cfg.method).value}, rel. L2 error {result.metrics['relative_l2']:.2e}"
    plots.plot_components(run_dir / "components.png", result.t, result.u, result.reference, p.components, title)
    plots.plot_error(run_dir / "error.png", result.t, result.u, result.reference, p.components)
    if Method(cfg.method) is Method.marching:
        plots.plot_history(run_dir / "loss.png", result.history, "residual_rms", "t_end",
                           "window RMS residual", "window end time t")
    else:
        plots.plot_history(run_dir / "loss.png", result.history, "loss", "step", "mean squared residual", "step")
    files += [run_dir / n for n in ("components.png", "error.png", "loss.png")]
    if p.dim == 3:
        plots.plot_phase_3d(run_dir / "attractor.png", result.u, result.reference, p.components, title)
        files.append(run_dir / "attractor.png")
    return files


def write_diverged(run_dir: Path, problem: ODEProblem, cfg: SolveConfig, last_good: dict, step: int) -> None:
    """After a NaN: keep the last finite weights as model.pt and record the failure in metrics.json."""
    run_dir = Path(run_dir)
    write_json(run_dir / "config.json", run_config(problem, cfg))
    save_checkpoint(run_dir / "model.pt", checkpoint_payload(problem, cfg, last_good))
    write_json(run_dir / "metrics.json", {"status": "diverged", "diverged_at_step": step})


__all__ = ["Method", "DType", "SolveConfig", "SolveResult", "Progress", "solve", "write_run", "write_diverged"]
