# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Pitfalls and best practices, measured
#
# Every fine-tuning guide warns about the same things: **forgetting** what pretraining taught, **overfitting**
# on small data, **sensitivity** to the learning rate, and the **cost** of pretraining; and recommends the same
# cures: freezing, lower learning rates, early stopping, augmentation. Here each warning is a small live
# experiment on the same CNN, data and recipes as notebooks 01-03. Every number in the prose below is computed
# in this notebook, on this run: re-run it and the sentences change with the measurements.
#
# The grids are small (2-3 paired seeds, 100-200 steps) so the notebook runs in a few minutes on a laptop CPU;
# the `workbench lab ...` command runs the same experiments with more seeds. With so few seeds, read the
# ± spreads: a difference smaller than them is not a finding.

# %%
# %matplotlib inline
import time
import numpy as np
import pandas as pd
from workbench import lab_figures, lab, pretrained_cnn, VisionTask

T0 = time.perf_counter()
pre = pretrained_cnn()  # the cached CNN from notebook 01 (pretrained on printed glyphs, 62 classes)
task = VisionTask("mnist5k", pretrained=pre.model)
glyph_x, glyph_y = lab.glyph_holdout()
pct = lambda v: f"{100 * v:.1f}%"
pts = lambda v: f"{100 * v:+.1f} points"
drop = lambda v: f"{100 * v:.1f} points"  # a loss, printed as a positive number
print(f"pretrained model: {pct(pre.metrics['val_accuracy'])} on glyphs in fonts it never saw; "
      f"{len(glyph_y)} held-out glyph images are the 'source task' we watch for forgetting")

# %% [markdown]
# ## 1 · Forgetting: what fine-tuning on digits costs on the glyph task
#
# After fine-tuning on N = 50 real digits we put the **pretrained glyph head** back on the fine-tuned backbone and
# score the 62-class glyph task on held-out fonts. The drop is *forgetting*. To tell **BatchNorm running
# statistics** (per-channel mean and variance: buffers, not weights) from weights, we swap them separately:
# the pretrained weights wearing the fine-tuned statistics ("BN statistics alone"), and the fine-tuned weights
# wearing the pretrained statistics ("weights alone"). The two need not add up: weights trained together with new
# statistics may come to rely on them.
#
# The recipes: the probe (frozen backbone, BN frozen); the probe with BN statistics allowed to update (`bn="train"`,
# no weight changes at all); full fine-tuning; fine-tuning for a quarter of the steps; discriminative LRs (backbone
# at a tenth of the head's LR); and fine-tuning with an **L2-SP** penalty `alpha/2 * ||w - w_pretrained||^2` on the
# backbone, passed to `fit` as a loss function.

# %%
forget = lab.forgetting(task, budget=50, seeds=(0, 1), steps=80)
cols = ["target_accuracy", "source_after", "forgetting", "forgetting_bn_stats_alone", "forgetting_weights"]
f = forget.groupby("recipe", sort=False)[cols].agg(["mean", "std"])
(100 * f).round(1)

# %%
lab_figures.forgetting_tradeoff(forget);
lab_figures.forgetting_split(forget);

# %%
m = forget.groupby("recipe", sort=False)[cols + ["source_before"]].mean()
before = m.source_before.iloc[0]
probe, probe_bn, ft = m.loc["probe"], m.loc["probe, BN stats train"], m.loc["finetune"]
limiters = ["finetune, fewer steps", "discriminative (backbone lr/10)", "finetune + L2-SP"]
# facts that hold by construction: a frozen backbone with frozen BN cannot forget; BN stats alone change no weight
assert (forget[forget.recipe == "probe"].forgetting == 0).all()
assert (forget[forget.recipe == "probe, BN stats train"].forgetting_weights == 0).all()
print(f"Before fine-tuning the glyph task scores {pct(before)}.")
print(f"The probe keeps it exactly ({pct(probe.source_after)}) and reaches {pct(probe.target_accuracy)} on digits.")
print(f"Letting only the BN statistics update (no weight changes) drops it to {pct(probe_bn.source_after)}: "
      f"{drop(probe_bn.forgetting)} lost purely to BatchNorm statistics, with {pct(probe_bn.target_accuracy)} on digits.")
print(f"Full fine-tuning reaches {pct(ft.target_accuracy)} on digits and drops the glyph task to {pct(ft.source_after)} "
      f"(it forgets {drop(ft.forgetting)}). Its BN statistics alone, in the pretrained weights, cost {drop(ft.forgetting_bn_stats_alone)}; "
      f"its weights with the pretrained statistics restored cost {drop(ft.forgetting_weights)}"
      + (" (restoring the old statistics makes it worse: the new weights rely on the new statistics)." if ft.forgetting_weights > ft.forgetting
         else "."))
for r in limiters:
    print(f"  {r}: forgets {drop(m.loc[r].forgetting)} (vs {drop(ft.forgetting)}), digits {pct(m.loc[r].target_accuracy)} "
          f"(vs {pct(ft.target_accuracy)})")
least = m.loc[limiters].forgetting.idxmin()
print(f"Of the remedies that still train the backbone, '{least}' forgot least in this run.")

# %% [markdown]
# ### The same question for the tiny GPT
#
# The language model from notebooks 04-05 was pretrained to predict the next token. We fine-tune it on the genre
# task (N = 100 passages from training plays) and then read its **held-out language-model loss** through the
# pretrained LM head: how much worse did it get at the task it was pretrained on? A transformer has no BatchNorm
# (LayerNorm normalises each token on the fly, with no running statistics), so here all forgetting is weight
# drift. The L2-SP strength is 1.0 on the body's weights.

# %%
from workbench import text_forgetting, pretrained_lm, GenreTask

genre = GenreTask(pretrained=pretrained_lm(), test_per_class=60)
tforget = text_forgetting(genre, budget=100, seeds=(0, 1), steps=60)
tcols = ["target_score", "source_loss_after", "forgetting", "perplexity_after"]
display(tforget.groupby("recipe", sort=False)[tcols].agg(["mean", "std"]).round(3))
lab_figures.text_forgetting_tradeoff(tforget);

# %%
tm = tforget.groupby("recipe", sort=False)[tcols + ["source_loss_before", "perplexity_before"]].mean()
assert (tforget[tforget.recipe == "probe"].forgetting == 0).all()  # frozen body, untouched LM head: by construction
t_ft = tm.loc["finetune"]
print(f"Pretrained GPT: held-out LM loss {tm.source_loss_before.iloc[0]:.3f} (perplexity {tm.perplexity_before.iloc[0]:.1f}); "
      f"the probe keeps it exactly and scores macro-F1 {tm.loc['probe'].target_score:.3f} on genre.")
print(f"Full fine-tuning: macro-F1 {t_ft.target_score:.3f}, held-out LM loss {t_ft.forgetting:+.3f} nats/token "
      f"(perplexity {tm.perplexity_before.iloc[0]:.1f} -> {t_ft.perplexity_after:.1f}).")
t_limiters = ["finetune, fewer steps", "discriminative (backbone lr/7)", "finetune + L2-SP"]
for r in t_limiters:
    print(f"  {r}: LM loss {tm.loc[r].forgetting:+.3f} (vs {t_ft.forgetting:+.3f}), macro-F1 {tm.loc[r].target_score:.3f} "
          f"(vs {t_ft.target_score:.3f})")
t_least = tm.loc[t_limiters].forgetting.idxmin()
print(f"Of the remedies that still train the body, '{t_least}' forgot least here; the CNN's answer was '{least}'.")

# %% [markdown]
# ## 2 · Overfitting: train and test curves at N = 20
#
# With 20 labeled images (2 per class), no augmentation and no label smoothing, how far apart do training and test
# get, and does the test loss turn around? Both recipes see the same images in the same order.

# %%
curves = lab.learning_curves(task, ("scratch", "finetune"), budget=20, seeds=(0,), steps=120, eval_every=10)
lab_figures.learning_curves(curves);

# %%
for recipe, c in curves.groupby("recipe", sort=False):
    end = c.iloc[-1]
    best = c.loc[c.test_loss.idxmin()]
    print(f"{recipe}: after {int(end.step)} steps train accuracy {pct(end.train_accuracy)} vs test {pct(end.test_accuracy)} "
          f"(gap {pts(end.train_accuracy - end.test_accuracy)}); test loss was lowest at step {int(best.step)} "
          f"({best.test_loss:.3f}) and ends at {end.test_loss:.3f}, while train loss fell to {end.train_loss:.4f}")
    if end.test_loss > 1.02 * best.test_loss:  # more than 2% above its minimum: a real turn, not rounding
        print(f"  -> {recipe}: the test loss turned around after step {int(best.step)}: past it, training only memorises")
    else:
        print(f"  -> {recipe}: the test loss was still at its minimum at the end (the one-cycle schedule anneals the LR), so here "
              f"overfitting shows as the train/test gap, not as a rising test loss")

# %% [markdown]
# ## 3 · Early stopping: worth the labels it costs?
#
# Early stopping needs a validation set, and at small N that set comes out of the labeled budget. We compare,
# at N = 50 over 3 paired seeds: (a) train on all 50 for a fixed number of steps; (b) hold out 10 of the 50
# (one per class), train on 40, evaluate on the 10 every 10 steps, stop after 3 evaluations without improvement,
# and restore the best weights. Both are scored on the same 1,000 test digits. (Stopping early also cuts the
# one-cycle schedule before its LR has annealed: part of what early stopping changes is the schedule.)

# %%
es = lab.early_stopping(task, "finetune", budget=50, seeds=(0, 1, 2), steps=100)
lab_figures.paired_bars(es, "strategy", title="Early stopping vs fixed steps (fine-tune, N = 50)");
es.pivot(index="seed", columns="strategy", values=["test_accuracy", "steps_run"])

# %%
p = es.pivot(index="seed", columns="strategy", values="test_accuracy")
fixed_col, es_col = p.columns[0] if p.columns[0].startswith("fixed") else p.columns[1], [c for c in p.columns if c.startswith("early")][0]
diff = p[es_col] - p[fixed_col]
steps_es = es[es.strategy == es_col].steps_run
print(f"Fixed steps on all 50: {pct(p[fixed_col].mean())} ± {100 * p[fixed_col].std():.1f}; early stopping on a carved "
      f"validation split: {pct(p[es_col].mean())} ± {100 * p[es_col].std():.1f}, stopping after {steps_es.mean():.0f} of 100 steps on average.")
print(f"Paired difference (early stopping - fixed): {pts(diff.mean())} ± {100 * diff.std():.1f} over {len(diff)} seeds; "
      f"early stopping won on {(diff > 0).sum()} of {len(diff)} seeds.")
verdict_es = "helped" if diff.mean() - diff.std() > 0 else "hurt" if diff.mean() + diff.std() < 0 else "made no clear difference"
print(f"So at this budget early stopping {verdict_es}: the labels it holds out are also a cost.")

# %% [markdown]
# ## 4 · Augmentation at small N
#
# Light augmentation (rotation ±10°, scale 0.9-1.1, shear, ±10% translation) vs none, for training from scratch and
# for discriminative fine-tuning, at N = 20 over 3 paired seeds (same images, same batch order).

# %%
aug = lab.augmentation(task, ("scratch", "discriminative"), budgets=(20,), seeds=(0, 1, 2), steps=80)
lab_figures.paired_bars(aug, "augment", group="recipe", title="Augmentation at N = 20");
a = aug.pivot_table(index=["recipe", "seed"], columns="augment", values="test_accuracy")
aug_gain = (a["light"] - a["none"]).groupby("recipe", sort=False).agg(["mean", "std"])
for recipe, row in aug_gain.iterrows():
    print(f"{recipe}: light augmentation changes test accuracy by {pts(row['mean'])} ± {100 * row['std']:.1f} "
          f"(paired over seeds; without it {pct(a.loc[recipe]['none'].mean())}, with it {pct(a.loc[recipe]['light'].mean())})")

# %% [markdown]
# ## 5 · Learning-rate sensitivity, and the LR range test
#
# An LR × recipe × batch-size grid at N = 50 (2 paired seeds, 60 steps, one-cycle schedule, batch 16 and the
# recipes' own 64): which LR is best for each recipe, does it move with the batch size, and how wide is the region
# within 2 points of the best? Then the **LR range test** (Smith; fastai's `lr_find`):
# one short run whose LR grows geometrically every step, recording the loss; its usual suggestion is a tenth of
# the LR where the loss is lowest. `tests/test_lab.py` checks it on linear regression, where the LR at which
# SGD diverges is known exactly (2 / curvature).

# %%
grid = lab.lr_grid(task, ("scratch", "finetune"), lrs=(1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1), budget=50, seeds=(0, 1), steps=60,
                   batch_sizes=(16, 64))
lab_figures.lr_heatmap(grid);
region = lab.good_region(grid, tolerance=0.02)
region

# %%
by_bs = region.set_index(["recipe", "batch_size"])
for r in ("scratch", "finetune"):
    small, large = by_bs.loc[(r, 16)], by_bs.loc[(r, 64)]
    print(f"{r}: best LR {small.best_lr:g} at batch 16 ({pct(small.best_accuracy)}) and {large.best_lr:g} at batch 64 "
          f"({pct(large.best_accuracy)}); good region {small.good_width_decades:.1f} vs {large.good_width_decades:.1f} decades")

# %%
finder = [lab.lr_find_vision(task, r, budget=50) for r in ("scratch", "finetune")]  # at the recipes' batch size, 64
lab_figures.lr_finder(finder, grid[grid.batch_size == 64]);
best = region[region.batch_size == 64].set_index("recipe")
for f in finder:
    b = best.loc[f["recipe"]]
    print(f"{f['recipe']}: grid best LR {b.best_lr:g} ({pct(b.best_accuracy)}); within 2 points of it: LRs "
          f"{b.good_lr_min:g} to {b.good_lr_max:g} ({b.good_width_decades:.1f} decades, {int(b.good_count)} of {int(b.grid_count)} grid points). "
          f"LR finder suggests {f['suggested_lr']:.2g} (loss lowest at {f['min_loss_lr']:.2g}), "
          f"a factor {max(f['suggested_lr'], b.best_lr) / min(f['suggested_lr'], b.best_lr):.1f} from the grid's best.")
lower = best.loc["finetune"].best_lr < best.loc["scratch"].best_lr
print("Fine-tuning's best LR is " + ("lower than" if lower else "not lower than") + " scratch's in this run.")

# %% [markdown]
# ## 6 · What pretraining costs, and when it pays for itself
#
# Seconds per step are measured now, on this machine (so they depend on its load); FLOPs per training step
# (forward + backward, convolutions and matmuls) come from PyTorch's FLOP counter and do not. Pretraining is
# 1,000 steps at batch 128 on glyphs; a fine-tuning or scratch run at N = 100 is 100 steps at batch 64.
# All runs in this notebook use the one-cycle schedule, so a shorter run is a different schedule, not a truncated one.
# **Break-even**: scratch's final test accuracy is the target; the steps each recipe needs to reach it (from
# evaluations every 10 steps) give the compute one pretrained model saves per task, and pretraining's cost divided
# by that saving is the number of tasks after which pretraining has paid for itself.

# %%
c = lab.cost(task, budget=100, seeds=(0, 1), steps=100, recipes=("scratch", "discriminative"), timing_steps=10)
costs, be = c["costs"], c["break_even"]
lab_figures.cost_bars(costs);
display(costs.round(4)); display(be.round(4))

# %%
pre_row = costs[costs.phase == "pretraining"].iloc[0]
d = be.set_index("recipe").loc["discriminative"]
s = be.set_index("recipe").loc["scratch"]
ft_row = costs[costs.recipe == "discriminative"].iloc[0]
print(f"One pretraining run: {pre_row.seconds:.0f} s and {pre_row.flops:.3g} FLOPs; one fine-tuning run: "
      f"{ft_row.seconds:.1f} s and {ft_row.flops:.3g} FLOPs ({pre_row.flops / ft_row.flops:.0f}x fewer FLOPs than pretraining).")
if d.steps_to_target == d.steps_to_target:  # reached the target
    print(f"Scratch ends at {pct(s.final_accuracy)} after {int(s.steps_to_target)} steps; discriminative fine-tuning reaches that "
          f"after {int(d.steps_to_target)} steps and ends at {pct(d.final_accuracy)}.")
    print(f"Saving per task: {d.flops_saved_per_task:.3g} FLOPs, so pretraining pays for itself after "
          f"{d.break_even_tasks_flops:.1f} tasks in FLOPs ({d.break_even_tasks_seconds:.1f} in measured seconds).")
else:
    print("Fine-tuning never reached scratch's final accuracy in this run, so no compute is saved.")

# %% [markdown]
# ## When to pretrain, when to fine-tune, when to train from scratch
#
# Filled from this run's measurements (N is the number of labeled target images). The recommendation column is
# computed from the numbers, with the ± spreads taken into account.

# %%
import math
aug_m = aug.groupby(["recipe", "augment"]).test_accuracy.mean()
finder_factors = [max(x["suggested_lr"], best.loc[x["recipe"]].best_lr) / min(x["suggested_lr"], best.loc[x["recipe"]].best_lr) for x in finder]
small_gain = a.loc["discriminative"]["light"].values - a.loc["scratch"]["light"].values
rows = [
    ("Few labels (N = 20), target close to the source",
     f"fine-tune {pct(aug_m['discriminative', 'light'])} vs scratch {pct(aug_m['scratch', 'light'])}; paired gain {pts(small_gain.mean())} ± {100 * small_gain.std():.1f}",
     "fine-tune" if small_gain.mean() - small_gain.std() > 0 else "either"),
    ("Moderate labels (N = 100)",
     f"fine-tune ends at {pct(d.final_accuracy)} vs scratch {pct(s.final_accuracy)}, reaching scratch's score in {int(d.steps_to_target) if d.steps_to_target == d.steps_to_target else 'n/a'} steps",
     "fine-tune (cheaper to a given score)" if d.final_accuracy >= s.final_accuracy else "scratch"),
    ("Must keep the source task (no forgetting)",
     f"probe forgets {drop(probe.forgetting)} and reaches {pct(probe.target_accuracy)}; full fine-tune forgets {drop(ft.forgetting)} for {pct(ft.target_accuracy)}; '{least}' forgets {drop(m.loc[least].forgetting)} for {pct(m.loc[least].target_accuracy)}",
     f"probe, or '{least}' as the middle ground"),
    ("Must keep the pretrained LM (tiny GPT)",
     f"full fine-tune on genre adds {t_ft.forgetting:+.3f} nats/token of held-out LM loss for macro-F1 {t_ft.target_score:.3f}; "
     f"'{t_least}' adds {tm.loc[t_least].forgetting:+.3f} for {tm.loc[t_least].target_score:.3f}; probe 0 for {tm.loc['probe'].target_score:.3f}",
     f"probe, or '{t_least}'" if tm.loc[t_least].target_score >= tm.loc["probe"].target_score else "probe (the cheapest and it keeps everything)"),
    ("BatchNorm in a frozen backbone",
     f"BN statistics alone (probe, bn='train') cost {drop(probe_bn.forgetting)} on the source task; in full fine-tuning {drop(ft.forgetting_bn_stats_alone)}",
     "keep BN frozen (eval mode) where the source skill matters"),
    ("Choosing the learning rate",
     f"best LR: scratch {best.loc['scratch'].best_lr:g}, fine-tune {best.loc['finetune'].best_lr:g}; within 2 points: scratch {best.loc['scratch'].good_width_decades:.1f} decades, fine-tune {best.loc['finetune'].good_width_decades:.1f}; LR finder off by a factor " + " / ".join(f"{max(x['suggested_lr'], best.loc[x['recipe']].best_lr) / min(x['suggested_lr'], best.loc[x['recipe']].best_lr):.1f} ({x['recipe']})" for x in finder),
     "the LR finder landed within 3x of the grid's best: start there, check a point either side" if max(finder_factors) <= 3
     else "the LR finder only bracketed the range (off by more than 3x): sweep a small LR grid over seeds"),
    ("Small validation split for early stopping (N = 50)",
     f"paired effect {pts(diff.mean())} ± {100 * diff.std():.1f}",
     {"helped": "use early stopping", "hurt": "use all labels, fixed steps", "made no clear difference": "fixed steps (simpler)"}[verdict_es]),
    ("Pretrain your own model",
     f"one pretraining = {pre_row.flops / ft_row.flops:.0f} fine-tuning runs of FLOPs; break-even after "
     f"{d.break_even_tasks_flops:.1f} tasks" if d.steps_to_target == d.steps_to_target else "no saving measured",
     f"pretrain once when more than {math.ceil(d.break_even_tasks_flops)} tasks share the source domain, or when labels are scarce (first row)"
     if d.steps_to_target == d.steps_to_target and math.isfinite(d.break_even_tasks_flops) else "train from scratch: no compute saved here"),
]
pd.set_option("display.max_colwidth", None)
pd.DataFrame(rows, columns=["situation", "measured in this run", "recommendation"])

# %%
elapsed = time.perf_counter() - T0
print(f"notebook ran in {elapsed:.0f} s")
