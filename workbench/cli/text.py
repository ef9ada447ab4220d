"""What ``workbench pretrain text`` and ``workbench compare text`` do, as plain functions (the CLI only parses flags).

``pretrain_text_command`` trains (or reuses) the tiny language model and saves it; ``compare_text_command``
runs recipes and baselines on a text task over budgets and paired seeds and writes ``results.csv`` (columns
as in vision), a Markdown summary and the plots.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import WorkbenchError

# The defaults of ``workbench compare text`` (the parser reads them from here)
TEXT_BUDGETS = (30, 100, 300, 1000)
TEXT_SEEDS = 3
TEXT_COMPARE_DEFAULTS = {
    "genre": ["scratch", "probe", "finetune", "tfidf"],
    "shuffled": ["bow", "tfidf", "zeroshot", "scratch", "scratch_lm", "probe", "finetune", "likelihood"],
}


def pretrain_text_command(*, objective: str = "clm", tokenizer: str = "bpe", budget_seconds: float | None = None,
                          steps: int | None = None, out: str | None = None, seed: int = 0, device=None, quiet: bool = False,
                          rebuild: bool = False) -> dict:
    """Pretrain the tiny transformer; save it to ``out`` (and to the cache when trained by steps). Returns the metrics."""
    from ..pretrain.text import pretrain_text, pretrained_lm, save_pretrained_text

    if budget_seconds is not None and steps is not None:
        raise WorkbenchError("give either --budget-seconds or --steps, not both")
    if budget_seconds is None:
        pre = pretrained_lm(objective=objective, tokenizer=tokenizer, steps=steps, seed=seed, device=device,
                            progress=not quiet, rebuild=rebuild)
    else:
        pre = pretrain_text(objective=objective, tokenizer=tokenizer, budget_seconds=budget_seconds, seed=seed,
                            device=device, progress=not quiet)
    m = pre.metrics
    print(f"pretrained {objective} / {tokenizer}: {m.get('steps')} steps, {m.get('seconds', float('nan')):.0f} s, "
          f"{m.get('tokens_per_second', float('nan')):.0f} tokens/s, {m.get('parameters')} parameters; "
          f"held-out loss {m.get('val_loss', float('nan')):.3f} (perplexity {m.get('val_perplexity', float('nan')):.1f}), "
          f"train loss {m.get('train_loss', float('nan')):.3f}")
    if pre.path:
        print(f"cached at {pre.path}")
    if out:
        save_pretrained_text(out, pre)
        import pandas as pd

        pd.DataFrame(pre.history).to_csv(Path(out) / "history.csv", index=False)
        print(f"saved to {out} (config.json, model.safetensors, tokenizer.json, workbench.json, history.csv)")
    return m


def compare_text_command(*, task: str = "genre", budgets=TEXT_BUDGETS, seeds=TEXT_SEEDS, recipes=None, out: str = "runs/compare-text",
                         pretrained: str | None = None, backbone: str = "tiny", steps: int | None = None, device=None,
                         quiet: bool = False, jobs=None, backend: str = "loky", scheduler: str | None = None):
    """Run ``recipes`` on ``task`` over ``budgets`` x ``seeds``; write results.csv, summary.md and plots to ``out``.

    ``jobs``, ``backend`` and ``scheduler``: where the runs run (see :func:`workbench.experiments.compare.compare`).
    """
    from ..tasks.text import text_task

    from ..experiments.compare import compare, markdown_table
    from ..tasks.baselines import Baseline

    recipes = list(recipes or TEXT_COMPARE_DEFAULTS.get(task, ["scratch", "finetune"]))
    _writable(out)
    t = text_task(task, pretrained=pretrained, backbone=backbone, device=device)
    built = [t.get_recipe(r) for r in recipes]
    built = [r if isinstance(r, Baseline) or not steps else r.replace(steps=steps) for r in built]
    t.check(built, budgets)  # every argument, before any baseline or training runs (and before results.partial.csv)
    partial = Path(out) / "results.partial.csv"  # grows run by run, so a long comparison can be read (or resumed by hand)
    partial.unlink(missing_ok=True)

    def on_result(row):
        import pandas as pd

        pd.DataFrame([row]).to_csv(partial, mode="a", header=not partial.exists(), index=False)

    results = compare(t, built, list(budgets), seeds, progress=not quiet, on_result=on_result, jobs=jobs,
                      backend=backend, scheduler=scheduler)
    paths = write_results(results, out, f"compare text on {task} ({backbone})")
    print(markdown_table(results))
    print("\nwrote " + ", ".join(str(p) for p in paths.values()))
    return results


def _writable(out) -> Path:
    try:
        from ..report.writing import writable_dir

        return writable_dir(out)
    except ImportError:
        path = Path(out)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise WorkbenchError(f"cannot create output folder {path} ({err.strerror}); choose another with --out") from None
        return path


def write_results(results, out, title: str) -> dict:
    try:
        from ..report.writing import write_comparison

        return write_comparison(results, out, title)
    except ImportError:  # before the shared report module is merged: csv + Markdown only
        out = _writable(out)
        paths = {"results": out / "results.csv", "summary": out / "summary.md"}
        results.to_csv(paths["results"], index=False)
        from ..experiments.compare import markdown_table

        paths["summary"].write_text(f"# {title}\n\n{markdown_table(results)}\n")
        return paths
