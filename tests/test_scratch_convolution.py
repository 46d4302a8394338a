"""Convolution three ways (polynomial product, Toeplitz product, the Conv2D layer's im2col) against
scipy.signal, and im2col/col2im as adjoint linear maps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg, signal

from pinn.scratch.conv import col2im, im2col
from pinn.scratch.convolution import (
    convolution_matrix_2d,
    im2col_correlate,
    polynomial_product,
    toeplitz_convolve,
    toeplitz_matrix,
)

ROUND_OFF = 1e-13  # float64 sums of a few dozen products; measured at most 3e-16


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("k,n", [(3, 4), (1, 5), (5, 2), (7, 30)])
def test_polynomial_product_and_toeplitz_product_are_scipy_convolve(k, n):
    rng = np.random.default_rng(k * 100 + n)
    alpha, beta = rng.standard_normal(k), rng.standard_normal(n)
    reference = signal.convolve(alpha, beta, mode="full")
    assert rel(polynomial_product(alpha, beta), reference) < ROUND_OFF
    assert rel(toeplitz_convolve(alpha, beta), reference) < ROUND_OFF
    assert np.array_equal(toeplitz_matrix(alpha, n), linalg.convolution_matrix(alpha, n, mode="full"))


def test_the_notes_example_multiplies_a_quadratic_by_a_cubic():
    # (1 + 2t + 3t^2)(4 + 5t + 6t^2 + 7t^3) expanded by hand
    assert np.allclose(polynomial_product([1, 2, 3], [4, 5, 6, 7]), [4, 13, 28, 34, 32, 21], rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape,k", [((6, 5), (3, 3)), ((4, 7), (2, 3)), ((9, 9), (5, 5))])
def test_doubly_block_toeplitz_matrix_is_scipy_convolve_2d(shape, k):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(shape), rng.standard_normal(k)
    full = signal.convolve(x, w, mode="full")
    assert rel((convolution_matrix_2d(w, shape) @ x.ravel()).reshape(full.shape), full) < ROUND_OFF


@pytest.mark.parametrize("c,h,w,k", [(1, 8, 8, 3), (3, 12, 10, 3), (2, 7, 9, 5), (4, 5, 5, 1)])
def test_conv2d_im2col_is_scipy_correlate_and_with_a_flipped_kernel_convolve(c, h, w, k):
    rng = np.random.default_rng(c + h + w + k)
    x, kernel = rng.standard_normal((c, h, w)), rng.standard_normal((c, k, k))
    assert rel(im2col_correlate(x, kernel), signal.correlate(x, kernel, mode="valid")[0]) < ROUND_OFF
    flipped = np.ascontiguousarray(kernel[::-1, ::-1, ::-1])
    assert rel(im2col_correlate(x, flipped), signal.convolve(x, kernel, mode="valid")[0]) < ROUND_OFF


def test_all_three_agree_on_the_valid_part_of_a_2d_convolution():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((7, 6)), rng.standard_normal((3, 3))
    full = (convolution_matrix_2d(w, x.shape) @ x.ravel()).reshape(9, 8)
    valid = full[2:7, 2:6]  # the central crop
    assert rel(im2col_correlate(x[None], w[::-1, ::-1].copy()[None]), valid) < ROUND_OFF


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_col2im_is_the_adjoint_of_im2col(stride):
    """<im2col(x), c> = <x, col2im(c)> for all x, c: the backward pass of a patch copy adds patches back."""
    rng = np.random.default_rng(stride)
    x = rng.standard_normal((2, 9, 8, 3))  # (b, H, W, C), channels last
    cols = im2col(x, 3, stride)
    c = rng.standard_normal(cols.shape)
    assert np.sum(cols * c) == pytest.approx(np.sum(x * col2im(c, x.shape, stride)), rel=1e-12)
