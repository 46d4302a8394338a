"""Your own ODE in pinn: the Lotka-Volterra predator-prey system, solved and written to a run folder.

    x' = a x - b x y      (prey)
    y' = d x y - c y      (predators),   a = 1.1, b = 0.4, c = 0.4, d = 0.1, (x, y)(0) = (10, 10), t in [0, 30]

The right-hand side is written in torch; having no exact solution, the problem is measured against the
order-30 Taylor-series reference (pinn.reference.reference_solution picks it for polynomial systems).
To offer it on the command line too (pinn solve/simulate/identify/surrogate), write the same function as an
ODESpec in a new module of problems/ (see problems/van_der_pol.py): that module is the only file to add.
Run:  .venv/bin/python examples/custom_ode.py
"""

print("loading torch and pinn", flush=True)  # the imports take about 2 s; say so before they start

import torch  # noqa: E402

from pinn import ODEProblem, SolveConfig, solve, write_run  # noqa: E402
from pinn.runs import new_run_dir  # noqa: E402


def lotka_volterra_rhs(t: torch.Tensor, u: torch.Tensor, a=1.1, b=0.4, c=0.4, d=0.1) -> torch.Tensor:
    """(x', y') = (a x - b x y, d x y - c y); t (n, 1), u (n, 2) -> (n, 2)."""
    x, y = u[:, 0], u[:, 1]
    return torch.stack((a * x - b * x * y, d * x * y - c * y), dim=1)


problem = ODEProblem(name="lotka-volterra", rhs=lotka_volterra_rhs, u0=(10.0, 10.0), t0=0.0, t1=30.0,
                     components=("prey", "predators"), params={"a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1})
print(f"solving {problem.name}: the reference first, then the windows")
result = solve(problem, SolveConfig(tol=1e-10),  # windows chosen by error control
               progress=lambda p: print(f"\rwindow {p.step} of {p.total}, {p.label}", end="", flush=True))
print("\nwriting the run folder (solution.csv, figures)", flush=True)
run = new_run_dir("runs", problem.name)
write_run(run, result)
m = result.metrics
print(f"relative L2 error {m['relative_l2']:.2e} against the {m['reference']} reference "
      f"(solver's estimate {m['error_estimate']:.1e}), {m['windows']} windows, {result.seconds:.1f} s -> {run}")
