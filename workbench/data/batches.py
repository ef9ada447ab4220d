"""Endless batch iterators over data that stays resident as tensors.

No DataLoader and no per-sample Python: each batch is one indexing operation plus one batched
augmentation call, which keeps the data pipeline several times faster than the CNN consumes it.
Every iterator takes its own ``torch.Generator``, so the batch order is fixed by the seed.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from .augment import AUGMENTS, Augment, augment_batch, normalize, random_blur
from .glyphs import GlyphBank


def stroke_variants(images: torch.Tensor) -> torch.Tensor:
    """Eroded, original and dilated copies of a uint8 bank (3 x N x 1 x H x W), computed once.

    Max-pooling every batch twice cost more than the rest of the pipeline together; a glyph has only
    three stroke variants, so they are made once and a batch just picks one per image.
    """
    x = images.float()
    dilated = F.max_pool2d(x, 3, 1, 1)
    eroded = -F.max_pool2d(-x, 3, 1, 1)
    return torch.stack([eroded, x, dilated]).to(torch.uint8)


def glyph_batches(bank: GlyphBank, batch_size: int, gen: torch.Generator, augment: Augment = AUGMENTS["pretrain"]) -> Iterator:
    """Augmented glyphs: a random stroke variant, a random affine at 56x56, average-pooled to 28x28 like
    MNIST, then an optional blur (at 28x28, four times cheaper), rescaled and normalised."""
    images = bank.images.unsqueeze(1)
    variants = stroke_variants(images) if augment.stroke else images.unsqueeze(0)
    geometric = dataclasses.replace(augment, stroke=False, blur=0.0)
    while True:
        idx = torch.randint(0, len(bank), (batch_size,), generator=gen)
        which = torch.randint(0, len(variants), (batch_size,), generator=gen)
        x = variants[which, idx].float().div_(255.0)
        x = F.avg_pool2d(augment_batch(x, geometric, gen), 2)
        if augment.blur > 0:
            x = random_blur(x, augment.blur, gen)
        x = x / x.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        yield normalize(x), bank.labels[idx]


def clean_glyphs(bank: GlyphBank) -> torch.Tensor:
    """The bank at 28x28, unaugmented and normalised (for validation)."""
    x = F.avg_pool2d(bank.images.unsqueeze(1).float().div(255.0), 2)
    return normalize(x / x.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6))


def image_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, gen: torch.Generator, augment: Augment = AUGMENTS["none"]) -> Iterator:
    """Epochs of shuffled batches of at most ``batch_size`` (the whole set when it is smaller)."""
    n = len(labels)
    batch_size = min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=gen)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start : start + batch_size]
            yield normalize(augment_batch(images[idx], augment, gen)), labels[idx]
