"""Figures for the pitfalls lab, from the tidy frames of :mod:`workbench.experiments.lab`. Nothing trains here."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .figures import _fig
from .palette import recipe_color, series_color


def _mean_std(frame: pd.DataFrame, by, col: str) -> pd.DataFrame:
    g = frame.groupby(by, sort=False)[col]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def _tradeoff(frame: pd.DataFrame, gained: str, scale: float, xlabel: str, ylabel: str, title: str):
    """One point per recipe: ``forgetting`` (x) against ``gained`` (y), each +-1 std over seeds, times ``scale``."""
    fig, ax = _fig((7, 4.5))
    lost = _mean_std(frame, "recipe", "forgetting")
    gain = _mean_std(frame, "recipe", gained)
    for i, (r, l, ls, g, gs) in enumerate(zip(lost.recipe, lost["mean"], lost["std"], gain["mean"], gain["std"])):
        ax.errorbar(scale * l, scale * g, xerr=scale * ls, yerr=scale * gs, marker="o", capsize=3, color=recipe_color(r), label=r)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def forgetting_tradeoff(frame: pd.DataFrame):
    """Target accuracy gained vs source (glyph) accuracy lost: one point per recipe, +-1 std over seeds."""
    return _tradeoff(frame, "target_accuracy", 100, "glyph accuracy lost on held-out fonts (points)",
                     "digit test accuracy (%)", "What fine-tuning gains vs what it forgets")


def text_forgetting_tradeoff(frame: pd.DataFrame):
    """Text: genre macro-F1 gained vs held-out LM loss added by fine-tuning, one point per recipe, +-1 std over seeds."""
    return _tradeoff(frame, "target_score", 1, "held-out LM loss added by fine-tuning (nats per token)",
                     f"{frame.metric.iloc[0]} on the fine-tuning task", "Tiny GPT: what fine-tuning gains vs what it forgets")


def forgetting_split(frame: pd.DataFrame):
    """Per recipe (mean over seeds): total forgetting; the fine-tuned BN statistics alone (in the pretrained
    weights); the fine-tuned weights alone (with the pretrained BN statistics restored)."""
    fig, ax = _fig((7, 4.5))
    cols = {"forgetting": ("total", "k"), "forgetting_bn_stats_alone": ("BN running statistics alone", series_color(1)),
            "forgetting_weights": ("weights alone (pretrained BN statistics)", series_color(0))}
    m = frame.groupby("recipe", sort=False)[list(cols)].mean() * 100
    y = np.arange(len(m))
    h = 0.8 / len(cols)
    for k, (col, (label, color)) in enumerate(cols.items()):
        ax.barh(y + (k - 1) * h, m[col], h, color=color, label=label, alpha=0.85)
    ax.set_yticks(y, m.index)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("glyph accuracy lost on held-out fonts (points)")
    ax.set_title("Where forgetting comes from")
    ax.legend(fontsize=8)
    return fig


def learning_curves(curves: pd.DataFrame):
    """Train vs test loss (left) and accuracy (right) per recipe over steps (mean over seeds)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for i, (recipe, rows) in enumerate(curves.groupby("recipe", sort=False)):
        m = rows.groupby("step").mean(numeric_only=True)
        c = recipe_color(recipe)
        a1.plot(m.index, m.train_loss, color=c, ls="--", label=f"{recipe} train")
        a1.plot(m.index, m.test_loss, color=c, label=f"{recipe} test")
        a2.plot(m.index, 100 * m.train_accuracy, color=c, ls="--", label=f"{recipe} train")
        a2.plot(m.index, 100 * m.test_accuracy, color=c, label=f"{recipe} test")
    a1.set_yscale("log")
    a1.set_ylabel("cross-entropy")
    a2.set_ylabel("accuracy (%)")
    for a in (a1, a2):
        a.set_xlabel("step")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    n = int(curves.budget.iloc[0]) if len(curves) else 0
    fig.suptitle(f"Overfitting at N = {n}: train and test diverge")
    return fig


def paired_bars(frame: pd.DataFrame, by: str, value: str = "test_accuracy", group: str | None = None, title: str = ""):
    """Mean +- std of ``value`` per ``by`` (optionally side by side per ``group``), with each seed's point."""
    fig, ax = _fig((7, 4))
    groups = list(pd.unique(frame[group])) if group else [None]
    levels = list(pd.unique(frame[by]))
    width = 0.8 / len(levels)
    for j, lev in enumerate(levels):
        for i, gname in enumerate(groups):
            rows = frame[(frame[by] == lev) & ((frame[group] == gname) if group else True)]
            x = i + (j - (len(levels) - 1) / 2) * width
            v = 100 * rows[value]
            ax.bar(x, v.mean(), width, yerr=v.std() if len(v) > 1 else 0, capsize=3, color=series_color(j),
                   label=str(lev) if i == 0 else None, alpha=0.8)
            ax.plot(np.full(len(v), x), v, "k.", ms=4)
    ax.set_xticks(range(len(groups)), [str(g) for g in groups] if group else [""])
    ax.set_ylabel(f"{value.replace('_', ' ')} (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return fig


def lr_heatmap(grid: pd.DataFrame):
    """Mean test accuracy over seeds for every (recipe, LR) cell, annotated mean +- std; 'div' where runs diverged.

    A grid over several batch sizes gets one row per (recipe, batch size)."""
    if "batch_size" in grid and grid.batch_size.nunique() > 1:  # one row per (recipe, batch size)
        grid = grid.assign(recipe=grid.recipe + ", batch " + grid.batch_size.astype(str))
    stats = grid.groupby(["recipe", "lr"], sort=False)["test_accuracy"].agg(["mean", "std"])
    recipes = list(pd.unique(grid.recipe))
    lrs = sorted(pd.unique(grid.lr))
    mean = np.array([[stats["mean"].get((r, lr), np.nan) for lr in lrs] for r in recipes])
    std = np.array([[stats["std"].get((r, lr), np.nan) for lr in lrs] for r in recipes])
    fig, ax = _fig((1.3 * len(lrs) + 2, 0.9 * len(recipes) + 1.5))
    im = ax.imshow(100 * mean, cmap="viridis", aspect="auto", vmin=np.nanmin(100 * mean) if np.isfinite(mean).any() else 0)
    for i in range(len(recipes)):
        for j in range(len(lrs)):
            m, s = mean[i, j], std[i, j]
            text = "div" if not math.isfinite(m) else f"{100 * m:.1f}\n±{100 * (s if math.isfinite(s) else 0):.1f}"
            ax.text(j, i, text, ha="center", va="center", color="white" if not math.isfinite(m) or m < np.nanmean(mean) else "black", fontsize=8)
    ax.set_xticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
    ax.set_yticks(range(len(recipes)), recipes)
    ax.set_xlabel("learning rate (head; discriminative keeps its backbone ratio)")
    ax.set_title("Test accuracy (%) over the LR grid (mean ± std over seeds)")
    fig.colorbar(im, ax=ax, label="accuracy (%)")
    return fig


def lr_finder(results: list[dict], grid: pd.DataFrame | None = None):
    """LR range test curves (loss vs LR) with the suggestion marked, and the grid's best LR per recipe."""
    fig, ax = _fig((7, 4))
    best = None
    if grid is not None:
        m = grid.groupby(["recipe", "lr"])["test_accuracy"].mean()
        best = {r: m[r].idxmax() for r in m.index.get_level_values(0).unique() if m[r].notna().any()}
    for i, res in enumerate(results):
        c = recipe_color(res["recipe"])
        curve = res["curve"]
        ax.plot(curve.lr, curve.smoothed, color=c, label=f"{res['recipe']}: suggests {res['suggested_lr']:.2g}")
        ax.axvline(res["suggested_lr"], color=c, ls=":")
        if best and res["recipe"] in best:
            ax.axvline(best[res["recipe"]], color=c, ls="--", alpha=0.6, label=f"{res['recipe']}: grid best {best[res['recipe']]:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_title("LR range test (dotted: suggestion, dashed: grid best)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def cost_bars(costs: pd.DataFrame):
    """Seconds and FLOPs of one pretraining run vs one fine-tuning / scratch run (log scale)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    labels = [f"{p}\n{r}" for p, r in zip(costs.phase, costs.recipe)]
    colors = [recipe_color(r) for r in costs.recipe]
    a1.bar(labels, costs.seconds, color=colors)
    a2.bar(labels, costs.flops, color=colors)
    a1.set_ylabel("seconds (this machine)")
    a2.set_ylabel("FLOPs (forward + backward)")
    for a in (a1, a2):
        a.set_yscale("log")
        a.tick_params(axis="x", labelsize=8)
        a.grid(alpha=0.3, axis="y")
    fig.suptitle("What one run costs")
    return fig
