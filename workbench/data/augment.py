"""Batched image augmentation in plain torch ops: one call transforms a whole batch.

Per-sample PIL or ``transforms.v2`` pipelines run in Python once per image and cost more than the
training step on a laptop CPU; a batch of random affine grids, max-pool stroke changes and a blur
runs at thousands of images per second on one thread. ``Augment`` is the value recipes carry.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@dataclass(frozen=True)
class Augment:
    """Ranges of random changes. ``rotate`` in degrees, ``translate`` as a fraction of the side."""

    rotate: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    shear: float = 0.0
    translate: float = 0.0
    stroke: bool = False  # random erode / keep / dilate by one pixel
    blur: float = 0.0  # probability of a 3x3 blur

    @property
    def is_identity(self) -> bool:
        return self == Augment()


AUGMENTS = {
    "none": Augment(),
    "light": Augment(rotate=10, scale=(0.9, 1.1), shear=0.15, translate=0.10),
    "pretrain": Augment(rotate=15, scale=(0.8, 1.1), shear=0.3, translate=0.06, stroke=True, blur=0.5),
}


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def random_affine(x: torch.Tensor, aug: Augment, gen: torch.Generator | None = None) -> torch.Tensor:
    """Rotate, scale, shear and shift every image of ``x`` (B x C x H x W) by its own random amount."""
    n = x.shape[0]
    angle = _uniform(n, -aug.rotate, aug.rotate, gen) * math.pi / 180
    scale = _uniform(n, *aug.scale, gen)
    shear = _uniform(n, -aug.shear, aug.shear, gen)
    shift = _uniform(2 * n, -aug.translate, aug.translate, gen).view(n, 2) * 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    # inverse map (output -> input coordinates) of rotation * shear * scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos / scale
    theta[:, 0, 1] = (cos * shear - sin) / scale
    theta[:, 1, 0] = sin / scale
    theta[:, 1, 1] = (sin * shear + cos) / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_stroke(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Thin a third of the images (erode), thicken a third (dilate), keep the rest."""
    choice = torch.randint(0, 3, (x.shape[0],), generator=gen).to(x.device).view(-1, 1, 1, 1)
    dilated = F.max_pool2d(x, 3, 1, 1)
    eroded = -F.max_pool2d(-x, 3, 1, 1)
    return torch.where(choice == 0, eroded, torch.where(choice == 2, dilated, x))


def random_blur(x: torch.Tensor, p: float, gen: torch.Generator | None = None) -> torch.Tensor:
    kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], device=x.device, dtype=x.dtype) / 16
    blurred = F.conv2d(x, kernel.view(1, 1, 3, 3).expand(x.shape[1], 1, 3, 3), padding=1, groups=x.shape[1])
    pick = (torch.rand(x.shape[0], generator=gen) < p).to(x.device).view(-1, 1, 1, 1)
    return torch.where(pick, blurred, x)


def augment_batch(x: torch.Tensor, aug: Augment, gen: torch.Generator | None = None) -> torch.Tensor:
    """Apply ``aug`` to a float batch in [0, 1]; the brightest pixel of each image is rescaled to 1."""
    if aug.is_identity:
        return x
    if aug.stroke:
        x = random_stroke(x, gen)
    x = random_affine(x, aug, gen)
    if aug.blur > 0:
        x = random_blur(x, aug.blur, gen)
    peak = x.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
    return x / peak


def normalize(x: torch.Tensor) -> torch.Tensor:
    """MNIST's mean/std normalisation, used for every image the CNN sees."""
    return (x - MNIST_MEAN) / MNIST_STD
