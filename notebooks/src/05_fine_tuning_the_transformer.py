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
# # 05 · Fine-tuning the transformer: what did pretraining buy?
#
# Two tasks whose labels come free from the corpus. Labeled passages come from the **training plays** (the ones
# the language model was pretrained on, as a real fine-tuning set would be); test passages come from the 9
# **held-out plays**, which no model sees in pretraining or fine-tuning. A test score says how well a method
# generalises to plays it never read.
#
# 1. **Genre**: is an 80-word passage from a comedy, a history or a tragedy? (macro-F1)
# 2. **Real vs shuffled**: is a 32-word passage real, or its *twin* with the same words in random order?
#    (accuracy). Twins stay together everywhere, so a unigram bag of words scores **exactly** chance.
#
# Every recipe uses the same architecture, the same labeled subset and batch order for a given seed (paired
# seeds): only the starting weights and what trains differ. Baselines: TF-IDF word 1-2-grams + logistic
# regression (C by cross-validation) and a unigram bag of words.
#
# To stay within a few CPU minutes this notebook runs one budget (N = 100), 3 paired seeds and shortened
# recipes (60 steps); the full tables (more budgets, the full 150 steps, more recipes) come from
# `workbench compare text`. A smoke run (`WORKBENCH_SMOKE=1`) shrinks all of it further, and its numbers are
# not the lesson's.
#
# ## Objectives
#
# - After this notebook you can say which starting weights and which trainable groups each text recipe uses, and why the random-init probe is the control.
# - After this notebook you can mean-pool a transformer's hidden states over the real tokens of a padded batch.
# - After this notebook you can judge a pretrained model against an honest word-count baseline, and say when word counts are blind.
# - After this notebook you can explain why the head that reads the LM's own prediction reaches knowledge a mean-pooled head misses.
# - After this notebook you can build a recipe that freezes a transformer to a chosen depth.

# %%
# %matplotlib inline
import copy
import pandas as pd
import torch
from IPython.display import display
from workbench import (
    figures, compare, paired_gains, summarize, pretrained_lm, GenreTask, ShuffledTask,
    get_recipe, layer_groups
)
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, size, elapsed, is_smoke

begin("05_fine_tuning_the_transformer")
pre = pretrained_lm(steps=size(None, smoke=60))  # None: the recipe's steps; the same cached model as notebook 04
genre = GenreTask(pretrained=pre, test_per_class=size(100, smoke=30))
shuffled = ShuffledTask(pretrained=pre, test_pairs=size(200, smoke=60))
print(f"the tiny GPT: {pre.metrics['steps']} pretraining steps, held-out perplexity {pre.metrics['val_perplexity']:.1f}")
print(f"genre: {len(genre.pool.texts)} labeled-pool passages (training plays), {len(genre.test.texts)} test passages (held-out plays)")
print(f"shuffled: {len(shuffled.pool.texts) // 2} pool pairs, {len(shuffled.test.texts) // 2} test pairs")
print("\nA real passage and its twin:\n", shuffled.test.texts[0], "\n", shuffled.test.texts[1])

# %% [markdown]
# ## The labeled passages a budget draws
#
# A budget of N = 100 is 100 labeled passages from the pool, class-balanced, the same for every recipe at a
# given seed. Here is one of seed 0's passages from each class, with its label: a hundred of these are all a
# recipe learns genre from.

# %%
N, SEEDS, STEPS = 100, size(3, smoke=1), size(60, smoke=4)
drawn = genre.subset(N, seed=0)
labels = genre.pool.labels[drawn]
print(f"seed 0 draws {len(drawn)} passages: " + ", ".join(f"{(labels == k).sum().item()} {c}" for k, c in enumerate(genre.classes)))
for k, name in enumerate(genre.classes):  # the first drawn passage of each class
    i = drawn[labels == k][0].item()
    print(f"\n[{name}] {genre.pool.texts[i][:240]} ...")

# %% [markdown]
# ## Which groups train, and when: the same panels as for the CNN
#
# The transformer's layer groups are the embeddings, one group per block and the head. Tick a group to
# freeze it (everything below it freezes too: a recipe freezes the first groups) and watch the trainable
# count and the schedule preview change: gradual unfreezing releases one block at a time from the top.

# %%
import traitlets
from workbench.widgets import FreezePanel, SchedulePanel

freeze = FreezePanel(copy.deepcopy(pre.model), get_recipe("gradual", "text"))
schedule = SchedulePanel(list(layer_groups(freeze.model)), freeze.recipe)
traitlets.link((freeze, "recipe"), (schedule, "recipe"))
display(freeze, schedule)
freeze.checkboxes["block3"].value = False  # what a click does: block3 and above train from step 0
assert schedule.recipe.frozen == 3 and schedule.preview["unfreeze"][0] == (25, "block2")

# %% [markdown]
# ## Exercise: freeze everything below the last block
#
# A middle road between the probe (only the head trains) and full fine-tuning: keep the embeddings and the
# lower blocks as pretrained and let only the last block and the head adapt. Build that recipe from
# `get_recipe("finetune", "text", ...)`; the groups, in order, are printed below.

# %%
text_groups = list(layer_groups(freeze.model))
print("layer groups:", ", ".join(text_groups))
my_last_block = get_recipe("finetune", "text", frozen=4)  # SOLUTION
check("05.last_block", my_last_block, {"groups": text_groups})

# %% [markdown]
# ## Task 1: genre
#
# Recipes: `scratch` (same transformer, random init, all trained), `probe` (pretrained, frozen backbone, new
# linear head on mean-pooled states), `finetune` (pretrained, everything trains), `random_probe` (the control:
# the same frozen probe on a *randomly initialised* copy, which tells how much a frozen random transformer's
# features already give) and `tfidf`.

# %% [markdown]
# ## Exercise: mean pooling by hand
#
# The probe's head reads one vector per passage: the mean of the last hidden states over the passage's
# **real** tokens. Passages differ in length, so a batch is padded, and `mask` is 1 for a real token and 0 for
# padding. Write `mean_pool(hidden, mask)`; the check compares it with the package's pooling on real passages.

# %%
def mean_pool(hidden, mask):
    # BEGIN SOLUTION
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1)
    # END SOLUTION


ids, mask = shuffled.encoded("test")
ids, mask = ids[:8, : int(mask[:8].sum(1).max())], mask[:8, : int(mask[:8].sum(1).max())]
print("real tokens per passage:", mask.sum(1).tolist(), "of", mask.shape[1])
check("05.mean_pool", mean_pool, {"model": pre.model, "ids": ids, "mask": mask})

# %% [markdown]
# ## Predict: the pretrained probe against TF-IDF
#
# The probe trains only a linear head on frozen pretrained features; TF-IDF trains a linear model on word and
# word-pair counts. At N = 100, how many macro-F1 points will the pretrained probe score above TF-IDF
# (negative if below)?

# %%
probe_vs_tfidf = Prediction("05.probe_vs_tfidf", "Pretrained probe minus TF-IDF on genre at N=100, in macro-F1 points?", unit="points")
probe_vs_tfidf

# %%
recipes = [get_recipe(r, "text", steps=STEPS) for r in ("scratch", "probe", "finetune", "random_probe")] + ["tfidf"]
genre_results = compare(genre, recipes, [N], SEEDS, progress=False)
figures.score_bars(genre_results, chance=1 / 3);
display(summarize(genre_results).round(3))
display(paired_gains(genre_results).round(3))

# %% [markdown]
# *Figure:* bars of each recipe's test macro-F1 on genre at N = 100 (mean over seeds, with the seeds' spread),
# with a line at chance (one in three).

# %%
s = summarize(genre_results).set_index("recipe")["mean"]
g = paired_gains(genre_results).set_index("recipe")
best = max(("finetune", "probe"), key=lambda r: g.loc[r, "gain"])
per_seed = genre_results.pivot(index="seed", columns="recipe", values="score")
probe_vs_tfidf.reveal((per_seed["probe"] - per_seed["tfidf"]) * 100)
print(f"macro-F1 at N={N} over {SEEDS} seeds: " + ", ".join(f"{r} {v:.3f}" for r, v in s.items()))
print(f"best pretrained recipe ({best}) minus scratch, paired: {g.loc[best, 'gain']:+.3f} ± {g.loc[best, 'std']:.3f} "
      f"(wins {int(g.loc[best, 'wins'])}/{int(g.loc[best, 'seeds'])}); minus TF-IDF: {s[best] - s['tfidf']:+.3f}")
print(f"random-init probe (control): {s['random_probe']:.3f}; the pretrained probe adds {s['probe'] - s['random_probe']:+.3f}")
if not is_smoke():  # a smoke run's 60-step LM and 4-step recipes measure nothing; these hold at the lesson's sizes
    assert g.loc[best, "gain"] > 0 and s["probe"] > s["random_probe"]

# %% [markdown]
# **Reading it honestly.** Pretraining beats the same transformer trained from scratch on the same labels, and
# the random-init control shows the gain comes from what pretraining learned, not from the probe's architecture.
# But word counts are a strong baseline for genre: kings, battles and heralds versus love and jests are largely a
# matter of *which words* appear, and TF-IDF needs no pretraining at all to see that (compare the two numbers
# above). The second task removes that crutch.

# %% [markdown]
# ## Task 2: real vs shuffled
#
# Here word counts are blind by construction. A budget of N = 100 is 50 pairs of twins: both halves of a pair
# are always drawn together, as seed 0's first draws show.

# %%
drawn = shuffled.subset(N, seed=0)
for i in drawn[:4].tolist():
    print(f"[{shuffled.classes[shuffled.pool.labels[i]]:8}] pair {shuffled.pool.groups[i].item():5d}: {shuffled.pool.texts[i][:110]} ...")

# %% [markdown]
# First, with **no labels at all** (zero-label): does the pretrained LM give the real passage a lower loss than
# its twin? Comparing the two losses of a pair needs no threshold, so nothing is fit.

# %%
ranked = shuffled.pair_ranking()
print(f"the pretrained LM prefers the real passage in {ranked:.1%} of {len(shuffled.test.texts) // 2} test pairs (no labels used)")
if not is_smoke():
    assert ranked > 0.9

# %% [markdown]
# Now the recipes, one idea each:
#
# - `bow` and `tfidf`: word counts (unigrams; 1-2-grams). `bow` is blind here by construction; bigrams see a little local order.
# - `zeroshot` (the name in the recipe book; it is *not* zero-shot in the strict sense): a **one-parameter
#   classifier on the pretrained LM's loss**. Its feature is the passage's mean LM loss minus a unigram model's
#   loss on the same tokens (equal for twins, so only word order moves it), and its one threshold is fit on the
#   N labeled passages. No weight of the LM changes. The zero-label version is the pair ranking above.
# - `scratch` and `scratch_lm`: the same transformer from random init, with a mean-pooled linear head and with
#   the likelihood head (the better one counts as scratch's score). They tell what 100 labels teach alone.
# - `finetune`: pretrained, everything trains, a linear head on mean-pooled states.
# - `likelihood`: pretrained, fine-tuned *through the LM head*: its logits are an affine function of the same
#   loss feature `zeroshot` thresholds, so it starts where `zeroshot` is and can move the LM too.

# %% [markdown]
# ## Predict: what the likelihood head buys
#
# How many accuracy points will the `likelihood` recipe score above the better of the two scratch recipes?

# %%
lik_gain = Prediction("05.likelihood_gain", "Likelihood head minus the better scratch head on real vs shuffled, in accuracy points?", unit="points")
lik_gain

# %%
recipes = ["bow", "tfidf", "zeroshot"] + [get_recipe(r, "text", steps=STEPS) for r in ("scratch", "scratch_lm", "finetune", "likelihood")]
shuffled_results = compare(shuffled, recipes, [N], SEEDS, progress=False)
figures.score_bars(shuffled_results, chance=0.5);
display(summarize(shuffled_results).round(3))

# %% [markdown]
# *Figure:* bars of each recipe's test accuracy on real vs shuffled at N = 100 (mean over seeds, with the seeds'
# spread), with a line at chance (0.5), where the bag of words sits by construction.

# %%
s = summarize(shuffled_results).set_index("recipe")["mean"]
best_scratch = max(("scratch", "scratch_lm"), key=lambda r: s[r])
gain = paired_gains(shuffled_results, baseline=best_scratch).set_index("recipe").loc["likelihood"]
per_seed = shuffled_results.pivot(index="seed", columns="recipe", values="score")
lik_gain.reveal((per_seed["likelihood"] - per_seed[best_scratch]) * 100)
print(f"accuracy at N={N} over {SEEDS} seeds: " + ", ".join(f"{r} {v:.3f}" for r, v in s.items()))
print(f"likelihood minus the better scratch ({best_scratch}), paired: {gain.gain:+.3f} ± {gain['std']:.3f}; "
      f"minus 1-2-gram TF-IDF: {s['likelihood'] - s['tfidf']:+.3f}")
print(f"mean-pooled fine-tune: {s['finetune']:.3f}; one threshold on the LM loss (zeroshot, fit on {N} labels): {s['zeroshot']:.3f}")
assert s["bow"] == 0.5  # unigram counts are identical for twins: exactly chance, by construction
if not is_smoke():
    assert s["likelihood"] > s[best_scratch] + 0.2 and s["likelihood"] > s["tfidf"]
    assert s["zeroshot"] > s["finetune"]

# %% [markdown]
# ## Exercise: which recipe wins, and why?
#
# From `shuffled_results`, name the recipe with the best mean accuracy. Then, in the Markdown cell below, say in
# a sentence or two why it beats the mean-pooled fine-tune, which starts from the same pretrained weights.

# %%
my_winner = summarize(shuffled_results).sort_values("mean").recipe.iloc[-1]  # SOLUTION
check("05.shuffled_winner", my_winner, shuffled_results)

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# At the lesson's sizes the likelihood head (or the one-threshold classifier on the same feature) wins: it reads the
# LM's own next-token prediction, and predicting the next word is exactly what needs word order. A mean of hidden
# states is nearly the same for a passage and its shuffled twin, so the linear head on top has little to read.
# <!-- END SOLUTION -->

# %% [markdown]
# **Where the knowledge lives.** Word order is exactly what next-token prediction had to learn, and the
# pretrained LM knows it: with no labels it ranks nearly every real passage above its twin. But a linear head on
# *mean-pooled* hidden states barely sees it (mean pooling is nearly order-blind at the top), and the same
# transformer trained from scratch on a hundred labels learns nothing, with either head. The head that reaches the
# knowledge is the one that reads the LM's own prediction, the likelihood. Bigrams (TF-IDF 1-2-grams) see some
# local order and land in between. (The one-threshold classifier is fit on training-play passages, which the LM
# has read, so its threshold sits a little low for unseen plays; fine-tuning the likelihood head recalibrates it.)
# The cell below states what this run measured.

# %% [markdown]
# ## Summary: what this run measured

# %%
gs = summarize(genre_results).set_index("recipe")["mean"]
print(f"- Genre at N={N} ({SEEDS} seeds): the best pretrained recipe ({best}) scored {gs[best]:.3f} macro-F1, scratch "
      f"{gs['scratch']:.3f}, the random-init probe {gs['random_probe']:.3f} and TF-IDF {gs['tfidf']:.3f}.")
print(f"- With no labels, the pretrained LM ranked the real passage first in {ranked:.1%} of the test pairs.")
print(f"- Real vs shuffled: likelihood {s['likelihood']:.3f}, one threshold on the LM loss {s['zeroshot']:.3f}, mean-pooled "
      f"fine-tune {s['finetune']:.3f}, the better scratch ({best_scratch}) {s[best_scratch]:.3f}, TF-IDF {s['tfidf']:.3f}, "
      f"bag of words {s['bow']:.3f}.")
print(f"- The likelihood head's paired gain over scratch: {gain.gain * 100:+.1f} ± {gain['std'] * 100:.1f} points.")

# %% [markdown]
# ## Questions

# %%
get_quiz("05.review")

# %% [markdown]
# ## Further reading
#
# - Howard & Ruder 2018, *Universal Language Model Fine-tuning for Text Classification* (ULMFiT): pretrain a
#   language model, then fine-tune it for classification with few labels; gradual unfreezing comes from here.
# - Radford et al. 2018, *Improving Language Understanding by Generative Pre-Training* (GPT): the same
#   pretrain-then-fine-tune recipe with a transformer, and task inputs fed through the LM.
# - Devlin et al. 2019, *BERT*: fine-tuning a pretrained encoder with a small head, the recipe notebook 06 runs
#   on a real checkpoint.
# - Radford et al. 2019, *Language Models are Unsupervised Multitask Learners* (GPT-2): scoring with the LM's
#   own likelihood, without training, which the zero-label pair ranking and the likelihood head build on.
# - Kumar et al. 2022, *Fine-Tuning can Distort Pretrained Features* (LP-FT): when a probe beats full
#   fine-tuning, and why starting fine-tuning from a trained head helps.
# - Yosinski et al. 2014, *How transferable are features in deep neural networks?*: which layers transfer, the
#   question behind freezing to a depth.

# %%
elapsed()
