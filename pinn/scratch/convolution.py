"""Convolution three ways, as in the lecture notes' CNN chapter: polynomial multiplication, a Toeplitz
matrix product, and the Conv2D layer's im2col. All are checked against scipy.signal in the tests and in
``examples/convolution_three_ways.py``; docs/convolution.md explains the algebra.

1. The coefficients of z(t) = p(t) s(t), p = sum_i alpha_i t^i and s = sum_j beta_j t^j, are the
   discrete convolution delta_l = sum_i alpha_i beta_{l-i} = (alpha * beta)_l.
2. For a fixed kernel that sum is linear in the signal: delta = T(alpha) beta with the (n + k - 1) x n
   Toeplitz matrix T[i, j] = alpha_{i-j} (zero outside 0 <= i - j < k). In two dimensions the matrix is
   doubly block Toeplitz: sum_p kron(T(e_p), T(w_p)), w_p the kernel's rows, e_p the p-th unit vector.
3. A CNN layer evaluates y[i, j] = sum_{c,p,q} w[c, p, q] x[c, i + p, j + q] (cross-correlation, the
   kernel not flipped) as one matrix product of image patches (im2col) with the kernel; flipping the
   kernel along every axis turns it into the convolution of (1) and (2).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import toeplitz


def polynomial_product(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Coefficients (lowest power first) of the product of two polynomials with coefficients alpha (k,)
    and beta (n,), lowest power first, by numpy.polymul: returns delta (k + n - 1,).

    numpy.polymul takes the highest power first, hence the reversals; it drops leading zero coefficients,
    so alpha and beta must end in a non-zero coefficient.
    """
    return np.polymul(np.asarray(alpha)[::-1], np.asarray(beta)[::-1])[::-1]


def toeplitz_matrix(kernel: np.ndarray, n: int) -> np.ndarray:
    """The (n + k - 1, n) matrix T with T[i, j] = kernel[i - j] (0 outside), so that T @ x is the full
    convolution of kernel (k,) with x (n,)."""
    kernel = np.asarray(kernel)
    first_column = np.concatenate((kernel, np.zeros(n - 1, dtype=kernel.dtype)))
    first_row = np.zeros(n, dtype=kernel.dtype)
    first_row[0] = kernel[0]
    return toeplitz(first_column, first_row)


def toeplitz_convolve(kernel: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Full 1-D convolution of kernel (k,) with x (n,) as the product T(kernel) x: (n + k - 1,)."""
    return toeplitz_matrix(kernel, len(x)) @ np.asarray(x)


def convolution_matrix_2d(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The doubly block Toeplitz matrix M of the full 2-D convolution with kernel (k1, k2) of images of
    ``shape`` (H, W): M @ x.ravel() = (full convolution).ravel(), M of shape ((H+k1-1)(W+k2-1), H W).

    M = sum_p kron(T_H(e_p), T_W(kernel[p])): block row i, block column a holds T_W(kernel[i - a]).
    """
    h, w = shape
    k1 = kernel.shape[0]
    eye = np.eye(k1, dtype=kernel.dtype)
    return sum(np.kron(toeplitz_matrix(eye[p], h), toeplitz_matrix(kernel[p], w)) for p in range(k1))


def im2col_correlate(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'Valid' cross-correlation of a C-channel image x (C, H, W) with kernel (C, k, k), summed over the
    channels, computed by the Conv2D layer (im2col and one matrix product): (H - k + 1, W - k + 1)."""
    from pinn.scratch.conv import Conv2D

    c, k = kernel.shape[0], kernel.shape[-1]
    layer = Conv2D(c, 1, k, bias=False, dtype=kernel.dtype)
    layer.params["weight"].value[...] = kernel[None]
    return layer.forward(np.asarray(x, dtype=kernel.dtype)[None])[0, 0]
