"""What ``workbench lab forgetting|overfitting|augmentation|sensitivity|cost`` does, as plain functions.

Each writes tidy CSVs and PNG plots to ``out`` and prints a short summary; the CLI only parses flags.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data.store import atomic_write
from . import lab
from .report import writable_dir

EXPERIMENTS = ("forgetting", "overfitting", "augmentation", "sensitivity", "cost")
DEFAULT_LRS = (1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def _save_csv(frame: pd.DataFrame, path: Path) -> Path:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return path


def _save_fig(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _task(device=None):
    from .pretrain import resolve_pretrained
    from .tasks import VisionTask

    task = VisionTask("mnist5k", device=device)
    task.pretrained = resolve_pretrained(device=device, progress=True)
    return task


def lab_command(experiment: str, *, out: str | Path, seeds: int = 3, budget: int | None = None, steps: int | None = None,
                lrs=DEFAULT_LRS, batch_sizes=None, text: bool = False, device=None, quiet: bool = False,
                jobs=None) -> dict[str, Path]:
    """Run one lab experiment and write its CSV(s) and plot(s) to ``out``; returns the written paths.

    ``jobs``: worker processes for the experiment's independent runs (see :mod:`workbench.experiments.sweep`).

    ``batch_sizes`` adds a batch-size axis to the sensitivity grid; ``text`` runs the forgetting experiment on
    the tiny GPT (genre fine-tuning, held-out LM loss as the source task) instead of the CNN.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from .. import lab_plots as P
    from ..errors import check_choice

    check_choice("lab experiment", experiment, EXPERIMENTS)
    if text and experiment != "forgetting":
        from ..errors import WorkbenchError

        raise WorkbenchError(f"--text is for the forgetting experiment only (not {experiment}); drop --text")
    out = writable_dir(out)
    if text:
        return _text_forgetting(out, seeds=seeds, budget=budget, steps=steps, device=device, quiet=quiet, jobs=jobs)
    task = _task(device)
    seed_list = list(range(seeds))
    kw = {"steps": steps, "jobs": jobs} if steps else {"jobs": jobs}
    paths: dict[str, Path] = {}
    if experiment == "forgetting":
        df = lab.forgetting(task, budget or 50, seed_list, progress=not quiet, **kw)
        paths["results"] = _save_csv(df, out / "forgetting.csv")
        paths["tradeoff"] = _save_fig(P.forgetting_tradeoff(df), out / "forgetting_tradeoff.png")
        paths["split"] = _save_fig(P.forgetting_split(df), out / "forgetting_split.png")
        cols = ["target_accuracy", "source_before", "source_after", "forgetting", "forgetting_bn_stats_alone",
                "forgetting_weights"]
        print((df.groupby("recipe", sort=False)[cols].mean() * 100).round(1).to_string())
    elif experiment == "overfitting":
        curves = lab.learning_curves(task, budget=budget or 20, seeds=seed_list[:1], **kw)
        es = lab.early_stopping(task, budget=budget or 50, seeds=seed_list, **kw)
        paths["curves"] = _save_csv(curves, out / "learning_curves.csv")
        paths["results"] = _save_csv(es, out / "early_stopping.csv")
        paths["curves_plot"] = _save_fig(P.learning_curves(curves), out / "learning_curves.png")
        paths["es_plot"] = _save_fig(P.paired_bars(es, "strategy", title="Early stopping vs fixed steps"), out / "early_stopping.png")
        print(es.groupby("strategy", sort=False)[["test_accuracy", "steps_run"]].agg(["mean", "std"]).round(3).to_string())
    elif experiment == "augmentation":
        df = lab.augmentation(task, budgets=(budget or 20,), seeds=seed_list, **kw)
        paths["results"] = _save_csv(df, out / "augmentation.csv")
        paths["plot"] = _save_fig(P.paired_bars(df, "augment", group="recipe", title="Augmentation at small N"), out / "augmentation.png")
        print(df.groupby(["recipe", "augment"], sort=False).test_accuracy.agg(["mean", "std"]).round(3).to_string())
    elif experiment == "sensitivity":
        grid = lab.lr_grid(task, lrs=lrs, budget=budget or 50, seeds=seed_list, batch_sizes=tuple(batch_sizes or (None,)), **kw)
        finder = [lab.lr_find_vision(task, r, budget or 50) for r in ("scratch", "finetune")]
        curves = pd.concat([f["curve"].assign(recipe=f["recipe"]) for f in finder])
        paths["results"] = _save_csv(grid, out / "lr_grid.csv")
        paths["finder"] = _save_csv(curves, out / "lr_finder.csv")
        paths["heatmap"] = _save_fig(P.lr_heatmap(grid), out / "lr_heatmap.png")
        default_batch = grid[grid.batch_size == lab.get_recipe("finetune", "vision").batch_size]  # the finder's batch size
        paths["finder_plot"] = _save_fig(P.lr_finder(finder, default_batch if len(default_batch) else grid), out / "lr_finder.png")
        print(lab.good_region(grid).round(4).to_string(index=False))
        for f in finder:
            print(f"LR finder, {f['recipe']}: suggests {f['suggested_lr']:.3g} (loss minimum at {f['min_loss_lr']:.3g})")
    else:
        res = lab.cost(task, budget=budget or 100, seeds=seed_list, **kw)
        paths["results"] = _save_csv(res["costs"], out / "cost.csv")
        paths["break_even"] = _save_csv(res["break_even"], out / "break_even.csv")
        paths["curves"] = _save_csv(res["curves"], out / "cost_curves.csv")
        paths["plot"] = _save_fig(P.cost_bars(res["costs"]), out / "cost.png")
        print(res["costs"].to_string(index=False))
        print(res["break_even"].to_string(index=False))
    print("\nwrote " + ", ".join(str(p) for p in paths.values()))
    return paths


def _text_forgetting(out: Path, *, seeds: int, budget: int | None, steps: int | None, device, quiet: bool, jobs=None) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from .. import lab_plots as P
    from .lab_text import text_forgetting
    from .pretrain_text import pretrained_lm
    from .text_tasks import GenreTask

    task = GenreTask(pretrained=pretrained_lm(device=device, progress=not quiet), device=device)
    df = text_forgetting(task, budget or 100, list(range(seeds)), progress=not quiet, jobs=jobs, **({"steps": steps} if steps else {}))
    paths = {"results": _save_csv(df, out / "forgetting_text.csv"),
             "tradeoff": _save_fig(P.text_forgetting_tradeoff(df), out / "forgetting_text_tradeoff.png")}
    cols = ["target_score", "source_loss_before", "source_loss_after", "forgetting", "perplexity_after"]
    print(df.groupby("recipe", sort=False)[cols].mean().round(3).to_string())
    print("\nwrote " + ", ".join(str(p) for p in paths.values()))
    return paths
