"""The Task protocol: what ``compare``, the lab, the widgets and the CLI may ask of any task.

A task owns a labeled pool, a test set, a recipe book and (optionally) baselines. Every run follows
one template, :meth:`Task.run`: draw the labeled subset, build the model the recipe asks for, make
the batches, fit, score. A new task subclasses :class:`Task` and fills in those steps; it needs no
edit anywhere else (``tests/test_task_protocol.py`` runs every task through the protocol, like
scikit-learn's ``check_estimator``).

What a task declares, so that callers never guess:

* ``metrics``: ``{name: higher_is_better}``, the primary metric first (``score`` is that one);
  paired gains and win counts follow its direction.
* ``budget_unit``: what a budget counts ("images", "passages", "tokens"), for labels and messages.
* ``recipes`` / ``baselines``: the names this task runs; :meth:`get_recipe` resolves one.
* :meth:`check`: every argument of a comparison, checked before any training.
* :meth:`load_pretrained`: the one place the task resolves the model it fine-tunes from.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import WorkbenchError, check_choice
from ..train.loop import fit
from ..train.recipe import Recipe
from .baselines import BASELINES, Baseline


@dataclass
class RunResult:
    """One run: the primary ``score`` (kept for compatibility) and every metric in ``scores``."""

    score: float
    model: nn.Module | None
    history: list[dict]
    seconds: float
    steps: int
    extra: dict = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    recipe: Recipe | None = None  # the recipe that ran
    seed: int | None = None


def data_seed(seed: int) -> int:
    """The seed of a run's batch order and augmentation: shared by all recipes, so runs are paired."""
    return 1_000_003 * seed + 17


def check_budgets(budgets: Sequence[int], unit: str = "examples") -> list[int]:
    """Positive whole numbers, each given once (a duplicate would pair a run with itself in the gains)."""
    budgets = list(budgets)
    if not budgets:
        raise WorkbenchError("no budgets to compare; give at least one, e.g. 10,20,50")
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise WorkbenchError(f"budget must be a positive whole number of labeled {unit}, got {b!r}")
    seen = set()
    for b in budgets:
        if b in seen:
            raise WorkbenchError(f"budget {b} appears twice in budgets; give each budget once")
        seen.add(b)
    return [int(b) for b in budgets]


class Task(ABC):
    """A labeled pool, a test set and a recipe book; :meth:`run` is the one run template."""

    name: str = "task"
    #: metric name -> higher is better; the first is the primary metric (``RunResult.score``)
    metrics: dict[str, bool] = {"accuracy": True}
    #: what one unit of a labeled budget is
    budget_unit: str = "examples"
    #: the recipes this task trains, by name
    recipes: dict[str, Recipe] = {}
    #: the methods it runs without training, by name
    baselines: dict[str, Baseline] = {}
    device: torch.device | str | None = None

    # -- what the task declares ------------------------------------------------------------------------
    @property
    def metric(self) -> str:
        """The primary metric's name."""
        return next(iter(self.metrics))

    @property
    def higher_is_better(self) -> bool:
        """The primary metric's direction."""
        return self.metrics[self.metric]

    def get_recipe(self, recipe: str | Recipe | Baseline, **changes) -> Recipe | Baseline:
        """A recipe or baseline of this task by name (with optional recipe field changes), or a value passed through."""
        if isinstance(recipe, Baseline):
            return recipe
        if isinstance(recipe, Recipe):
            return recipe.replace(**changes) if changes else recipe
        if recipe in self.baselines:
            return self.baselines[recipe]
        if recipe in BASELINES and recipe not in self.recipes:
            have = ", ".join(self.baselines) or "none"
            raise WorkbenchError(f"the {recipe} baseline does not apply to {self.name}; its baselines: {have}")
        check_choice("recipe", recipe, [*self.recipes, *self.baselines])
        found = self.recipes[recipe]
        return found.replace(**changes) if changes else found

    def load_pretrained(self, source=None, *, progress: bool = True):
        """Resolve the pretrained model the task fine-tunes from (a value, a checkpoint folder, or the cache,
        trained first if missing) and keep it; tasks without one return None. Called on first use, or early
        by a caller that wants the (slow) pretraining to happen at a moment of its choosing."""
        return None

    # -- checking a plan before any work -----------------------------------------------------------------
    def check(self, recipes: Sequence[str | Recipe | Baseline], budgets: Sequence[int]) -> list[Recipe | Baseline]:
        """Resolve ``recipes`` and check them and ``budgets`` against this task; raise before any training."""
        if not recipes or isinstance(recipes, str):
            raise WorkbenchError("no recipes to compare; give at least one, e.g. scratch,discriminative")
        plan = [self.get_recipe(r) for r in recipes]
        names = [r.name for r in plan]
        for n in names:
            if names.count(n) > 1:
                raise WorkbenchError(f"recipe {n!r} appears twice in recipes; give each recipe once (rename a variant)")
        for b in check_budgets(budgets, self.budget_unit):
            self.subset(b, 0)  # the pool can give it (raises a one-line error if not)
        self.check_plan(plan)
        return plan

    def check_plan(self, plan: list[Recipe | Baseline]) -> None:
        """Task-specific checks of resolved recipes (an optional backbone installed, a baseline that applies)."""

    # -- the steps of a run ------------------------------------------------------------------------------
    @abstractmethod
    def subset(self, budget: int, seed: int) -> torch.Tensor:
        """Indices of the labeled pool examples in a budget: they depend on (budget, seed) only, never the recipe."""

    @abstractmethod
    def build_model(self, recipe: Recipe, seed: int, train_idx: torch.Tensor | None = None) -> nn.Module:
        """The model a recipe starts from: the same architecture for every recipe (a fair comparison)."""

    @abstractmethod
    def batches(self, recipe: Recipe, idx: torch.Tensor, seed: int):
        """The endless batch iterator over the labeled examples ``idx``, its order seeded by ``seed`` only."""

    @abstractmethod
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Every metric in :attr:`metrics` on the test set."""

    def fit_options(self, recipe: Recipe, idx: torch.Tensor, *, eval_every: int | None = None) -> dict:
        """Extra keyword arguments for :func:`fit` (a loss, a live evaluation); none by default."""
        return {}

    def run_baseline(self, baseline: Baseline, idx: torch.Tensor, seed: int) -> tuple[dict[str, float], dict]:
        """``(scores, extra)`` of a baseline on the labeled examples ``idx``."""
        raise WorkbenchError(f"{self.name} has no baselines; got {baseline.name!r}")

    # -- the one run template ------------------------------------------------------------------------------
    def run(self, recipe: str | Recipe | Baseline, budget: int, seed: int, *, progress: bool = False, callbacks=(),
            stop_event=None, log_every: int = 10, eval_every: int | None = None, **options) -> RunResult:
        """Draw the labeled subset, build the model for the recipe, make the batches, fit, score.

        ``log_every`` and ``eval_every`` only change how often callbacks hear about the run; ``options``
        go to :meth:`fit_options` (a task's own knobs, e.g. the text tasks' ``penalty``).
        """
        recipe = self.get_recipe(recipe)
        start = time.perf_counter()
        idx = self.subset(budget, seed)
        if isinstance(recipe, Baseline):
            scores, extra = self.run_baseline(recipe, idx, seed)
            return RunResult(scores[self.metric], None, [], time.perf_counter() - start, 0, extra, scores, seed=seed)
        model = self.build_model(recipe, seed, idx)
        batches = self.batches(recipe, idx, seed)
        kw = self.fit_options(recipe, idx, eval_every=eval_every, **options)
        result = fit(model, recipe, batches, seed=seed, device=self.device, progress=progress, callbacks=callbacks,
                     stop_event=stop_event, log_every=log_every, **kw)
        scores = self.evaluate(result.model)
        return RunResult(scores[self.metric], result.model, result.history, time.perf_counter() - start,
                         result.steps_done, scores=scores, recipe=result.recipe, seed=seed)
