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
# # 01 · Pretraining a small CNN on printed characters
#
# **The question of this course:** what does pretraining buy you? Here we build the *pretrained* model that
# the next notebooks fine-tune. The source task is cheap and label-rich: printed characters rendered from the
# fonts that ship with matplotlib (no download). The target, later, is real **handwritten** digits, where
# labels are scarce.
#
# You will see the glyph bank and its augmentation, pretrain a ~100k-parameter CNN (about a minute on a
# laptop CPU; cached after the first time), read its training curves and first-layer filters, and measure
# how well it reads real handwriting **without ever having seen any** (zero-shot).

# %%
# %matplotlib inline
import torch
import pandas as pd
import workbench
from workbench import (
    figures, glyph_bank, split_by_font, FONT_FILES, glyph_batches, clean_glyphs, mnist5k,
    pretrained_cnn, PRETRAIN_VISION, predict, accuracy
)

# %% [markdown]
# ## The glyph bank
# 21 fonts × 62 characters (0-9, A-Z, a-z) × 3 stroke widths, each centred by its centre of mass like MNIST.
# Validation uses three fonts the model never trains on, so it measures reading *new typefaces*.

# %%
bank = glyph_bank(62)
train_glyphs, val_glyphs = split_by_font(bank)
print(f"{len(bank)} glyphs from {len(FONT_FILES)} fonts; {len(train_glyphs)} for training, {len(val_glyphs)} from held-out fonts")
pick = torch.arange(0, len(bank), len(bank) // 32)[:32]
figures.image_grid(clean_glyphs(bank)[pick], bank.labels[pick], bank.classes, title="Clean glyphs (28x28, normalised)");

# %% [markdown]
# Every training batch is freshly augmented as a whole batch in torch (random thinning/thickening, rotation,
# scale, shear, shift, blur). Printed characters are too regular; augmentation pushes them towards the
# variety of handwriting.

# %%
x, y = next(glyph_batches(train_glyphs, 32, torch.Generator().manual_seed(0)))
figures.image_grid(x, y, bank.classes, title="One augmented training batch");

# %% [markdown]
# ## Pretraining
# The recipe below is the same kind of value the fine-tuning notebooks use: a pretraining run is just a
# recipe that starts from scratch and trains every layer. The model is cached under `datasets/cache/`
# (`WORKBENCH_CACHE` moves it), so this cell trains only the first time.

# %%
print(PRETRAIN_VISION.describe())
pre = pretrained_cnn()
model = pre.model
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
pd.DataFrame(workbench.trainable_summary(model))

# %%
figures.training_curves(pre.history, title="Pretraining on printed glyphs");

# %% [markdown]
# The right panel tracks two scores during pretraining: accuracy on **fonts never trained on**, and
# accuracy on **real handwritten digits**, reading only the ten digit outputs. The model never saw a
# handwritten digit. (Some glyph classes cannot be told apart at all: `o/O/0`, `l/I/1`, `s/S`...; that caps
# the glyph accuracy well below 100%.)

# %%
digits = mnist5k()
zero_shot = accuracy(model, digits.test.images, digits.test.labels, classes=10)
glyph_val = accuracy(model, clean_glyphs(val_glyphs), val_glyphs.labels, normalized=True)
summary = pd.DataFrame({"score": [glyph_val, zero_shot, 0.1]},
                       index=["held-out fonts (62 classes)", "real handwritten digits, zero-shot", "chance on digits"])
assert zero_shot > 0.4, "pretraining should transfer well above chance (0.1)"
summary.round(3)

# %% [markdown]
# ## What did it learn?
# The first layer's 3×3 filters are stroke and edge detectors: exactly what a model of handwriting needs
# too. The confusion matrix on real digits shows which handwritten digits printed fonts prepared it for,
# and which they did not.

# %%
figures.first_layer_filters(model);

# %%
pred = predict(model, digits.test.images, classes=10)
figures.confusion_matrix(pred, digits.test.labels, digits.test.classes, title=f"Zero-shot on real digits (accuracy {zero_shot:.3f})");

# %% [markdown]
# **Next:** `02_fine_tuning_recipes` adapts this model to handwritten digits with a handful of labels, in
# six different ways.
