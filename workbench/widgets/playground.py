"""The playground: freeze, schedule, train and compare panels on one shared recipe."""
from __future__ import annotations

import ipywidgets as widgets
import traitlets

from ..models.groups import layer_groups
from ..train.recipe import Recipe
from .compare import ComparePanel
from .freeze import FreezePanel
from .schedule import SchedulePanel
from .train import TrainPanel


class Playground(widgets.VBox):
    """Four panels whose ``recipe`` traits are linked: edit it in one place, every panel follows."""

    def __init__(self, task, recipe: str | Recipe = "discriminative", *, budget: int = 20, compare_kw: dict | None = None,
                 train_kw: dict | None = None):
        recipe = task.get_recipe(recipe)
        model = task.build_model(recipe, 0)  # the model a run will train: same groups, same head
        self.task = task
        self.freeze = FreezePanel(model, recipe)
        self.schedule = SchedulePanel(list(layer_groups(model)), recipe)
        self.train = TrainPanel(task, recipe, budget=budget, **(train_kw or {}))
        self.compare = ComparePanel(task, recipe, **(compare_kw or {}))
        self.panels = [self.freeze, self.schedule, self.train, self.compare]
        self._links = [traitlets.link((self.freeze, "recipe"), (p, "recipe")) for p in self.panels[1:]]
        names = list(task.recipes)
        self.start = widgets.Dropdown(options=names, value=recipe.name if recipe.name in names else None,
                                      description="start from")
        self.start.observe(lambda ch: ch["new"] and setattr(self.freeze, "recipe", task.get_recipe(ch["new"])), "value")

        def title(text: str) -> widgets.HTML:
            return widgets.HTML(f"<h3 style='margin:12px 0 4px'>{text}</h3>")

        super().__init__([
            widgets.HBox([title("Recipe"), self.start]),
            title("1. What trains: layer groups"), self.freeze,
            title("2. How fast: learning-rate schedule"), self.schedule,
            title("3. Train"), self.train,
            title("4. Compare recipes across labeled budgets"), self.compare,
        ])
        self.add_class("wb-playground")

    @property
    def recipe(self) -> Recipe:
        return self.freeze.recipe


def playground(task=None, recipe: str | Recipe = "discriminative", **kw) -> Playground:
    """The playground on ``task`` (default: the vision task with the cached pretrained CNN)."""
    if task is None:
        from ..tasks.vision import VisionTask

        task = VisionTask()
        task.load_pretrained(progress=False)
    return Playground(task, recipe, **kw)
