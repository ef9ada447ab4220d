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
# The first cell loads the digits and the pretrained CNN (pretraining it first if it is not cached: about a minute).

# %%
from workbench.widgets import playground

pg = playground(recipe="discriminative")
pg

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
