"""What every panel shares: a ``recipe`` trait, a one-line message label, figures rendered to PNG.

A panel is an ipywidgets box with one kernel-side trait, ``recipe`` (a :class:`Recipe` value). Its
controls edit that value and redraw from it; :func:`traitlets.link` ties panels to the same recipe.
Figures are drawn with matplotlib's Agg canvas (no pyplot, safe from a training thread) into an
``Image`` widget, so an update replaces one picture in place instead of clearing an output.
"""
from __future__ import annotations

import io
import time

import ipywidgets as widgets
import traitlets

from ..errors import WorkbenchError
from ..train.recipe import Recipe


def figure(width: float = 6.4, height: float = 2.8, dpi: int = 80):
    """A matplotlib Figure that is not registered with pyplot (no global state, no display).

    Fixed margins rather than a constrained layout: the layout solver made each redraw several
    times slower, and live plots redraw often.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.1, right=0.9, bottom=0.17, top=0.88)
    return fig


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def image_widget(width_in: float, dpi: int = 80) -> widgets.Image:
    """An Image widget shown at the figure's own pixel width (a stretched PNG looks blurred)."""
    return widgets.Image(format="png", layout=widgets.Layout(width=f"{round(width_in * dpi)}px", height="auto"))


class Message(widgets.Label):
    """One line for problems the student can fix (never a traceback); empty when all is well."""

    def show(self, text: str = "", error: bool = True) -> None:
        self.value = text
        self.style.text_color = "#b00020" if error else "#1b5e20"


def one_line(err: BaseException) -> str:
    """A single line for any exception: WorkbenchErrors already say what to do."""
    if isinstance(err, WorkbenchError):
        return str(err)
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"


class RecipePanel(widgets.VBox):
    """A box whose controls edit ``recipe``; subclasses implement ``_show(recipe)`` to redraw from it."""

    recipe = traitlets.Instance(Recipe)

    def __init__(self, recipe: Recipe, **kwargs):
        super().__init__(**kwargs)
        self._syncing = False
        self.message = Message()
        self.message.add_class("wb-message")
        self.recipe = recipe
        self.observe(self._on_recipe, "recipe")

    def _on_recipe(self, change) -> None:
        self._syncing = True
        try:
            self._show(change["new"])
        finally:
            self._syncing = False

    def _show(self, recipe: Recipe) -> None:  # pragma: no cover - overridden
        ...

    def _edit(self, **changes) -> None:
        """A control changed: build the new recipe (validated by Recipe itself) or show why not."""
        if self._syncing:
            return
        try:
            new = self.recipe.replace(**changes)
        except WorkbenchError as err:
            self.message.show(str(err))
            return
        self.message.show("")
        self.recipe = new


class BackgroundRun:
    """Stop and wait for a panel whose work runs in ``self._thread`` and watches ``self._stop_event``."""

    def stop(self) -> None:
        """Ask the run to end at its next step; the model and history so far are kept."""
        if self.running and not self._stop_event.is_set():
            self._stop_clicked = time.perf_counter()
            self._stop_event.set()
            self.status.value = "stopping …"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (for scripts and tests); True if it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running


class Throttle:
    """True at most once per ``interval`` seconds (the first call is always True)."""

    def __init__(self, interval: float):
        self.interval = interval
        self.last = -float("inf")

    def __call__(self, force: bool = False) -> bool:
        now = time.perf_counter()
        if force or now - self.last >= self.interval:
            self.last = now
            return True
        return False
