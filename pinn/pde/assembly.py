"""Least-squares rows of one patch of cells: PDE residual, boundary conditions, interface continuity.

A patch is a set of rectangular cells in (x, s), s = t for one time block of an evolution problem and s = y
for a steady 2-D problem. On cell k the solution is the trial function

    u(x, s) = base(x, s) + m(s) Phi_k(xi, eta) c_k,     xi, eta in [-1, 1] the cell's local coordinates,

with, for an evolution block starting at t0 (tau = (t - t0) / h_t):
    first order in time:  base = u(x, t0),                      m = tau,
    second order in time: base = u(x, t0) + (t - t0) u_t(x, t0), m = tau^2,
so the state at the start of the block holds exactly (the initial state built into the trial solution),
and for a steady problem base = 0, m = 1. Every derivative d^p/dx^p d^q/ds^q u is base_pq + B_pq c_k with
B_pq assembled exactly from the features' closed-form derivatives (Leibniz rule for m Phi).

Rows, each multiplied by a weight so that the sum of squares approximates an integral:
    residual   sqrt(|cell| / Q) R(x_i, s_i)        (Q collocation points per cell: a quadrature of the
                                                   integral of R^2 over the cell)
    boundary   w_b sqrt(h / n) (u - g)  or  w_b sqrt(h / n) (du/dn - g)
    interface  w_c sqrt(h / n) [u],  w_c sqrt(h / n) l [du/dn]   (l: the smaller neighbouring cell width)
The residual is nonlinear in u in general; its Jacobian with respect to c_k is
J = sum_f (dR/df) B_f, the partials dR/df taken by forward-mode products through the user's residual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch

from pinn.pde.blocklsq import BlockLeastSquares
from pinn.pde.features import RandomFeatures, lobatto_nodes
from pinn.pde.problem import Derivatives, Dirichlet, Field, Neumann, PDEProblem, Side, boundary_value

Order = tuple[int, int]  # (derivative order in x, in s)


@dataclass
class Cell:
    """The rectangle [x0, x1] x [s0, s1] (x1 may exceed the domain's right end on a periodic ring)."""

    x0: float
    x1: float
    s0: float
    s1: float

    @property
    def hx(self) -> float:
        return self.x1 - self.x0

    @property
    def hs(self) -> float:
        return self.s1 - self.s0


@dataclass
class Interface:
    """Cells ``first`` and ``second`` meet: along x (first's right edge = second's left edge) or along s."""

    first: int
    second: int
    axis: str  # "x" or "s"


@dataclass
class BoundaryEdge:
    """A cell edge on the domain boundary carrying a Dirichlet or Neumann condition."""

    cell: int
    side: Side
    condition: Dirichlet | Neumann


@dataclass
class PatchGeometry:
    """Cells, their interfaces and boundary edges, and the collocation grid per cell (nx by ns nodes)."""

    cells: list[Cell]
    interfaces: list[Interface]
    boundary: list[BoundaryEdge]
    nx: int
    ns: int
    time_order: int  # 0 steady, 1 or 2 for an evolution block
    initial_rows: bool = False  # the block's initial state as weighted rows instead of in the trial
    initial_weight: float = 10.0

    @property
    def trial_order(self) -> int:
        """The power n of the trial multiplier m = tau^n (0: no initial state built in)."""
        return 0 if self.initial_rows else self.time_order


def leibniz_multiplier(time_order: int, tau: torch.Tensor, hs: float, k: int) -> torch.Tensor:
    """d^k/ds^k of m(s) = tau^n, tau = (s - s0) / hs, n = time_order (m = 1 for n = 0): (n_pts,)."""
    n = time_order
    if k > n:
        return torch.zeros_like(tau)
    return math.factorial(n) / math.factorial(n - k) * tau ** (n - k) / hs ** k


def trial_matrices(features: RandomFeatures, xi: torch.Tensor, eta: torch.Tensor, hx: float, hs: float,
                   time_order: int, orders: tuple[Order, ...]) -> dict[Order, torch.Tensor]:
    """B_pq = d^p/dx^p d^q/ds^q (m Phi) at local points (xi, eta), each (n,): {(p, q): (n, M)}."""
    tau = (eta + 1.0) / 2.0
    cache: dict[Order, torch.Tensor] = {}

    def phi(p: int, q: int) -> torch.Tensor:
        if (p, q) not in cache:
            cache[(p, q)] = features(xi, eta, p, q) * ((2.0 / hx) ** p * (2.0 / hs) ** q)
        return cache[(p, q)]

    out = {}
    for p, q in orders:
        total = 0.0
        for k in range(q + 1):
            m = leibniz_multiplier(time_order, tau, hs, k)
            if time_order == 0 and k > 0:
                continue
            total = total + math.comb(q, k) * m.reshape(-1, 1) * phi(p, q - k)
        out[(p, q)] = total
    return out


def base_values(initial: dict[Order, torch.Tensor], time_order: int, dt: torch.Tensor,
                orders: tuple[Order, ...]) -> dict[Order, torch.Tensor]:
    """The initial-data part of d^p/dx^p d^q/dt^q u at times t0 + dt.

    ``initial[(p, j)]`` holds d^p/dx^p d^j/dt^j u at t0 for j < time_order (at the same points as dt);
    base_pq = sum_{j = q}^{order - 1} dt^(j - q) / (j - q)! initial[(p, j)]. Steady problems: zeros.
    """
    out = {}
    for p, q in orders:
        total = torch.zeros_like(dt)
        for j in range(q, time_order):
            total = total + dt ** (j - q) / math.factorial(j - q) * initial[(p, j)]
        out[(p, q)] = total
    return out


def initial_orders(time_order: int) -> tuple[Order, ...]:
    """(p, j): x-derivatives up to 2 of u (and u_t for second order) carried from block to block."""
    return tuple((p, j) for j in range(time_order) for p in range(3))


def field_order(f: Field) -> Order:
    """(p, q) of a field, q counting t or y derivatives."""
    return f.orders


@dataclass
class CellData:
    """Per-cell collocation data: local nodes, physical coordinates, weights, trial matrices and base."""

    xi: torch.Tensor
    eta: torch.Tensor
    x: torch.Tensor  # physical x mapped into the domain (periodic problems)
    s: torch.Tensor
    weight: float
    mats: dict[Order, torch.Tensor]
    base: dict[Order, torch.Tensor]
    initial: Optional[dict[Order, torch.Tensor]] = None  # the block's initial data at the x-nodes


@dataclass
class Patch:
    """A patch ready for Gauss-Newton: geometry, per-cell data, the fields the residual uses."""

    problem: PDEProblem
    geometry: PatchGeometry
    cells: list[CellData]
    used: tuple[Field, ...]
    continuity_weight: float
    boundary_weight: float
    rcond: float
    history: list[dict] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.cells[0].mats[(0, 0)].shape[1]

    def edge_rows(self, side: Side) -> torch.Tensor:
        """Indices of the collocation points on one side of a cell (s-fastest ordering)."""
        nx, ns = self.geometry.nx, self.geometry.ns
        first = 1 if self.geometry.trial_order > 0 else 0  # at tau = 0 a built-in initial state has no unknowns
        if side is Side.left:
            return torch.arange(first, ns)
        if side is Side.right:
            return (nx - 1) * ns + torch.arange(first, ns)
        if side is Side.bottom:
            return torch.arange(nx) * ns
        return torch.arange(nx) * ns + ns - 1

    def value(self, k: int, order: Order, coef: torch.Tensor, rows: Optional[torch.Tensor] = None
              ) -> torch.Tensor:
        """d^p/dx^p d^q/ds^q u on cell k at its collocation points (or the subset ``rows``)."""
        cd = self.cells[k]
        mat, base = cd.mats[order], cd.base[order]
        if rows is not None:
            mat, base = mat[rows], base[rows]
        return base + mat @ coef[k]

    def derivatives(self, k: int, coef: torch.Tensor) -> Derivatives:
        """The residual's input on cell k."""
        cd = self.cells[k]
        second = "y" if self.problem.steady else "t"
        values = {f.value: self.value(k, field_order(f), coef) for f in self.used}
        if "u" not in values:
            values["u"] = self.value(k, (0, 0), coef)
        return Derivatives(x=cd.x, **{second: cd.s}, **values)

    def residual_and_partials(self, coef: torch.Tensor) -> tuple[list[torch.Tensor], list[dict]]:
        """Residual R (Q,) and its partials dR/df (Q,) per cell, by forward-mode products per field."""
        res, parts = [], []
        for k in range(len(self.cells)):
            d = self.derivatives(k, coef)
            r = self.problem.evaluate_residual(d)
            g = self.problem.residual_partials(d, self.used)
            res.append(r)
            parts.append(g)
        return res, parts

    def rows(self, coef: torch.Tensor) -> tuple[list[tuple], float, list[float]]:
        """All weighted rows at ``coef``: (blocks, Jacobian, residual) triples, the total cost
        sum of squares, and each cell's weighted PDE-residual norm (its share of the integral of R^2)."""
        out: list[tuple] = []
        costs: list[float] = []  # summed in this order at the end
        indicator = self._residual_rows(coef, out, costs)
        if self.geometry.initial_rows:
            self._initial_rows(coef, out, costs)
        self._boundary_rows(coef, out, costs)
        self._interface_rows(coef, out, costs)
        return out, sum(costs), indicator

    def _residual_rows(self, coef: torch.Tensor, out: list[tuple], costs: list[float]) -> list[float]:
        """The PDE-residual rows of every cell; returns each cell's weighted residual norm."""
        res, parts = self.residual_and_partials(coef)
        indicator = []
        for k, cd in enumerate(self.cells):
            jac = sum(parts[k][f].reshape(-1, 1) * cd.mats[field_order(f)] for f in self.used)
            r = res[k]
            out.append(((k,), cd.weight * jac, cd.weight * r))
            share = float(cd.weight ** 2 * (r ** 2).sum())
            indicator.append(math.sqrt(share))
            costs.append(share)
        return indicator

    def _initial_rows(self, coef: torch.Tensor, out: list[tuple], costs: list[float]) -> None:
        """u = u(x, t0), and u_t = u_t(x, t0) scaled by the block length, on the bottom edge of each cell."""
        geom = self.geometry
        bottom = self.edge_rows(Side.bottom)
        for k, cd in enumerate(self.cells):
            cell = geom.cells[k]
            w = geom.initial_weight * math.sqrt(cell.hx / bottom.numel())
            for j in range(geom.time_order):
                ws = w * cell.hs ** j
                val = self.value(k, (0, j), coef, bottom) - cd.initial[(0, j)]
                out.append(((k,), ws * cd.mats[(0, j)][bottom], ws * val))
                costs.append(float((ws * val).pow(2).sum()))

    def _boundary_rows(self, coef: torch.Tensor, out: list[tuple], costs: list[float]) -> None:
        """Dirichlet values and outward normal derivatives on the boundary edges."""
        geom = self.geometry
        for e in geom.boundary:
            rows = self.edge_rows(e.side)
            cell = geom.cells[e.cell]
            h = cell.hs if e.side.axis == "x" else cell.hx
            w = self.boundary_weight * math.sqrt(h / rows.numel())
            cd = self.cells[e.cell]
            g = boundary_value(e.condition.value, cd.x[rows], cd.s[rows])
            if isinstance(e.condition, Dirichlet):
                order, sign = (0, 0), 1.0
            else:
                order = (1, 0) if e.side.axis == "x" else (0, 1)
                sign = e.side.outward_sign
            val = sign * self.value(e.cell, order, coef, rows) - g
            out.append(((e.cell,), w * (sign * cd.mats[order][rows]), w * val))
            costs.append(float((w * val).pow(2).sum()))

    def _interface_rows(self, coef: torch.Tensor, out: list[tuple], costs: list[float]) -> None:
        """Continuity of u and of its normal derivative (scaled by the edge length) across interfaces."""
        geom = self.geometry
        for itf in geom.interfaces:
            c1, c2 = geom.cells[itf.first], geom.cells[itf.second]
            if itf.axis == "x":
                r1, r2 = self.edge_rows(Side.right), self.edge_rows(Side.left)
                h, length, d_order = c1.hs, min(c1.hx, c2.hx), (1, 0)
            else:
                r1, r2 = self.edge_rows(Side.top), self.edge_rows(Side.bottom)
                h, length, d_order = c1.hx, min(c1.hs, c2.hs), (0, 1)
            w = self.continuity_weight * math.sqrt(h / r1.numel())
            for order, scale in (((0, 0), 1.0), (d_order, length)):
                val = self.value(itf.first, order, coef, r1) - self.value(itf.second, order, coef, r2)
                j1 = self.cells[itf.first].mats[order][r1]
                j2 = -self.cells[itf.second].mats[order][r2]
                ws = w * scale
                if itf.first == itf.second:
                    out.append(((itf.first,), ws * (j1 + j2), ws * val))
                else:
                    out.append(((itf.first, itf.second), ws * torch.cat([j1, j2], dim=1), ws * val))
                costs.append(float((ws * val).pow(2).sum()))

    def step(self, rows: list[tuple], damping: float = 0.0) -> torch.Tensor:
        """The Gauss-Newton (Levenberg-Marquardt when ``damping`` > 0) step minimising ||J d + r||."""
        M = self.size
        lsq = BlockLeastSquares(len(self.cells), M, rcond=self.rcond)
        for blocks, jac, r in rows:
            lsq.add(blocks, jac.numpy(), -r.numpy())
        if damping > 0:
            for k in range(len(self.cells)):
                lsq.add((k,), math.sqrt(damping) * np.eye(M), np.zeros(M))
        return torch.from_numpy(lsq.solve())


def build_patch(problem: PDEProblem, geometry: PatchGeometry, features: RandomFeatures,
                initial: Optional[list[dict[Order, torch.Tensor]]], used: tuple[Field, ...],
                continuity_weight: float, boundary_weight: float, rcond: float,
                matrix_cache: Optional[dict] = None) -> Patch:
    """Collocation data of every cell; ``initial[k]`` holds the block's initial data at cell k's nodes
    (the nx x-nodes, see :func:`initial_orders`), None for steady problems."""
    nx, ns = geometry.nx, geometry.ns
    dtype = features.a.dtype
    gx, gs = lobatto_nodes(nx, dtype), lobatto_nodes(ns, dtype)
    xi = gx.repeat_interleave(ns)
    eta = gs.repeat(nx)
    orders = tuple(sorted({field_order(f) for f in used} | {(0, 0), (1, 0), (0, 1)}
                          | set(initial_orders(geometry.time_order))))
    xa = problem.x_interval
    cache = {} if matrix_cache is None else matrix_cache
    data = []
    for k, cell in enumerate(geometry.cells):
        key = (round(cell.hx, 14), round(cell.hs, 14))
        if key not in cache:
            cache[key] = trial_matrices(features, xi, eta, cell.hx, cell.hs, geometry.trial_order, orders)
        mats = cache[key]
        x = cell.x0 + (xi + 1.0) * (cell.hx / 2.0)
        if problem.periodic("x"):
            x = xa.a + torch.remainder(x - xa.a, xa.length)
        s = cell.s0 + (eta + 1.0) * (cell.hs / 2.0)
        if geometry.trial_order > 0:
            init = {o: v.repeat_interleave(ns) for o, v in initial[k].items()}
            base = base_values(init, geometry.time_order, s - cell.s0, orders)
        else:
            base = {o: torch.zeros_like(x) for o in orders}
        weight = math.sqrt(cell.hx * cell.hs / xi.numel())
        data.append(CellData(xi, eta, x, s, weight, mats, base, initial[k] if initial is not None else None))
    return Patch(problem, geometry, data, used, continuity_weight, boundary_weight, rcond)
