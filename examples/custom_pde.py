"""Your own PDE through the Python API: a forced Fisher-KPP equation with mixed boundary conditions.

    u_t = D u_xx + r u (1 - u) + f(x, t),   x in [0, 1],  t in [0, 2],
    u(0, t) = t  (Dirichlet, time-dependent),   u_x(1, t) = 0  (Neumann),   u(x, 0) = sin(pi x / 2),

with f chosen so that u = exp(-t) sin(pi x / 2) + t is the exact solution (to measure the error).
Run:  .venv/bin/python examples/custom_pde.py
"""

print("loading torch and pinn", flush=True)  # the imports take about 2 s; say so before they start

import math  # noqa: E402

import torch  # noqa: E402

from pinn.pde import (  # noqa: E402
    Dirichlet,
    Interval,
    LeastSquaresConfig,
    Neumann,
    PDEProblem,
    PDESolveConfig,
    solve_pde,
    write_pde_run,
)


def exact(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return torch.exp(-t) * torch.sin(math.pi * x / 2) + t


def forcing(x: torch.Tensor, t: torch.Tensor, p: dict) -> torch.Tensor:
    u, s = exact(x, t), torch.exp(-t) * torch.sin(math.pi * x / 2)
    return -s + 1.0 + p["D"] * (math.pi / 2) ** 2 * s - p["r"] * u * (1 - u)  # u_t - D u_xx - r u (1 - u)


problem = PDEProblem(
    name="fisher-kpp",
    domain=Interval(0.0, 1.0),
    time=Interval(0.0, 2.0),
    residual=lambda d, p: d.u_t - p["D"] * d.u_xx - p["r"] * d.u * (1 - d.u) - forcing(d.x, d.t, p),
    initial=lambda x: torch.sin(math.pi * x / 2),
    boundary=(Dirichlet("left", value=lambda x, t: t), Neumann("right")),   # Neumann: du/dn = 0
    params={"D": 0.05, "r": 2.0},
    exact=exact,
)

settings = LeastSquaresConfig(block=0.1, cells=4, features=100)   # nonlinear: Gauss-Newton per block
print(f"solving {problem.name} in blocks of {settings.block} time units", flush=True)
result = solve_pde(problem, PDESolveConfig(least_squares=settings),
                   progress=lambda s: print(f"\rblock {s.block}/{s.blocks} iteration {s.iteration} "
                                            f"residual {s.residual:.1e}", end="", flush=True))
print(f"\nrelative L2 error {result.metrics['relative_l2']:.2e}, max abs error "
      f"{result.metrics['max_abs_error']:.2e}, {result.seconds:.1f} s")
print("writing the run folder (solution, figures)", flush=True)
print("run folder files:", [p.name for p in write_pde_run("runs/custom-pde", result)])
