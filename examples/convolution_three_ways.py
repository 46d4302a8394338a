"""Convolution three ways (the lecture notes' CNN chapter), each checked against scipy.signal on random input.

    .venv/bin/python examples/convolution_three_ways.py

prints the largest relative difference of each construction from scipy's convolve / correlate.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from pinn.scratch.convolution import convolution_matrix_2d, im2col_correlate, polynomial_product, toeplitz_convolve


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main() -> None:
    rng = np.random.default_rng(0)
    alpha, beta = rng.standard_normal(3), rng.standard_normal(4)  # the notes' p(t) of degree 2, s(t) of degree 3
    image, kernel = rng.standard_normal((3, 12, 10)), rng.standard_normal((3, 3, 3))  # 3 channels, 3x3 kernel
    plane, kernel2 = image[0], kernel[0]
    full = signal.convolve(plane, kernel2, mode="full")
    rows = [
        ("polynomial product (numpy.polymul)", "signal.convolve, 1-D full",
         relative(polynomial_product(alpha, beta), signal.convolve(alpha, beta))),
        ("Toeplitz matrix T(alpha) @ beta", "signal.convolve, 1-D full",
         relative(toeplitz_convolve(alpha, beta), signal.convolve(alpha, beta))),
        ("doubly block Toeplitz M @ x.ravel()", "signal.convolve, 2-D full",
         relative((convolution_matrix_2d(kernel2, plane.shape) @ plane.ravel()).reshape(full.shape), full)),
        ("Conv2D im2col, 3 channels", "signal.correlate, valid",
         relative(im2col_correlate(image, kernel), signal.correlate(image, kernel, mode="valid")[0])),
        ("Conv2D im2col, kernel flipped", "signal.convolve, valid",
         relative(im2col_correlate(image, kernel[::-1, ::-1, ::-1].copy()),
                  signal.convolve(image, kernel, mode="valid")[0])),
    ]
    width = max(len(r[0]) for r in rows)
    for name, reference, error in rows:
        print(f"{name:<{width}}  vs {reference:<26} max relative difference {error:.1e}")


if __name__ == "__main__":
    main()
