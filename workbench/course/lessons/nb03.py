"""Notebook 03, pretrained vs scratch across budgets: where does the linear probe fall behind?

* ``03.crossover``: from the notebook's own sweep (``compare()``'s tidy results), the smallest budget at
  which the probe's mean score is below scratch's, or ``"none"`` if it never is in this sweep.
* ``03.paired_ci``: the student writes ``ci95(gains)``, the 95% confidence interval of a mean paired gain
  from its per-seed values (Student's t with n-1 degrees of freedom). The mistakes worth naming: 1.96 instead
  of t (too narrow for a few seeds), the std instead of the standard error, numpy's default ddof=0.
* ``03.worth_labels``: how many labels pretraining is worth at N=10: the smallest budget of the sweep at which
  scratch's mean reaches what discriminative fine-tuning scored with 10 labels (or ``"none"``).
* the ``03.review`` quiz: why seeds are paired, where pretraining helps, what a budget counts, what few seeds show.
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


# ---- 03.paired_ci ----------------------------------------------------------------------------------
def _values(gains) -> list[float]:
    if hasattr(gains, "tolist"):
        gains = gains.tolist()
    return [float(g) for g in gains]


def ci95(gains) -> tuple[float, float]:
    """The 95% confidence interval of the mean of ``gains`` (one paired gain per seed): Student's t, n-1 dof."""
    import math

    from scipy import stats

    values = _values(gains)
    n = len(values)
    if n < 2:
        raise WorkbenchError(f"a confidence interval needs at least 2 seeds, got {n}")
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def per_seed_gains(results, recipe: str = "discriminative", baseline: str = "scratch"):
    """{budget: the per-seed paired gains of ``recipe`` over ``baseline``} (a pandas Series per budget, index = seed)."""
    out = {}
    for budget, rows in results.groupby("budget"):
        wide = rows.pivot_table(index="seed", columns="recipe", values="score")
        if recipe in wide and baseline in wide:
            out[int(budget)] = (wide[recipe] - wide[baseline]).dropna()
    if not out:
        raise WorkbenchError(f"the results have no paired {recipe!r} and {baseline!r} rows")
    return out


def _noisy_sweep():
    results = sweep_results()
    bump = {("scratch", 0): 0.02, ("scratch", 2): -0.03, ("discriminative", 1): 0.015, ("probe", 0): -0.01}
    results["score"] = [s + bump.get((r, seed), 0.0) for r, seed, s in zip(results.recipe, results.seed, results.score)]
    return results


def _diagnose_ci(got, gains) -> str | None:
    import math

    from scipy import stats

    values = _values(gains)
    n = len(values)
    mean = sum(values) / n
    sd1 = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    sd0 = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    t = stats.t.ppf(0.975, n - 1)
    truth = ci95(values)

    def near(a, b):
        return all(abs(x - y) <= 1e-6 + 1e-4 * abs(y) for x, y in zip(a, b))

    if near(got, truth):
        return None
    for (low, high), why in [
        ((mean - 1.96 * sd1 / math.sqrt(n), mean + 1.96 * sd1 / math.sqrt(n)),
         f"that uses 1.96, the normal quantile; with {n} seeds the mean's spread follows Student's t with {n - 1} "
         f"degrees of freedom, whose 97.5% quantile is {t:.2f} (scipy.stats.t.ppf(0.975, n - 1)): your interval is too narrow"),
        ((mean - t * sd1, mean + t * sd1), "that uses the std of the gains; the interval of a mean uses its standard error, std / sqrt(n)"),
        ((mean - t * sd0 / math.sqrt(n), mean + t * sd0 / math.sqrt(n)),
         "that std divides by n (numpy's default, ddof=0); the sample std divides by n - 1: np.std(gains, ddof=1)"),
        ((mean - 1.96 * sd0 / math.sqrt(n), mean + 1.96 * sd0 / math.sqrt(n)),
         "two things: use Student's t (not 1.96) and the sample std (ddof=1)"),
        ((mean, t * sd1 / math.sqrt(n)), "that is (mean, half-width); return (mean - half, mean + half)"),
    ]:
        if near(got, (low, high)):
            return why
    return f"({got[0]:+.4f}, {got[1]:+.4f}) is not the interval; it should be centred on the mean gain {mean:+.4f}"


@exercise(
    "03.paired_ci",
    task="Write ci95(gains): the 95% confidence interval (low, high) of the mean of per-seed paired gains.",
    hint="mean ± t * std / sqrt(n), with the sample std (ddof=1) and t = scipy.stats.t.ppf(0.975, n - 1) (12.7 for 2 seeds, 2.26 for 10)",
    fixture=_noisy_sweep,
    solution=lambda results: ci95,
)
def check_paired_ci(answer, results):
    if not callable(answer):
        return failed(f"give a function ci95(gains) returning (low, high), got a {type(answer).__name__}")
    cases = list(per_seed_gains(results).items())
    cases = [(b, g) for b, g in cases if len(g) >= 2] + [("two seeds", [0.05, 0.09])]
    for budget, gains in cases:
        got = answer(gains)
        if isinstance(got, str) or not hasattr(got, "__len__") or len(got) != 2:
            return failed(f"ci95 should return a pair (low, high), got {got!r:.60}")
        got = tuple(float(g) for g in got)
        why = _diagnose_ci(got, gains)
        if why:
            where = f"at N={budget}" if isinstance(budget, int) else f"for {len(gains)} seeds {list(gains)}"
            return failed(f"{where} ({len(gains)} seeds): {why}")
    b, g = cases[0]
    low, high = ci95(g)
    from scipy import stats

    ratio = (stats.t.ppf(0.975, 1) / 2 ** 0.5) / (stats.t.ppf(0.975, 9) / 10 ** 0.5)
    return passed(f"e.g. at N={b}, {len(g)} seeds: {100 * low:+.1f} to {100 * high:+.1f} points; with 2 seeds the same "
                  f"spread gives an interval {ratio:.1f} times wider than with 10 (t = 12.7 vs 2.26, and sqrt(n))")


# ---- 03.worth_labels -------------------------------------------------------------------------------
def worth_labels(results, recipe: str = "discriminative", at: int = 10, baseline: str = "scratch"):
    """The smallest budget at which ``baseline``'s mean reaches ``recipe``'s mean at N=``at`` (or ``"none"``)."""
    target = _means(results, recipe).get(at)
    if target is None:
        raise WorkbenchError(f"the sweep has no {recipe!r} run at N={at}")
    base = _means(results, baseline)
    for budget in sorted(base.index):
        if base[budget] >= target:
            return int(budget)
    return NONE


@exercise(
    "03.worth_labels",
    task="From this run's sweep: the smallest budget N at which scratch's mean reaches discriminative's mean at N=10 (or 'none').",
    hint="take discriminative's mean at N=10 from summarize(results), then walk scratch's means from the smallest budget up "
         "to the first that is at least as high",
    fixture=sweep_results,
    solution=worth_labels,
)
def check_worth_labels(answer, results):
    budget = _as_budget(answer)
    truth = worth_labels(results)
    target = _means(results, "discriminative")[10]
    base = _means(results, "scratch")
    budgets = sorted(base.index)
    if budget == NONE:
        if truth == NONE:
            return passed(f"scratch never reaches {target:.3f} in this sweep: 10 pretrained-then-fine-tuned labels beat every budget here")
        return failed(f"scratch does reach {target:.3f} (discriminative at N=10) within this sweep")
    if budget not in budgets:
        return failed(f"N={budget} is not a budget of this sweep; its budgets are {', '.join(map(str, budgets))}")
    if base[budget] < target:
        return failed(f"at N={budget} scratch scores {base[budget]:.3f}, still below discriminative's {target:.3f} at N=10")
    if budget != truth:
        return failed(f"scratch reaches {target:.3f} at N={budget} ({base[budget]:.3f}), but already at a smaller budget",
                      "the question asks for the first budget where scratch catches up")
    return passed(f"scratch needs N={budget} ({base[budget]:.3f}) to match what discriminative fine-tuning scored with 10 labels "
                  f"({target:.3f}): the pretrained start was worth {budget} labels instead of 10 here")


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
    MultipleChoice(
        "03.review.two_seeds",
        "At N=500 the sweep has few seeds and their scores differ by less than a point. What can that show?",
        {"Little: with so few seeds the 95% interval of the paired gain is wide, so a small gain cannot be told from zero":
             "Right: a small spread between two seeds is itself a noisy estimate; the interval (t = 12.7 for 2 seeds) says how little is known.",
         "That the gain is known to within a point": "Two close values can come from a wide distribution; two seeds cannot estimate a spread well.",
         "Nothing at all": "They still give a paired difference and its sign; what they cannot give is a tight interval."},
        answer="Little: with so few seeds the 95% interval of the paired gain is wide, so a small gain cannot be told from zero"),
    MultipleChoice(
        "03.review.probe_behind",
        "Why can a frozen probe fall below scratch at large N?",
        {"It can only re-weight features learned on printed characters; with enough labels, scratch learns handwriting's own":
             "Right: the domain gap (print vs handwriting) caps the probe, while scratch's features improve with data.",
         "Because the probe trains fewer steps": "Every recipe trains the same number of steps here.",
         "Because pretraining hurts at large N": "The pretrained recipes that adapt every layer do not fall behind; it is the frozen backbone that does."},
        answer="It can only re-weight features learned on printed characters; with enough labels, scratch learns handwriting's own"),
    MultipleChoice(
        "03.review.ci",
        "The 95% interval of a paired gain is +2 to +14 points. What does it say?",
        {"The gain is positive, and these seeds pin it down only to between 2 and 14 points":
             "Right: it excludes zero, so the sign is supported; its width says how much more seeds would sharpen the size.",
         "95% of seeds gain between 2 and 14 points": "That would be a range of individual seeds; the interval is about the mean gain.",
         "The gain is 8 points": "8 is the centre; the interval says that values from 2 to 14 fit these seeds about as well."},
        answer="The gain is positive, and these seeds pin it down only to between 2 and 14 points"),
    Numeric(
        "03.review.t_two",
        "To one decimal: by how many standard errors does a 95% interval reach on each side of the mean with 2 seeds (Student's t, 1 degree of freedom)?",
        answer=12.7, tolerance=0.5,
        low="With 1 degree of freedom the t distribution has very heavy tails: far more than the normal's 1.96.",
        high="It is large, but not that large: scipy.stats.t.ppf(0.975, 1).",
        explain="t(0.975, 1) = 12.71: two seeds give an interval more than six times wider than the normal approximation."),
]))
