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
# experiment on the same CNN, data and recipes as notebooks 01-03 (and, for forgetting, the tiny GPT of 04-05).
# Every number in the prose below is computed in this notebook, on this run: re-run it and the sentences change
# with the measurements.
#
# The experiments are small (2-3 paired seeds, short runs; the first cell prints the sizes) so that the notebook
# leaves time to think; `workbench lab ...` runs the same experiments with more seeds. With so few seeds, read
# the ± spreads: a difference smaller than them is not a finding. The pretrained CNN and tiny GPT come from the
# cache; `python -m workbench.course.prewarm` builds them before class.
#
# ## Objectives
#
# After this notebook you can ...
# - measure **forgetting** on the pretraining task and split it into BatchNorm-statistics drift and weight drift;
# - write the **L2-SP** penalty and say how it differs from weight decay;
# - decide from paired seeds whether **early stopping** or **augmentation** pays at a small labeled budget;
# - read an **LR range test**, pick a learning rate from it, and check the pick against a grid;
# - compute after how many tasks **pretraining pays for itself**, from measured FLOPs.

# %%
# %matplotlib inline
import math
import pandas as pd
from workbench import lab_figures, lab, pretrained_cnn, VisionTask
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, size, elapsed

begin("07_pitfalls_and_best_practices")
SEEDS2 = size((0, 1), smoke=(0,))        # forgetting, text forgetting, LR grid, cost
SEEDS3 = size((0, 1, 2), smoke=(0, 1))   # early stopping, augmentation (paired differences need 2 at least)
STEPS = {"forgetting": size(80, smoke=8), "text": size(40, smoke=8), "curves": size(120, smoke=20),
         "early_stopping": size(100, smoke=20), "augmentation": size(80, smoke=8), "grid": size(60, smoke=8),
         "finder": size(100, smoke=20), "cost": size(100, smoke=20)}
LRS = size((1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1), smoke=(1e-3, 1e-1))

pre = pretrained_cnn()  # the cached CNN from notebook 01 (pretrained on printed glyphs, 62 classes)
task = VisionTask("mnist5k", pretrained=pre.model)
glyph_x, glyph_y = lab.glyph_holdout()
pct = lambda v: f"{100 * v:.1f}%"
pts = lambda v: f"{100 * v:+.1f} points"
drop = lambda v: f"{100 * v:.1f} points"  # a loss, printed as a positive number
lost = lambda v: f"{100 * v:.1f} points lost" if v >= 0 else f"{-100 * v:.1f} points gained"
print(f"pretrained model: {pct(pre.metrics['val_accuracy'])} on glyphs in fonts it never saw; "
      f"{len(glyph_y)} held-out glyph images are the 'source task' we watch for forgetting")
print(f"sizes: seeds {SEEDS2} and {SEEDS3}; steps per run {STEPS}")

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
# at a tenth of the head's LR); and fine-tuning with an **L2-SP** penalty (Li et al. 2018) on the backbone, passed
# to `fit` as a loss function. You write that penalty yourself first.
#
# ### Exercise 1 · L2-SP by hand
#
# L2-SP adds `alpha/2 * sum ||w - w0||^2` to the loss, summed over the **backbone's** parameters `w`, where `w0`
# is the same parameter in the pretrained model. Write `l2sp(model, pretrained, alpha)`. Think about: which
# parameters have a pretrained value at all (the digit head has 10 outputs, the glyph head 62)? Are BatchNorm's
# running statistics parameters? What must the result keep so that `fit` can backpropagate through it? The check
# runs your function on a fixed pair of small CNNs and compares it with the package's `lab.l2sp_penalty`.

# %%
def l2sp(model, pretrained, alpha):
    # BEGIN SOLUTION
    pre_params = dict(pretrained.named_parameters())
    total = 0.0
    for name, p in model.named_parameters():
        if name.startswith("head."):
            continue  # the head is new for the target task: there is nothing to pull it toward
        total = total + (p - pre_params[name].detach()).pow(2).sum()
    return alpha / 2 * total
    # END SOLUTION


check("07.l2sp", l2sp)

# %% [markdown]
# ### Predict: how much glyph accuracy does full fine-tuning lose?
#
# Before the run: full fine-tuning on 50 digits (every weight trains, BN statistics update) for a few dozen steps.
# How many points of **glyph accuracy** (62 classes, held-out fonts) will it lose? Type a number (a drop is
# positive) and press *Commit*, or set `glyph_drop.value = ...` in the cell.

# %%
glyph_drop = Prediction("07.glyph_drop", "Points of glyph accuracy lost by full fine-tuning on N = 50 digits",
                        unit="points", words=("lost", "gained"))
glyph_drop

# %%
forget = lab.forgetting(task, budget=50, seeds=SEEDS2, steps=STEPS["forgetting"])
cols = ["target_accuracy", "source_after", "forgetting", "forgetting_bn_stats_alone", "forgetting_weights"]
f = forget.groupby("recipe", sort=False)[cols].agg(["mean", "std"])
glyph_drop.reveal(100 * forget[forget.recipe == "finetune"].set_index("seed").forgetting)
(100 * f).round(1)

# %%
lab_figures.forgetting_tradeoff(forget);

# %% [markdown]
# *Figure:* for each recipe, digit accuracy (the target task) against glyph accuracy lost (forgetting), mean over
# seeds with error bars; up and to the left is better.

# %%
lab_figures.forgetting_split(forget);

# %% [markdown]
# *Figure:* for each recipe, the glyph accuracy lost in total, by the BatchNorm statistics alone and by the weights
# alone, as bars with error bars over seeds.

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
print(f"Letting only the BN statistics update (no weight changes) moves it to {pct(probe_bn.source_after)}: "
      f"{lost(probe_bn.forgetting)} purely through BatchNorm statistics, with {pct(probe_bn.target_accuracy)} on digits.")
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
# drift. The L2-SP strength here is 1.0, on the body's weights.

# %%
from workbench import text_forgetting, pretrained_lm, GenreTask

genre = GenreTask(pretrained=pretrained_lm(), test_per_class=size(60, smoke=20))
tforget = text_forgetting(genre, budget=100, seeds=SEEDS2, steps=STEPS["text"], windows=size(128, smoke=32))
tcols = ["target_score", "source_loss_after", "forgetting", "perplexity_after"]
tforget.groupby("recipe", sort=False)[tcols].agg(["mean", "std"]).round(3)

# %%
lab_figures.text_forgetting_tradeoff(tforget);

# %% [markdown]
# *Figure:* for each recipe, macro-F1 on the genre task against the rise in held-out language-model loss
# (nats per token), mean over seeds with error bars.

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
curves = lab.learning_curves(task, ("scratch", "finetune"), budget=20, seeds=(0,), steps=STEPS["curves"], eval_every=10)
lab_figures.learning_curves(curves);

# %% [markdown]
# *Figure:* training and test loss (left) and accuracy (right) every 10 steps at N = 20, for training from scratch
# and for fine-tuning; the gap between a recipe's train and test curves is its overfitting.

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
# at N = 50 over paired seeds: (a) train on all 50 for a fixed number of steps; (b) hold out 10 of the 50
# (one per class), train on 40, evaluate on the 10 every 10 steps, stop after 3 evaluations without improvement,
# and restore the best weights. Both are scored on the same test digits. (Stopping early also cuts the
# one-cycle schedule before its LR has annealed: part of what early stopping changes is the schedule.)
#
# ### Predict: does early stopping beat fixed steps at N = 50?
#
# How many points of test accuracy will early stopping add over fixed steps (negative if it costs)?

# %%
es_gain = Prediction("07.early_stopping", "Points early stopping (40 train + 10 validation) adds over fixed steps on all 50",
                     unit="points")
es_gain

# %%
es = lab.early_stopping(task, "finetune", budget=50, seeds=SEEDS3, steps=STEPS["early_stopping"])
p = es.pivot(index="seed", columns="strategy", values="test_accuracy")
fixed_col = [c for c in p.columns if c.startswith("fixed")][0]
es_col = [c for c in p.columns if c.startswith("early")][0]
diff = p[es_col] - p[fixed_col]
es_gain.reveal(100 * diff)
es.pivot(index="seed", columns="strategy", values=["test_accuracy", "steps_run"])

# %%
lab_figures.paired_bars(es, "strategy", title="Early stopping vs fixed steps (fine-tune, N = 50)");

# %% [markdown]
# *Figure:* test accuracy of fixed-step training and of early stopping at N = 50, a bar per strategy (mean over
# seeds, error bar the spread) with one dot per seed.

# %%
steps_es = es[es.strategy == es_col].steps_run
print(f"Fixed steps on all 50: {pct(p[fixed_col].mean())} ± {100 * p[fixed_col].std():.1f}; early stopping on a carved "
      f"validation split: {pct(p[es_col].mean())} ± {100 * p[es_col].std():.1f}, stopping after {steps_es.mean():.0f} of "
      f"{STEPS['early_stopping']} steps on average.")
print(f"Paired difference (early stopping - fixed): {pts(diff.mean())} ± {100 * diff.std():.1f} over {len(diff)} seeds; "
      f"early stopping won on {(diff > 0).sum()} of {len(diff)} seeds.")
verdict_es = "helped" if diff.mean() - diff.std() > 0 else "hurt" if diff.mean() + diff.std() < 0 else "made no clear difference"
print(f"So at this budget early stopping {verdict_es}: the labels it holds out are also a cost.")

# %% [markdown]
# ## 4 · Augmentation at small N
#
# Light augmentation (rotation ±10°, scale 0.9-1.1, shear, ±10% translation) vs none, for training from scratch and
# for discriminative fine-tuning, at N = 20 over paired seeds (same images, same batch order).
#
# ### Predict: what does augmentation buy a model trained from scratch?
#
# At N = 20, how many points will light augmentation add to training **from scratch**? And would you expect the
# pretrained model to gain more or less (compare after the run)?

# %%
aug_pred = Prediction("07.augmentation_scratch", "Points light augmentation adds to scratch at N = 20", unit="points")
aug_pred

# %%
aug = lab.augmentation(task, ("scratch", "discriminative"), budgets=(20,), seeds=SEEDS3, steps=STEPS["augmentation"])
a = aug.pivot_table(index=["recipe", "seed"], columns="augment", values="test_accuracy")
aug_pred.reveal(100 * (a.loc["scratch"]["light"] - a.loc["scratch"]["none"]))
lab_figures.paired_bars(aug, "augment", group="recipe", title="Augmentation at N = 20");

# %% [markdown]
# *Figure:* test accuracy at N = 20 without and with light augmentation, for scratch and for discriminative
# fine-tuning (bars: mean over seeds; dots: seeds).

# %%
aug_gain = (a["light"] - a["none"]).groupby("recipe", sort=False).agg(["mean", "std"])
for recipe, row in aug_gain.iterrows():
    print(f"{recipe}: light augmentation changes test accuracy by {pts(row['mean'])} ± {100 * row['std']:.1f} "
          f"(paired over seeds; without it {pct(a.loc[recipe]['none'].mean())}, with it {pct(a.loc[recipe]['light'].mean())})")
more = aug_gain["mean"].idxmax()
print(f"In this run '{more}' gained more from augmentation.")

# %% [markdown]
# ## 5 · Learning-rate sensitivity, and the LR range test
#
# An LR × recipe grid at N = 50 (paired seeds, short runs, one-cycle schedule, each recipe's own batch size): which
# LR is best for each recipe, and how wide is the region within 2 points of the best? (Whether the best LR moves
# with the batch size is a question for `workbench lab sensitivity --batch-sizes 16,64`: it doubles the grid.)
# Then the **LR range test** (Smith 2017; fastai's `lr_find`): one short run whose LR grows geometrically every
# step, recording the loss. `tests/test_lab.py` checks it on linear regression, where the LR at which SGD
# diverges is known exactly (2 / curvature).

# %%
grid = lab.lr_grid(task, ("scratch", "finetune"), lrs=LRS, budget=50, seeds=SEEDS2, steps=STEPS["grid"])
region = lab.good_region(grid, tolerance=0.02)
best = region.set_index("recipe")
lab_figures.lr_heatmap(grid);

# %% [markdown]
# *Figure:* a heatmap of test accuracy (mean ± std over seeds) for each recipe (rows) and learning rate (columns);
# cells marked "div" diverged.

# %%
for r, b in best.iterrows():
    print(f"{r}: best LR {b.best_lr:g} ({pct(b.best_accuracy)}); within 2 points of it: LRs {b.good_lr_min:g} to "
          f"{b.good_lr_max:g} ({b.good_width_decades:.1f} decades, {int(b.good_count)} of {int(b.grid_count)} grid points)")
lower = best.loc["finetune"].best_lr < best.loc["scratch"].best_lr
print("Fine-tuning's best LR is " + ("lower than" if lower else "not lower than") + " scratch's in this run.")

# %%
finder = [lab.lr_find_vision(task, r, budget=50, steps=STEPS["finder"]) for r in ("scratch", "finetune")]
lab_figures.lr_finder(finder, grid);

# %% [markdown]
# *Figure:* the LR range test's smoothed training loss against the learning rate (both log scale), one curve per
# recipe, with the usual suggestion (dotted) and the grid's best LR (dashed).

# %% [markdown]
# ### Exercise 2 · Pick an LR from the range test
#
# Each `finder` result holds the `curve` (a table with columns `lr`, `loss` and `smoothed`, the running average of
# the loss). Write `pick_lr(curve)`: the learning rate you would train with, read from the curve alone. The range
# test raises the LR at every step, so think about what the loss is doing at its lowest point, and what one lucky
# batch does to the raw loss. The check tries your rule on this run's two curves and compares it with the grid.

# %%
def pick_lr(curve):
    return float(curve.lr[curve.smoothed.idxmin()]) / 10  # SOLUTION


lr_fb = check("07.pick_lr", pick_lr, {"finder": finder, "grid_best": best.best_lr.to_dict()})

# %%
rule = answer_or(pick_lr, lambda: reference("07.pick_lr"), lr_fb)
for f_ in finder:
    b = best.loc[f_["recipe"]]
    mine = rule(f_["curve"])
    near = min(LRS, key=lambda lr: abs(math.log(lr / mine)))
    score = grid[(grid.recipe == f_["recipe"]) & (grid.lr == near)].test_accuracy.mean()
    print(f"{f_['recipe']}: the rule picks {mine:.2g} (loss lowest at {f_['min_loss_lr']:.2g}); the grid's best LR is "
          f"{b.best_lr:g} ({pct(b.best_accuracy)}), a factor {max(mine, b.best_lr) / min(mine, b.best_lr):.1f} away; "
          f"the grid point nearest the pick ({near:g}) scored {pct(score)}")
finder_factors = [max(rule(x["curve"]), best.loc[x["recipe"]].best_lr) / min(rule(x["curve"]), best.loc[x["recipe"]].best_lr)
                  for x in finder]

# %% [markdown]
# ## 6 · What pretraining costs, and when it pays for itself
#
# Seconds per step are measured now, on this machine (so they depend on its load); FLOPs per training step
# (forward + backward, convolutions and matmuls) come from PyTorch's FLOP counter and do not. The table gives the
# steps and batch size of one pretraining run (the recipe the cached CNN was pretrained with) and of one
# fine-tuning or scratch run at N = 100. All runs here use the one-cycle schedule, so a shorter run is a
# different schedule, not a truncated one.
#
# **Break-even**: scratch's final test accuracy is the *target*; the steps each recipe needs to reach it (from
# evaluations every 10 steps) give the compute one pretrained model saves per task.

# %%
c = lab.cost(task, budget=100, seeds=SEEDS2, steps=STEPS["cost"], recipes=("scratch", "discriminative"),
             timing_steps=size(10, smoke=2))
costs, be = c["costs"], c["break_even"]
display(costs.round(4))
be[["recipe", "final_accuracy", "target", "steps_to_target", "flops_to_target", "seconds_to_target"]].round(4)

# %%
lab_figures.cost_bars(costs);

# %% [markdown]
# *Figure:* seconds (left) and FLOPs (right, both log scale) of one pretraining run, one scratch run and one
# fine-tuning run.

# %% [markdown]
# ### Exercise 3 · The break-even number of tasks
#
# From the two tables above, compute after how many tasks pretraining has paid for itself **in FLOPs**: a task is
# one new labeled problem in the same domain, solved either from scratch or by fine-tuning the one pretrained model.
# (If fine-tuning saves nothing on the way to scratch's score, the answer is `math.inf`.)

# %%
break_even = ...  # a number of tasks
# BEGIN SOLUTION
pre_flops = costs[costs.phase == "pretraining"].flops.iloc[0]
to_target = be.set_index("recipe").flops_to_target
saved = to_target["scratch"] - to_target["discriminative"]
break_even = pre_flops / saved if saved > 0 else math.inf
# END SOLUTION
be_fb = check("07.break_even", break_even, c)

# %%
pre_row = costs[costs.phase == "pretraining"].iloc[0]
d = be.set_index("recipe").loc["discriminative"]
s = be.set_index("recipe").loc["scratch"]
ft_row = costs[costs.recipe == "discriminative"].iloc[0]
tasks_flops = answer_or(break_even, lambda: reference("07.break_even", c), be_fb)
print(f"One pretraining run: {pre_row.seconds:.0f} s and {pre_row.flops:.3g} FLOPs; one fine-tuning run: "
      f"{ft_row.seconds:.1f} s and {ft_row.flops:.3g} FLOPs ({pre_row.flops / ft_row.flops:.0f}x fewer FLOPs than pretraining).")
if d.steps_to_target == d.steps_to_target:  # reached the target
    print(f"Scratch ends at {pct(s.final_accuracy)} after {int(s.steps_to_target)} steps; discriminative fine-tuning reaches that "
          f"after {int(d.steps_to_target)} steps and ends at {pct(d.final_accuracy)}.")
    print(f"Saving per task: {d.flops_saved_per_task:.3g} FLOPs, so pretraining pays for itself after "
          f"{tasks_flops:.1f} tasks in FLOPs ({d.break_even_tasks_seconds:.1f} in measured seconds).")
else:
    print("Fine-tuning never reached scratch's final accuracy in this run, so no compute is saved.")

# %% [markdown]
# ## When to pretrain, when to fine-tune, when to train from scratch
#
# Filled from this run's measurements (N is the number of labeled target images). The recommendation column is
# computed from the numbers, with the ± spreads taken into account.

# %%
aug_m = aug.groupby(["recipe", "augment"]).test_accuracy.mean()
small_gain = a.loc["discriminative"]["light"].values - a.loc["scratch"]["light"].values
reached = d.steps_to_target == d.steps_to_target
rows = [
    ("Few labels (N = 20), target close to the source",
     f"fine-tune {pct(aug_m['discriminative', 'light'])} vs scratch {pct(aug_m['scratch', 'light'])}; paired gain {pts(small_gain.mean())} ± {100 * small_gain.std():.1f}",
     "fine-tune" if small_gain.mean() - small_gain.std() > 0 else "either"),
    ("Moderate labels (N = 100)",
     f"fine-tune ends at {pct(d.final_accuracy)} vs scratch {pct(s.final_accuracy)}, reaching scratch's score in {int(d.steps_to_target) if reached else 'n/a'} steps",
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
     f"best LR: scratch {best.loc['scratch'].best_lr:g}, fine-tune {best.loc['finetune'].best_lr:g}; within 2 points: scratch {best.loc['scratch'].good_width_decades:.1f} decades, fine-tune {best.loc['finetune'].good_width_decades:.1f}; range-test pick off by a factor " + " / ".join(f"{k:.1f} ({x['recipe']})" for k, x in zip(finder_factors, finder)),
     "the range test landed within 3x of the grid's best: start there, check a point either side" if max(finder_factors) <= 3
     else "the range test only bracketed the range (off by more than 3x): sweep a small LR grid over seeds"),
    ("Small validation split for early stopping (N = 50)",
     f"paired effect {pts(diff.mean())} ± {100 * diff.std():.1f}",
     {"helped": "use early stopping", "hurt": "use all labels, fixed steps", "made no clear difference": "fixed steps (simpler)"}[verdict_es]),
    ("Pretrain your own model",
     f"one pretraining = {pre_row.flops / ft_row.flops:.0f} fine-tuning runs of FLOPs; break-even after "
     f"{tasks_flops:.1f} tasks" if reached else "no saving measured",
     f"pretrain once when more than {math.ceil(tasks_flops)} tasks share the source domain, or when labels are scarce (first row)"
     if reached and math.isfinite(tasks_flops) else "train from scratch: no compute saved here"),
]
pd.set_option("display.max_colwidth", None)
pd.DataFrame(rows, columns=["situation", "measured in this run", "recommendation"])

# %% [markdown]
# ## Questions
#
# Pick an answer and press *Check*: every choice explains itself.

# %%
get_quiz("07.review")

# %% [markdown]
# ## Summary
#
# What this run measured, in sentences computed from its own numbers:

# %%
print(f"1. Full fine-tuning on 50 digits cost the glyph task {drop(ft.forgetting)} ({pct(before)} -> {pct(ft.source_after)}); "
      f"the probe kept it exactly, and BatchNorm statistics alone (the probe with bn='train') made {lost(probe_bn.forgetting)}. "
      f"Of the remedies that still train the backbone, '{least}' forgot least ({drop(m.loc[least].forgetting)}).")
print(f"2. The tiny GPT's held-out LM loss rose by {t_ft.forgetting:+.3f} nats/token under full fine-tuning; "
      f"'{t_least}' kept it closest ({tm.loc[t_least].forgetting:+.3f}).")
print(f"3. At N = 50 early stopping {verdict_es} ({pts(diff.mean())} ± {100 * diff.std():.1f} paired); "
      f"at N = 20 light augmentation changed scratch by {pts(aug_gain.loc['scratch', 'mean'])} and fine-tuning by "
      f"{pts(aug_gain.loc['discriminative', 'mean'])}.")
print(f"4. The grid's best LR was {best.loc['scratch'].best_lr:g} for scratch and {best.loc['finetune'].best_lr:g} for fine-tuning; "
      f"the range-test rule's picks were at most a factor {max(finder_factors):.1f} away from it.")
print("5. " + (f"Pretraining paid for itself after {tasks_flops:.1f} tasks in FLOPs." if reached and math.isfinite(tasks_flops)
               else "Fine-tuning saved no compute on the way to scratch's score in this run, so pretraining paid only in accuracy."))

# %% [markdown]
# ## Further reading
#
# - Yosinski, Clune, Bengio & Lipson (2014), *How transferable are features in deep neural networks?*: which layers
#   carry over to a new task, the reason freezing the lower stages is safe and the upper ones are not.
# - Li, Grandvalet & Davoine (2018), *Explicit inductive bias for transfer learning with convolutional networks*:
#   L2-SP, the penalty toward the starting point you wrote in Exercise 1, against plain weight decay.
# - Kumar, Raghunathan, Jones, Ma & Liang (2022), *Fine-tuning can distort pretrained features and underperform
#   out-of-distribution*: why a probe first (LP-FT) keeps more of the source skill than fine-tuning everything at once.
# - Howard & Ruder (2018), *Universal language model fine-tuning for text classification* (ULMFiT): discriminative
#   LRs and gradual unfreezing, two of the remedies measured here.
# - Smith (2017), *Cyclical learning rates for training neural networks*: the LR range test; Smith (2018),
#   *A disciplined approach to neural network hyper-parameters*: the one-cycle schedule every run here uses.
# - Kornblith, Shlens & Le (2019), *Do better ImageNet models transfer better?*: when pretrained features beat
#   training from scratch, and when fine-tuning closes the gap, the question of the table above at scale.

# %%
elapsed()
