"""One entry point for solving an ODE problem by either method, and ``pinn solve``'s run: validate, estimate,
solve, write the run folder.

    solve(problem, SolveConfig())                 # the Python API: an ODEProblem of your own
    run_solve(spec, SolveCommand("lorenz"), ...)  # what `pinn solve lorenz` does with a registered problem
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

from pinn import checks
from pinn.choices import Device, DType, Method
from pinn.errors import Diverged, Interrupted, PinnError
from pinn.losses import PINN, residual
from pinn.marching import MarchingSolution, solve_marching, window_system_entries
from pinn.metrics import solution_metrics
from pinn.problem import ODEProblem
from pinn.progress import Reporter
from pinn.reference import reference_method, reference_solution
from pinn.runs import check_output_root, run_folder, save_checkpoint, to_json, write_csv, write_json
from pinn.solve_config import SolveCommand, SolveConfig
from pinn.spec import ODESpec
from pinn.threads import solve_threads, torch_threads
from pinn.train import TrainState, build_pinn, train_gradient
from pinn.window_fit import WindowFit


def resolve_device(device: Device | str) -> torch.device:
    """auto -> CUDA if available else the CPU; cuda -> the GPU (PinnError naming the available devices if
    CUDA is missing); cpu -> the CPU."""
    device = Device(device)
    if device is Device.auto:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device is Device.cuda and not torch.cuda.is_available():
        raise PinnError("--device cuda: CUDA is not available on this machine (available: cpu); use --device cpu "
                        "or auto")
    return torch.device(device.value)


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


def _by_marching(problem: ODEProblem, cfg: SolveConfig, t: np.ndarray, ref: np.ndarray, history: list[dict],
                 progress: Optional[Callable[[Progress], None]]) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """u, residual, state and solver metrics of the marching solver on the grid ``t``."""
    start = time.perf_counter()
    scale = float(np.sqrt(np.mean(np.sum(ref ** 2, axis=1))))

    def on_window(i: int, n: int, fit: WindowFit) -> None:
        if i == 1:
            history.clear()  # a second, tighter pass replaces the first
        history.append({"window": i, "t_end": fit.b, "iterations": fit.iterations, "residual_rms": fit.residual_rms,
                        "error_estimate": fit.error, "seconds": time.perf_counter() - start})
        if progress is not None:
            j = int(np.searchsorted(t, fit.b, side="right")) - 1  # last grid time inside the window
            u_j = MarchingSolution(fit.net, [fit])(t[j:j + 1])[0] if t[j] >= fit.a else fit.u_b.numpy()
            progress(Progress(i, n, fit.residual_rms ** 2, float(np.linalg.norm(u_j - ref[j]) / scale),
                              f"t={fit.b:.4g}"))

    with torch_threads(solve_threads(window_system_entries(problem.dim, cfg.marching), cfg.threads)):
        sol = solve_marching(problem, cfg.marching, on_window, DType(cfg.dtype).torch, cfg.tol, cfg.threads)
        u = sol(t)
        with torch.no_grad():
            f = problem.rhs(torch.tensor(t).reshape(-1, 1), torch.tensor(u)).numpy()
        res = sol(t, derivative=True) - f
    info = {"error_estimate": sol.error_estimate, "passes": sol.passes, "rejected_windows": sol.rejected,
            "windows": len(sol.windows)}
    return u, res, sol.state_dict(), info


def _by_gradient(problem: ODEProblem, cfg: SolveConfig, t: np.ndarray, ref: np.ndarray, history: list[dict],
                 progress: Optional[Callable[[Progress], None]],
                 on_diverged: Optional[Callable[[dict, int], None]]) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """u, residual and state of the gradient-trained PINN on the grid ``t``."""
    dtype, device = DType(cfg.dtype).torch, resolve_device(cfg.device)
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
            model, trained = train_gradient(problem, cfg.gradient, model, dtype, device, on_step)
    except Diverged as exc:
        if on_diverged is not None:
            on_diverged(exc.last_good, exc.step)
        raise
    history.extend(trained)
    u, res = _evaluate_pinn(problem, model, t, dtype, device)
    return u, res, {k: v.detach().cpu() for k, v in model.state_dict().items()}, {}


def solve(problem: ODEProblem, cfg: SolveConfig = SolveConfig(),
          progress: Optional[Callable[[Progress], None]] = None,
          on_diverged: Optional[Callable[[dict, int], None]] = None) -> SolveResult:
    """Solve ``problem`` with ``cfg`` and measure it against the reference on ``cfg.eval_points`` times.

    ``on_diverged(last_good_state, step)`` is called before a NaN raises, so the caller can save it.
    """
    t = np.linspace(problem.t0, problem.t1, cfg.eval_points)
    ref = reference_solution(problem, t)
    resolve_device(cfg.device)
    history: list[dict] = []
    start = time.perf_counter()
    if Method(cfg.method) is Method.marching:
        u, res, state, info = _by_marching(problem, cfg, t, ref, history, progress)
    else:
        u, res, state, info = _by_gradient(problem, cfg, t, ref, history, progress, on_diverged)
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(u)):
        raise PinnError("the solution contains NaN; try a smaller --tol or --window, or a smaller --lr")
    metrics = solution_metrics(t, u, ref, res, problem.components)
    metrics.update(seconds=seconds, reference=reference_method(problem), **info)
    return SolveResult(problem, cfg, t, u, ref, res, metrics, history, seconds, state)


def checkpoint_payload(problem: ODEProblem, cfg: SolveConfig, state: dict) -> dict:
    """model.pt contents: method, config and problem as plain data plus the state (weights_only-safe)."""
    return {"method": Method(cfg.method).value, "config": to_json(cfg),
            "problem": {"name": problem.name, "u0": list(problem.u0), "t0": problem.t0, "t1": problem.t1,
                        "params": to_json(dict(problem.params)), "components": list(problem.components)},
            "state": state}


def write_run(run_dir: Path, result: SolveResult) -> list[Path]:
    """Write metrics.json, model.pt, solution.csv and the PNG figures into ``run_dir``; returns the paths."""
    from pinn import plots

    p, cfg = result.problem, result.config
    run_dir = Path(run_dir)
    files = []
    write_json(run_dir / "metrics.json", {"status": "finished", **result.metrics, "history": result.history})
    save_checkpoint(run_dir / "model.pt", checkpoint_payload(p, cfg, result.state))
    header = ["t"] + [f"{c}_pred" for c in p.components] + [f"{c}_ref" for c in p.components]
    write_csv(run_dir / "solution.csv", header, [result.t, *result.u.T, *result.reference.T])
    files += [run_dir / n for n in ("metrics.json", "model.pt", "solution.csv")]
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


MAX_WINDOWS = 1_000_000
"""More marching windows than this is a mistake (an interval of 1e308, a window of 1e-300), not a run."""


def work_estimate(problem: ODEProblem, cfg: SolveConfig) -> dict[str, Any]:
    """The size of a solve before it starts: windows, points, unknowns, parameters and memory in bytes."""
    d, n_eval = problem.dim, cfg.eval_points
    eval_bytes = 8.0 * n_eval * d * 8  # grid, prediction, reference, residual and their temporaries
    if Method(cfg.method) is Method.marching:
        m = cfg.marching
        window = m.window or problem.window or 0.01 * (problem.t1 - problem.t0)  # adaptive: the hint as a guess
        n_windows = -checks.whole(-(problem.t1 - problem.t0) / window) + len(problem.breakpoints)
        rows, cols = d * m.points, d * m.features
        hidden = m.hidden_epochs * m.points * m.features * (m.features * (m.depth - 1) + d) * 30.0
        flops = n_windows * m.max_iter * (2.0 * rows * cols ** 2 + 4.0 * rows * cols) + hidden
        return {"method": "marching", "windows": n_windows, "window": window, "points_per_window": m.points,
                "features": m.features, "unknowns_per_window": cols, "flops": flops,
                "memory_bytes": eval_bytes + 8.0 * rows * cols * 6 + 8.0 * n_windows * (cols + 2 * d)}
    g = cfg.gradient
    params = g.width * (g.width * (g.depth - 1) + 2 + g.depth) + g.width * d + d
    activations = 8.0 * g.points * g.width * g.depth * 12  # forward values, derivatives and their graph
    flops = (g.epochs + 25.0 * g.lbfgs_iters) * g.points * params * 30.0  # L-BFGS: up to 25 evaluations a step
    return {"method": "gradient", "parameters": params, "points": g.points, "steps": g.epochs + g.lbfgs_iters,
            "flops": flops, "memory_bytes": eval_bytes + activations + 8.0 * params * 60}


def prepare_solve(spec: ODESpec, command: SolveCommand) -> tuple[ODEProblem, SolveConfig, dict[str, Any]]:
    """Validate a solve before any work: the problem at the command's values, the settings with the
    problem's window filled in, the work estimate, and the resources (PinnError on anything wrong)."""
    problem = spec.problem(command.values, command.u0, command.t0, command.t1)
    cfg = command.solve
    estimate = work_estimate(problem, cfg)
    if estimate.get("windows", 0) > MAX_WINDOWS:
        raise PinnError(f"about {estimate['windows']:.3g} marching windows of {estimate['window']:g} over "
                        f"[{problem.t0:g}, {problem.t1:g}] is more than {MAX_WINDOWS:,}; shorten --t-final")
    if "windows" in estimate:
        estimate["windows"] = int(estimate["windows"])
    checks.memory(estimate["memory_bytes"], "this solve", "lower --features, --points, --units or --eval-points")
    estimate["seconds_bound"] = checks.budget(estimate.pop("flops"), "this solve", "lower --epochs, "
                                                 "--features, --points or --units, or shorten --t-final")
    resolve_device(cfg.device)
    check_output_root(command.out)
    return problem, cfg, estimate


def run_solve(spec: ODESpec, command: SolveCommand, report: Optional[Reporter] = None) -> tuple[SolveResult, Path]:
    """What ``pinn solve`` does: validate, create the run folder, solve with progress, write every file.

    The run folder gets config.json first. If the solve fails, the folder is removed unless it holds
    something worth keeping: a diverged gradient run keeps its last finite weights (model.pt) and
    metrics.json; Ctrl-C keeps metrics.json with ``"status": "interrupted"`` and how far the solve got
    (windows or steps done, the time reached); a failed write (disk full) removes the folder.
    """
    report = report or Reporter()
    problem, cfg, estimate = prepare_solve(spec, command)
    unit = "windows" if Method(cfg.method) is Method.marching else "steps"
    total = estimate.get("windows") or estimate.get("steps")
    reached: dict[str, Any] = {"unit": unit, "done": 0, "total": total}
    with run_folder(command.out, problem.name) as run_dir:
        write_json(run_dir / "config.json", {"command": "solve", **to_json(command), "resolved": to_json(cfg)})
        try:
            with report.phase(f"solving {problem.name} ({Method(cfg.method).value}, {unit})", total) as update:
                def progress(p: Progress) -> None:
                    err = f" err {p.error:.2e}" if p.error is not None and math.isfinite(p.error) else ""
                    reached.update(done=p.step, total=p.total, at=p.label, loss=p.loss)
                    update(p.step, f"{p.label} loss {p.loss:.2e}{err}", p.total)

                result = solve(problem, cfg, progress,
                               on_diverged=lambda state, step: write_diverged(run_dir, problem, cfg, state, step))
        except KeyboardInterrupt:
            write_json(run_dir / "metrics.json", {"status": "interrupted", **reached})
            raise Interrupted(f"{run_dir}/metrics.json records {reached['done']} of {reached['total']} {unit} "
                              "done") from None
        except PinnError as exc:
            if (run_dir / "model.pt").exists():
                raise PinnError(f"{exc} (the run folder {run_dir} keeps model.pt, the last finite weights, and "
                                "metrics.json)") from None
            raise
        with report.phase("writing the run folder"):
            write_run(run_dir, result)
        result.metrics["phase_seconds"] = dict(report.seconds)
        write_json(run_dir / "metrics.json", {"status": "finished", **result.metrics, "history": result.history})
    return result, run_dir


def write_diverged(run_dir: Path, problem: ODEProblem, cfg: SolveConfig, last_good: dict, step: int) -> None:
    """After a NaN: keep the last finite weights as model.pt and record the failure in metrics.json."""
    run_dir = Path(run_dir)
    save_checkpoint(run_dir / "model.pt", checkpoint_payload(problem, cfg, last_good))
    write_json(run_dir / "metrics.json", {"status": "diverged", "diverged_at_step": step})


__all__ = ["SolveConfig", "SolveResult", "SolveCommand", "Progress", "solve", "write_run", "run_solve",
           "prepare_solve", "work_estimate"]
