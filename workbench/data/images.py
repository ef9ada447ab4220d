"""Labeled image sets and fine-tuning targets (a pool to draw budgets from, a fixed test set).

Shared by the offline digits (:mod:`.digits`) and the optional online sources (:mod:`.online`), so
neither imports the other's internals.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .subsets import balanced_subset

TEST_SPLIT_SEED = 20_240_601


@dataclass
class ImageData:
    """A labeled image set: float images in [0, 1] (N x C x H x W) and integer labels."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor) -> ImageData:
        return ImageData(self.name, self.images[index], self.labels[index], self.classes)


@dataclass
class TargetTask:
    """A fine-tuning target: the pool labeled budgets come from and a fixed test set."""

    pool: ImageData
    test: ImageData

    @property
    def num_classes(self) -> int:
        return len(self.pool.classes)


def _split(data: ImageData, test_size: int) -> TargetTask:
    test_idx = balanced_subset(data.labels, test_size, TEST_SPLIT_SEED)
    mask = torch.ones(len(data), dtype=torch.bool)
    mask[test_idx] = False
    return TargetTask(pool=data.subset(torch.nonzero(mask).flatten()), test=data.subset(test_idx.sort().values))
