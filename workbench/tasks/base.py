"""What every task shares: the result of one run and the seed that pairs runs across recipes."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ..train.recipe import Recipe


@dataclass
class RunResult:
    score: float
    model: nn.Module
    history: list[dict]
    seconds: float
    steps: int
    extra: dict = field(default_factory=dict)
    recipe: Recipe | None = None  # the recipe that ran
    seed: int | None = None


def data_seed(seed: int) -> int:
    """The seed of a run's batch order and augmentation: shared by all recipes, so runs are paired."""
    return 1_000_003 * seed + 17
