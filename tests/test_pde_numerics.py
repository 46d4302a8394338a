"""Building blocks of the least-squares solver: exact feature derivatives, trial matrices, block QR."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinn.pde.adapt import bisect_cell
from pinn.pde.assembly import trial_matrices
from pinn.pde.blocklsq import BlockLeastSquares
from pinn.pde.config import FeatureActivation, FeatureSpec
from pinn.pde.features import RandomFeatures


@pytest.mark.parametrize("activation", list(FeatureActivation))
def test_closed_form_feature_derivatives_match_autograd(activation: FeatureActivation) -> None:
    net = RandomFeatures(FeatureSpec(features=7, scale=2.0, activation=activation, seed=3))
    xi = torch.linspace(-1, 1, 9, dtype=torch.float64, requires_grad=True)
    eta = torch.linspace(-0.7, 0.9, 9, dtype=torch.float64, requires_grad=True)
    phi = net(xi, eta)
    for p, q in [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (2, 1), (3, 0), (4, 0)]:
        cols = []
        for j in range(phi.shape[1]):
            g = phi[:, j]
            for _ in range(p):
                g = torch.autograd.grad(g.sum(), xi, create_graph=True)[0]
            for _ in range(q):
                g = torch.autograd.grad(g.sum(), eta, create_graph=True)[0]
            cols.append(g)
        torch.testing.assert_close(net(xi, eta, p, q), torch.stack(cols, 1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_trial_matrices_are_the_derivatives_of_the_trial_basis(order: int) -> None:
    # B_pq = d^p/dx^p d^q/ds^q [ tau^order Phi ] with tau = (s - s0) / hs, x = x0 + (xi + 1) hx / 2
    net = RandomFeatures(FeatureSpec(features=5, seed=1))
    hx, hs = 0.3, 0.05
    xi = torch.linspace(-1, 1, 6, dtype=torch.float64)
    eta = torch.linspace(-1, 1, 6, dtype=torch.float64)
    orders = ((0, 0), (1, 0), (2, 0), (0, 1), (0, 2), (2, 1))
    mats = trial_matrices(net, xi, eta, hx, hs, order, orders)
    x = ((xi + 1) * hx / 2).requires_grad_(True)
    s = ((eta + 1) * hs / 2).requires_grad_(True)
    basis = (s / hs).reshape(-1, 1) ** order * net(2 * x / hx - 1, 2 * s / hs - 1)
    for p, q in orders:
        cols = []
        for j in range(basis.shape[1]):
            g = basis[:, j]
            for _ in range(p):
                g = torch.autograd.grad(g.sum(), x, create_graph=True)[0]
            for _ in range(q):
                g = torch.autograd.grad(g.sum(), s, create_graph=True)[0]
            cols.append(g)
        torch.testing.assert_close(mats[(p, q)], torch.stack(cols, 1), rtol=1e-10, atol=1e-9)


def _dense(lsq: BlockLeastSquares, groups: list) -> tuple[np.ndarray, np.ndarray]:
    M = lsq.block_size
    rows, rhs = [], []
    for blocks, mat, b in groups:
        full = np.zeros((mat.shape[0], lsq.n_blocks * M))
        for j, k in enumerate(blocks):
            full[:, k * M:(k + 1) * M] += mat[:, j * M:(j + 1) * M]
        rows.append(full)
        rhs.append(b)
    return np.vstack(rows), np.concatenate(rhs)


@pytest.mark.parametrize("layout", ["chain", "ring", "grid"])
def test_block_elimination_equals_dense_least_squares(layout: str) -> None:
    rng = np.random.default_rng(0)
    M, S = 6, 9
    lsq = BlockLeastSquares(S, M, rcond=1e-14)
    groups = [((k,), rng.standard_normal((15, M)), rng.standard_normal(15)) for k in range(S)]
    if layout == "grid":  # 3 x 3 cells, neighbours right and up
        pairs = [(k, k + 1) for k in range(S) if k % 3 < 2] + [(k, k + 3) for k in range(S - 3)]
    else:
        pairs = [(k, k + 1) for k in range(S - 1)] + ([(S - 1, 0)] if layout == "ring" else [])
    groups += [(p, rng.standard_normal((4, 2 * M)), rng.standard_normal(4)) for p in pairs]
    for g in groups:
        lsq.add(*g)
    a, b = _dense(lsq, groups)
    expected = np.linalg.lstsq(a, b, rcond=None)[0]
    np.testing.assert_allclose(lsq.solve().ravel(), expected, atol=1e-12)


def test_rank_deficient_blocks_get_a_small_solution() -> None:
    # duplicated columns in every block: the basic solution puts zero on the dropped copies and still
    # reaches the least-squares residual
    rng = np.random.default_rng(1)
    M, S = 6, 4
    lsq = BlockLeastSquares(S, M, rcond=1e-12)
    groups = []
    for k in range(S):
        half = rng.standard_normal((20, M // 2))
        groups.append(((k,), np.hstack([half, half]), rng.standard_normal(20)))
    groups += [((k, k + 1), np.tile(rng.standard_normal((3, M // 2)), (1, 4)), rng.standard_normal(3))
               for k in range(S - 1)]
    for g in groups:
        lsq.add(*g)
    a, b = _dense(lsq, groups)
    c = lsq.solve().ravel()
    best = np.linalg.lstsq(a, b, rcond=None)[0]
    assert np.linalg.norm(a @ c - b) <= np.linalg.norm(a @ best - b) * (1 + 1e-10)
    assert np.abs(c).max() < 100 * np.abs(best).max()


def test_splitting_a_cell_never_cuts_a_periodic_seam() -> None:
    two_pi = 2 * np.pi
    cut = bisect_cell(1.5 * np.pi, 2.5 * np.pi, (0.0, two_pi))  # the midpoint would be the seam 2 pi = 0
    assert 1.5 * np.pi < cut < 2.5 * np.pi and abs(cut - two_pi) >= 0.25 * np.pi - 1e-12
    assert bisect_cell(0.5, 1.5, (0.0, two_pi)) == 1.0  # away from the seam: the midpoint
    assert bisect_cell(1.5 * np.pi, 2.5 * np.pi, None) == 2 * np.pi  # not periodic: the midpoint
