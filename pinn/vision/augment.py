"""Data augmentation on whole batches in torch: random translation, horizontal flip and cutout.

All draws come from an explicit ``torch.Generator`` so an epoch's augmentations are reproducible (and
identical after ``--resume``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pinn.vision.names import Augmentation


def translate(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by integers (dy, dx) uniform in [-shift, shift], filling with zeros.

    x: (B, C, H, W); returns the same shape. Done as a zero pad followed by a per-image crop.
    """
    b, c, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift))
    dev = x.device
    oy = torch.randint(0, 2 * shift + 1, (b,), generator=generator, device=dev)
    ox = torch.randint(0, 2 * shift + 1, (b,), generator=generator, device=dev)
    rows = (oy[:, None] + torch.arange(h, device=dev))[:, None, :, None]  # (B, 1, H, 1)
    cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, None, :]  # (B, 1, 1, W)
    batch = torch.arange(b, device=dev)[:, None, None, None]
    chans = torch.arange(c, device=dev)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def flip_half(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the images left-right. x: (B, C, H, W)."""
    mirror = torch.rand(x.shape[0], generator=generator, device=x.device) < 0.5
    return torch.where(mirror[:, None, None, None], x.flip(-1), x)


def cutout(x: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Zero a size x size square (clipped at the border) centred at a uniform random pixel of each image."""
    b, _, h, w = x.shape
    dev = x.device
    top = torch.randint(0, h, (b,), generator=generator, device=dev)[:, None, None] - size // 2
    left = torch.randint(0, w, (b,), generator=generator, device=dev)[:, None, None] - size // 2
    ys = torch.arange(h, device=dev)[None, :, None]
    xs = torch.arange(w, device=dev)[None, None, :]
    hole = (ys >= top) & (ys < top + size) & (xs >= left) & (xs < left + size)  # (B, H, W)
    return x * (~hole)[:, None].to(x.dtype)


def augment(x: torch.Tensor, aug: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """Apply the augmentations of ``aug`` to a batch x: (B, C, H, W) float, on the device of ``generator``."""
    if aug.shift > 0:
        x = translate(x, aug.shift, generator)
    if aug.flip:
        x = flip_half(x, generator)
    if aug.cutout > 0:
        x = cutout(x, aug.cutout, generator)
    return x
