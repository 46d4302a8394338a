"""Your own ODE in pinn: the Van der Pol oscillator x'' = mu (1 - x^2) x' - x as a first-order system."""

from pathlib import Path

import torch

from pinn import ODEProblem, SolveConfig, solve, write_run
from pinn.runs import new_run_dir


def van_der_pol_rhs(t: torch.Tensor, u: torch.Tensor, mu: float = 1.0) -> torch.Tensor:
    """(x, v)' = (v, mu (1 - x^2) v - x); t (n, 1), u (n, 2) -> (n, 2)."""
    x, v = u[:, 0], u[:, 1]
    return torch.stack((v, mu * (1 - x ** 2) * v - x), dim=1)


problem = ODEProblem(name="van-der-pol", rhs=van_der_pol_rhs, u0=(2.0, 0.0), t0=0.0, t1=15.0,
                     components=("x", "v"), params={"mu": 1.0})
result = solve(problem, SolveConfig())  # no exact solution given: the reference is DOP853 at 1e-13
run = new_run_dir(Path("runs"), problem.name)
write_run(run, result)
print(f"relative L2 error {result.metrics['relative_l2']:.2e} in {result.seconds:.1f} s -> {run}")
