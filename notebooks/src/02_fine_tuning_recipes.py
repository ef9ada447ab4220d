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
# # 02 · Fine-tuning recipes
#
# A *recipe* is one small value that says how a run trains: which layer groups learn, at which learning
# rate each, on which schedule, for how long, and what BatchNorm does in frozen layers. Here we look at the
# six recipes the workbench ships, **before** training (what trains, what the learning rates will be), then
# run each on the same 20 labeled handwritten digits with paired seeds. Terms in bold are in the
# [glossary](00_start_here.ipynb#glossary).
#
# ## Objectives
# After this notebook you can:
# - freeze layer groups by hand and count what still trains (parameters, not buffers);
# - read a schedule preview: each group's learning rate over the steps and the unfreeze points;
# - build a gradual-unfreezing recipe that releases every group before the run ends;
# - explain why BatchNorm needs an explicit policy under freezing;
# - compare recipes at a small budget with paired seeds and say what the spread allows you to conclude.

# %%
# %matplotlib inline
import copy
import pandas as pd
import torch
import workbench
from workbench import (
    figures, get_recipe, recipe_names, preview_schedule, trainable_summary, pretrained_cnn,
    VisionTask, compare, summarize, paired_gains, frozen_groups_at, set_frozen, layer_groups
)
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, size, elapsed
begin("02_fine_tuning_recipes")

seeds = size(5, smoke=2)          # paired seeds per recipe
pretrained = pretrained_cnn().model
task = VisionTask("mnist5k", pretrained=pretrained)
groups = list(layer_groups(pretrained))
pd.DataFrame([{"recipe": n, "setting": get_recipe(n).describe()} for n in recipe_names()])

# %% [markdown]
# ## What trains: layer groups and freezing
# The CNN has five **layer groups**, input to output: `stage1` … `stage4` and the `head`. A **linear probe**
# freezes every group but the head; **partial** freezes the first two; **gradual** starts as a probe and
# releases one group at a time from the top.

# %%
rows = {}
for name in ["probe", "partial", "finetune"]:
    m = copy.deepcopy(pretrained)
    set_frozen(m, frozen_groups_at(get_recipe(name), groups, step=0))
    rows[name] = {r["group"]: r["trainable"] for r in trainable_summary(m)}
frozen_table = pd.DataFrame(rows)
frozen_table.insert(0, "parameters", [r["parameters"] for r in trainable_summary(pretrained)])
frozen_table

# %% [markdown]
# Freezing that would leave nothing to train is an error, not a silent no-op:

# %%
try:
    frozen_groups_at(get_recipe("finetune", frozen=5), groups, step=0)
except workbench.WorkbenchError as err:
    print("WorkbenchError:", err)

# %% [markdown]
# ## Exercise 1: freeze the backbone by hand
# `set_frozen` does this for you; do it yourself once. **Freezing** is `requires_grad=False` on a parameter. Make
# `model` a linear probe: every parameter frozen except the head's (`model.head`). The check compares the
# trainable-parameter count with the head's.

# %%
model = copy.deepcopy(pretrained)
# BEGIN SOLUTION
for p in model.parameters():
    p.requires_grad_(False)
for p in model.head.parameters():
    p.requires_grad_(True)
# END SOLUTION
check("02.freeze_backbone", model)

# %% [markdown]
# ## Exercise 2: count what trains
# Count the trainable parameters (numbers, not tensors) of the probe-frozen model below. BatchNorm layers also
# hold running statistics: are they parameters?

# %%
probe_model = copy.deepcopy(pretrained)
set_frozen(probe_model, frozen_groups_at(get_recipe("probe"), groups, step=0))
n_trainable = sum(p.numel() for p in probe_model.parameters() if p.requires_grad)  # SOLUTION
check("02.count_trainable", n_trainable, probe_model)

# %% [markdown]
# ## How fast each group learns: schedules, previewed
# Always look at an **LR schedule** before using it. **Discriminative LRs** give the head a 10× larger rate than the
# pretrained backbone; the one-cycle schedule **warms up**, then anneals every group by the same factor.
# **Gradual unfreezing** is shown with its release points (dashed).

# %%
figures.schedule_preview(preview_schedule(get_recipe("discriminative"), groups), "discriminative: one-cycle, head 10x backbone");

# %% [markdown]
# *Figure:* five small panels, one per layer group from stage1 to the head; each learning rate rises over the first
# tenth of the steps and then falls to near zero, and the head's peak is ten times the backbone groups'.

# %%
figures.schedule_preview(preview_schedule(get_recipe("gradual"), groups), "gradual: the frozen groups unfreeze one by one over the first half of the run");

# %% [markdown]
# *Figure:* the same five panels for gradual unfreezing: the head trains from step 0; each backbone group is dotted
# (frozen) until its dashed release line, from stage4 at step 25 down to stage1 at step 100, and solid after.
#
# ## Exercise 3: give every group time to train
# Class time is short, so your run has **120 steps**, not 200. Gradual unfreezing releases the frozen groups one by
# one, evenly over the first `unfreeze_over` fraction of the run (the shipped recipe: 0.5). A group released late
# trains for few steps, at the low end of the schedule. Build a recipe of 120 steps that starts as a probe and
# releases every frozen group early enough that **each one trains for at least half of the run**.
# (`workbench.train.freezing.unfreeze_points(recipe, groups)` lists the releases.)

# %%
short_run = {"groups": groups, "steps": 120}
my_recipe = get_recipe("gradual", steps=120, unfreeze_over=0.4)  # SOLUTION
fb = check("02.release_all", my_recipe, short_run)
shown = answer_or(my_recipe, lambda: reference("02.release_all", short_run), fb)
figures.schedule_preview(preview_schedule(shown, groups), f"{shown.describe()}");

# %% [markdown]
# *Figure:* the schedule preview of the 120-step gradual recipe used above: every backbone group's dashed release
# line falls before the last step, so each group's rate ends solid (training).

# %% [markdown]
# **Try it.** The same two views as knobs: tick groups to freeze them (the counts follow), then change the schedule,
# the backbone's share of the head's learning rate, or the unfreezing plan, and watch the preview. Both panels edit
# one recipe, `schedule.recipe`, which you could pass to `task.run` or `compare` as is. `08_playground` adds Run/Stop
# and a live comparison.

# %%
import traitlets
from IPython.display import display
from workbench.widgets import FreezePanel, SchedulePanel

freeze = FreezePanel(copy.deepcopy(pretrained), get_recipe("gradual"))
schedule = SchedulePanel(groups, freeze.recipe)
traitlets.link((freeze, "recipe"), (schedule, "recipe"))
display(freeze, schedule)
freeze.checkboxes["stage2"].value = False  # what a click does: stage2 and above now train from step 0
assert schedule.recipe.frozen == 1 and schedule.preview["unfreeze"] == [(100, "stage1")]

# %% [markdown]
# ## BatchNorm under freezing
# `model.train()` switches every BatchNorm layer to batch statistics, **including those in frozen layers**:
# a "frozen" backbone then still changes, through its running means and variances. The workbench makes
# this an explicit recipe field, `bn`: `frozen` keeps frozen groups' BatchNorm in eval mode, `train` lets
# batches update their statistics. We measure both for a probe on 20 labels.
#
# ### Predict: does letting BatchNorm follow the digits help the probe?
# The glyphs' statistics (stroke thickness, how much of the image is ink) differ from handwriting's. With 20
# labels, how many points will `bn=train` add to the probe over `bn=frozen`? (Negative if it hurts.)

# %%
bn_guess = Prediction("02.bn_effect", "Points bn=train adds to a probe on 20 labels, over bn=frozen?", unit="points")
bn_guess

# %%
bn_results = compare(task, [get_recipe("probe", name="probe, bn=frozen"), get_recipe("probe", name="probe, bn=train", bn="train")],
                     budgets=[20], seeds=seeds, progress=False)
run = task.run(get_recipe("probe", bn="train"), budget=20, seed=0)
drift = (run.model.stages[0][1].running_mean - pretrained.stages[0][1].running_mean).abs().max().item()
print(f"with bn=train, stage1's BatchNorm running mean moved by up to {drift:.3f} although its weights were frozen")
bn = summarize(bn_results).set_index("recipe")
print(f"probe on 20 labels, mean over {seeds} paired seeds: frozen statistics {bn['mean'].iloc[0]:.3f}, batch statistics {bn['mean'].iloc[1]:.3f}")
display(bn.round(3))
bn_per_seed = bn_results.pivot(index="seed", columns="recipe", values="score")
bn_guess.reveal(100 * (bn_per_seed["probe, bn=train"] - bn_per_seed["probe, bn=frozen"]))

# %% [markdown]
# Whether that drift helps or hurts depends on how far the target's statistics are from the source's and on
# how noisy statistics from a batch of 20 are; the reveal shows what it did here, seed by seed. The point is that
# it is a choice with an effect on a "frozen" model, so the recipe states it rather than letting `model.train()`
# decide silently.

# %% [markdown]
# ## All six recipes on 20 labeled digits
# Same 20 labeled images, same batch order and augmentation for every recipe at a given seed (**paired seeds**).
# `scratch` is the same CNN from random weights.
#
# ### Predict: which recipe wins at N=20?

# %%
best_guess = Prediction("02.best_recipe", "Which recipe scores best on 20 labeled digits?", choices=recipe_names())
best_guess

# %%
results = compare(task, recipe_names(), budgets=[20], seeds=seeds, progress=False)
table = summarize(results).set_index("recipe")[["mean", "std", "seeds"]]
gains = paired_gains(results).set_index("recipe")[["gain", "std", "wins"]].rename(columns={"std": "gain std"})
display(table.join(gains).round(3))
per_seed = results.pivot(index="seed", columns="recipe", values="score")
best_guess.reveal(per_seed.idxmax(axis=1))

# %%
figures.score_bars(results, title="20 labeled digits: mean ± std over paired seeds (dots: seeds)");

# %% [markdown]
# *Figure:* one bar per recipe, its height the mean test accuracy over the paired seeds with a ±1 std error bar and
# each seed's score as a dot; scratch's bar is the lowest.

# %%
best = gains["gain"].idxmax()
print(f"best recipe at N=20: {best}, {gains.loc[best, 'gain'] * 100:+.1f} points over scratch "
      f"(wins on {gains.loc[best, 'wins']} of {int(table.loc[best, 'seeds'])} seeds)")
assert gains["gain"].max() > 0, "some pretrained recipe should beat scratch at N=20"

# %% [markdown]
# ## Exercise 4: how deep to freeze at N=20?
# Three recipes differ only in how many leading groups stay frozen for the whole run: `finetune` freezes 0,
# `partial` 2 (stage1, stage2), `probe` 4 (all but the head). From `results`, give the depth that scores best. The
# check then tells you how well this sweep supports it: the paired margin over the runner-up and its 95% interval.

# %%
means = summarize(results).set_index("recipe")["mean"]  # SOLUTION
my_depth = {"finetune": 0, "partial": 2, "probe": 4}[means[["finetune", "partial", "probe"]].idxmax()]  # SOLUTION
check("02.freeze_depth", my_depth, results)

# %% [markdown]
# **Defend it.** Using the check's numbers: is the winner clearly better, or within what these seeds can resolve?
# What would you do to decide (more seeds? other budgets?), and why might the answer change at N=500?
#
# <!-- BEGIN SOLUTION -->
# With 20 labels, how much of the backbone to adapt is a trade: freezing protects the pretrained features from
# overfitting 20 images; training them lets stroke detectors tuned on print adapt to handwriting. If the paired
# interval of the winner over the runner-up excludes 0, the sweep supports it; if it includes 0, the depths are
# indistinguishable with these seeds, and more seeds (the paired interval shrinks as 1/√n) are the honest next step.
# At N=500 there is enough data to adapt every layer, so freezing less should win (notebook 03 shows the probe
# falling behind as N grows).
# <!-- END SOLUTION -->

# %% [markdown]
# ## Reading it
# The cell below states what this run measured.

# %%
pre = [r for r in recipe_names() if r != "scratch"]
beat = [r for r in pre if gains.loc[r, "gain"] > 0]
print(f"{len(beat)} of {len(pre)} pretrained recipes beat scratch on average at N=20" + (f" (not: {', '.join(sorted(set(pre) - set(beat)))})" if len(beat) < len(pre) else ""))
spread = table.loc[pre, "std"].max() * 100
gap = (table.loc[pre, "mean"].max() - table.loc[pre, "mean"].min()) * 100
print(f"the std over seeds of a pretrained recipe's score reaches {spread:.1f} points, while their means span {gap:.1f} points")

# %% [markdown]
# Every pretrained recipe starts from features that already detect strokes; how they spend the 20 labels differs.
# Compare the two numbers above: where the seed-to-seed spread is as large as the differences between recipes,
# only a **paired** comparison (the `wins` and `gain std` columns) can separate them. `03_pretrained_vs_scratch`
# sweeps the budget.

# %% [markdown]
# ## Questions

# %%
get_quiz("02.review")

# %% [markdown]
# ## Summary

# %%
total = sum(p.numel() for p in pretrained.parameters())
print(f"A linear probe trains {frozen_table.loc['total', 'probe']:,} of {total:,} parameters; "
      f"partial freezing trains {frozen_table.loc['total', 'partial']:,}, full fine-tuning all of them.")
print(f"On 20 labeled digits over {seeds} paired seeds, {best} scored best ({table.loc[best, 'mean']:.3f}), "
      f"{gains.loc[best, 'gain'] * 100:+.1f} points over scratch ({table.loc['scratch', 'mean']:.3f}), winning on {gains.loc[best, 'wins']} seeds.")
print(f"Letting BatchNorm statistics follow the batches changed the probe by "
      f"{100 * (bn['mean'].iloc[1] - bn['mean'].iloc[0]):+.1f} points on average.")

# %% [markdown]
# ## Further reading
# - Yosinski et al. 2014, *How transferable are features in deep neural networks?*: why early layers are the ones to freeze.
# - Howard & Ruder 2018, *ULMFiT*: discriminative learning rates, gradual unfreezing and slanted triangular (one-cycle-like) schedules.
# - Smith 2017, *Cyclical Learning Rates*, and Smith 2018, *A disciplined approach to neural network hyper-parameters*: the one-cycle schedule and the LR range test.
# - Kumar et al. 2022, *Fine-Tuning can Distort Pretrained Features and Underperform Out-of-Distribution (LP-FT)*: probe first, then fine-tune.
# - Li et al. 2018, *Explicit Inductive Bias for Transfer Learning with Convolutional Networks (L2-SP)*: keeping fine-tuned weights near the pretrained ones.
# - Kornblith et al. 2019, *Do Better ImageNet Models Transfer Better?*: linear probes vs fine-tuning, measured across targets.

# %%
elapsed()
