"""Freeze panel: one checkbox per layer group, live trainable/total counts, the BatchNorm policy.

Freezing goes from the input up (a recipe freezes its first ``frozen`` groups), so ticking a group
also ticks the groups below it, and unticking one unticks those above it. The counts come from the
core (``set_frozen`` then ``trainable_summary``) on the panel's model: what you see is what ``fit``
will train. A choice that leaves nothing trainable says so instead of silently doing nothing.
"""
from __future__ import annotations

import ipywidgets as widgets
from torch import nn

from ..errors import WorkbenchError
from ..models.groups import layer_groups
from ..train.freezing import BATCHNORM_TYPES, set_frozen, trainable_summary
from ..train.recipe import Recipe
from ._common import RecipePanel

BN_OPTIONS = [("keep statistics (eval)", "frozen"), ("update statistics (train)", "train")]


class FreezePanel(RecipePanel):
    """Edit ``recipe.frozen`` and ``recipe.bn`` for ``model``; read ``trainable`` for the counts."""

    def __init__(self, model: nn.Module, recipe: Recipe | None = None):
        self.model = model
        self.group_names = list(layer_groups(model))
        self.has_batchnorm = any(isinstance(m, BATCHNORM_TYPES) for m in model.modules())
        self.trainable: dict[str, int] = {}
        self.parameters: dict[str, int] = {}
        self.checkboxes = {
            name: widgets.Checkbox(value=False, description=f"freeze {name}", indent=False,
                                   layout=widgets.Layout(width="160px"))
            for name in self.group_names
        }
        self.count_labels = {name: widgets.Label() for name in self.group_names}
        self.total_label = widgets.HTML()
        self.bn = widgets.ToggleButtons(options=BN_OPTIONS, description="BatchNorm in frozen groups:",
                                        style={"description_width": "initial", "button_width": "190px"})
        if not self.has_batchnorm:
            self.bn.description = "BatchNorm (none in this model):"
        rows = [widgets.HBox([self.checkboxes[n], self.count_labels[n]]) for n in self.group_names]
        note = widgets.HTML("<small>Groups run input → output. Freezing goes from the input up: "
                            "freezing a group also freezes the groups before it.</small>")
        super().__init__(recipe or Recipe(), children=[note, *rows, self.total_label, self.bn])
        self.children = (*self.children, self.message)
        self.add_class("wb-freeze-panel")
        for i, name in enumerate(self.group_names):
            self.checkboxes[name].observe(lambda ch, i=i: self._ticked(i, ch["new"]), "value")
        self.bn.observe(lambda ch: self._edit(bn=ch["new"]), "value")
        self._on_recipe({"new": self.recipe})

    @property
    def frozen_count(self) -> int:
        return self.recipe.frozen_count(len(self.group_names))

    def _ticked(self, index: int, frozen: bool) -> None:
        if self._syncing:
            return
        count = index + 1 if frozen else index  # keep the frozen groups a prefix
        if count == self.frozen_count:
            return
        self._edit(frozen=count)

    def _show(self, recipe: Recipe) -> None:
        n = recipe.frozen_count(len(self.group_names))
        for i, name in enumerate(self.group_names):
            self.checkboxes[name].value = i < n
        self.bn.value = recipe.bn
        frozen = self.group_names[:n]
        problem = ""
        try:
            set_frozen(self.model, frozen)
        except WorkbenchError as err:  # everything frozen: counts show 0 trainable, and we say why
            problem = str(err)
        rows = trainable_summary(self.model)
        for row in rows:
            self.trainable[row["group"]] = row["trainable"]
            self.parameters[row["group"]] = row["parameters"]
        for name in self.group_names:
            state = "frozen" if name in frozen else "trains"
            self.count_labels[name].value = f"{self.trainable[name]:,} / {self.parameters[name]:,} trainable ({state})"
        total, params = self.trainable["total"], self.parameters["total"]
        self.total_label.value = (f"<b>total: <span class='wb-trainable-total'>{total:,}</span> / {params:,} "
                                  f"parameters trainable ({100 * total / max(params, 1):.1f}%)</b>")
        self.message.show(problem)
