"""``pinn simulate PROBLEM``: reference trajectories (NPZ data set) or noisy observations (CSV)."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from cli.console import console
from pinn.errors import PinnError
from pinn.problem import ODEProblem
from pinn.runs import to_json, write_csv
from problems.lorenz import LorenzParams, lorenz_problem
from problems.oscillator import OscillatorParams, cosine_drive, oscillator_problem


class SimProblem(str, enum.Enum):
    """Problems that ``simulate`` can integrate."""

    lorenz = "lorenz"
    oscillator = "oscillator"


def simulate(
    problem: Annotated[SimProblem, typer.Argument(help="lorenz or oscillator.")],
    out: Annotated[Path, typer.Option("--out", help=".npz: trajectories from random initial states; .csv: "
                                      "observations of one trajectory (t column + observed components).")],
    trajectories: Annotated[int, typer.Option(min=1, help="npz: number of random initial states.")] = 100,
    dt: Annotated[float, typer.Option(min=0.0, help="npz: time step of the saved samples.")] = 0.01,
    t_final: Annotated[Optional[float], typer.Option("--t-final", help="End time (default: the problem's).")]
    = None,
    box: Annotated[tuple[float, float], typer.Option(help="npz: initial states uniform in [low, high]^d.")]
    = (-15.0, 15.0),
    ic: Annotated[Optional[list[float]], typer.Option(help="Initial state for a .csv, one --ic per "
                                                      "component: --ic 1 --ic 0.")] = None,
    observe: Annotated[Optional[str], typer.Option(help="csv: comma-separated observed components, e.g. x,y,z.")]
    = None,
    every: Annotated[float, typer.Option(min=0.0, help="csv: time between observations.")] = 0.05,
    noise: Annotated[float, typer.Option(min=0.0, help="csv: Gaussian noise, relative to each component's "
                                         "RMS over the samples.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of initial states and noise.")] = 0,
    sigma: Annotated[float, typer.Option(help="lorenz: sigma.")] = 10.0,
    rho: Annotated[float, typer.Option(help="lorenz: rho.")] = 28.0,
    beta: Annotated[float, typer.Option(help="lorenz: beta.")] = 8.0 / 3.0,
    gamma: Annotated[float, typer.Option(help="oscillator: damping gamma.")] = 0.2,
    omega: Annotated[float, typer.Option(help="oscillator: drive angular frequency.")] = 0.5,
    amplitude: Annotated[float, typer.Option(help="oscillator: drive amplitude.")] = 1.0,
) -> None:
    """Integrate a problem with DOP853 (rtol = atol = 1e-13) and save data for surrogates or identification."""
    if problem is SimProblem.lorenz:
        prob: ODEProblem = lorenz_problem(LorenzParams(sigma, rho, beta), ic or (-8.0, 7.0, 27.0), 0.0,
                                          8.0 if t_final is None else t_final)
    else:
        if ic is not None and len(ic) != 2:
            raise PinnError(f"--ic needs 2 values (x v) for the oscillator, got {len(ic)}")
        x0, v0 = ic if ic is not None else (1.0, 0.0)
        prob = oscillator_problem(OscillatorParams(gamma=gamma, drive=cosine_drive(amplitude, omega)), x0, v0,
                                  0.0, 20.0 if t_final is None else t_final)
    if ic is not None and len(ic) != prob.dim:
        raise PinnError(f"--ic needs {prob.dim} values for {prob.name}, got {len(ic)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        from pinn.observations import make_observations

        names = prob.components if observe is None else tuple(s.strip() for s in observe.split(",") if s.strip())
        header, table = make_observations(prob, every, names, noise, seed)
        write_csv(out, header, table.T)
        console.print(f"wrote {table.shape[0]} observations of {', '.join(header[1:])} to {out}")
    elif out.suffix == ".npz":
        from pinn.surrogate.data import simulate_trajectories

        if dt <= 0:
            raise PinnError("--dt must be positive")
        t, states = simulate_trajectories(prob.rhs, trajectories, dt, prob.t1, box=box, seed=seed, dim=prob.dim)
        config = {"problem": prob.name, "params": dict(prob.params), "trajectories": trajectories, "dt": dt,
                  "t_final": prob.t1, "box": list(box), "seed": seed}
        np.savez(out, t=t, states=states, components=np.array(prob.components),
                 config=np.array(json.dumps(to_json(config))))
        console.print(f"wrote {states.shape[0]} trajectories x {states.shape[1]} times to {out}")
    else:
        raise PinnError(f"--out must end in .npz (trajectories) or .csv (observations), got {out.name}")
