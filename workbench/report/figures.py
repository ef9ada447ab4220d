"""Figures from tidy results and histories. Each function returns a matplotlib Figure; nothing trains here."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ..experiments.compare import paired_gains, summarize
from .palette import recipe_color, series_color


def _fig(figsize=(6, 4), **kw):
    fig, ax = plt.subplots(figsize=figsize, layout="constrained", **kw)
    return fig, ax


def _legend(ax) -> None:
    """Beside the axes when there are many recipes (so it never hides a point), inside otherwise."""
    if len(ax.get_legend_handles_labels()[1]) > 4:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend()


def recipe_colors(results: pd.DataFrame) -> dict[str, str]:
    """Each recipe's colour from the one palette (:mod:`.palette`): the same recipe, the same colour, in every figure."""
    return {name: recipe_color(name) for name in pd.unique(results["recipe"])}


def score_vs_budget(results: pd.DataFrame, ax=None):
    """Mean score per recipe against the labeled budget (log x), with +-1 std error bars over seeds."""
    fig, ax = _fig() if ax is None else (ax.figure, ax)
    s = summarize(results)
    colors = recipe_colors(results)
    for recipe, rows in s.groupby("recipe", sort=False):
        ax.errorbar(rows.budget, rows["mean"], yerr=rows["std"], marker="o", capsize=3, label=recipe, color=colors[recipe])
    ax.set_xscale("log")
    ax.set_xticks(sorted(s.budget.unique()), [str(b) for b in sorted(s.budget.unique())])
    ax.minorticks_off()  # only the budgets themselves are labelled on the log axis
    ax.set_xlabel("labeled examples N (log scale)")
    ax.set_ylabel(results["metric"].iloc[0] if len(results) else "score")
    ax.set_title("Score vs labeled budget (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    _legend(ax)
    return fig


def score_bars(results: pd.DataFrame, title: str | None = None, chance: float | None = None, ax=None):
    """At one budget: a bar per recipe (mean over seeds, +-1 std) with each seed's score as a dot."""
    fig, ax = _fig((max(5, 0.9 * results.recipe.nunique() + 2), 3.8)) if ax is None else (ax.figure, ax)
    colors = recipe_colors(results)
    s = summarize(results)
    x = np.arange(len(s))
    ax.bar(x, s["mean"], yerr=s["std"], capsize=4, color=[colors[r] for r in s.recipe], alpha=0.75)
    for i, r in enumerate(s.recipe):
        scores = results[results.recipe == r].score
        ax.plot(np.full(len(scores), i) + np.linspace(-0.15, 0.15, len(scores)), scores, "k.", ms=5)
    if chance is not None:
        ax.axhline(chance, color="black", ls=":", lw=1, label="chance")
        ax.legend(loc="lower right")
    ax.set_xticks(x, s.recipe, rotation=20)
    budgets = ", ".join(str(b) for b in sorted(results.budget.unique()))
    ax.set_ylabel(results["metric"].iloc[0] if len(results) else "score")
    ax.set_title(title or f"N = {budgets}: mean ± std over seeds (dots: seeds)")
    ax.grid(axis="y", alpha=0.3)
    return fig


def paired_gain_vs_budget(results: pd.DataFrame, baseline: str = "scratch", ax=None):
    """Paired gain over the baseline (same seed, same subset) per recipe, with +-1 std."""
    fig, ax = _fig() if ax is None else (ax.figure, ax)
    g = paired_gains(results, baseline)
    colors = recipe_colors(results)
    for recipe, rows in g.groupby("recipe", sort=False):
        ax.errorbar(rows.budget, rows.gain, yerr=rows["std"], marker="o", capsize=3, label=recipe, color=colors[recipe])
    ax.axhline(0, color="black", lw=1)
    ax.set_xscale("log")
    ax.set_xticks(sorted(g.budget.unique()), [str(b) for b in sorted(g.budget.unique())])
    ax.minorticks_off()
    ax.set_xlabel("labeled examples N (log scale)")
    ax.set_ylabel(f"gain over {baseline}")
    ax.set_title(f"Paired gain over {baseline} (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    _legend(ax)
    return fig


def training_curves(history: list[dict] | pd.DataFrame, metrics=("val_accuracy", "zero_shot_digits"), title: str = "Training"):
    """Loss per logged step (left) and evaluation metrics (right)."""
    h = pd.DataFrame(history)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    if "loss" in h:
        rows = h.dropna(subset=["loss"])
        a1.plot(rows.step, rows.loss)
    a1.set_xlabel("step")
    a1.set_ylabel("training loss")
    a1.grid(alpha=0.3)
    for m in metrics:
        if m in h:
            rows = h.dropna(subset=[m])
            a2.plot(rows.step, rows[m], marker="o", label=m)
    a2.set_xlabel("step")
    a2.grid(alpha=0.3)
    a2.legend()
    fig.suptitle(title)
    return fig


def schedule_preview(preview: dict, title: str = "Learning rate per layer group"):
    """One small panel per layer group (input at the top), from ``preview_schedule``: the LR is solid
    while the group trains and dotted while it is frozen; dashed lines mark unfreeze points."""
    names = list(preview["lrs"])
    steps = np.asarray(preview["steps"])
    peak = max(max(v) for v in preview["lrs"].values()) or 1.0
    fig, axes = plt.subplots(len(names), 1, figsize=(6.5, 0.75 * len(names) + 1.0), sharex=True, sharey=True,
                             layout="constrained", squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        lrs = np.asarray(preview["lrs"][name], dtype=float)
        mask = np.asarray(preview.get("trainable", {}).get(name, [True] * len(lrs)))
        ax.plot(steps, np.where(mask, lrs, np.nan), color=series_color(0))
        ax.plot(steps, np.where(mask, np.nan, lrs), color=series_color(0), ls=":", alpha=0.5)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        ax.set_ylim(0, peak * 1.15)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        for step, group in preview["unfreeze"]:
            ax.axvline(step, color="grey", ls="--", lw=1 if group == name else 0.5, alpha=1 if group == name else 0.4)
    axes[-1, 0].set_xlabel("step")
    fig.suptitle(f"{title}\n(solid: trains, dotted: frozen; peak LR {peak:.3g})", fontsize=10)
    return fig


def first_layer_filters(model, title: str = "First-layer filters"):
    """The 3x3 filters of the first convolution, one tile each."""
    w = model.stages[0][0].weight.detach().cpu()[:, 0]
    n = w.shape[0]
    cols = 8
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9), layout="constrained")
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i < n:
            ax.imshow(w[i], cmap="RdBu_r", vmin=-w.abs().max(), vmax=w.abs().max())
    fig.suptitle(title)
    return fig


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, classes: list[str], title: str = "Confusion matrix"):
    k = len(classes)
    cm = torch.zeros(k, k, dtype=torch.long)
    cm.index_put_((labels.long(), predicted.long()), torch.ones_like(labels, dtype=torch.long), accumulate=True)
    fig, ax = _fig((4.5, 4))
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7, color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(k), classes)
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return fig


def image_grid(images: torch.Tensor, labels=None, classes=None, cols: int = 16, title: str | None = None):
    """A grid of single-channel images (N x 1 x H x W), optionally titled by class."""
    n = len(images)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.7, rows * 0.8), layout="constrained")
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i, 0], cmap="gray")
            if labels is not None:
                ax.set_title(classes[int(labels[i])] if classes else str(int(labels[i])), fontsize=7)
    if title:
        fig.suptitle(title)
    return fig
