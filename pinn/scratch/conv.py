"""Image layers: Conv2D (by im2col and one matrix product), MaxPool2D and BatchNorm2D, on NCHW arrays.

The convolution of deep learning is a cross-correlation (the kernel is not flipped):

    y[b, o, i, j] = bias[o] + sum_{c, p, q} W[o, c, p, q] x_pad[b, c, s i + p, s j + q],

with x_pad the input zero-padded by ``padding`` on each side and s the stride. Collecting every k x k patch
of x_pad as one row of a matrix ("im2col", a strided view from numpy's ``sliding_window_view`` copied once)
turns it into a single matrix product, the (b Ho Wo, k k C) patches times the (k k C, O) kernels. The
backward pass is the same product transposed: dL/dW = dY^T patches, and dL/dpatches = dY W, whose entries
are added back onto the pixels they were read from ("col2im", one vectorised add per kernel offset).
See docs/convolution.md for the same operation as polynomial multiplication and as a Toeplitz product.

Arrays have PyTorch's NCHW shape, but the layers compute in channels-last memory (NHWC, as PyTorch's
``channels_last``): a patch row is then k k runs of C contiguous numbers, and each layer's output is an
NCHW-shaped view of NHWC memory that the next layer reads without copying.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import DTypeLike

from pinn.errors import PinnError
from pinn.scratch.layers import Layer, Parameter, check_gradient, shape_error, uniform


def output_size(n: int, k: int, stride: int, padding: int) -> int:
    """Pixels along one axis after a k-wide window slides with ``stride`` over n + 2 padding pixels."""
    return (n + 2 * padding - k) // stride + 1


def im2col(x: np.ndarray, k: int, stride: int = 1) -> np.ndarray:
    """All k x k patches of channels-last images x: (b, H, W, C), one per output pixel: returns
    (b, Ho, Wo, k, k, C), a C-ordered copy (so ``.reshape(b * Ho * Wo, k * k * C)`` is free), with
    Ho = (H - k) // stride + 1 and likewise Wo."""
    windows = sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]  # (b, Ho, Wo, C, k, k) view
    return np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3))


def col2im(cols: np.ndarray, x_shape: tuple[int, int, int, int], stride: int = 1) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every patch entry of cols (b, Ho, Wo, k, k, C) back onto the pixel
    of a channels-last array of ``x_shape`` (b, H, W, C) it was read from; one add per kernel offset."""
    b, ho, wo, k, _, c = cols.shape
    dx = np.zeros(x_shape, dtype=cols.dtype)
    for p in range(k):
        for q in range(k):
            dx[:, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += cols[:, :, :, p, q]
    return dx


class Conv2D(Layer):
    """2-D convolution (cross-correlation) of images x: (b, c_in, H, W) -> (b, c_out, Ho, Wo).

    W: (c_out, c_in, k, k), bias: (c_out,) (PyTorch's nn.Conv2d layout), both initialised from
    U(-1/sqrt(c_in k^2), 1/sqrt(c_in k^2)) as PyTorch does. ``padding`` zeros are added on every side
    ('same' size for stride 1 and padding = (k - 1) / 2).
    """

    def __init__(self, c_in: int, c_out: int, k: int, *, stride: int = 1, padding: int = 0, bias: bool = True,
                 rng: np.random.Generator | None = None, dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        if min(c_in, c_out, k, stride) < 1 or padding < 0:
            raise PinnError(f"Conv2D needs c_in, c_out, k, stride >= 1 and padding >= 0, got "
                            f"{c_in}, {c_out}, {k}, {stride}, {padding}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.c_in, self.c_out, self.k, self.stride, self.padding = c_in, c_out, k, stride, padding
        bound = 1.0 / np.sqrt(c_in * k * k)
        self.params = {"weight": Parameter(uniform(rng, bound, (c_out, c_in, k, k), dtype), decay=True)}
        if bias:
            self.params["bias"] = Parameter(uniform(rng, bound, (c_out,), dtype))
        self.cols: np.ndarray | None = None
        self.padded_shape: tuple[int, ...] = ()

    def __repr__(self) -> str:
        extra = (f", stride={self.stride}" if self.stride > 1 else "") + \
                (f", padding={self.padding}" if self.padding else "")
        return f"Conv2D({self.c_in}, {self.c_out}, {self.k}{extra})"

    def _check(self, x: np.ndarray) -> None:
        expected = f"images (batch, {self.c_in}, H, W)"
        if x.ndim != 4:
            raise shape_error(self, x, expected, "give a batch of images in NCHW order "
                              "(add a channel axis with x[:, None] for grey images)")
        if x.shape[1] != self.c_in:
            raise shape_error(self, x, expected, f"the input has {x.shape[1]} channels: use "
                              f"Conv2D({x.shape[1]}, {self.c_out}, {self.k}), or transpose NHWC images to NCHW")
        if min(x.shape[2:]) + 2 * self.padding < self.k:
            raise shape_error(self, x, expected, f"the {self.k}x{self.k} kernel is larger than the padded "
                              "image: use a smaller kernel, more padding, or less pooling before this layer")

    def _kernels(self) -> np.ndarray:
        """W as the (O, k k C) matrix that multiplies a patch row."""
        return self.params["weight"].value.transpose(0, 2, 3, 1).reshape(self.c_out, -1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        p = self.padding
        x = x.transpose(0, 2, 3, 1)  # (b, H, W, C): free when x is channels-last in memory
        if p:
            x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        self.padded_shape = x.shape
        self.cols = im2col(x, self.k, self.stride)  # (b, Ho, Wo, k, k, C)
        b, ho, wo = self.cols.shape[:3]
        y = self.cols.reshape(b * ho * wo, -1) @ self._kernels().T  # (b Ho Wo, O)
        if "bias" in self.params:
            y += self.params["bias"].value
        return y.reshape(b, ho, wo, self.c_out).transpose(0, 3, 1, 2)  # (b, O, Ho, Wo), NHWC in memory

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cols = self._cached("cols")
        b, ho, wo = cols.shape[:3]
        check_gradient(self, dy, (b, self.c_out, ho, wo))
        dy_rows = dy.transpose(0, 2, 3, 1).reshape(b * ho * wo, self.c_out)  # (b Ho Wo, O)
        w = self.params["weight"]
        dw = dy_rows.T @ cols.reshape(b * ho * wo, -1)  # (O, k k C)
        w.grad = dw.reshape(self.c_out, self.k, self.k, self.c_in).transpose(0, 3, 1, 2)
        if "bias" in self.params:
            self.params["bias"].grad = dy_rows.sum(axis=0)
        dcols = (dy_rows @ self._kernels()).reshape(cols.shape)
        dx = col2im(dcols, self.padded_shape, self.stride)  # (b, H + 2p, W + 2p, C)
        p = self.padding
        if p:
            dx = dx[:, p:dx.shape[1] - p, p:dx.shape[2] - p]
        return dx.transpose(0, 3, 1, 2)


class MaxPool2D(Layer):
    """Maximum over non-overlapping size x size blocks: (b, C, H, W) -> (b, C, H // size, W // size).

    Rows or columns left over at the bottom or right are dropped (PyTorch's floor mode). The gradient goes
    to the first maximal entry of each block in row-major order, as PyTorch's.
    """

    def __init__(self, size: int = 2) -> None:
        super().__init__()
        if size < 1:
            raise PinnError(f"MaxPool2D needs size >= 1, got {size}")
        self.size = size
        self.argmax: np.ndarray | None = None
        self.x_shape: tuple[int, ...] = ()

    def __repr__(self) -> str:
        return f"MaxPool2D({self.size})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        s = self.size
        if x.ndim != 4 or min(x.shape[2:]) < s:
            raise shape_error(self, x, f"images (batch, C, H, W) with H, W >= {s}",
                              "pool fewer times or use a smaller pool size")
        b, c, h, w = x.shape
        ho, wo = h // s, w // s
        x = x.transpose(0, 2, 3, 1)[:, :ho * s, :wo * s]  # (b, H', W', C), channels last
        blocks = x.reshape(b, ho, s, wo, s, c).transpose(0, 1, 3, 5, 2, 4).reshape(b, ho, wo, c, s * s)
        self.argmax = blocks.argmax(axis=-1)  # (b, Ho, Wo, C)
        self.x_shape = (b, h, w, c)
        return np.take_along_axis(blocks, self.argmax[..., None], axis=-1)[..., 0].transpose(0, 3, 1, 2)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        argmax = self._cached("argmax")
        b, ho, wo, c = argmax.shape
        check_gradient(self, dy, (b, c, ho, wo))
        s = self.size
        winner = argmax[..., None] == np.arange(s * s)  # (b, Ho, Wo, C, s^2), one-hot
        dblocks = winner * dy.transpose(0, 2, 3, 1)[..., None]
        dx = np.zeros(self.x_shape, dtype=dy.dtype)  # (b, H, W, C)
        dx[:, :ho * s, :wo * s] = dblocks.reshape(b, ho, wo, c, s, s).transpose(0, 1, 4, 2, 5, 3).reshape(
            b, ho * s, wo * s, c)
        return dx.transpose(0, 3, 1, 2)


class BatchNorm2D(Layer):
    """Batch normalisation per channel (Ioffe & Szegedy 2015) of x: (b, C, H, W):

        y = gamma * (x - mu) / sqrt(var + eps) + beta,

    with mu, var the mean and (biased) variance over the batch and pixels in training, and the running
    averages in evaluation. The running averages follow PyTorch: r <- (1 - momentum) r + momentum * stat,
    the running variance taking the unbiased batch variance. Parameters ``weight`` (gamma) and ``bias``
    (beta), buffers ``running_mean``, ``running_var``, ``num_batches_tracked``, as PyTorch's BatchNorm2d.
    """

    def __init__(self, channels: int, *, eps: float = 1e-5, momentum: float = 0.1,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        self.channels, self.eps, self.momentum = channels, eps, momentum
        self.params = {"weight": Parameter(np.ones(channels, dtype=dtype)),
                       "bias": Parameter(np.zeros(channels, dtype=dtype))}
        self.buffers = {"running_mean": np.zeros(channels, dtype=dtype),
                        "running_var": np.ones(channels, dtype=dtype),
                        "num_batches_tracked": np.zeros((), dtype=np.int64)}
        self.x_hat: np.ndarray | None = None
        self.inv_std: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"BatchNorm2D({self.channels})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise shape_error(self, x, f"images (batch, {self.channels}, H, W)",
                              f"use BatchNorm2D({x.shape[1] if x.ndim == 4 else '?'}) after a layer with that "
                              "many channels")
        if self.training:
            n = x.shape[0] * x.shape[2] * x.shape[3]
            if n < 2:
                raise shape_error(self, x, "more than one value per channel in training",
                                  "train with batches of at least 2 images")
            mean = x.mean(axis=(0, 2, 3))
            var = x.var(axis=(0, 2, 3))
            m = self.momentum
            self.buffers["running_mean"] = ((1 - m) * self.buffers["running_mean"] + m * mean).astype(x.dtype)
            self.buffers["running_var"] = ((1 - m) * self.buffers["running_var"] + m * var * n / (n - 1)
                                           ).astype(x.dtype)
            self.buffers["num_batches_tracked"] = self.buffers["num_batches_tracked"] + 1
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        shape = (1, -1, 1, 1)
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype).reshape(shape)
        self.x_hat = (x - mean.reshape(shape)) * self.inv_std
        return self.params["weight"].value.reshape(shape) * self.x_hat + self.params["bias"].value.reshape(shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x_hat = self._cached("x_hat")
        check_gradient(self, dy, x_hat.shape)
        shape = (1, -1, 1, 1)
        self.params["weight"].grad = np.sum(dy * x_hat, axis=(0, 2, 3))
        self.params["bias"].grad = dy.sum(axis=(0, 2, 3))
        dx_hat = dy * self.params["weight"].value.reshape(shape)
        if not self.training:  # fixed statistics: an affine map
            return dx_hat * self.inv_std
        # mu and var depend on x too: dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))
        mean_d = dx_hat.mean(axis=(0, 2, 3), keepdims=True)
        mean_dx = np.mean(dx_hat * x_hat, axis=(0, 2, 3), keepdims=True)
        return self.inv_std * (dx_hat - mean_d - x_hat * mean_dx)
