"""Writing a comparison to disk: results.csv, summary.md and the two headline plots."""
from __future__ import annotations

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


def write_comparison(results: pd.DataFrame, out: str | Path, title: str, baseline: str = "scratch") -> dict[str, Path]:
    """Save the tidy results, a Markdown summary and the plots; return the written paths."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from . import figures as plots

    out = writable_dir(out)
    paths = {"results": out / "results.csv", "summary": out / "summary.md", "scores": out / "score_vs_budget.png"}
    atomic_write(paths["results"], lambda tmp: results.to_csv(tmp, index=False))
    table = markdown_table(results, baseline)
    atomic_write(paths["summary"], lambda tmp: tmp.write_text(f"# {title}\n\n{table}\n"))
    fig = plots.score_vs_budget(results)
    fig.savefig(paths["scores"], dpi=120)
    plt.close(fig)
    if baseline in set(results.recipe) and results.recipe.nunique() > 1:
        paths["gains"] = out / "paired_gain.png"
        fig = plots.paired_gain_vs_budget(results, baseline)
        fig.savefig(paths["gains"], dpi=120)
        plt.close(fig)
    return paths
