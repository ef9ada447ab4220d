"""Compare panel: recipes x labeled budgets x seeds, results arriving live, accuracy vs N, paired gains.

It calls ``experiments.compare`` in a background thread; each finished run arrives through
``on_result`` and redraws the plot and the tables. Stop ends the run in progress (an unfinished run
is not a result) and keeps the rows so far. "yours" is the recipe built in the other panels.
"""
from __future__ import annotations

import html
import threading
import time

import ipywidgets as widgets
import pandas as pd

from ..report import figures as plots  # imported here, in the kernel's main thread, not first in a worker thread
from ..errors import WorkbenchError
from ..experiments.compare import COLUMNS, FEW_SEEDS, compare, paired_gains, seeds_for
from ..train.recipe import Recipe
from ._common import BackgroundRun, RecipePanel, figure, image_widget, one_line, png

YOURS = "yours"


def parse_budgets(text: str) -> list[int]:
    try:
        budgets = [int(t) for t in text.replace(",", " ").split()]
    except ValueError:
        raise WorkbenchError(f"budgets are whole numbers separated by commas, e.g. 10, 20, 50; got {text!r}") from None
    if not budgets or min(budgets) < 1:
        raise WorkbenchError(f"give at least one budget of 1 or more labeled examples, e.g. 10, 20; got {text!r}")
    return budgets


def draw_results(results: pd.DataFrame, baseline: str = "scratch"):
    """Score vs N and, once there is a pair, the paired gain vs N: ``workbench.report.figures`` drawn on our own axes."""
    fig = figure(10, 3.2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.88, wspace=0.3)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for ax in (left, right):
        ax.title.set_fontsize(9)
    if len(results):
        plots.score_vs_budget(results, ax=left)
        if baseline in set(results.recipe) and results.recipe.nunique() > 1:
            if len(paired_gains(results, baseline)):
                plots.paired_gain_vs_budget(results, baseline, ax=right)
    else:
        left.set_title("score vs labeled budget: results appear here as runs finish")
    if not right.has_data():
        right.set_title(f"paired gain over {baseline}: needs {baseline} and another recipe on one seed")
    for ax in (left, right):
        ax.title.set_fontsize(9)
    return fig


def gains_html(gains: pd.DataFrame, baseline: str, metric: str = "accuracy", unit: str = "examples") -> str:
    """The paired-gain table: gain in the metric's direction (positive = better), its std and 95% CI, wins."""
    if gains is None or not len(gains):
        return f"<i>paired gains over {html.escape(baseline)} appear when both ran on the same seed</i>"
    rows = "".join(
        f"<tr><td>{html.escape(str(r.recipe))}</td><td>{r.budget}</td><td>{r.gain:+.3f}</td>"
        f"<td>{r.std:.3f}</td><td>[{r.ci_low:+.3f}, {r.ci_high:+.3f}]</td><td>{r.wins}/{r.seeds}</td></tr>"
        for r in gains.itertuples()
    )
    few = "" if gains.seeds.min() >= FEW_SEEDS else f"<br><i>fewer than {FEW_SEEDS} seeds: read gains as hints</i>"
    return (f"<b>paired gain over {html.escape(baseline)}</b> ({html.escape(metric)}, positive = better; "
            f"same seed = same labeled {html.escape(unit)})"
            "<table class='wb-gains'><tr><th>recipe</th><th>N</th><th>gain</th><th>± std</th><th>95% CI</th><th>wins</th></tr>"
            f"{rows}</table>{few}")


class ComparePanel(BackgroundRun, RecipePanel):
    """Kernel-side state: ``results`` (one row per finished run), ``gains``, ``running``, ``plan_size``."""

    def __init__(self, task, recipe: Recipe | None = None, *, recipes=("scratch", "discriminative"),
                 budgets=(10, 20), seeds: int = 2, steps: int = 60, baseline: str = "scratch"):
        self.task = task
        self.results = pd.DataFrame(columns=COLUMNS)
        self.gains: pd.DataFrame | None = None
        self.plan_size = 0
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self.stop_latency: float | None = None
        self._stop_clicked: float | None = None
        options = [YOURS, *task.recipes, *task.baselines]
        self.recipes = widgets.SelectMultiple(options=options, value=tuple(recipes), rows=len(options),
                                              description="recipes")
        self.budgets = widgets.Text(value=", ".join(map(str, budgets)), description="budgets N")
        self.seeds = widgets.IntSlider(value=seeds, min=1, max=10, description="seeds")
        self.steps = widgets.IntSlider(value=steps, min=10, max=500, step=10, description="steps per run")
        self.baseline = widgets.Dropdown(options=options, value=baseline, description="baseline")
        self.run_button = widgets.Button(description="Compare", button_style="success", icon="play")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="runs 0/0",
                                            style={"description_width": "initial"})
        self.status = widgets.Label("ready")
        self.status.add_class("wb-status")
        self.plot = image_widget(10)
        self.gain_table = widgets.HTML()
        left = widgets.VBox([self.budgets, self.seeds, self.steps, self.baseline,
                             widgets.HBox([self.run_button, self.stop_button])])
        super().__init__(recipe or Recipe(), children=[widgets.HBox([self.recipes, left]), self.progress, self.status,
                                                       self.plot, self.gain_table])
        self.children = (*self.children, self.message)
        self.add_class("wb-compare-panel")
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self._redraw()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _show(self, recipe: Recipe) -> None:  # "yours" is read when a comparison starts
        ...

    def chosen_recipes(self) -> list[Recipe]:
        steps = self.steps.value
        out = []
        for name in self.recipes.value:
            r = self.recipe.replace(name=YOURS) if name == YOURS else self.task.get_recipe(name)
            if not isinstance(r, Recipe):  # a baseline: nothing to train, no steps to set
                out.append(r)
                continue
            out.append(r.replace(steps=steps))  # gradual unfreezing is a fraction of the run: nothing to rescale
        return out

    def run(self) -> None:
        if self.running:
            return
        try:
            budgets = parse_budgets(self.budgets.value)
            recipes = self.chosen_recipes()
            if not recipes:
                raise WorkbenchError("choose at least one recipe (ctrl-click to choose several)")
        except WorkbenchError as err:
            self.message.show(str(err))
            return
        self.message.show("")
        seeds = self.seeds.value
        self.plan_size = sum(len(seeds_for(b, seeds)) for b in budgets) * len(recipes)
        self.results = pd.DataFrame(columns=COLUMNS)
        self.gains = None
        self.stop_latency, self._stop_clicked = None, None
        self.progress.max, self.progress.value = self.plan_size, 0
        self.progress.description = f"runs 0/{self.plan_size}"
        self.status.value = f"running {self.plan_size} runs …"
        self._redraw()
        self._stop_event = threading.Event()
        self.run_button.disabled, self.stop_button.disabled = True, False
        self._thread = threading.Thread(target=self._work, args=(recipes, budgets, seeds), daemon=True,
                                        name="workbench-compare")
        self._thread.start()


    def _work(self, recipes, budgets, seeds) -> None:
        try:
            compare(self.task, recipes, budgets, seeds, progress=False, on_result=self._arrived, stop_event=self._stop_event)
            done = len(self.results)
            how = "stopped" if self._stop_event.is_set() else "done"
            self.status.value = f"{how}: {done}/{self.plan_size} runs"
        except Exception as err:
            self.status.value = "failed"
            self.message.show(one_line(err))
        finally:
            if self._stop_clicked is not None:
                self.stop_latency = time.perf_counter() - self._stop_clicked
            self.run_button.disabled, self.stop_button.disabled = False, True

    def _arrived(self, row: dict) -> None:
        self.results = pd.concat([self.results, pd.DataFrame([row])], ignore_index=True) if len(self.results) \
            else pd.DataFrame([row], columns=COLUMNS)
        n = len(self.results)
        self.progress.value = n
        self.progress.description = f"runs {n}/{self.plan_size}"
        self.status.value = f"{row['recipe']} N={row['budget']} seed {row['seed']}: {row['metric']} {row['score']:.3f}"
        self._redraw()

    def _redraw(self) -> None:
        baseline = self.baseline.value
        self.gains = None
        if len(self.results) and baseline in set(self.results.recipe) and self.results.recipe.nunique() > 1:
            gains = paired_gains(self.results, baseline)
            self.gains = gains if len(gains) else None
        self.plot.value = png(draw_results(self.results, baseline))
        self.gain_table.value = gains_html(self.gains, baseline, self.task.metric, self.task.budget_unit)
