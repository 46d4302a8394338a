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

Adaptive cells (``adapt=True``): after a block is solved, each cell's share of the weighted residual
integral, eta_k^2 = sum over its points of w R^2, is divided by the cell's width to give a residual density.
Cells whose density exceeds ``adapt_ratio`` times the median density are bisected (down to ``min_width``,
up to ``max_cells``) and the block is solved again, repeated while the block's residual norm falls by at
least a factor 2. Cells are only ever split, never merged, so every interface of a block is also an
interface of the next one and the state carried between blocks never has a kink inside a cell.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from pinn.errors import PinnError
from pinn.pde.assembly import (BoundaryEdge, Cell, Interface, Order, Patch, PatchGeometry, base_values,
                               build_patch, field_order, initial_orders, trial_matrices)
from pinn.pde.features import FeatureActivation, FeatureSpec, RandomFeatures, lobatto_nodes
from pinn.pde.problem import Derivatives, Field, PDEProblem, Side


class InitialState(str, enum.Enum):
    """How a time block starts from the previous block's end (or from u0): built into the trial solution
    (exact; the default), or as weighted rows (u and u_t matched at the block's first time level), which
    passes on values only, not derivatives, and keeps derivative noise from piling up over many blocks of a
    problem second order in time."""

    trial = "trial"
    rows = "rows"


@dataclass(frozen=True)
class LeastSquaresConfig:
    """Settings of the space-time least-squares solver (evolution and steady problems).

    block: time-block length (evolution problems); blocks are marched one after another.
    first_block: length of the first block if > 0 (each next block twice as long, up to ``block``): graded
        blocks resolve an initial layer, such as a kink of u0 smoothed by diffusion.
    cells: initial number of cells along x (uniform unless ``edges`` is given).
    cells_y: number of cells along y (steady 2-D problems).
    edges: optional interior cell edges along x (sorted, strictly inside the interval), overriding ``cells``;
        for a periodic x, the cuts of the ring in [a, b) (include a for an interface at the domain's ends).
    features: random features M per cell; scale: their weights ~ U(-scale, scale); activation: sin or tanh.
    points_x, points_s: Chebyshev-Lobatto collocation nodes per cell along x and along t (or y).
    max_iter, tol: Gauss-Newton iterations per block, stopped when the step is below tol (1 + |c|).
    continuity_weight, boundary_weight: weights of the interface and boundary rows (see pinn.pde.assembly).
    rcond: pivots below rcond times the largest drop their columns (rank-revealing QR).
    initial_state, initial_weight: how a block starts (see InitialState) and the weight of its rows.
    adapt, adapt_tol, adapt_ratio, adapt_fraction, adapt_grading, max_cells, min_width, min_block:
        residual-driven cell splitting and block halving (module docstring); min_block is a fraction of block.
    seed: seed of the random features.
    """

    block: float = 0.05
    cells: int = 8
    cells_y: int = 1
    edges: tuple[float, ...] = ()
    features: int = 100
    scale: float = 1.5
    activation: FeatureActivation = FeatureActivation.sin
    points_x: int = 24
    points_s: int = 12
    max_iter: int = 10
    tol: float = 1e-12
    continuity_weight: float = 10.0
    boundary_weight: float = 10.0
    rcond: float = 1e-15
    initial_state: InitialState = InitialState.trial
    initial_weight: float = 10.0
    adapt: bool = True
    adapt_tol: float = 1e-7
    adapt_ratio: float = 10.0
    adapt_fraction: float = 0.8
    adapt_grading: float = 3.0
    max_cells: int = 64
    min_width: float = 1e-3
    min_block: float = 1.0 / 64
    first_block: float = 0.0
    seed: int = 0

    def validate(self) -> None:
        """Raise PinnError on settings no solve can use."""
        checks = [
            (self.block > 0 and math.isfinite(self.block), f"block must be a positive time, got {self.block}"),
            (self.cells >= 1 and self.cells_y >= 1, "cells and cells_y must be at least 1"),
            (self.features >= 1, f"features must be at least 1, got {self.features}"),
            (math.isfinite(self.scale) and self.scale > 0, f"scale must be positive, got {self.scale}"),
            (self.points_x >= 2 and self.points_s >= 2, "points_x and points_s must be at least 2 (a grid of one "
                                                       "point has no interior)"),
            (self.max_iter >= 1, "max_iter must be at least 1"),
            (all(math.isfinite(v) and v > 0 for v in (self.continuity_weight, self.boundary_weight)),
             "continuity_weight and boundary_weight must be positive"),
            (0 < self.rcond < 1, f"rcond must lie in (0, 1), got {self.rcond}"),
            (self.adapt_ratio > 1 and self.max_cells >= 1 and self.min_width > 0, "adapt_ratio must exceed 1, "
                                                                                  "max_cells >= 1, min_width > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise PinnError(message)
        if any(not math.isfinite(e) for e in self.edges) or list(self.edges) != sorted(set(self.edges)):
            raise PinnError("edges must be finite, strictly increasing")

    @property
    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec(self.features, self.scale, FeatureActivation(self.activation), self.seed)


@dataclass
class SolveProgress:
    """Reported after every Gauss-Newton iteration: block (1-based) of blocks, iteration, cells, and the
    root of the weighted least-squares cost (about the L2 norm of the residual over the block)."""

    block: int
    blocks: int
    iteration: int
    cells: int
    residual: float
    t: float


Progress = Callable[[SolveProgress], None]


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


def _gauss_newton(patch: Patch, coef: torch.Tensor, linear: bool, cfg: LeastSquaresConfig,
                  report: Callable[[int, float], None]) -> tuple[torch.Tensor, int, float, list[float]]:
    """Minimise the patch's weighted cost over the coefficients; returns coef, iterations, cost, indicator."""
    rows, cost, indicator = patch.rows(coef)
    damping = 0.0
    it = rejected = 0
    for it in range(1, (1 if linear else cfg.max_iter) + 1):
        step = patch.step(rows, damping)
        trial = coef + step
        new_rows, new_cost, new_ind = patch.rows(trial)
        if not math.isfinite(new_cost):
            raise PinnError("the residual became NaN: try shorter --block or more --cells")
        if new_cost <= cost or linear:
            small = float(step.norm()) <= cfg.tol * (1.0 + float(trial.norm()))
            stalled = new_cost > 0.9 * cost  # the cost is at its floor
            coef, rows, cost, indicator = trial, new_rows, new_cost, new_ind
            rejected = 0
            damping = damping / 10.0 if damping > 1e-14 else 0.0
            report(it, cost)
            if small or stalled:
                break
        else:
            rejected += 1
            if rejected >= 3 or new_cost < 1.001 * cost:
                break  # the cost sits at its round-off floor: steps no longer lower it
            damping = max(10.0 * damping, 1e-10)
            report(it, new_cost)
    return coef, it, cost, indicator


def _bisect(x0: float, x1: float, seam: Optional[tuple[float, float]]) -> float:
    """The point that splits [x0, x1]: its midpoint, moved by a quarter of the width when the midpoint would
    fall on the seam of a periodic interval (a + k L, seam = (a, L)), so that the seam stays inside a cell."""
    mid = 0.5 * (x0 + x1)
    if seam is not None:
        a, length = seam
        nearest = a + length * round((mid - a) / length)
        if abs(mid - nearest) < 0.25 * (x1 - x0) and x0 < nearest < x1:
            mid = nearest + (0.25 if mid >= nearest else -0.25) * (x1 - x0)
    return mid


def _split_cells(edges: np.ndarray, indicator: list[float], cfg: LeastSquaresConfig,
                 seam: Optional[tuple[float, float]] = None) -> Optional[np.ndarray]:
    """Residual-driven bisection of cells (module docstring); None when no cell qualifies.

    Gate: some cell's residual density (its squared residual share over its width) exceeds ``adapt_ratio``
    times the median density. Marking: the fewest cells, largest share first, that hold half of the block's
    squared residual (Doerfler marking), each bisected while wider than ``2 min_width``. Grading: any cell more
    than ``adapt_grading`` times wider than a neighbour is bisected as well, so cell widths change
    geometrically towards a front.
    """
    widths = np.diff(edges)
    share = np.asarray(indicator) ** 2
    density = share / widths
    if density.max() <= cfg.adapt_ratio * float(np.median(density)):
        return None
    marked = set()
    total = 0.0
    for k in np.argsort(-share):
        if total >= cfg.adapt_fraction * share.sum():
            break
        total += share[k]
        if widths[k] / 2 >= cfg.min_width:
            marked.add(int(k))
    if not marked:
        return None
    new = list(edges) + [_bisect(edges[k], edges[k + 1], seam) for k in marked]
    new = np.array(sorted(new))
    while True:  # grading
        w = np.diff(new)
        too_wide = [k for k in range(len(w)) if (k > 0 and w[k] > cfg.adapt_grading * w[k - 1])
                    or (k < len(w) - 1 and w[k] > cfg.adapt_grading * w[k + 1])]
        if not too_wide:
            break
        new = np.array(sorted(list(new) + [_bisect(new[k], new[k + 1], seam) for k in too_wide]))
    if len(new) - 1 > cfg.max_cells:
        return None
    return new


def solve_space_time(problem: PDEProblem, cfg: LeastSquaresConfig = LeastSquaresConfig(),
                     progress: Optional[Progress] = None) -> SpaceTimeSolution:
    """March ``problem`` over its time interval block by block (float64 throughout)."""
    if problem.steady:
        raise PinnError(f"{problem.name} is steady: use solve_steady")
    cfg.validate()
    used = problem.used_fields()
    linear = problem.is_linear()
    features = RandomFeatures(cfg.feature_spec)
    T = problem.time
    edges = uniform_edges(problem, cfg)
    solution = SpaceTimeSolution(problem, features, [], cfg)
    cache: dict = {}
    nodes = lobatto_nodes(cfg.points_x)
    estimate = max(1, int(math.ceil(T.length / cfg.block - 1e-9)))
    iv = problem.x_interval
    # a periodic x: keep x = a inside a cell when splitting, unless the cells start with an interface there
    seam = (iv.a, iv.length) if problem.periodic("x") and not np.isclose((edges[0] - iv.a) % iv.length, 0.0) \
        else None

    def cell_initial(edges: np.ndarray) -> list[dict]:
        out = []
        for k in range(len(edges) - 1):
            x = torch.from_numpy(edges[k] + (nodes.numpy() + 1.0) * (edges[k + 1] - edges[k]) / 2.0)
            anchor = np.full(x.shape, 0.5 * (edges[k] + edges[k + 1]))
            out.append(solution.end_state(x, anchor, len(solution.blocks)))
        return out

    def solve_block(t0: float, t1: float, edges: np.ndarray, init: list[dict], coef: torch.Tensor) -> _Block:
        """One block with residual-driven cell splitting."""
        n = len(solution.blocks) + 1

        def report(it: int, cost: float) -> None:
            if progress is not None:
                progress(SolveProgress(n, max(n, estimate), it, len(edges) - 1, math.sqrt(cost), t1))

        patch = build_patch(problem, block_geometry(problem, edges, t0, t1, cfg), features, init, used,
                            cfg.continuity_weight, cfg.boundary_weight, cfg.rcond, cache)
        coef, iters, cost, indicator = _gauss_newton(patch, coef, linear, cfg, report)
        block = _Block(t0, t1, edges, init, patch, coef, iters, cost, 0)
        while cfg.adapt and math.sqrt(block.cost) > cfg.adapt_tol:
            finer = _split_cells(block.edges, indicator, cfg, seam)
            if finer is None:
                break
            # solve again on the split cells; keep the split only if the residual norm halves
            init_f = cell_initial(finer)
            patch_f = build_patch(problem, block_geometry(problem, finer, t0, t1, cfg), features, init_f, used,
                                  cfg.continuity_weight, cfg.boundary_weight, cfg.rcond, cache)
            c_f, it_f, cost_f, ind_f = _gauss_newton(patch_f, _refined_start(block.edges, finer, block.coef),
                                                     linear, cfg, report)
            if cost_f > 0.25 * block.cost:
                break
            block = _Block(t0, t1, finer, init_f, patch_f, c_f, it_f, cost_f, block.refinements + 1)
            indicator = ind_f
        return block

    t0, h = T.a, cfg.first_block or cfg.block
    coef = torch.zeros(len(edges) - 1, features.size, dtype=torch.float64)
    carried: Optional[list[dict]] = None
    failed_halving = 0.0  # residual norm at which halving a block last failed to pay off

    def worth_halving(block: _Block, h: float, first: bool) -> bool:
        r = math.sqrt(block.cost)
        if not cfg.adapt or r <= cfg.adapt_tol or h / 2 < cfg.block * cfg.min_block:
            return False
        return not first or r > 10.0 * failed_halving

    while t0 < T.b - 1e-12 * T.length:
        start = time.process_time()
        h = min(h, T.b - t0)
        if T.b - (t0 + h) < 1e-9 * T.length:
            h = T.b - t0
        init = carried if carried is not None else cell_initial(edges)
        block = solve_block(t0, t0 + h, edges, init, coef)
        first = True
        # a residual the cells cannot remove (a singular start, a fast transient): try half the block
        while worth_halving(block, h, first):
            half = solve_block(t0, t0 + h / 2, block.edges, block.init, block.coef / 2)
            if half.cost > 0.25 * block.cost:
                failed_halving = math.sqrt(block.cost)
                break
            failed_halving = 0.0
            block, h, first = half, h / 2, False
        edges, coef = block.edges, block.coef
        fit = BlockFit(block.t0, block.t1, edges.copy(), coef.clone(), block.iterations, math.sqrt(block.cost),
                       time.process_time() - start, block.refinements)
        solution.blocks.append(fit)
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
    return solution


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


def _refined_start(old: np.ndarray, new: np.ndarray, coef: torch.Tensor) -> torch.Tensor:
    """Starting coefficients on split cells: zero for new cells, the old ones where a cell is unchanged."""
    out = torch.zeros(len(new) - 1, coef.shape[1], dtype=coef.dtype)
    for k in range(len(new) - 1):
        j = np.nonzero(np.isclose(old[:-1], new[k]) & np.isclose(old[1:], new[k + 1]))[0]
        if j.size:
            out[k] = coef[j[0]]
    return out


def _carry(patch: Patch, coef: torch.Tensor, time_order: int) -> list[dict]:
    """The state at the block's end at each cell's x-nodes (its top collocation row), per cell."""
    top = patch.edge_rows(Side.top)
    out = []
    for k in range(len(patch.cells)):
        out.append({o: patch.value(k, o, coef, top) for o in initial_orders(time_order)})
    return out
