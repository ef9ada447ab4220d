"""The vision task: fine-tune the small CNN on a labeled budget of real images, score accuracy on its test set."""
from __future__ import annotations

import copy
import time

import torch
from torch import nn

from ..data.augment import AUGMENTS
from ..data.batches import image_batches
from ..data.digits import load_target
from ..data.images import TargetTask
from ..data.subsets import balanced_subset
from ..device import pick_device, seed_everything
from ..errors import check_choice
from ..models.cnn import CNNConfig, SmallCNN
from ..train.loop import fit
from ..train.recipe import Recipe
from .base import RunResult, data_seed
from ..train.metrics import accuracy


class VisionTask:
    """Fine-tune the small CNN on a labeled budget of a vision target; score accuracy on its test set."""

    metric = "accuracy"

    def __init__(self, target: str | TargetTask = "mnist5k", pretrained: nn.Module | None = None, device=None):
        self.data = load_target(target) if isinstance(target, str) else target
        self.name = self.data.pool.name
        self.pretrained = pretrained
        self.device = pick_device(device)

    @property
    def pool_labels(self) -> torch.Tensor:
        return self.data.pool.labels

    def build_model(self, recipe: Recipe, seed: int) -> SmallCNN:
        """Same architecture for every recipe; only the starting weights differ (fair comparison)."""
        k = self.data.num_classes
        gen = torch.Generator().manual_seed(data_seed(seed) + 1)
        if recipe.init == "pretrained":
            if self.pretrained is None:
                from ..pretrain.vision import resolve_pretrained

                self.pretrained = resolve_pretrained(device=self.device)
            model = copy.deepcopy(self.pretrained)
            model.replace_head(k, generator=gen)
            return model
        widths = self.pretrained.config.widths if self.pretrained is not None else CNNConfig().widths
        seed_everything(data_seed(seed) + 2)
        return SmallCNN(CNNConfig(widths=tuple(widths), num_classes=k))

    def run(self, recipe: Recipe, budget: int, seed: int, *, progress: bool = False, callbacks=(), stop_event=None,
            log_every: int = 10, eval_every: int | None = None, eval_images: int = 250) -> RunResult:
        """Fine-tune on ``budget`` labeled images drawn with ``seed``; the score is accuracy on the whole test set.

        ``log_every`` and ``eval_every`` only change how often callbacks hear about the run (a live plot
        wants frequent points): ``eval_every`` adds ``accuracy`` records measured on a fixed, class-balanced
        ``eval_images`` of the test images (cheap enough to run often; the score still uses all of them).
        """
        check_choice("augment", recipe.augment, AUGMENTS)
        start = time.perf_counter()
        idx = balanced_subset(self.pool_labels, budget, seed)
        train = self.data.pool.subset(idx)
        model = self.build_model(recipe, seed)
        gen = torch.Generator().manual_seed(data_seed(seed))
        batches = image_batches(train.images, train.labels, recipe.batch_size, gen, AUGMENTS[recipe.augment])
        test = self.data.test
        live = test.subset(balanced_subset(test.labels, min(eval_images, len(test)), 0)) if eval_every else None

        def evaluate(m):
            return {"accuracy": accuracy(m, live.images, live.labels)}

        result = fit(model, recipe, batches, seed=seed, device=self.device, progress=progress,
                     callbacks=callbacks, stop_event=stop_event, log_every=log_every,
                     evaluate=evaluate if eval_every else None, eval_every=eval_every)
        score = accuracy(result.model, test.images, test.labels)
        return RunResult(score, result.model, result.history, time.perf_counter() - start, result.steps_done,
                         recipe=result.recipe, seed=seed)
