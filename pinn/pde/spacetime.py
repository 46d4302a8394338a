"""Space-time least squares for evolution problems in one space dimension (locELM / PIELM, marched in time).

The time interval is cut into blocks [t_n, t_n+1] solved one after another. Within a block the interval
[a, b] is cut into cells, each carrying its own output layer over shared random features in local (x, t)
(:mod:`pinn.pde.features`). The trial solution of a block starts exactly from the state the previous block
ended in (:mod:`pinn.pde.assembly`), and the output layers of all cells are fitted together to the weighted
PDE residual at Chebyshev-Lobatto collocation points, the boundary conditions, and continuity of u and u_x
across interfaces. A linear PDE needs one linear least-squares solve per block; a nonlinear one is solved by
Gauss-Newton iterations with Levenberg-Marquardt damping as a safeguard. Each solve is block-sparse and done
by block QR elimination (:mod:`pinn.pde.blocklsq`).

Periodic problems: the cells tile a ring; the edges are shifted by half a cell so that x = a (= b) lies
inside a cell whose network is evaluated at x - L beyond b, so u and all its derivatives are periodic to
round-off there, and continuity rows join the remaining interfaces.

Adaptive cells and blocks (``adapt=True``): a block whose residual norm exceeds ``adapt_tol`` has its cells
split where the residual concentrates (pinn.pde.adapt) and is solved again. Cells are only ever split,
never merged, so every interface of a block is also an interface of the next one and the state carried
between blocks never has a kink inside a cell. When splitting cells does not bring the residual down, the
block is halved (kept when the cost falls fourfold, down to ``min_block`` of the block length; after a
halving fails it is tried again only once the residual has grown tenfold); blocks then grow back, doubling,
to the block length, landing on its multiples. ``first_block`` starts the march with such a graded block.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.pde.adapt import refined_start, split_cells
from pinn.pde.assembly import (
    BoundaryEdge,
    Cell,
    Interface,
    Order,
    Patch,
    PatchGeometry,
    base_values,
    build_patch,
    field_order,
    initial_orders,
    trial_matrices,
)
from pinn.pde.config import FeatureActivation, InitialState, LeastSquaresConfig, Progress, SolveProgress
from pinn.pde.features import RandomFeatures, lobatto_nodes
from pinn.pde.gauss_newton import gauss_newton
from pinn.pde.problem import Derivatives, PDEProblem, Side


@dataclass
class BlockFit:
    """A solved time block: cell edges along x, coefficients (S, M), and how the fit went."""

    t0: float
    t1: float
    edges: np.ndarray  # (S + 1,)
    coef: torch.Tensor  # (S, M)
    iterations: int
    residual: float
    seconds: float
    refinements: int = 0


def uniform_edges(problem: PDEProblem, cfg: LeastSquaresConfig) -> np.ndarray:
    """Cell edges along x: ``cfg.edges`` or ``cfg.cells`` equal cells; periodic: shifted by half a cell."""
    iv = problem.x_interval
    if cfg.edges:
        inner = np.asarray(cfg.edges, float)
        if problem.periodic("x"):  # any cuts of the ring; one at a puts an interface at the domain's ends
            if inner[0] < iv.a or inner[-1] >= iv.b:
                raise PinnError(f"edges of a periodic interval must lie in [{iv.a}, {iv.b})")
            return np.concatenate([inner, [inner[0] + iv.length]])
        if inner[0] <= iv.a or inner[-1] >= iv.b:
            raise PinnError(f"edges must lie strictly inside ({iv.a}, {iv.b})")
        return np.concatenate([[iv.a], inner, [iv.b]])
    edges = np.linspace(iv.a, iv.b, cfg.cells + 1)
    if problem.periodic("x"):
        edges = edges + 0.5 * iv.length / cfg.cells
    return edges


def block_geometry(problem: PDEProblem, edges: np.ndarray, t0: float, t1: float,
                   cfg: LeastSquaresConfig) -> PatchGeometry:
    """Cells [edges_k, edges_k+1] x [t0, t1], their interfaces (a ring if periodic) and boundary edges."""
    S = len(edges) - 1
    cells = [Cell(float(edges[k]), float(edges[k + 1]), t0, t1) for k in range(S)]
    interfaces = [Interface(k, k + 1, "x") for k in range(S - 1)]
    boundary = []
    if problem.periodic("x"):
        interfaces.append(Interface(S - 1, 0, "x"))
    else:
        boundary = [BoundaryEdge(0, Side.left, problem.condition_on(Side.left)),
                    BoundaryEdge(S - 1, Side.right, problem.condition_on(Side.right))]
    return PatchGeometry(cells, interfaces, boundary, cfg.points_x, cfg.points_s, problem.time_order,
                         InitialState(cfg.initial_state) is InitialState.rows, cfg.initial_weight)


def initial_data(problem: PDEProblem, x: torch.Tensor) -> dict[Order, torch.Tensor]:
    """d^p/dx^p of u0 (and v0 for second order) at x (n,) by autograd: {(p, j): (n,)} for p <= 2."""
    out = {}
    fns = [problem.initial] + ([problem.initial_velocity] if problem.time_order == 2 else [])
    for j, fn in enumerate(fns):
        xx = x.detach().clone().requires_grad_(True)
        v = torch.as_tensor(fn(xx), dtype=x.dtype)
        v = v.expand(x.shape) if v.ndim == 0 else v.reshape(x.shape)
        derivs = [v]
        for _ in range(2):
            if not derivs[-1].requires_grad:
                derivs.append(torch.zeros_like(x))
                continue
            (g,) = torch.autograd.grad(derivs[-1].sum(), xx, create_graph=True, allow_unused=True)
            derivs.append(torch.zeros_like(x) if g is None else g)
        for p, d in enumerate(derivs):
            out[(p, j)] = d.detach()
    return out


class SpaceTimeSolution:
    """The piecewise solution u(x, t) of an evolution problem: blocks of cells with their output layers."""

    def __init__(self, problem: PDEProblem, features: RandomFeatures, blocks: list[BlockFit],
                 cfg: LeastSquaresConfig) -> None:
        self.problem = problem
        self.features = features
        self.blocks = blocks
        self.cfg = cfg

    def _locate(self, edges: np.ndarray, x: np.ndarray) -> np.ndarray:
        if self.problem.periodic("x"):
            x = edges[0] + np.mod(x - edges[0], edges[-1] - edges[0])
        return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)

    def _block_values(self, fit: BlockFit, x: torch.Tensor, anchor: np.ndarray, t: torch.Tensor,
                      init: dict[Order, torch.Tensor], orders: tuple[Order, ...]) -> dict[Order, torch.Tensor]:
        """Derivatives ``orders`` at points (x, t) of one block, cells located by ``anchor``."""
        idx = self._locate(fit.edges, anchor)
        out = {o: torch.empty_like(x) for o in orders}
        h_t = fit.t1 - fit.t0
        order = 0 if InitialState(self.cfg.initial_state) is InitialState.rows else self.problem.time_order
        base = base_values(init, order, t - fit.t0, orders)
        for k in np.unique(idx):
            mask = torch.from_numpy(idx == k)
            x0, x1 = fit.edges[k], fit.edges[k + 1]
            xs = x[mask]
            if self.problem.periodic("x"):
                xs = x0 + torch.remainder(xs - x0, self.problem.x_interval.length)
            xi = 2.0 * (xs - x0) / (x1 - x0) - 1.0
            eta = 2.0 * (t[mask] - fit.t0) / h_t - 1.0
            mats = trial_matrices(self.features, xi, eta, x1 - x0, h_t, order, orders)
            for o in orders:
                out[o][mask] = base[o][mask] + mats[o] @ fit.coef[k]
        return out

    def end_state(self, x: torch.Tensor, anchor: np.ndarray, upto: int) -> dict[Order, torch.Tensor]:
        """The state carried into block ``upto`` (initial data, see pinn.pde.assembly) at x (n,)."""
        orders = initial_orders(self.problem.time_order)
        state = initial_data(self.problem, x)
        for fit in self.blocks[:upto]:
            t1 = torch.full_like(x, fit.t1)
            state = self._block_values(fit, x, anchor, t1, state, orders)
        return state

    def evaluate(self, x: np.ndarray, t: np.ndarray, orders: tuple[Order, ...] = ((0, 0),)
                 ) -> dict[Order, np.ndarray]:
        """Derivatives of u on the grid x (nx,) by t (nt,): {(p, q): (nt, nx)} (q counts t-derivatives)."""
        x = np.asarray(x, float)
        t = np.asarray(t, float)
        xt = torch.from_numpy(x)
        out = {o: np.empty((t.size, x.size)) for o in orders}
        state = initial_data(self.problem, xt)
        carry = initial_orders(self.problem.time_order)
        for n, fit in enumerate(self.blocks):
            last = n == len(self.blocks) - 1
            inside = np.nonzero((t >= fit.t0) & ((t < fit.t1) | (last & (t <= fit.t1 + 1e-12))))[0]
            if inside.size:
                tt = torch.from_numpy(np.repeat(t[inside], x.size))
                xx = xt.repeat(inside.size)
                init = {o: v.repeat(inside.size) for o, v in state.items()}
                vals = self._block_values(fit, xx, xx.numpy(), tt, init, orders)
                for o in orders:
                    out[o][inside] = vals[o].reshape(inside.size, x.size).numpy()
            state = self._block_values(fit, xt, x, torch.full_like(xt, fit.t1), state, carry)
        return out

    def residual(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The PDE residual R on the grid x (nx,) by t (nt,): (nt, nx)."""
        used = self.problem.used_fields()
        orders = tuple(sorted({field_order(f) for f in used} | {(0, 0)}))
        vals = self.evaluate(x, t, orders)
        xx, tt = np.meshgrid(x, t)
        fields = {f.value: torch.from_numpy(vals[field_order(f)].ravel()) for f in used}
        fields.setdefault("u", torch.from_numpy(vals[(0, 0)].ravel()))
        d = Derivatives(x=torch.from_numpy(xx.ravel()), t=torch.from_numpy(tt.ravel()), **fields)
        with torch.no_grad():
            return self.problem.evaluate_residual(d).reshape(tt.shape).numpy()

    def state_dict(self) -> dict:
        """Everything needed to rebuild the solution, as tensors, numbers and lists (weights_only-safe)."""
        return {"kind": "space-time", "features": self.features.state_dict(),
                "initial_state": InitialState(self.cfg.initial_state).value,
                "activation": FeatureActivation(self.features.spec.activation).value,
                "blocks": [{"t0": b.t0, "t1": b.t1, "edges": torch.from_numpy(b.edges.copy()),
                            "coef": b.coef.clone()} for b in self.blocks]}


def solve_space_time(problem: PDEProblem, cfg: LeastSquaresConfig = LeastSquaresConfig(),
                     progress: Optional[Progress] = None) -> SpaceTimeSolution:
    """March ``problem`` over its time interval block by block (float64 throughout)."""
    if problem.steady:
        raise PinnError(f"{problem.name} is steady: use solve_steady")
    cfg.validate()
    edges = uniform_edges(problem, cfg)
    march = _March(problem, cfg, progress, edges)
    T = problem.time
    t0, h = T.a, cfg.first_block or cfg.block
    coef = torch.zeros(len(edges) - 1, march.features.size, dtype=torch.float64)
    carried: Optional[list[dict]] = None
    while t0 < T.b - 1e-12 * T.length:
        start = time.process_time()
        h = min(h, T.b - t0)
        if T.b - (t0 + h) < 1e-9 * T.length:
            h = T.b - t0
        init = carried if carried is not None else march.cell_initial(edges)
        block, h = march.solve_or_halve(t0, h, edges, init, coef)
        edges, coef = block.edges, block.coef
        fit = BlockFit(block.t0, block.t1, edges.copy(), coef.clone(), block.iterations, math.sqrt(block.cost),
                       time.process_time() - start, block.refinements)
        march.solution.blocks.append(fit)
        carried = _carry(block.patch, coef, problem.time_order)
        if not all(bool(torch.all(torch.isfinite(v))) for d in carried for v in d.values()):
            raise PinnError(f"the solution became NaN at t = {block.t1:.6g}: try a shorter --block")
        t0 = block.t1
        # grow back towards the block length, landing on multiples of it (graded or halved blocks)
        past = math.remainder(t0 - T.a, cfg.block) % cfg.block
        if past < 1e-9 * cfg.block or cfg.block - past < 1e-9 * cfg.block:
            h = cfg.block
        else:
            h = min(2.0 * h, past, cfg.block - past)
    return march.solution


class _March:
    """What stays fixed while :func:`solve_space_time` marches: the problem, features, the solution so far,
    the cache of feature matrices, and when halving a block last failed."""

    def __init__(self, problem: PDEProblem, cfg: LeastSquaresConfig, progress: Optional[Progress],
                 edges: np.ndarray) -> None:
        self.problem, self.cfg, self.progress = problem, cfg, progress
        self.used = problem.used_fields()
        self.linear = problem.is_linear()
        self.features = RandomFeatures(cfg.feature_spec)
        self.solution = SpaceTimeSolution(problem, self.features, [], cfg)
        self.cache: dict = {}
        self.nodes = lobatto_nodes(cfg.points_x)
        self.estimate = max(1, int(math.ceil(problem.time.length / cfg.block - 1e-9)))
        iv = problem.x_interval
        # a periodic x: keep x = a inside a cell when splitting, unless the cells start with an interface there
        self.seam = (iv.a, iv.length) if problem.periodic("x") and \
            not np.isclose((edges[0] - iv.a) % iv.length, 0.0) else None
        self.failed_halving = 0.0  # residual norm at which halving a block last failed to pay off

    def cell_initial(self, edges: np.ndarray) -> list[dict]:
        """The state carried into the next block at the x-nodes of each cell between ``edges``."""
        out = []
        for k in range(len(edges) - 1):
            x = torch.from_numpy(edges[k] + (self.nodes.numpy() + 1.0) * (edges[k + 1] - edges[k]) / 2.0)
            anchor = np.full(x.shape, 0.5 * (edges[k] + edges[k + 1]))
            out.append(self.solution.end_state(x, anchor, len(self.solution.blocks)))
        return out

    def _fit(self, t0: float, t1: float, edges: np.ndarray, init: list[dict], coef: torch.Tensor, report
             ) -> tuple[Patch, torch.Tensor, int, float, list[float]]:
        cfg = self.cfg
        patch = build_patch(self.problem, block_geometry(self.problem, edges, t0, t1, cfg), self.features, init,
                            self.used, cfg.continuity_weight, cfg.boundary_weight, cfg.rcond, self.cache)
        return (patch, *gauss_newton(patch, coef, self.linear, cfg, report))

    def solve_block(self, t0: float, t1: float, edges: np.ndarray, init: list[dict], coef: torch.Tensor) -> _Block:
        """One block with residual-driven cell splitting."""
        cfg, n = self.cfg, len(self.solution.blocks) + 1

        def report(it: int, cost: float) -> None:
            if self.progress is not None:
                self.progress(SolveProgress(n, max(n, self.estimate), it, len(edges) - 1, math.sqrt(cost), t1))

        patch, coef, iters, cost, indicator = self._fit(t0, t1, edges, init, coef, report)
        block = _Block(t0, t1, edges, init, patch, coef, iters, cost, 0)
        while cfg.adapt and math.sqrt(block.cost) > cfg.adapt_tol:
            finer = split_cells(block.edges, indicator, cfg, self.seam)
            if finer is None:
                break
            # solve again on the split cells; keep the split only if the residual norm halves
            init_f = self.cell_initial(finer)
            patch_f, c_f, it_f, cost_f, ind_f = self._fit(t0, t1, finer, init_f,
                                                          refined_start(block.edges, finer, block.coef), report)
            if cost_f > 0.25 * block.cost:
                break
            block = _Block(t0, t1, finer, init_f, patch_f, c_f, it_f, cost_f, block.refinements + 1)
            indicator = ind_f
        return block

    def _worth_halving(self, block: _Block, h: float, first: bool) -> bool:
        r = math.sqrt(block.cost)
        cfg = self.cfg
        if not cfg.adapt or r <= cfg.adapt_tol or h / 2 < cfg.block * cfg.min_block:
            return False
        return not first or r > 10.0 * self.failed_halving

    def solve_or_halve(self, t0: float, h: float, edges: np.ndarray, init: list[dict], coef: torch.Tensor
                       ) -> tuple[_Block, float]:
        """The block [t0, t0 + h], halved while a residual the cells cannot remove (a singular start, a fast
        transient) falls fourfold by halving; returns the block and its length."""
        block = self.solve_block(t0, t0 + h, edges, init, coef)
        first = True
        while self._worth_halving(block, h, first):
            half = self.solve_block(t0, t0 + h / 2, block.edges, block.init, block.coef / 2)
            if half.cost > 0.25 * block.cost:
                self.failed_halving = math.sqrt(block.cost)
                break
            self.failed_halving = 0.0
            block, h, first = half, h / 2, False
        return block, h


@dataclass
class _Block:
    """A block being solved: its interval, cells, initial data, patch, coefficients and fit statistics."""

    t0: float
    t1: float
    edges: np.ndarray
    init: list[dict]
    patch: Patch
    coef: torch.Tensor
    iterations: int
    cost: float
    refinements: int


def _carry(patch: Patch, coef: torch.Tensor, time_order: int) -> list[dict]:
    """The state at the block's end at each cell's x-nodes (its top collocation row), per cell."""
    top = patch.edge_rows(Side.top)
    out = []
    for k in range(len(patch.cells)):
        out.append({o: patch.value(k, o, coef, top) for o in initial_orders(time_order)})
    return out
