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
# # 08 · Playground: turn the knobs, then measure
#
# Everything on this page edits **one recipe** (the same value the CLI builds and `compare` sweeps):
#
# 1. **What trains**: tick a layer group to freeze it; the counts show how many parameters will learn. The BatchNorm policy decides whether frozen groups keep their statistics.
# 2. **How fast**: pick a schedule, the head's learning rate, how much slower the backbone learns, the warm-up and a gradual-unfreezing plan. The preview shows every group's learning rate before you train (dotted: still frozen).
# 3. **Train**: Run fine-tunes the pretrained CNN on N labeled handwritten digits. Stop ends the run within a step or two and keeps the model and its history (`pg.train.result`).
# 4. **Compare**: run several recipes on the same labeled images (same seed = same images), and read the *paired* gain over training from scratch.
#
# The first cell loads the digits and the pretrained CNN (from the cache that `python -m workbench.course.prewarm`
# fills before class; without it, the CNN is pretrained first).
#
# ## Objectives
#
# After this notebook you can ...
# - predict how many parameters a freezing choice leaves trainable, and see why the last stage dominates;
# - read a schedule preview: where the learning rate peaks, what it is halfway, when a frozen group starts learning;
# - build a recipe with a given warm-up or gradual-unfreezing plan, and check it before any training;
# - run, stop and compare recipes yourself, on paired seeds.

# %%
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, elapsed
from workbench.widgets import playground

begin("08_playground")
pg = playground(recipe="discriminative")
pg

# %% [markdown]
# *Figure:* the playground's schedule panel draws each layer group's learning rate against the training step
# (dotted at zero while a group is frozen, a grey line where it is released); the train panel redraws the
# training loss and test accuracy as a run goes.

# %% [markdown]
# The panels are ordinary Python objects too. The recipe they share, and what the freeze panel counted:

# %%
print(pg.recipe.describe())
print(pg.freeze.trainable)
assert pg.freeze.trainable["total"] == pg.freeze.parameters["total"]  # nothing frozen in this recipe

# %% [markdown]
# After a run, the trained model and its history are here (run the cell again after pressing **Run**):

# %%
result = pg.train.result
if result is None:
    print("no run yet: press Run above")
else:
    print(f"{result.steps} steps, test accuracy {result.score:.1%}, {len(result.history)} history records")

# %% [markdown]
# Try: freeze `stage1`–`stage3`, press Run, and compare with the full fine-tune. Then, in the compare panel, add `probe` and `scratch` and watch how the gain shrinks as N grows.
#
# ---
#
# The rest of this page is for the notebook (JupyterLab): predictions and exercises ask you to type and run code.
# In the classroom app (`workbench app`) only the questions at the end can be answered. Nothing below changes the
# panels above: the cells work on copies of the recipe, with the same functions the panels call.

# %% [markdown]
# ## Predict: how much of the CNN still trains with stage1–stage3 frozen?
#
# Three of the four backbone stages frozen: what **percentage** of the model's parameters will still train
# (stage4 and the head)? Commit your number before you tick the boxes above or run the next cell.

# %%
share = Prediction("08.trainable_share", "Percent of the CNN's parameters still trainable with stage1-stage3 frozen",
                   unit="%", signed=False)
share

# %%
counts = pg.freeze.parameters  # parameters per group, counted by the freeze panel
groups = pg.freeze.group_names
measured_share = 100 * (counts["stage4"] + counts["head"]) / counts["total"]
# A reveal locks the prediction; the app runs every cell at once, so reveal only what was predicted.
if share.value is None:
    print("commit a prediction above (type a number and press Commit, or set share.value), then run this cell again")
else:
    share.reveal(measured_share)
for g in groups:
    print(f"{g:7s} {counts[g]:7,} parameters ({100 * counts[g] / counts['total']:5.1f}%)")

# %% [markdown]
# Each stage has twice the channels of the one before, and a 3×3 convolution's weights grow with the product of
# its input and output channels: so from stage2 on, each stage holds about four times the weights of the one
# before it (the counts above), and the last stage holds most of the model.
#
# ### Exercise 1 · A recipe that trains only the top
#
# Build a recipe (start from `get_recipe("discriminative")`) that, for its whole run, trains only `stage4` and the
# head. The check counts what it trains with the freeze panel's numbers.

# %%
from workbench import get_recipe, preview_schedule

top_only = get_recipe("discriminative", frozen=3)  # SOLUTION
check("08.freeze_recipe", top_only, {"groups": groups, "parameters": counts})

# %% [markdown]
# To see it in the panels, run `pg.freeze.recipe = top_only` in a new cell: every panel follows.
#
# ## Predict: the learning rate halfway through one-cycle
#
# The playground's recipe uses the **one-cycle** schedule over 200 steps with 10% warm-up. At step 100, halfway,
# what percentage of its peak will the head's learning rate be?

# %%
halfway = Prediction("08.lr_halfway", "Head LR at step 100 of 200 under one-cycle, in percent of its peak",
                     unit="% of peak", signed=False)
halfway

# %%
base = get_recipe("discriminative")  # the recipe the playground starts from
preview = preview_schedule(base, groups)
head_lr = preview["lrs"]["head"]
peak_step = max(range(len(head_lr)), key=head_lr.__getitem__)
at_half = 100 * head_lr[100] / head_lr[peak_step]
if halfway.value is None:
    print("commit a prediction above, then run this cell again")
else:
    halfway.reveal(at_half)
print(f"{base.describe()}: the head's LR peaks at step {peak_step} ({head_lr[peak_step]:.2g}); at step 100 it is "
      f"{at_half:.0f}% of the peak; at the last step {100 * head_lr[-1] / head_lr[peak_step]:.3f}%")
print(f"the backbone follows the same curve at {preview['lrs']['stage1'][peak_step] / head_lr[peak_step]:g} times the head's LR")

# %% [markdown]
# The warm-up shifts the whole curve: the annealing starts at the peak, not at step 0, so "halfway through the
# run" is not "halfway down" (compare the two percentages above).
#
# ### Exercise 2 · Where the schedule peaks
#
# Build a 200-step recipe whose learning rate rises to its peak at **step 50** and then anneals. (Look at the
# schedule panel's sliders: which one is it, and in what unit?)

# %%
peak50 = get_recipe("discriminative", steps=200, warmup=0.25)  # SOLUTION
check("08.warmup_peak", peak50, {"groups": groups})

# %% [markdown]
# ### Exercise 3 · When does stage1 start learning?
#
# Gradual unfreezing (Howard & Ruder 2018) releases frozen groups one at a time, from the top down. Build a
# 200-step recipe that starts with `stage1`–`stage3` frozen and releases them so that `stage1`, the last, starts
# training at **step 150**.

# %%
release = get_recipe("discriminative", steps=200, frozen=3, unfreeze_over=0.75)  # SOLUTION
release_fb = check("08.release_at", release, {"groups": groups})

# %%
plan = answer_or(release, lambda: reference("08.release_at", {"groups": groups}), release_fb)
p = preview_schedule(plan, groups)
for step, g in p["unfreeze"]:
    print(f"step {step}: {g} starts training at LR {p['lrs'][g][step]:.2g} ({100 * p['lrs'][g][step] / max(p['lrs'][g]):.0f}% of its peak)")

# %% [markdown]
# A group released late trains only at the schedule's low tail: gradual unfreezing and the schedule have to be
# planned together, which is what the preview is for.
#
# ## Questions
#
# Pick an answer and press *Check*: every choice explains itself. These work in the app too.

# %%
get_quiz("08.review")

# %% [markdown]
# ## Summary
#
# What this notebook measured on this model, printed from its own numbers:

# %%
print(f"The head holds {counts['head']:,} of {counts['total']:,} parameters ({100 * counts['head'] / counts['total']:.1f}%); "
      f"stage4 alone {100 * counts['stage4'] / counts['total']:.0f}%, so freezing stage1-stage3 still trains "
      f"{measured_share:.0f}% of the model and a linear probe {100 * counts['head'] / counts['total']:.1f}%.")
print(f"One-cycle over {base.steps} steps with warm-up {base.warmup:g} peaks at step {peak_step} and is at {at_half:.0f}% "
      f"of its peak halfway.")
print("Gradual unfreezing in " + plan.describe() + ": " + ", ".join(f"{g} from step {s}" for s, g in p["unfreeze"]) + ".")
if pg.train.result is not None:
    print(f"Your last run: {pg.train.result.steps} steps, test accuracy {pg.train.result.score:.1%}.")

# %% [markdown]
# ## Further reading
#
# - Howard & Ruder (2018), *Universal language model fine-tuning for text classification* (ULMFiT): discriminative
#   learning rates and gradual unfreezing, the two knobs of the schedule panel.
# - Smith (2018), *A disciplined approach to neural network hyper-parameters*: the one-cycle schedule this
#   playground starts from; Smith (2017), *Cyclical learning rates*, for the LR range test behind the head LR.
# - Yosinski, Clune, Bengio & Lipson (2014), *How transferable are features in deep neural networks?*: why the lower
#   stages are the ones worth freezing.
# - Kumar, Raghunathan, Jones, Ma & Liang (2022), *Fine-tuning can distort pretrained features and underperform
#   out-of-distribution*: probe first, then fine-tune (LP-FT), a recipe you can build in the panels.

# %%
elapsed()
