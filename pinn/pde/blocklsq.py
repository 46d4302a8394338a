"""Block-sparse linear least squares by rank-revealing block QR elimination.

The unknowns are split into blocks c_0, ..., c_{S-1} (one output layer per cell). Rows come in groups,
each touching one block (a cell's own PDE and boundary rows) or two (continuity across an interface):

    minimise  sum_k ||A_k c_k - b_k||^2 + sum_(i,j) ||E_ij c_i + F_ij c_j - g_ij||^2.

Each cell's own rows are first reduced by a Householder QR to at most M rows (M = block size). The blocks
are then eliminated in order: at step k every row group that still touches block k is stacked, a column-
pivoted QR (LAPACK geqp3) of its block-k part gives R_kk P^T, the same orthogonal transform is applied to the
group's other columns, the leading r rows are kept for back substitution and the remaining rows, now free
of block k, are passed on to the blocks they still touch. Columns of block k whose pivots fall below
``rcond * |R_11|`` are dropped (their coefficients are zero), the basic solution of a rank-deficient least-
squares problem as in LAPACK's gelsy. A chain of cells (one time block in 1-D) costs O(S M^3), a ring
(periodic) the same with one extra block of fill, a 2-D grid of Sx x Sy cells eliminated row by row
O(S (Sx M)^2 M); a dense solve would cost O((S M)^3). Columns are first scaled to unit norm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla


@dataclass
class RowGroup:
    """Rows touching the blocks ``blocks`` (sorted): matrix (m, len(blocks) * M) and right-hand side (m,)."""

    blocks: tuple[int, ...]
    matrix: np.ndarray
    rhs: np.ndarray


@dataclass
class _Eliminated:
    block: int
    kept: np.ndarray  # indices of block-k columns kept (pivot order)
    r: np.ndarray  # (r, r) upper triangular
    others: tuple[int, ...]
    fill: np.ndarray  # (r, len(others) * M)
    d: np.ndarray  # (r,)


@dataclass
class BlockLeastSquares:
    """Accumulate row groups for ``n_blocks`` blocks of ``block_size`` unknowns, then :meth:`solve`."""

    n_blocks: int
    block_size: int
    rcond: float = 1e-13
    groups: list[RowGroup] = field(default_factory=list)

    def add(self, blocks: tuple[int, ...], matrix: np.ndarray, rhs: np.ndarray) -> None:
        """Add rows: ``matrix`` (m, len(blocks) * M) with its column blocks in the order of ``blocks``."""
        blocks = tuple(int(b) for b in blocks)
        M = self.block_size
        if matrix.shape != (rhs.shape[0], len(blocks) * M):
            raise ValueError(f"row group shape {matrix.shape} does not match {len(blocks)} blocks of {M} "
                             f"and {rhs.shape[0]} right-hand sides")
        order = np.argsort(blocks)
        if list(order) != list(range(len(blocks))):
            matrix = np.concatenate([matrix[:, b * M:(b + 1) * M] for b in order], axis=1)
            blocks = tuple(blocks[b] for b in order)
        if len(blocks) == 1 and matrix.shape[0] > M:
            q, r = np.linalg.qr(matrix, mode="reduced")  # reduce a cell's own rows to M rows
            matrix, rhs = r, q.T @ rhs
        self.groups.append(RowGroup(blocks, matrix, rhs))

    def solve(self) -> np.ndarray:
        """The least-squares solution as (n_blocks, block_size)."""
        M = self.block_size
        # equilibrate: every column scaled to unit norm over all its rows, so the pivot threshold compares
        # directions, not units (u_t columns of a short block are 1 / h_t larger than u columns)
        norms = np.zeros((self.n_blocks, M))
        for g in self.groups:
            for j, b in enumerate(g.blocks):
                norms[b] += np.sum(g.matrix[:, j * M:(j + 1) * M] ** 2, axis=0)
        scale = np.where(norms > 0, 1.0 / np.sqrt(np.where(norms > 0, norms, 1.0)), 1.0)
        pending: dict[int, list[RowGroup]] = {}
        for g in self.groups:
            scaled = g.matrix * np.concatenate([scale[b] for b in g.blocks])
            pending.setdefault(g.blocks[0], []).append(RowGroup(g.blocks, scaled, g.rhs))
        done: list[_Eliminated] = []
        for k in range(self.n_blocks):
            groups = pending.pop(k, [])
            if not groups:
                done.append(_Eliminated(k, np.zeros(0, int), np.zeros((0, 0)), (), np.zeros((0, 0)),
                                        np.zeros(0)))
                continue
            others = tuple(sorted({b for g in groups for b in g.blocks if b != k}))
            col = {b: i for i, b in enumerate(others)}
            rows = sum(g.matrix.shape[0] for g in groups)
            a_k = np.zeros((rows, M))
            a_o = np.zeros((rows, len(others) * M))
            rhs = np.zeros(rows)
            i = 0
            for g in groups:
                m = g.matrix.shape[0]
                for j, b in enumerate(g.blocks):
                    block = g.matrix[:, j * M:(j + 1) * M]
                    if b == k:
                        a_k[i:i + m] = block
                    else:
                        a_o[i:i + m, col[b] * M:(col[b] + 1) * M] = block
                rhs[i:i + m] = g.rhs
                i += m
            q, r, perm = sla.qr(a_k, mode="full", pivoting=True)
            diag = np.abs(np.diag(r))
            rank = int(np.sum(diag > self.rcond * diag[0])) if diag.size and diag[0] > 0 else 0
            qt_o = q.T @ a_o
            qt_b = q.T @ rhs
            done.append(_Eliminated(k, perm[:rank], r[:rank, :rank], others, qt_o[:rank], qt_b[:rank]))
            if others and rows > rank:
                rest_a, rest_b = qt_o[rank:], qt_b[rank:]
                if rest_a.shape[0] > rest_a.shape[1]:  # keep the rows passed on no more than their columns
                    qr_q, rest_a = np.linalg.qr(rest_a, mode="reduced")
                    rest_b = qr_q.T @ rest_b
                rest = RowGroup(others, rest_a, rest_b)
                pending.setdefault(others[0], []).append(rest)
        coef = np.zeros((self.n_blocks, M))
        for e in reversed(done):
            if e.kept.size == 0:
                continue
            rhs = e.d.copy()
            if e.others:
                rhs -= e.fill @ np.concatenate([coef[b] for b in e.others])
            coef[e.block, e.kept] = sla.solve_triangular(e.r, rhs, lower=False)
        return coef * scale
