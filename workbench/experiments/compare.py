"""Compare recipes across labeled-data budgets and paired seeds.

``compare`` returns tidy results, one row per run (recipe, budget, seed, metric, score, seconds).
``paired_gains`` subtracts the baseline's score on the *same seed* (the same labeled subset, batch
order and augmentation), which removes most of the luck of the draw that dominates tiny budgets.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from ..errors import WorkbenchError
from ..train.recipe import Recipe, get_recipe

COLUMNS = ["task", "recipe", "budget", "seed", "metric", "score", "seconds", "steps"]


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
    return list(seeds)


def compare(task, recipes: Sequence[str | Recipe], budgets: Sequence[int], seeds=5, *, domain: str = "vision",
            progress: bool = True, on_result: Callable[[dict], None] | None = None, stop_event=None,
            jobs: int | str | None = None, time_budget: float | None = None, backend: str = "loky",
            scheduler: str | None = None) -> pd.DataFrame:
    """Run every recipe on every budget and seed of ``task``; return one row per run, in plan order.

    ``jobs`` worker processes run the runs in parallel, with the same scores as one job (None:
    ``WORKBENCH_JOBS``, else :func:`~workbench.experiments.sweep.default_jobs`); with workers, runs that
    raise are reported together as ``SweepFailed`` once the others finish. ``time_budget`` (seconds) stops
    the comparison like ``stop_event`` does: the runs finished by then are the result. ``backend="dask"``
    and ``scheduler="tcp://host:8786"`` send the runs to a dask.distributed cluster instead.
    """
    if not recipes:
        raise WorkbenchError("no recipes to compare; give at least one, e.g. scratch,discriminative")
    if not budgets:
        raise WorkbenchError("no budgets to compare; give at least one, e.g. 10,20,50")
    recipes = [get_recipe(r, domain) for r in recipes]
    plan = [(b, s, r) for b in budgets for s in seeds_for(b, seeds) for r in recipes]
    from .sweep import deadline_event, resolve_jobs

    if backend != "loky" or min(resolve_jobs(jobs, getattr(task, "device", None)), len(plan)) > 1:
        return _compare_in_workers(task, recipes, plan, jobs, progress, on_result, stop_event, time_budget, backend, scheduler)
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
        run = task.run(recipe, budget, seed, **({"stop_event": stop_event} if stop_event is not None else {}))
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
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(task, recipe: Recipe, budget: int, seed: int, run) -> dict:
    return {"task": task.name, "recipe": recipe.name, "budget": budget, "seed": seed, "metric": task.metric,
            "score": run.score, "seconds": run.seconds, "steps": run.steps}


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
        err.results = pd.DataFrame(err.results, columns=COLUMNS)
        raise
    return pd.DataFrame(rows, columns=COLUMNS)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and seed count of the score per recipe and budget."""
    g = results.groupby(["recipe", "budget"], sort=False)["score"]
    out = g.agg(mean="mean", std="std", seeds="count").reset_index()
    return out.fillna({"std": 0.0})


def paired_gains(results: pd.DataFrame, baseline: str = "scratch") -> pd.DataFrame:
    """Per recipe and budget: mean and std of (score - baseline score on the same seed), and wins."""
    if baseline not in set(results["recipe"]):
        raise WorkbenchError(f"baseline recipe {baseline!r} is not in the results; include it in the comparison")
    base = results[results.recipe == baseline][["budget", "seed", "score"]].rename(columns={"score": "base"})
    merged = results[results.recipe != baseline].merge(base, on=["budget", "seed"])
    merged["gain"] = merged["score"] - merged["base"]
    g = merged.groupby(["recipe", "budget"], sort=False)["gain"]
    out = g.agg(gain="mean", std="std", seeds="count").reset_index()
    wins = merged.assign(win=merged.gain > 0).groupby(["recipe", "budget"], sort=False)["win"].sum().reset_index(drop=True)
    out["wins"] = wins.astype(int).values
    return out.fillna({"std": 0.0})


def markdown_table(results: pd.DataFrame, baseline: str = "scratch") -> str:
    """Mean +- std per recipe (rows) and budget (columns), then the paired gains: for README and CLI."""
    s = summarize(results)
    budgets = sorted(s.budget.unique())
    metric = results["metric"].iloc[0] if len(results) else "score"
    lines = [f"| recipe | " + " | ".join(f"N={b}" for b in budgets) + " |", "|---|" + "---|" * len(budgets)]
    for recipe in s.recipe.unique():
        cells = []
        for b in budgets:
            row = s[(s.recipe == recipe) & (s.budget == b)]
            cells.append(f"{row['mean'].iloc[0]:.3f} ± {row['std'].iloc[0]:.3f} ({row['seeds'].iloc[0]})" if len(row) else "")
        lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    text = f"{metric}: mean ± std (seeds)\n\n" + "\n".join(lines)
    if baseline in set(results.recipe) and results.recipe.nunique() > 1:
        g = paired_gains(results, baseline)
        lines = [f"| recipe | " + " | ".join(f"N={b}" for b in budgets) + " |", "|---|" + "---|" * len(budgets)]
        for recipe in g.recipe.unique():
            cells = []
            for b in budgets:
                row = g[(g.recipe == recipe) & (g.budget == b)]
                cells.append(f"{row['gain'].iloc[0]:+.3f} ± {row['std'].iloc[0]:.3f}, wins {row['wins'].iloc[0]}/{row['seeds'].iloc[0]}" if len(row) else "")
            lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
        text += f"\n\nPaired gain over {baseline} (same seed = same labeled subset)\n\n" + "\n".join(lines)
    return text
