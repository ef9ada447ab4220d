"""Notebook 03, pretrained vs scratch across budgets: where does the linear probe fall behind?

* ``03.crossover``: from the notebook's own sweep (``compare()``'s tidy results), the smallest budget at
  which the probe's mean score is below scratch's, or ``"none"`` if it never is in this sweep.
* the ``03.review`` quiz: why seeds are paired, where pretraining helps, what a budget counts.
"""
from __future__ import annotations

from ...errors import WorkbenchError
from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz
from ._fixtures import sweep_results

NONE = "none"


def _means(results, recipe: str):
    rows = results[results["recipe"] == recipe]
    if rows.empty:
        raise WorkbenchError(f"these results have no {recipe!r} rows; run the sweep with both 'probe' and 'scratch'")
    return rows.groupby("budget")["score"].mean()


def crossover(results, recipe: str = "probe", baseline: str = "scratch"):
    """The smallest budget where ``recipe``'s mean score is below ``baseline``'s, or ``"none"``."""
    a, b = _means(results, recipe), _means(results, baseline)
    for budget in sorted(set(a.index) & set(b.index)):
        if a[budget] < b[budget]:
            return int(budget)
    return NONE


def _as_budget(answer):
    if isinstance(answer, str):
        text = answer.strip().lower()
        if text in ("none", "never", ""):
            return NONE
        answer = text.removeprefix("n=")
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if hasattr(answer, "shape") or isinstance(answer, (list, tuple, dict, set)):
        raise WorkbenchError("give one budget (a number such as 50) or 'none', not a table or a list")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise WorkbenchError(f"give a budget (a number such as 50) or 'none', got {answer!r}") from None
    if isinstance(answer, bool) or value != int(value):
        raise WorkbenchError(f"a budget is a whole number of labeled images, got {answer!r}")
    return int(value)


@exercise(
    "03.crossover",
    task="From this run's sweep, give the smallest budget N at which the probe's mean score is below scratch's (or 'none').",
    hint="summarize(results) gives the mean score per recipe and budget; compare probe with scratch budget by budget, "
         "from the smallest up",
    fixture=sweep_results,
    solution=crossover,
)
def check_crossover(answer, results):
    budget = _as_budget(answer)
    truth = crossover(results)
    probe, scratch = _means(results, "probe"), _means(results, "scratch")
    budgets = sorted(set(probe.index) & set(scratch.index))
    if budget == NONE:
        if truth == NONE:
            return passed("the probe stays ahead of scratch at every budget of this sweep")
        return failed("in this sweep the probe does fall below scratch at some budget")
    if budget not in budgets:
        return failed(f"N={budget} is not a budget of this sweep; its budgets are {', '.join(map(str, budgets))}")
    p, s = probe[budget], scratch[budget]
    if p >= s:
        return failed(f"at N={budget} the probe is still ahead: {p:.3f} against scratch's {s:.3f} (mean over seeds)")
    if budget != truth:
        return failed(f"at N={budget} the probe is below scratch ({p:.3f} vs {s:.3f}), but it already was at a smaller budget",
                      "the question asks for the first budget where it falls behind")
    return passed(f"at N={budget} the probe ({p:.3f}) falls below scratch ({s:.3f}): with this many labels, training the "
                  "whole network beats reading frozen features")


REVIEW = register_quiz(Quiz("03.review", [
    MultipleChoice(
        "03.review.paired",
        "Why does the sweep give every recipe the same seeds?",
        {"So that at a given seed every recipe sees the same labeled images, batch order and augmentation":
             "A difference between two runs with the same seed then measures the recipe, not the luck of the draw.",
         "To make each run faster": "Pairing changes no run's cost; it changes what a difference between two runs means.",
         "Because training from scratch only converges from seed 0": "Scratch trains from any seed; the point is comparing like with like."},
        answer="So that at a given seed every recipe sees the same labeled images, batch order and augmentation"),
    MultipleChoice(
        "03.review.where",
        "Where on the budget axis does pretraining buy the most?",
        {"At the smallest budgets, one or two labels per class": "Features learned from printed characters are worth many labeled examples there.",
         "At the largest budgets": "By a few hundred labels scratch has enough data to learn its own features, and the gap closes.",
         "The same at every budget": "The paired gains shrink as N grows: look at the gain-vs-budget plot."},
        answer="At the smallest budgets, one or two labels per class"),
    Numeric(
        "03.review.per_class",
        "The digits have 10 classes and the subsets are balanced. How many labeled images per class does N=50 give?",
        answer=5, tolerance=0,
        low="N counts labeled images over all classes together; divide it by the number of classes.",
        high="N counts labeled images over all classes together, not per class; divide it by the number of classes.",
        explain="N is the total; balanced subsets give each class N / 10."),
]))
