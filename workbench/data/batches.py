"""Endless batch iterators over data that stays resident as tensors.

No DataLoader and no per-sample Python: each batch is one indexing operation plus one batched
augmentation call, which keeps the data pipeline several times faster than the CNN consumes it.
Every iterator takes its own ``torch.Generator``, so the batch order is fixed by the seed.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from .augment import AUGMENTS, Augment, augment_batch, normalize
from .glyphs import GlyphBank


def glyph_batches(bank: GlyphBank, batch_size: int, gen: torch.Generator, augment: Augment = AUGMENTS["pretrain"]) -> Iterator:
    """Augmented glyphs: drawn at 56x56, augmented, average-pooled to 28x28 like MNIST, normalised."""
    images = bank.images.unsqueeze(1)
    while True:
        idx = torch.randint(0, len(bank), (batch_size,), generator=gen)
        x = images[idx].float().div_(255.0)
        x = F.avg_pool2d(augment_batch(x, augment, gen), 2)
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
