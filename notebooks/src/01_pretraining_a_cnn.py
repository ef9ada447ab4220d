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
# You will see the glyph bank and its augmentation, pretrain a ~100k-parameter CNN (cached: `python -m
# workbench.course.prewarm` builds it before class; otherwise the first run trains it), read its training curves
# and first-layer filters, and measure how well it reads real handwriting **without ever having seen any**
# (zero-shot, in a weaker sense than CLIP's: see below). Words in bold are defined in the
# [glossary](00_start_here.ipynb#glossary).
#
# ## Objectives
# After this notebook you can:
# - explain why the source task (printed glyphs, held-out fonts, heavy augmentation) is built the way it is;
# - read a pretraining run's curves: held-out-font accuracy and zero-shot accuracy on real digits;
# - compute a zero-shot accuracy from a model's logits by reading only the task's classes;
# - say how this notebook's "zero-shot" differs from CLIP's;
# - read a confusion matrix and name what printed fonts did not prepare the model for.

# %%
# %matplotlib inline
import torch
import pandas as pd
import workbench
from workbench import (
    figures, glyph_bank, split_by_font, FONT_FILES, glyph_batches, clean_glyphs, mnist5k,
    pretrained_cnn, PRETRAIN_VISION, predict, accuracy
)
from workbench.data.augment import normalize
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, elapsed
begin("01_pretraining_a_cnn")

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
# *Figure:* 32 clean printed characters in two rows from the glyph bank, white on black, each titled with its class.

# %% [markdown]
# Every training batch is freshly augmented as a whole batch in torch (random thinning/thickening, rotation,
# scale, shear, shift, blur). Printed characters are too regular; augmentation pushes them towards the
# variety of handwriting.

# %%
x, y = next(glyph_batches(train_glyphs, 32, torch.Generator().manual_seed(0)))
figures.image_grid(x, y, bank.classes, title="One augmented training batch");

# %% [markdown]
# *Figure:* 32 augmented training glyphs: the same kind of characters, now thinner or thicker, rotated, sheared and blurred.

# %% [markdown]
# ## Predict before you look
# The model below never sees a handwritten digit: it learns 62 printed characters. We will then show it the 1,000
# real handwritten test digits and read its answer among its ten digit outputs (`0`-`9`).
#
# ### Predict: how well does it read handwriting it has never seen?

# %%
zero_shot_guess = Prediction("01.zero_shot", "Accuracy (%) on real handwritten digits, reading only the ten digit outputs?",
                             unit="%", signed=False)
zero_shot_guess

# %% [markdown]
# ### Predict: what if it may answer with a letter?
# Read the argmax over all 62 outputs instead, so a handwritten `0` read as `O` counts as wrong. How many points
# lower will the digit accuracy be? (Positive: a drop.)

# %%
drop_guess = Prediction("01.all62_drop", "Points lost by reading all 62 outputs instead of the ten digits?", unit="points",
                        words=("a drop", "a rise"))
drop_guess

# %% [markdown]
# ## Pretraining
# The recipe below is the same kind of value the fine-tuning notebooks use: a pretraining run is just a
# recipe that starts from scratch and trains every layer. The model is cached (`WORKBENCH_CACHE` says where),
# so this cell trains only when the cache lacks it.

# %%
print(PRETRAIN_VISION.describe())
pre = pretrained_cnn()
model = pre.model
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
pd.DataFrame(workbench.trainable_summary(model))

# %%
figures.training_curves(pre.history, title="Pretraining on printed glyphs");

# %% [markdown]
# *Figure:* training curves of the pretraining run: loss falling over the steps on the left; on the right,
# accuracy on held-out fonts and zero-shot accuracy on real digits, both rising.
#
# The right panel tracks two scores during pretraining: accuracy on **fonts never trained on**, and
# accuracy on **real handwritten digits**, reading only the ten digit outputs. The model never saw a
# handwritten digit. (Some glyph classes cannot be told apart at all: `o/O/0`, `l/I/1`, `s/S`...; that caps
# the glyph accuracy well below 100%.)

# %%
digits = mnist5k()
with torch.no_grad():
    logits = model.eval()(normalize(digits.test.images))   # 1,000 x 62: one score per printed character
zero_shot = accuracy(model, digits.test.images, digits.test.labels, classes=10)
all62 = accuracy(model, digits.test.images, digits.test.labels)
glyph_val = accuracy(model, clean_glyphs(val_glyphs), val_glyphs.labels, normalized=True)
summary = pd.DataFrame({"score": [glyph_val, zero_shot, all62, 0.1]},
                       index=["held-out fonts (62 classes)", "real handwritten digits, zero-shot (10 digit outputs)",
                              "real handwritten digits, argmax over all 62 outputs", "chance on digits"])
assert zero_shot > 0.4, "pretraining should transfer well above chance (0.1)"
display(summary.round(3))
zero_shot_guess.reveal(100 * zero_shot)
drop_guess.reveal(100 * (zero_shot - all62))

# %% [markdown]
# One pretrained model, so one measurement: a second pretraining seed would move these numbers by a little,
# and the fine-tuning notebooks measure that kind of spread over many seeds.
#
# ## What "zero-shot" means here, and what it means for CLIP
# Here **zero-shot** means: no handwritten digit, labeled or not, was used; we read ten of the model's own 62
# outputs. The digit classes are a *subset of the pretraining classes*: the model was trained to say "7", only on
# printed sevens. CLIP's zero-shot (Radford et al. 2021) is stronger: it classifies images into classes that are
# *named only in text at test time* ("a photo of a dog"), classes its training never had as outputs. Ours
# transfers across a **domain gap** (print to handwriting) with the label set fixed; CLIP's transfers to a new
# label set.
#
# ## Exercise 1: zero-shot accuracy from the logits
# `logits` holds the model's 62 scores for each test digit. Write the accuracy that reads only the ten digit
# columns (0-9), as a fraction. The check runs your function on these logits.

# %%
def digit_accuracy(logits, labels):
    return (logits[:, :10].argmax(1) == labels).float().mean().item()  # SOLUTION

fb = check("01.digit_accuracy", digit_accuracy, {"logits": logits, "labels": digits.test.labels})
mine = answer_or(digit_accuracy, lambda: reference("01.digit_accuracy"), fb)
print(f"from the logits: {mine(logits, digits.test.labels):.3f}; workbench's accuracy(..., classes=10): {zero_shot:.3f}")

# %% [markdown]
# ## What did it learn?
# The first layer's 3×3 filters are stroke and edge detectors: exactly what a model of handwriting needs
# too. The confusion matrix on real digits shows which handwritten digits printed fonts prepared it for,
# and which they did not.

# %%
figures.first_layer_filters(model);

# %% [markdown]
# *Figure:* the first-layer 3×3 filters of the pretrained CNN, one small tile each in red (positive weights) and
# blue (negative); most show an oriented edge or bar, positive on one side and negative on the other.

# %%
pred = predict(model, digits.test.images, classes=10)
figures.confusion_matrix(pred, digits.test.labels, digits.test.classes, title=f"Zero-shot on real digits (accuracy {zero_shot:.3f})");

# %% [markdown]
# *Figure:* a 10×10 confusion matrix, true digit per row and predicted digit per column; the diagonal holds the
# digits read right, and the brightest cells off the diagonal are the zero-shot model's typical mistakes.
#
# ## Exercise 2: the most frequent mistake
# From `pred` and `digits.test.labels`, find the most frequent mistake: the pair (true digit, predicted digit)
# with the largest count off the diagonal.

# %%
from collections import Counter
mistakes = Counter((int(t), int(p)) for t, p in zip(digits.test.labels, pred) if t != p)  # SOLUTION
my_pair = mistakes.most_common(1)[0][0]  # SOLUTION
fb = check("01.top_confusion", my_pair, {"pred": pred, "labels": digits.test.labels})

# %% [markdown]
# **Explain it.** Look at the two digits in print and in handwriting (the grid below shows handwritten examples
# of the true digit that were misread). Why would a model of printed fonts confuse them?
#
# <!-- BEGIN SOLUTION -->
# Handwriting differs from print exactly where such pairs differ. A handwritten 9 is often a small loop on a
# long, straight or slanted stroke, which is close to a printed 7 (a stroke hanging from a bar) and unlike the
# round, closed 9 of most fonts; likewise sevens with a short top look like a printed 1, and an open 4 lacks the
# closed triangle of most fonts. Print has one way to draw each digit; people have many, and the model only saw one.
# <!-- END SOLUTION -->

# %%
true_digit, said = answer_or(my_pair, lambda: reference("01.top_confusion", {"pred": pred, "labels": digits.test.labels}), fb)
wrong = ((digits.test.labels == true_digit) & (pred == said)).nonzero().flatten()[:16]
figures.image_grid(digits.test.images[wrong], pred[wrong], digits.test.classes, cols=16,
                   title=f"Handwritten {true_digit}s the model read as {said}");

# %% [markdown]
# *Figure:* up to 16 real handwritten images of the most-confused true digit, each titled with the digit the
# zero-shot model predicted.
#
# ## Exercise 3: how much of the glyph "error" is just case?
# On held-out fonts the model chooses among 62 classes, and some letters differ between upper and lower case only
# by size (`c/C`, `o/O`, `s/S`, `v/V`, `w/W`, `x/X`, `z/Z`...). Compute the held-out-font accuracy when a letter's
# two cases count as the same class. `bank.classes[i]` is the character of class `i`.

# %%
val_pred = predict(model, clean_glyphs(val_glyphs), normalized=True)
glyph_results = {"pred": val_pred, "labels": val_glyphs.labels, "classes": bank.classes}
case_merged = sum(bank.classes[p].lower() == bank.classes[t].lower() for p, t in zip(val_pred.tolist(), val_glyphs.labels.tolist())) / len(val_pred)  # SOLUTION
fb = check("01.case_merge", case_merged, glyph_results)
merged = answer_or(case_merged, lambda: reference("01.case_merge", glyph_results), fb)
print(f"held-out fonts: {glyph_val:.3f} exact, {merged:.3f} with case merged")

# %% [markdown]
# What remains after merging case? The most frequent confusions between characters that are not the same letter:

# %%
rest = Counter((bank.classes[t], bank.classes[p]) for p, t in zip(val_pred.tolist(), val_glyphs.labels.tolist())
               if bank.classes[p].lower() != bank.classes[t].lower())
print(", ".join(f"{t}->{p} ({n})" for (t, p), n in rest.most_common(8)))

# %% [markdown]
# Some are look-alikes that pixels cannot separate (`l/I`, `0/O`: the same shape in many fonts), others are
# misreadings of a new typeface. Either way, the 62-class accuracy understates how well the features read print.

# %% [markdown]
# ## Questions

# %%
get_quiz("01.review")

# %% [markdown]
# ## Summary

# %%
m = pre.metrics
print(f"The CNN ({sum(p.numel() for p in model.parameters()):,} parameters) was pretrained for {m.get('steps', PRETRAIN_VISION.steps):,} steps on "
      f"{len(train_glyphs):,} printed glyphs from {len(set(train_glyphs.fonts.tolist()))} fonts.")
print(f"On fonts it never trained on it reads {glyph_val:.1%} of the 62 characters ({merged:.1%} with case merged).")
print(f"Without any handwritten example it reads {zero_shot:.1%} of real handwritten digits through its ten digit outputs "
      f"(chance: 10%), and {all62:.1%} if letters are allowed answers.")
print(f"Its most frequent zero-shot mistake: {true_digit} read as {said}.")

# %% [markdown]
# ## Further reading
# - Yosinski et al. 2014, *How transferable are features in deep neural networks?*: first-layer features are general, later ones specific: the filters above.
# - Kornblith et al. 2019, *Do Better ImageNet Models Transfer Better?*: what a pretrained model's features are worth on new targets.
# - Radford et al. 2021, *Learning Transferable Visual Models From Natural Language Supervision (CLIP)*: zero-shot classification into classes named in text.
# - Dosovitskiy et al. 2021, *An Image is Worth 16x16 Words (ViT)*: pretraining at scale, where the transfer gains of this course come from.
#
# **Next:** `02_fine_tuning_recipes` adapts this model to handwritten digits with a handful of labels, in
# six different ways.

# %%
elapsed()
