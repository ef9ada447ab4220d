"""Endless batch iterators over data that stays resident as tensors.

No DataLoader and no per-sample Python: each batch is one indexing operation plus one batched
augmentation call, which keeps the data pipeline several times faster than the CNN consumes it.
Every iterator takes its own ``torch.Generator``, so the batch order is fixed by the seed.

Both iterators are *resumable*: ``state_dict()`` returns tensors (the generator's state at the current
batch boundary and, for epochs, the current permutation and position) and ``load_state_dict()`` puts
a freshly built iterator back at that boundary, so a resumed run draws exactly the batches the
interrupted run would have drawn next (see :mod:`workbench.train.resume`).
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


class glyph_batches:
    """Augmented glyphs: a random stroke variant, a random affine at 56x56, average-pooled to 28x28 like
    MNIST, then an optional blur (at 28x28, four times cheaper), rescaled and normalised."""

    def __init__(self, bank: GlyphBank, batch_size: int, gen: torch.Generator, augment: Augment = AUGMENTS["pretrain"]):
        images = bank.images.unsqueeze(1)
        self.variants = stroke_variants(images) if augment.stroke else images.unsqueeze(0)
        self.labels, self.batch_size, self.gen, self.augment = bank.labels, batch_size, gen, augment
        self.geometric = dataclasses.replace(augment, stroke=False, blur=0.0)

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        idx = torch.randint(0, len(self.labels), (self.batch_size,), generator=self.gen)
        which = torch.randint(0, len(self.variants), (self.batch_size,), generator=self.gen)
        x = self.variants[which, idx].float().div_(255.0)
        x = F.avg_pool2d(augment_batch(x, self.geometric, self.gen), 2)
        if self.augment.blur > 0:
            x = random_blur(x, self.augment.blur, self.gen)
        x = x / x.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        return normalize(x), self.labels[idx]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"gen": self.gen.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.gen.set_state(state["gen"])


def clean_glyphs(bank: GlyphBank) -> torch.Tensor:
    """The bank at 28x28, unaugmented and normalised (for validation)."""
    x = F.avg_pool2d(bank.images.unsqueeze(1).float().div(255.0), 2)
    return normalize(x / x.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6))


class image_batches:
    """Epochs of shuffled batches of at most ``batch_size`` (the whole set when it is smaller)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, gen: torch.Generator, augment: Augment = AUGMENTS["none"]):
        self.images, self.labels, self.gen, self.augment = images, labels, gen, augment
        self.batch_size = min(batch_size, len(labels))
        self.order: torch.Tensor | None = None  # this epoch's permutation; drawn lazily like the generator was
        self.pos = 0

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        if self.order is None or self.pos + self.batch_size > len(self.labels):
            self.order, self.pos = torch.randperm(len(self.labels), generator=self.gen), 0
        idx = self.order[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        return normalize(augment_batch(self.images[idx], self.augment, self.gen)), self.labels[idx]

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {"gen": self.gen.get_state(), "pos": torch.tensor(self.pos)}
        if self.order is not None:
            state["order"] = self.order
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.gen.set_state(state["gen"])
        self.order, self.pos = state.get("order"), int(state["pos"])
