"""Train panel: Run and Stop, a progress bar, a live loss/accuracy plot, the recipe in one line.

Training runs ``task.run(recipe, ...)`` in a background thread, so the kernel keeps handling clicks:
Stop sets a ``threading.Event`` that ``fit`` checks before every step, and the run ends at the next
step with the model and history so far kept in ``panel.result``. The plot is one Image widget whose
picture is replaced at most every ``plot_interval`` seconds (no output is cleared, nothing flickers).
"""
from __future__ import annotations

import textwrap
import threading
import time

import ipywidgets as widgets

from ..train.events import Callback, TrainState
from ..train.recipe import Recipe
from ..report.palette import series_color
from ._common import BackgroundRun, RecipePanel, figure, image_widget, one_line, png

BUDGETS = (10, 20, 50, 100, 500, 1000, 4000)


class HistoryPlot:
    """Training loss per logged step and the task's live ``metric`` records (second axis), on one figure kept for the run.

    Each update only moves the lines' data and re-renders: about 0.1 s on a busy 2-core CPU, where
    building a new figure took 0.5 s.
    """

    def __init__(self, total_steps: int, title: str = "", metric: str = "accuracy"):
        self.metric = metric
        self.fig = figure(6.4, 2.6)
        self.ax = self.fig.add_subplot()
        (self.loss,) = self.ax.plot([], [], "-", color=series_color(0), label="training loss")
        self.ax.set_xlim(0, max(total_steps, 1))
        self.ax.set_xlabel("step")
        self.ax.set_ylabel("training loss", color=series_color(0))
        self.ax2 = self.ax.twinx()
        (self.acc,) = self.ax2.plot([], [], "o-", color=series_color(1), ms=3, label=f"test {metric} (live subset)")
        self.ax2.set_ylabel(f"test {metric} (live subset)", color=series_color(1))
        self.fig.subplots_adjust(top=0.84)
        self.ax.set_title(textwrap.fill(title, 90), fontsize=8)

    def update(self, history: list[dict]) -> bytes:
        logs = [r for r in history if "loss" in r]
        evals = [r for r in history if self.metric in r]
        self.loss.set_data([r["step"] for r in logs], [r["loss"] for r in logs])
        self.acc.set_data([r["step"] for r in evals], [r[self.metric] for r in evals])
        if evals:
            values = [r[self.metric] for r in evals]
            lo, hi = min(values), max(values)
            self.ax2.set_ylim(lo - 0.05 * (hi - lo + 1e-3), hi + 0.05 * (hi - lo + 1e-3))
        if logs:
            top = max(r["loss"] for r in logs)
            self.ax.set_ylim(0, top * 1.05 if top > 0 else 1)
        return png(self.fig)


class _Live(Callback):
    """Cheap per-step bookkeeping in the training thread; drawing happens in the plotter thread."""

    def __init__(self, panel: TrainPanel):
        self.panel = panel

    def on_start(self, state: TrainState) -> None:
        self.panel._update(state)

    def on_log(self, state: TrainState) -> None:
        self.panel._update(state)

    def on_eval(self, state: TrainState) -> None:
        self.panel._update(state)

    def on_end(self, state: TrainState) -> None:
        panel = self.panel
        panel.stop_reason, panel.model = state.stop_reason, state.model
        panel._update(state)
        if panel._stop_clicked is not None:
            panel.train_stop_latency = time.perf_counter() - panel._stop_clicked
        if state.stop_reason:  # training is over and kept; scoring on the whole test set follows
            panel.status.value = (f"stopped at step {state.step}/{state.total_steps} after {state.seconds:.1f} s; "
                                  f"measuring test {panel.task.metric} …")


class TrainPanel(BackgroundRun, RecipePanel):
    """Run ``recipe`` on ``task`` at a labeled budget and seed; Stop keeps what was learned so far.

    Kernel-side state: ``running``, ``history`` (live), ``result`` (a RunResult once the run ends,
    stopped or not), ``stop_reason``, ``stop_latency`` (seconds from Stop to the end of the run) and
    ``plot_times`` (when the plot was redrawn), ``model`` (the model as training left it).
    ``train_stop_latency`` is Stop to the end of training (the status then says "stopped at step N");
    ``stop_latency`` adds scoring on the whole test set, until the status shows the test accuracy.
    """

    def __init__(self, task, recipe: Recipe | None = None, *, budget: int = 20, seed: int = 0,
                 log_every: int = 1, eval_every: int | None = 25, plot_interval: float = 0.4):
        self.task = task
        self.log_every, self.eval_every = log_every, eval_every
        self.plot_interval = plot_interval
        self._version = 0  # bumped by every history update; the plotter redraws when it moved
        self._figure: HistoryPlot | None = None
        self.history: list[dict] = []
        self.result = None
        self.model = None
        self.stop_reason: str | None = None
        self.stop_latency: float | None = None
        self.train_stop_latency: float | None = None
        self.plot_times: list[float] = []
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._stop_clicked: float | None = None
        budgets = sorted(set(BUDGETS) | {budget})
        self.budget = widgets.Dropdown(options=budgets, value=budget, description=f"labeled {task.budget_unit} N",
                                       style={"description_width": "initial"}, layout=widgets.Layout(width="200px"))
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=10_000, description="seed",
                                           layout=widgets.Layout(width="150px"))
        self.run_button = widgets.Button(description="Run", button_style="success", icon="play")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="step 0",
                                            style={"description_width": "initial"})
        self.status = widgets.Label("ready")
        self.status.add_class("wb-status")
        self.summary = widgets.HTML()
        self.summary.add_class("wb-summary")
        self.plot = image_widget(6.4)
        controls = widgets.HBox([self.budget, self.seed, self.run_button, self.stop_button])
        super().__init__(recipe or Recipe(), children=[self.summary, controls, self.progress, self.status, self.plot])
        self.children = (*self.children, self.message)
        self.add_class("wb-train-panel")
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self._on_recipe({"new": self.recipe})

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _show(self, recipe: Recipe) -> None:
        self.summary.value = f"<b>recipe:</b> <code>{recipe.describe()}</code>"
        if not self.running:
            self.progress.max = recipe.steps

    def run(self) -> None:
        """Start a run in the background (ignored while one is running)."""
        if self.running:
            return
        recipe, budget, seed = self.recipe, self.budget.value, self.seed.value
        self._stop_event = threading.Event()
        self._stop_clicked = None
        self.history, self.result, self.stop_reason, self.stop_latency, self.model = [], None, None, None, None
        self.train_stop_latency = None
        self.plot_times = []
        self.message.show("")
        self.progress.max, self.progress.value, self.progress.description = recipe.steps, 0, "step 0"
        self.status.value = f"training {recipe.name} on N={budget}, seed {seed} …"
        self.run_button.disabled, self.stop_button.disabled = True, False
        self._figure = HistoryPlot(recipe.steps, recipe.describe(), self.task.metric)
        self._thread = threading.Thread(target=self._work, args=(recipe, budget, seed), daemon=True,
                                        name="workbench-train")
        self._thread.start()
        threading.Thread(target=self._plotter, args=(self._thread,), daemon=True, name="workbench-plot").start()


    def _work(self, recipe: Recipe, budget: int, seed: int) -> None:
        status, problem = "failed", ""
        try:
            self.result = self.task.run(recipe, budget, seed, callbacks=[_Live(self)], stop_event=self._stop_event,
                                        log_every=self.log_every, eval_every=self.eval_every)
            r = self.result
            how = "stopped" if self.stop_reason else "done"
            status = (f"{how} at step {r.steps}/{recipe.steps} after {r.seconds:.1f} s: test "
                      f"{self.task.metric} {r.score:.3f} (model and history kept in panel.result)")
        except Exception as err:  # shown as one line; the kernel keeps running
            problem = one_line(err)
        finally:
            if self._stop_clicked is not None:
                self.stop_latency = time.perf_counter() - self._stop_clicked
            # buttons first: once the status shows the result, the panel is ready for the next run
            self.run_button.disabled, self.stop_button.disabled = False, True
            self.status.value = status
            self.message.show(problem)

    def _update(self, state: TrainState) -> None:
        self.history = list(state.history)
        self._version += 1
        self.progress.value = state.step
        self.progress.description = f"step {state.step}"

    def _draw(self) -> None:
        self.plot.value = self._figure.update(self.history)
        self.plot_times.append(time.perf_counter())

    def _plotter(self, worker: threading.Thread) -> None:
        """Redraw the plot in place at most every ``plot_interval`` s while there is news, then once more."""
        drawn = -1
        while worker.is_alive():
            tick = time.perf_counter()
            if self._version != drawn:
                drawn = self._version
                self._draw()
            time.sleep(max(0.0, self.plot_interval - (time.perf_counter() - tick)))
        if self._version != drawn:
            self._draw()
