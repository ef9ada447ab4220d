"""The vision task: fine-tune the small CNN on a labeled budget of real images, score accuracy on its test set."""
from __future__ import annotations

import copy

import torch
from torch import nn

from ..data.augment import AUGMENTS
from ..data.batches import image_batches
from ..data.digits import load_target
from ..data.images import TargetTask
from ..data.subsets import balanced_subset
from ..device import pick_device, seed_everything
from ..errors import WorkbenchError, check_choice
from ..models.cnn import CNNConfig, SmallCNN
from ..train.metrics import accuracy
from ..train.recipe import VISION_RECIPES, Recipe
from .base import Task, data_seed


class VisionTask(Task):
    """Fine-tune the small CNN on a labeled budget of a vision target; score accuracy on its test set."""

    metrics = {"accuracy": True}
    budget_unit = "images"
    recipes = VISION_RECIPES

    def __init__(self, target: str | TargetTask = "mnist5k", pretrained: nn.Module | None = None, device=None):
        self.data = load_target(target) if isinstance(target, str) else target
        self.name = self.data.pool.name
        self.pretrained = pretrained
        self.device = pick_device(device)

    @property
    def pool_labels(self) -> torch.Tensor:
        return self.data.pool.labels

    def load_pretrained(self, source=None, *, progress: bool = True) -> SmallCNN:
        """Resolve the CNN this task fine-tunes (the one place the vision side does it): ``source`` (or the one given
        at construction) is a model or a checkpoint folder; none means the cached CNN, pretrained first if missing."""
        from ..pretrain.vision import resolve_pretrained

        source = self.pretrained if source is None else source
        model = resolve_pretrained(source, device=self.device, progress=progress)
        if model.config.in_channels != self.data.pool.images.shape[1]:
            raise WorkbenchError("the pretrained model and the target have different channel counts; use a grey-scale target")
        self.pretrained = model
        return model

    def subset(self, budget: int, seed: int) -> torch.Tensor:
        """A class-balanced draw of ``budget`` pool images (the same for every recipe at one seed)."""
        return balanced_subset(self.pool_labels, budget, seed)

    def check_plan(self, plan) -> None:
        for recipe in plan:
            if isinstance(recipe, Recipe):
                check_choice("augment", recipe.augment, AUGMENTS)

    def build_model(self, recipe: Recipe, seed: int, train_idx: torch.Tensor | None = None) -> SmallCNN:
        """Same architecture for every recipe; only the starting weights differ (fair comparison)."""
        k = self.data.num_classes
        gen = torch.Generator().manual_seed(data_seed(seed) + 1)
        if recipe.init == "pretrained":
            if self.pretrained is None:  # on first use: a comparison of scratch never pretrains
                self.load_pretrained()
            model = copy.deepcopy(self.pretrained)
            model.replace_head(k, generator=gen)
            return model
        widths = self.pretrained.config.widths if self.pretrained is not None else CNNConfig().widths
        seed_everything(data_seed(seed) + 2)
        return SmallCNN(CNNConfig(widths=tuple(widths), num_classes=k))

    def batches(self, recipe: Recipe, idx: torch.Tensor, seed: int):
        check_choice("augment", recipe.augment, AUGMENTS)
        train = self.data.pool.subset(idx)
        gen = torch.Generator().manual_seed(data_seed(seed))
        return image_batches(train.images, train.labels, recipe.batch_size, gen, AUGMENTS[recipe.augment])

    def fit_options(self, recipe: Recipe, idx: torch.Tensor, *, eval_every: int | None = None, eval_images: int = 250) -> dict:
        """``eval_every`` adds ``accuracy`` records on a fixed, class-balanced ``eval_images`` of the test images
        (cheap enough for a live plot; the score still uses all of them)."""
        if not eval_every:
            return {}
        test = self.data.test
        live = test.subset(balanced_subset(test.labels, min(eval_images, len(test)), 0))
        return {"evaluate": lambda m: {"accuracy": accuracy(m, live.images, live.labels)}, "eval_every": eval_every}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Accuracy on the whole test set."""
        return {"accuracy": accuracy(model, self.data.test.images, self.data.test.labels)}
