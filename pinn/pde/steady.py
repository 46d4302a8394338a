"""Least squares for steady problems on a rectangle: a grid of cells fitted together in one solve.

The rectangle is cut into cells_x by cells_y equal cells, each with its own output layer over the shared
random features in local (x, y). All output layers are fitted together to the weighted PDE residual at each
cell's Chebyshev-Lobatto nodes, the boundary conditions on the outer cell edges and continuity of u and of
its normal derivative across every interface (pinn.pde.assembly). A linear PDE (Poisson, Helmholtz) is one
block-sparse least-squares solve; a nonlinear one is solved by Gauss-Newton. Cells are eliminated row by
row (pinn.pde.blocklsq), so the fill stays within one row of cells.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.pde.assembly import (
    BoundaryEdge,
    Cell,
    Interface,
    Order,
    PatchGeometry,
    build_patch,
    field_order,
    trial_matrices,
)
from pinn.pde.config import FeatureActivation, LeastSquaresConfig, Progress, SolveProgress
from pinn.pde.features import RandomFeatures
from pinn.pde.gauss_newton import gauss_newton
from pinn.pde.problem import Derivatives, PDEProblem, Side
from pinn.pde.spacetime import BlockFit


def grid_edges(a: float, b: float, n: int, periodic: bool) -> np.ndarray:
    """n equal cells on [a, b]; periodic: shifted by half a cell so that a lies inside a cell."""
    edges = np.linspace(a, b, n + 1)
    return edges + 0.5 * (b - a) / n if periodic else edges


def steady_geometry(problem: PDEProblem, ex: np.ndarray, ey: np.ndarray, cfg: LeastSquaresConfig
                    ) -> PatchGeometry:
    """Cells (i along x, j along y) numbered k = j * Sx + i, with interfaces and boundary edges."""
    sx, sy = len(ex) - 1, len(ey) - 1
    cells = [Cell(float(ex[i]), float(ex[i + 1]), float(ey[j]), float(ey[j + 1])) for j in range(sy)
             for i in range(sx)]
    interfaces, boundary = [], []
    px, py = problem.periodic("x"), problem.periodic("y")
    for j in range(sy):
        for i in range(sx):
            k = j * sx + i
            if i < sx - 1 or px:
                interfaces.append(Interface(k, j * sx + (i + 1) % sx, "x"))
            if j < sy - 1 or py:
                interfaces.append(Interface(k, ((j + 1) % sy) * sx + i, "s"))
            sides = ([Side.left] if i == 0 and not px else []) + ([Side.right] if i == sx - 1 and not px else []) \
                + ([Side.bottom] if j == 0 and not py else []) + ([Side.top] if j == sy - 1 and not py else [])
            boundary += [BoundaryEdge(k, s, problem.condition_on(s)) for s in sides]
    return PatchGeometry(cells, interfaces, boundary, cfg.points_x, cfg.points_s, 0)


class SteadySolution:
    """The piecewise solution u(x, y) on a grid of cells."""

    def __init__(self, problem: PDEProblem, features: RandomFeatures, ex: np.ndarray, ey: np.ndarray,
                 coef: torch.Tensor, fit: BlockFit) -> None:
        self.problem = problem
        self.features = features
        self.ex, self.ey = ex, ey
        self.coef = coef
        self.blocks = [fit]

    def _locate(self, edges: np.ndarray, v: np.ndarray, periodic: bool) -> np.ndarray:
        if periodic:
            v = edges[0] + np.mod(v - edges[0], edges[-1] - edges[0])
        return np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)

    def evaluate(self, x: np.ndarray, y: np.ndarray, orders: tuple[Order, ...] = ((0, 0),)
                 ) -> dict[Order, np.ndarray]:
        """Derivatives of u on the grid x (nx,) by y (ny,): {(p, q): (ny, nx)} (q counts y-derivatives)."""
        xx, yy = np.meshgrid(np.asarray(x, float), np.asarray(y, float))
        xf, yf = xx.ravel(), yy.ravel()
        px, py = self.problem.periodic("x"), self.problem.periodic("y")
        ix, iy = self._locate(self.ex, xf, px), self._locate(self.ey, yf, py)
        sx = len(self.ex) - 1
        out = {o: np.empty(xf.size) for o in orders}
        for k in np.unique(iy * sx + ix):
            i, j = k % sx, k // sx
            mask = (iy * sx + ix) == k
            x0, x1, y0, y1 = self.ex[i], self.ex[i + 1], self.ey[j], self.ey[j + 1]
            xs, ys = xf[mask], yf[mask]
            if px:
                xs = x0 + np.mod(xs - x0, self.problem.domain.x.length)
            if py:
                ys = y0 + np.mod(ys - y0, self.problem.domain.y.length)
            xi = torch.from_numpy(2.0 * (xs - x0) / (x1 - x0) - 1.0)
            eta = torch.from_numpy(2.0 * (ys - y0) / (y1 - y0) - 1.0)
            mats = trial_matrices(self.features, xi, eta, x1 - x0, y1 - y0, 0, orders)
            for o in orders:
                out[o][mask] = (mats[o] @ self.coef[k]).numpy()
        return {o: v.reshape(xx.shape) for o, v in out.items()}

    def residual(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The PDE residual on the grid x (nx,) by y (ny,): (ny, nx)."""
        used = self.problem.used_fields()
        orders = tuple(sorted({field_order(f) for f in used} | {(0, 0)}))
        vals = self.evaluate(x, y, orders)
        xx, yy = np.meshgrid(x, y)
        fields = {f.value: torch.from_numpy(vals[field_order(f)].ravel()) for f in used}
        fields.setdefault("u", torch.from_numpy(vals[(0, 0)].ravel()))
        d = Derivatives(x=torch.from_numpy(xx.ravel()), y=torch.from_numpy(yy.ravel()), **fields)
        with torch.no_grad():
            return self.problem.evaluate_residual(d).reshape(xx.shape).numpy()

    def state_dict(self) -> dict:
        """Everything needed to rebuild the solution (weights_only-safe)."""
        return {"kind": "steady", "features": self.features.state_dict(),
                "activation": FeatureActivation(self.features.spec.activation).value,
                "edges_x": torch.from_numpy(self.ex.copy()), "edges_y": torch.from_numpy(self.ey.copy()),
                "coef": self.coef.clone()}


def solve_steady(problem: PDEProblem, cfg: LeastSquaresConfig = LeastSquaresConfig(),
                 progress: Optional[Progress] = None) -> SteadySolution:
    """Solve a steady problem on its rectangle (float64)."""
    import time

    if not problem.steady:
        raise PinnError(f"{problem.name} is an evolution problem: use solve_space_time")
    cfg.validate()
    start = time.process_time()
    used = problem.used_fields()
    linear = problem.is_linear()
    features = RandomFeatures(cfg.feature_spec)
    dom = problem.domain
    ex = grid_edges(dom.x.a, dom.x.b, cfg.cells, problem.periodic("x"))
    ey = grid_edges(dom.y.a, dom.y.b, cfg.cells_y, problem.periodic("y"))
    geom = steady_geometry(problem, ex, ey, cfg)
    patch = build_patch(problem, geom, features, None, used, cfg.continuity_weight, cfg.boundary_weight,
                        cfg.rcond)

    def report(it: int, cost: float) -> None:
        if progress is not None:
            progress(SolveProgress(1, 1, it, len(geom.cells), math.sqrt(cost), float("nan")))

    coef0 = torch.zeros(len(geom.cells), features.size, dtype=torch.float64)
    coef, iters, cost, _ = gauss_newton(patch, coef0, linear, cfg, report)
    fit = BlockFit(float("nan"), float("nan"), ex, coef, iters, math.sqrt(cost), time.process_time() - start)
    return SteadySolution(problem, features, ex, ey, coef, fit)
