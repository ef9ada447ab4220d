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
# run each on the same 20 labeled handwritten digits with paired seeds.

# %%
# %matplotlib inline
import pandas as pd
import torch
import workbench
from workbench import (
    figures, get_recipe, recipe_names, preview_schedule, trainable_summary, pretrained_cnn,
    VisionTask, compare, summarize, paired_gains, frozen_groups_at, set_frozen, layer_groups
)

pretrained = pretrained_cnn().model
task = VisionTask("mnist5k", pretrained=pretrained)
groups = list(layer_groups(pretrained))
pd.DataFrame([{"recipe": n, "setting": get_recipe(n).describe()} for n in recipe_names()])

# %% [markdown]
# ## What trains: layer groups and freezing
# The CNN has five layer groups, input to output: `stage1` … `stage4` and the `head`. A **linear probe**
# freezes every group but the head; **partial** freezes the first two; **gradual** starts as a probe and
# releases one group at a time from the top.

# %%
import copy
rows = {}
for name in ["probe", "partial", "finetune"]:
    m = copy.deepcopy(pretrained)
    set_frozen(m, frozen_groups_at(get_recipe(name), groups, step=0))
    rows[name] = {r["group"]: r["trainable"] for r in trainable_summary(m)}
table = pd.DataFrame(rows)
table.insert(0, "parameters", [r["parameters"] for r in trainable_summary(pretrained)])
table

# %% [markdown]
# Freezing that would leave nothing to train is an error, not a silent no-op:

# %%
try:
    frozen_groups_at(get_recipe("finetune", frozen=5), groups, step=0)
except workbench.WorkbenchError as err:
    print("WorkbenchError:", err)

# %% [markdown]
# ## How fast each group learns: schedules, previewed
# Always look at a schedule before using it. **Discriminative** learning rates give the head a 10× larger
# rate than the pretrained backbone; the one-cycle schedule warms up, then anneals every group by the same
# factor. **Gradual** unfreezing is shown with its release points (dashed).

# %%
figures.schedule_preview(preview_schedule(get_recipe("discriminative"), groups), "discriminative: one-cycle, head 10x backbone");
figures.schedule_preview(preview_schedule(get_recipe("gradual"), groups), "gradual: the frozen groups unfreeze one by one over the first half of the run");

# %% [markdown]
# **Try it.** The same two views as knobs: tick groups to freeze them (the counts follow), then change the schedule, the backbone's share of the head's learning rate, or the unfreezing plan, and watch the preview. Both panels edit one recipe, `schedule.recipe`, which you could pass to `task.run` or `compare` as is. `08_playground` adds Run/Stop and a live comparison.

# %%
import copy
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

# %%
bn_results = compare(task, [get_recipe("probe", name="probe, bn=frozen"), get_recipe("probe", name="probe, bn=train", bn="train")],
                     budgets=[20], seeds=5, progress=False)
run = task.run(get_recipe("probe", bn="train"), budget=20, seed=0)
drift = (run.model.stages[0][1].running_mean - pretrained.stages[0][1].running_mean).abs().max().item()
print(f"with bn=train, stage1's BatchNorm running mean moved by up to {drift:.3f} although its weights were frozen")
bn = summarize(bn_results).set_index("recipe")
print(f"probe on 20 labels, mean over 5 paired seeds: frozen statistics {bn['mean'].iloc[0]:.3f}, batch statistics {bn['mean'].iloc[1]:.3f}")
bn.round(3)

# %% [markdown]
# Whether that drift helps or hurts depends on how far the target's statistics are from the source's and on
# how noisy statistics from a batch of 20 are; the table shows what it did here. The point is that it is a
# choice with an effect on a "frozen" model, so the recipe states it rather than letting `model.train()`
# decide silently.

# %% [markdown]
# ## All six recipes on 20 labeled digits
# Same 20 labeled images, same batch order and augmentation for every recipe at a given seed (paired).
# `scratch` is the same CNN from random weights.

# %%
results = compare(task, recipe_names(), budgets=[20], seeds=5, progress=False)
table = summarize(results).set_index("recipe")[["mean", "std", "seeds"]]
gains = paired_gains(results).set_index("recipe")[["gain", "std", "wins"]].rename(columns={"std": "gain std"})
table.join(gains).round(3)

# %%
best = gains["gain"].idxmax()
print(f"best recipe at N=20: {best}, {gains.loc[best, 'gain'] * 100:+.1f} points over scratch "
      f"(wins on {gains.loc[best, 'wins']} of {int(table.loc[best, 'seeds'])} seeds)")
assert gains["gain"].max() > 0, "some pretrained recipe should beat scratch at N=20"

# %% [markdown]
# **Reading it.** Every pretrained recipe starts from features that already detect strokes, so with 20
# labels they all beat scratch; how they spend the labels differs. Note the standard deviations: at this
# budget the luck of which 20 images you drew is as large as some differences between recipes, which is
# why every comparison here is *paired* by seed. `03_pretrained_vs_scratch` sweeps the budget.
