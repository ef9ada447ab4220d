"""Compare recipes across labeled-data budgets and paired seeds.

``compare`` returns tidy results, one row per run (recipe, budget, seed, metric, score, seconds), and
records in ``results.attrs["recipes"]`` every recipe (every field, as trained) and baseline it ran, so
a results folder says what produced it. ``paired_gains`` subtracts the baseline's score on the *same
seed* (the same labeled subset, batch order and augmentation), which removes most of the luck of the
draw that dominates tiny budgets; a gain is an improvement in the metric's own direction (lower
is better for a loss), with a 95% confidence interval over seeds.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from ..errors import WorkbenchError
from ..tasks.base import Task
from ..tasks.baselines import Baseline
from ..train.recipe import Recipe

COLUMNS = ["task", "recipe", "budget", "seed", "metric", "score", "seconds", "steps", "higher_is_better"]
#: below this many paired seeds a gain's interval is wide: readings say so
FEW_SEEDS = 5


def seeds_for(budget: int, seeds) -> list[int]:
    """Seeds to run at ``budget``: an int n (0..n-1), a list, or a dict {budget: n} with optional 'default'."""
    if isinstance(seeds, dict):
        n = seeds.get(budget, seeds.get("default"))
        if n is None:
            raise WorkbenchError(f"no seed count given for budget {budget}; add it or a 'default'")
        return list(range(n))
    if isinstance(seeds, int):
        if seeds < 1:
            raise WorkbenchError(f"seeds must be at least 1, got {seeds}")
        return list(range(seeds))
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in out) or len(set(out)) < len(out):
        raise WorkbenchError(f"seeds must be distinct whole numbers >= 0, got {out!r}")
    return out


def recipe_record(recipe: Recipe | Baseline) -> dict:
    """What ``recipes.json`` holds for one name: every field of a recipe as trained, or a baseline marked as such.

    ``seed`` is left out: each run's seed is its row's ``seed`` (``Recipe.from_dict`` then ``task.run(recipe, budget, seed)``
    reproduces that row).
    """
    if isinstance(recipe, Baseline):
        return recipe.to_dict()
    fields = {k: v for k, v in recipe.to_dict().items() if k != "seed"}
    return {"kind": "recipe", **fields, "description": recipe.describe()}


def compare(task: Task, recipes: Sequence[str | Recipe | Baseline], budgets: Sequence[int], seeds=5, *,
            progress: bool = True, on_result: Callable[[dict], None] | None = None, stop_event=None,
            jobs: int | str | None = None, time_budget: float | None = None, backend: str = "loky",
            scheduler: str | None = None) -> pd.DataFrame:
    """Run every recipe (or baseline) on every budget and seed of ``task``; return one row per run, in plan order.

    Names are looked up in the task's own book (``task.get_recipe``). Every argument is checked
    (``task.check``) before the first run, so a bad budget fails at once, not after hours.
    ``results.attrs["recipes"]`` maps each name to :func:`recipe_record`.

    ``jobs`` worker processes run the runs in parallel, with the same scores as one job (None:
    ``WORKBENCH_JOBS``, else :func:`~workbench.experiments.sweep.default_jobs`); with workers, runs that
    raise are reported together as ``SweepFailed`` once the others finish. ``time_budget`` (seconds) stops
    the comparison like ``stop_event`` does: the runs finished by then are the result. ``backend="dask"``
    and ``scheduler="tcp://host:8786"`` send the runs to a dask.distributed cluster instead.
    """
    recipes = task.check(recipes, budgets)
    plan = [(b, s, r) for b in budgets for s in seeds_for(b, seeds) for r in recipes]
    from .sweep import deadline_event, resolve_jobs

    if backend != "loky" or min(resolve_jobs(jobs, getattr(task, "device", None)), len(plan)) > 1:
        results = _compare_in_workers(task, recipes, plan, jobs, progress, on_result, stop_event, time_budget, backend, scheduler)
        results.attrs["recipes"] = {r.name: recipe_record(r) for r in recipes}
        return results
    stop_event = deadline_event(stop_event, time_budget)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(plan), desc=f"compare {task.name}")
    rows = []
    for budget, seed, recipe in plan:
        if stop_event is not None and stop_event.is_set():
            break
        # a stop request also ends the run in progress; that unfinished run is not a result
        run = task.run(recipe, budget, seed, stop_event=stop_event)
        if stop_event is not None and stop_event.is_set():
            break
        row = _row(task, recipe, budget, seed, run)
        rows.append(row)
        if on_result is not None:
            on_result(row)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(recipe=recipe.name, N=budget, score=f"{run.score:.3f}")
    if bar is not None:
        bar.close()
    results = pd.DataFrame(rows, columns=_columns(task))
    results.attrs["recipes"] = {r.name: recipe_record(r) for r in recipes}
    return results


def _columns(task) -> list[str]:
    return COLUMNS + [f"score_{m}" for m in task.metrics if m != task.metric]


def _row(task, recipe, budget: int, seed: int, run) -> dict:
    """One tidy row: the primary score, the metric's direction, and every other metric as ``score_<name>``."""
    return {"task": task.name, "recipe": recipe.name, "budget": budget, "seed": seed, "metric": task.metric,
            "score": run.score, "seconds": run.seconds, "steps": run.steps, "higher_is_better": task.higher_is_better,
            **{f"score_{m}": run.scores.get(m, float("nan")) for m in task.metrics if m != task.metric}}


def _run_row(task, item) -> dict:
    """One run of a comparison in a worker process: the row only (the model stays behind)."""
    budget, seed, recipe = item
    return _row(task, recipe, budget, seed, task.run(recipe, budget, seed))


def _compare_in_workers(task, recipes, plan, jobs, progress, on_result, stop_event, time_budget, backend, scheduler) -> pd.DataFrame:
    from .sweep import SweepFailed, run_sweep, warm_up

    warm_up(task, recipes)  # the pretrained model is loaded here once and travels with the task
    try:
        rows = run_sweep(_run_row, task, plan, jobs=jobs, on_result=on_result, stop_event=stop_event, time_budget=time_budget,
                         progress=progress, desc=f"compare {task.name}", device=getattr(task, "device", None),
                         backend=backend, scheduler=scheduler,
                         label=lambda item: f"{item[2].name} N={item[0]} seed {item[1]}",
                         postfix=lambda row: {"recipe": row["recipe"], "N": row["budget"], "score": f"{row['score']:.3f}"})
    except SweepFailed as err:
        err.results = pd.DataFrame(err.results, columns=_columns(task))
        raise
    return pd.DataFrame(rows, columns=_columns(task))


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and seed count of the score per recipe and budget."""
    g = results.groupby(["recipe", "budget"], sort=False)["score"]
    out = g.agg(mean="mean", std="std", seeds="count").reset_index()
    return out.fillna({"std": 0.0})


def higher_is_better(results: pd.DataFrame) -> bool:
    """The direction of the results' metric (True when the frame predates the ``higher_is_better`` column)."""
    if "higher_is_better" not in results.columns or not len(results):
        return True
    directions = set(results["higher_is_better"].astype(bool))
    if len(directions) > 1:
        raise WorkbenchError("the results mix metrics where higher is better with metrics where lower is better; "
                             "compare one task at a time")
    return directions.pop()


def paired_gains(results: pd.DataFrame, baseline: str = "scratch") -> pd.DataFrame:
    """Per recipe and budget: the mean paired gain over ``baseline`` on the same seed, its std, 95% CI and wins.

    A gain is an improvement in the metric's direction: ``score - base`` when higher is better, ``base - score``
    when lower is better (a loss), so a positive gain and a win always mean "better than the baseline". The
    interval is the t-distribution's over the paired seeds (NaN with one seed). Each (recipe, budget, seed)
    must appear once: a duplicate would be paired with every baseline run of its seed and count twice.
    """
    from scipy import stats

    if baseline not in set(results["recipe"]):
        raise WorkbenchError(f"baseline recipe {baseline!r} is not in the results; include it in the comparison")
    dup = results.duplicated(["recipe", "budget", "seed"])
    if dup.any():
        r = results[dup].iloc[0]
        raise WorkbenchError(f"recipe {r.recipe!r} has more than one result at budget {r.budget}, seed {r.seed}; "
                             "give each budget and seed once")
    sign = 1.0 if higher_is_better(results) else -1.0
    base = results[results.recipe == baseline][["budget", "seed", "score"]].rename(columns={"score": "base"})
    merged = results[results.recipe != baseline].merge(base, on=["budget", "seed"], validate="many_to_one")
    merged["gain"] = sign * (merged["score"] - merged["base"])
    g = merged.groupby(["recipe", "budget"], sort=False)["gain"]
    out = g.agg(gain="mean", std="std", seeds="count").reset_index()
    wins = merged.assign(win=merged.gain > 0).groupby(["recipe", "budget"], sort=False)["win"].sum().reset_index(drop=True)
    out["wins"] = wins.astype(int).values
    out = out.fillna({"std": 0.0})
    n = out["seeds"].to_numpy()
    half = stats.t.ppf(0.975, df=(n - 1).clip(min=1)) * out["std"].to_numpy() / n ** 0.5
    half[n < 2] = float("nan")
    out["ci_low"], out["ci_high"] = out["gain"] - half, out["gain"] + half
    return out


def few_seeds_warning(results: pd.DataFrame) -> str:
    """A one-line warning when some (recipe, budget) has fewer than :data:`FEW_SEEDS` seeds; empty otherwise."""
    if not len(results):
        return ""
    fewest = int(results.groupby(["recipe", "budget"])["seed"].nunique().min())
    if fewest >= FEW_SEEDS:
        return ""
    return (f"Warning: only {fewest} seed{'s' if fewest != 1 else ''} at some budgets; with fewer than {FEW_SEEDS} "
            "paired seeds a gain's 95% interval is wide, so read a difference as a hint, not a result.")


def markdown_table(results: pd.DataFrame, baseline: str = "scratch") -> str:
    """Mean +- std per recipe (rows) and budget (columns), then the paired gains with 95% CIs: for README and CLI."""
    s = summarize(results)
    budgets = sorted(s.budget.unique())
    metric = results["metric"].iloc[0] if len(results) else "score"
    direction = "higher is better" if higher_is_better(results) else "lower is better"
    lines = [f"| recipe | " + " | ".join(f"N={b}" for b in budgets) + " |", "|---|" + "---|" * len(budgets)]
    for recipe in s.recipe.unique():
        cells = []
        for b in budgets:
            row = s[(s.recipe == recipe) & (s.budget == b)]
            cells.append(f"{row['mean'].iloc[0]:.3f} ± {row['std'].iloc[0]:.3f} ({row['seeds'].iloc[0]})" if len(row) else "")
        lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    text = f"{metric} ({direction}): mean ± std (seeds)\n\n" + "\n".join(lines)
    if baseline in set(results.recipe) and results.recipe.nunique() > 1:
        g = paired_gains(results, baseline)
        lines = [f"| recipe | " + " | ".join(f"N={b}" for b in budgets) + " |", "|---|" + "---|" * len(budgets)]
        for recipe in g.recipe.unique():
            cells = []
            for b in budgets:
                row = g[(g.recipe == recipe) & (g.budget == b)]
                if not len(row):
                    cells.append("")
                    continue
                r = row.iloc[0]
                ci = f" [{r.ci_low:+.3f}, {r.ci_high:+.3f}]" if r.seeds > 1 else ""
                cells.append(f"{r.gain:+.3f} ± {r['std']:.3f}{ci}, wins {r.wins}/{r.seeds}")
            lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
        text += (f"\n\nPaired gain over {baseline} (same seed = same labeled subset; positive = better), "
                 "± std [95% CI], wins\n\n" + "\n".join(lines))
    warning = few_seeds_warning(results)
    return text + (f"\n\n{warning}" if warning else "")
