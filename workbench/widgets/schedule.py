"""Schedule picker: schedule name, head LR, backbone/head LR ratio, warm-up, steps, gradual unfreezing.

The preview is ``preview_schedule`` (a real scheduler stepped on a throwaway optimizer), drawn for
every param group as the LR it really trains with: dotted at 0 while it is frozen, solid from the
step it trains, with a vertical line at each unfreeze point. It is redrawn in place (one Image widget) whenever the recipe changes.
"""
from __future__ import annotations

import textwrap

import ipywidgets as widgets

from ..errors import WorkbenchError
from ..train.freezing import training_starts
from ..train.recipe import SCHEDULES, Recipe
from ..train.schedules import preview_schedule
from ..report.palette import series_color
from ._common import RecipePanel, figure, image_widget, png

_STYLE = {"description_width": "170px"}
_WIDE = widgets.Layout(width="480px")


def draw_preview(preview: dict, starts: dict[str, int | None], title: str = ""):
    """The LR each group really trains with: 0 (dotted) while frozen, the schedule's LR once it trains.

    Groups with identical curves share one line; grey dashed verticals mark the unfreeze points.
    """
    fig = figure(7.2, 2.8)
    fig.subplots_adjust(left=0.09, right=0.66, top=0.78)
    ax = fig.add_subplot()
    steps = preview["steps"]
    merged: dict[tuple, list[str]] = {}
    for name, lrs in preview["lrs"].items():
        merged.setdefault((tuple(lrs), starts.get(name)), []).append(name)
    for i, ((lrs, start), names) in enumerate(merged.items()):
        label = names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"
        color = series_color(i)
        begin = len(steps) if start is None else start
        if begin > 0:
            when = "the whole run" if start is None else f"until step {start}"
            ax.plot(steps[: begin + 1], [0.0] * len(steps[: begin + 1]), ":", lw=2.5, color=color,
                    label=f"{label}: frozen {when}")
        if begin < len(steps):
            ax.plot(steps[begin:], lrs[begin:], "-", lw=2, color=color, label=None if begin > 0 else label)
    for step, group in preview["unfreeze"]:
        ax.axvline(step, color="grey", lw=0.8, ls="--")
        ax.annotate(f" unfreeze {group}", (step, 0.98), xycoords=("data", "axes fraction"), rotation=90,
                    va="top", ha="left", fontsize=7, color="dimgrey")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_title(textwrap.fill(title, 75), fontsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    return fig


class SchedulePanel(RecipePanel):
    """Edit the schedule fields of ``recipe``; ``preview`` holds the data last drawn."""

    def __init__(self, group_names: list[str], recipe: Recipe | None = None):
        self.group_names = list(group_names)
        self.preview: dict | None = None
        self.starts: dict = {}
        self.redraws = 0
        self.schedule = widgets.Dropdown(options=SCHEDULES, description="schedule", style=_STYLE)
        self.lr = widgets.FloatLogSlider(base=10, min=-5, max=0, step=0.1, description="head LR", layout=_WIDE,
                                         readout_format=".1e", style=_STYLE)
        self.ratio = widgets.FloatLogSlider(base=10, min=-3, max=0, step=0.5, description="backbone LR ÷ head LR",
                                            tooltip="1 = same LR everywhere (no discriminative LRs)", layout=_WIDE,
                                            readout_format=".3g", style=_STYLE)
        self.warmup = widgets.FloatSlider(min=0, max=0.5, step=0.05, description="warm-up (fraction)", layout=_WIDE, style=_STYLE)
        self.steps = widgets.IntSlider(min=10, max=1000, step=10, description="steps", layout=_WIDE, style=_STYLE)
        self.unfreeze_over = widgets.FloatSlider(min=0, max=1, step=0.05, description="unfreeze over (fraction)",
                                                 tooltip="release the frozen groups one by one, evenly over this fraction of "
                                                         "the run; 0 = off", layout=_WIDE, style=_STYLE)
        self.plot = image_widget(7.2)
        controls = [self.schedule, self.lr, self.ratio, self.warmup, self.steps, self.unfreeze_over]
        super().__init__(recipe or Recipe(), children=[*controls, self.plot])
        self.children = (*self.children, self.message)
        self.add_class("wb-schedule-panel")
        self.schedule.observe(lambda ch: self._edit(schedule=ch["new"]), "value")
        self.lr.observe(lambda ch: self._edit(lr=ch["new"], backbone_lr=self._backbone(ch["new"], self.ratio.value)), "value")
        self.ratio.observe(lambda ch: self._edit(backbone_lr=self._backbone(self.lr.value, ch["new"])), "value")
        self.warmup.observe(lambda ch: self._edit(warmup=round(ch["new"], 4)), "value")
        self.steps.observe(lambda ch: self._edit(steps=ch["new"]), "value")
        self.unfreeze_over.observe(lambda ch: self._edit(unfreeze_over=round(ch["new"], 4) or None), "value")
        self._on_recipe({"new": self.recipe})

    @staticmethod
    def _backbone(lr: float, ratio: float) -> float | None:
        return None if abs(ratio - 1) < 1e-9 else float(f"{lr * ratio:.3g}")

    def _show(self, recipe: Recipe) -> None:
        self.schedule.value = recipe.schedule
        self.lr.value = recipe.lr
        self.ratio.value = 1.0 if recipe.backbone_lr is None else recipe.backbone_lr / recipe.lr
        self.warmup.value = recipe.warmup
        self.steps.max = max(self.steps.max, recipe.steps)
        self.steps.value = recipe.steps
        self.unfreeze_over.value = recipe.unfreeze_over or 0
        self.redraw()

    def redraw(self) -> None:
        recipe = self.recipe
        try:
            starts = training_starts(recipe, self.group_names)
            preview = preview_schedule(recipe, self.group_names)
        except WorkbenchError as err:  # e.g. everything frozen: say so, keep the last good preview
            self.message.show(str(err))
            return
        self.message.show("")
        self.starts, self.preview = starts, preview
        fig = draw_preview(self.preview, self.starts, recipe.describe())
        self.plot.value = png(fig)
        self.redraws += 1
