"""Writing a comparison to disk: results.csv, recipes.json, summary.md and the two headline plots.

``recipes.json`` holds every recipe as trained (all fields) and every baseline, by the names results.csv
uses, so a folder alone says how to reproduce its rows; summary.md lists each one's one-line description.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..data.store import atomic_write
from ..errors import WorkbenchError
from ..experiments.compare import markdown_table


def writable_dir(path: str | Path) -> Path:
    """Create ``path`` if needed and check it is writable, failing early with a one-line error."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WorkbenchError(f"cannot create output folder {path} ({err.strerror}); choose another with --out") from None
    if not os.access(path, os.W_OK):
        raise WorkbenchError(f"output folder {path} is not writable; choose another with --out")
    return path


def recipes_section(recipes: dict[str, dict]) -> str:
    """The summary's list of what ran: one line per recipe or baseline."""
    lines = [f"- **{name}**: {rec.get('description', '')}" + (" (baseline, no training)" if rec.get("kind") == "baseline" else "")
             for name, rec in recipes.items()]
    return "## What ran\n\n" + "\n".join(lines) + "\n\nEvery field of each recipe is in recipes.json.\n"


def write_comparison(results: pd.DataFrame, out: str | Path, title: str, baseline: str = "scratch",
                     recipes: dict[str, dict] | None = None) -> dict[str, Path]:
    """Save the tidy results, recipes.json, a Markdown summary and the plots; return the written paths.

    ``recipes`` (name -> record) defaults to ``results.attrs["recipes"]``, which :func:`compare` sets.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from . import figures as plots

    out = writable_dir(out)
    paths = {"results": out / "results.csv", "summary": out / "summary.md", "scores": out / "score_vs_budget.png"}
    atomic_write(paths["results"], lambda tmp: results.to_csv(tmp, index=False))
    recipes = recipes if recipes is not None else results.attrs.get("recipes")
    what_ran = ""
    if recipes:
        paths["recipes"] = out / "recipes.json"
        atomic_write(paths["recipes"], lambda tmp: tmp.write_text(json.dumps(recipes, indent=1) + "\n"))
        what_ran = "\n" + recipes_section(recipes)
    table = markdown_table(results, baseline)
    atomic_write(paths["summary"], lambda tmp: tmp.write_text(f"# {title}\n\n{table}\n{what_ran}"))
    fig = plots.score_vs_budget(results)
    fig.savefig(paths["scores"], dpi=120)
    plt.close(fig)
    if baseline in set(results.recipe) and results.recipe.nunique() > 1:
        paths["gains"] = out / "paired_gain.png"
        fig = plots.paired_gain_vs_budget(results, baseline)
        fig.savefig(paths["gains"], dpi=120)
        plt.close(fig)
    return paths
