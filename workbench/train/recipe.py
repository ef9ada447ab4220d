"""The recipe: one small, plain value that describes a whole training run.

A widget edits it, a CLI flag builds it, an experiment sweeps it, a checkpoint stores it beside the
weights and a plot's legend names it. Training from scratch and a linear probe are recipes too.
Recipes are frozen dataclasses: change one with :func:`dataclasses.replace` or ``get_recipe(name, **changes)``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from ..choices import HEADS
from ..errors import WorkbenchError, check_choice, check_positive

SCHEDULES = ("constant", "step", "cosine", "warmup_cosine", "linear", "onecycle")
INITS = ("pretrained", "scratch", "random")  # random: a randomly initialised copy (the probe control)
BN_POLICIES = ("frozen", "train")
MAX_LR = 10.0
GRADUAL_OVER = 0.5  # the shipped gradual recipes release their frozen groups over the first half of the run


@dataclass(frozen=True)
class Recipe:
    """How to train: which groups learn, how fast, on what schedule, for how long.

    ``frozen`` is the number of leading layer groups frozen at the start, or ``"backbone"`` for all
    but the head. ``unfreeze_over`` (gradual unfreezing) then releases the frozen groups one at a time,
    from the top down, evenly over that fraction of the run: with ``k`` frozen groups, the ``i``-th
    starts training at step ``round(i * unfreeze_over * steps / k)`` (at least 1, at most ``steps - 1``),
    so every group trains before the run ends whatever the step count and the number of groups
    (:func:`~workbench.train.freezing.training_starts` is the one place this is computed). ``None``
    keeps frozen groups frozen for the whole run (a probe, a partial freeze). ``backbone_lr`` gives every
    non-head group its own LR (discriminative LRs); ``None`` means the head's ``lr`` everywhere. ``bn`` says what BatchNorm in
    frozen groups does: ``frozen`` keeps its statistics (eval mode), ``train`` lets batches update them.

    The seed is not a recipe field: it says which draw of the data a run gets (labeled subset, batch
    order, new head), ``compare`` pairs it across recipes, and results and checkpoints record it beside
    the recipe (``FitResult.seed``, ``RunResult.seed``, ``"seed"`` in ``workbench.json``).
    """

    name: str = "finetune"
    init: str = "pretrained"
    frozen: int | str = 0
    unfreeze_over: float | None = None
    lr: float = 3e-3
    backbone_lr: float | None = None
    schedule: str = "onecycle"
    warmup: float = 0.1
    steps: int = 200
    batch_size: int = 64
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    augment: str = "light"
    bn: str = "frozen"
    head: str = "linear"
    clip_grad: float | None = None
    early_stopping: int | None = None

    def __post_init__(self):
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("init", self.init, INITS)
        check_choice("BatchNorm policy", self.bn, BN_POLICIES)
        check_choice("head", self.head, HEADS)
        check_positive("lr", self.lr, maximum=MAX_LR)
        if self.backbone_lr is not None:
            check_positive("backbone_lr", self.backbone_lr, maximum=MAX_LR)
        check_positive("steps", self.steps, integer=True)
        check_positive("batch_size", self.batch_size, integer=True)
        if self.unfreeze_over is not None and not (0 < self.unfreeze_over <= 1):
            raise WorkbenchError(f"unfreeze_over is a fraction of the steps in (0, 1] (or None: no unfreezing), "
                                 f"got {self.unfreeze_over!r}")
        if not (0 <= self.warmup < 1):
            raise WorkbenchError(f"warmup is a fraction of the steps in [0, 1), got {self.warmup!r}")
        if self.weight_decay < 0:
            raise WorkbenchError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if not (isinstance(self.frozen, int) and self.frozen >= 0) and self.frozen != "backbone":
            raise WorkbenchError(f"frozen is a number of leading groups (>= 0) or 'backbone', got {self.frozen!r}")
        if self.early_stopping is not None:
            check_positive("early_stopping", self.early_stopping, integer=True)

    def frozen_count(self, n_groups: int) -> int:
        """How many leading groups are frozen at step 0, for a model with ``n_groups`` groups."""
        return n_groups - 1 if self.frozen == "backbone" else int(self.frozen)

    def replace(self, **changes) -> Recipe:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise WorkbenchError(f"unknown recipe field(s) {sorted(unknown)}; fields are: {', '.join(f.name for f in fields(self))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        """A recipe from ``to_dict()`` output; unknown keys are ignored.

        Recipes saved before ``unfreeze_over`` have ``unfreeze_every`` (release a group every that many
        steps, which often never released them all): it is read as gradual unfreezing over half the run.
        Their ``seed`` key is ignored here; checkpoints keep the seed beside the recipe.
        """
        d = dict(d)
        if d.pop("unfreeze_every", None) and "unfreeze_over" not in d:
            d["unfreeze_over"] = GRADUAL_OVER
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def describe(self) -> str:
        """A one-line summary for legends and logs."""
        parts = [self.name, f"init={self.init}", f"lr={self.lr:g}"]
        if self.backbone_lr is not None:
            parts.append(f"backbone_lr={self.backbone_lr:g}")
        if self.frozen:
            parts.append(f"frozen={self.frozen}")
        if self.unfreeze_over:
            parts.append(f"unfreeze_over={self.unfreeze_over:g}")
        parts += [self.schedule, f"{self.steps} steps"]
        return " ".join(parts)


# Defaults measured on this project's machines (shared notes): vision fine-tuning of the small CNN.
VISION_RECIPES = {
    "scratch": Recipe(name="scratch", init="scratch", lr=1e-2),
    "probe": Recipe(name="probe", frozen="backbone", lr=1e-2),
    "finetune": Recipe(name="finetune", lr=3e-3),
    "partial": Recipe(name="partial", frozen=2, lr=3e-3),
    "discriminative": Recipe(name="discriminative", lr=1e-2, backbone_lr=1e-3),
    "gradual": Recipe(name="gradual", frozen="backbone", unfreeze_over=GRADUAL_OVER, lr=3e-3),
}

# Text: fine-tuning the tiny transformer (or MiniLM) on passages. 150 AdamW steps, batch 16, 10% warm-up then
# cosine, wd 0.01, clip 1, no label smoothing. ``head`` is the pooling (workbench.choices.POOLINGS says what each reads).
_TEXT = Recipe(name="finetune", lr=5e-4, schedule="warmup_cosine", warmup=0.1, steps=150, batch_size=16,
               weight_decay=0.01, label_smoothing=0.0, augment="none", head="mean", clip_grad=1.0)
TEXT_RECIPES = {
    "scratch": _TEXT.replace(name="scratch", init="scratch"),
    "scratch_lm": _TEXT.replace(name="scratch_lm", init="scratch", head="lm", lr=5e-2, backbone_lr=5e-4),
    "probe": _TEXT.replace(name="probe", frozen="backbone", lr=3e-3),
    "finetune": _TEXT,
    "finetune_last": _TEXT.replace(name="finetune_last", head="last"),
    "partial": _TEXT.replace(name="partial", frozen=3),
    "discriminative": _TEXT.replace(name="discriminative", lr=2e-3, backbone_lr=3e-4),
    "gradual": _TEXT.replace(name="gradual", frozen="backbone", unfreeze_over=GRADUAL_OVER),
    "likelihood": _TEXT.replace(name="likelihood", head="lm", lr=5e-2, backbone_lr=1e-4),
    "random_probe": _TEXT.replace(name="random_probe", init="random", frozen="backbone", lr=3e-3),
}
# The text baselines (tfidf, bow, zeroshot) train no network, so they are not recipes: workbench.tasks.baselines.

RECIPE_BOOKS = {"vision": VISION_RECIPES, "text": TEXT_RECIPES}


def recipe_names(domain: str = "vision") -> list[str]:
    check_choice("domain", domain, RECIPE_BOOKS)
    return list(RECIPE_BOOKS[domain])


def get_recipe(name: str | Recipe, domain: str = "vision", /, **changes) -> Recipe:
    """A shipped recipe by name (with optional field changes), or a Recipe passed through."""
    if isinstance(name, Recipe):
        return name.replace(**changes) if changes else name
    check_choice("domain", domain, RECIPE_BOOKS)
    check_choice("recipe", name, RECIPE_BOOKS[domain])
    recipe = RECIPE_BOOKS[domain][name]
    return recipe.replace(**changes) if changes else recipe
