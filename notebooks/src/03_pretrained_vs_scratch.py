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
# # 03 · Pretrained vs scratch across labeled-data budgets
#
# The headline experiment: the same CNN, trained from scratch or fine-tuned from the glyph-pretrained
# weights, on N labeled real handwritten digits, for N from 10 (one per class) to 500, with **paired seeds**
# (for a seed, every recipe gets the same labeled subset, batch order and augmentation). Three recipes:
# `scratch` (the control), `probe` (frozen backbone, new head) and `discriminative` (every layer, the head at
# 10× the backbone's rate). Full fine-tuning at one rate is not in this sweep (notebook 02 compares it at N=20).
# Terms in bold are in the [glossary](00_start_here.ipynb#glossary).
#
# ## Objectives
# After this notebook you can:
# - measure the gain of pretraining over scratch at each **labeled budget N**, paired by seed;
# - compute and read a 95% confidence interval of a paired gain, and say what few seeds can and cannot show;
# - find where a frozen **linear probe** falls below scratch, and explain it by the domain gap;
# - say how many labels pretraining is worth at the smallest budget.

# %%
# %matplotlib inline
import pandas as pd
from workbench import (
    figures, get_recipe, pretrained_cnn, VisionTask, compare, summarize, paired_gains,
    markdown_table
)
from workbench.data.subsets import balanced_subset
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, size, elapsed
begin("03_pretrained_vs_scratch")

task = VisionTask("mnist5k", pretrained=pretrained_cnn().model)
recipes = ["scratch", "probe", "discriminative"]
budgets = size([10, 20, 50, 100, 500], smoke=[10, 50])
# Seeds per budget. A run at N >= 64 costs several times one at N=10 (batches of 64 images, not 10), so the
# large budgets get 3 seeds (2 would give a 95% interval 12.7 standard errors wide) and the small ones, where the
# gain is large, 6 and 4: 57 runs in all, about the compute of the 78 this notebook used to run.
seeds = size({10: 6, 20: 4, 50: 3, 100: 3, 500: 3}, smoke={10: 2, 50: 2})

# %% [markdown]
# ## What N=10 looks like
# At N=10 a recipe sees one labeled digit per class, drawn by the seed. These are the ten images of seed 0, the
# same for every recipe at that seed; seed 1 draws another ten.

# %%
for seed in (0, 1):
    idx = balanced_subset(task.pool_labels, 10, seed)
    figures.image_grid(task.data.pool.images[idx], task.data.pool.labels[idx], task.data.pool.classes, cols=10,
                       title=f"the N=10 labeled images of seed {seed}");

# %% [markdown]
# *Figure:* two rows of ten handwritten digits, one per class, titled with their labels: the whole training set of a
# run at N=10 for seed 0 (top) and seed 1 (bottom).

# %% [markdown]
# ## Predict before the sweep
# ### Predict: how many points will pretraining add at N=10?
# `discriminative` minus `scratch`, in accuracy points, at one label per class.

# %%
gain_guess = Prediction("03.gain_n10", "Points discriminative fine-tuning adds over scratch at N=10?", unit="points")
gain_guess

# %% [markdown]
# ### Predict: at which N will the frozen probe fall below scratch?
# The first budget at which the probe scores below scratch ("none" if it stays ahead at every budget here).

# %%
cross_guess = Prediction("03.probe_crossover", "First budget N where the probe falls below scratch?",
                         choices=[str(b) for b in budgets] + ["none"])
cross_guess

# %% [markdown]
# ## The sweep

# %%
results = compare(task, recipes, budgets, seeds)

# %%
figures.score_vs_budget(results);

# %% [markdown]
# *Figure:* test accuracy against the labeled budget N on a log axis, one line per recipe with ±1 std error bars over
# seeds; all three rise with N, the pretrained recipes start far above scratch at N=10 and the lines draw together
# as N grows.

# %%
figures.paired_gain_vs_budget(results);

# %% [markdown]
# *Figure:* the paired gain over scratch (same seed, same subset) against N on a log axis, for probe and
# discriminative, with ±1 std error bars and a black line at zero; both gains shrink as N grows.

# %%
s = summarize(results).pivot(index="recipe", columns="budget", values="mean")
s.round(3)

# %%
g = paired_gains(results)
g.round(3)

# %%
per_seed = results[results.budget == 10].pivot(index="seed", columns="recipe", values="score")
gain_guess.reveal(100 * (per_seed["discriminative"] - per_seed["scratch"]))
common = sorted(set.intersection(*(set(results[results.budget == b].seed) for b in budgets)))
def first_below(seed):
    rows = results[results.seed == seed].pivot(index="budget", columns="recipe", values="score")
    return next((str(b) for b in budgets if rows.loc[b, "probe"] < rows.loc[b, "scratch"]), "none")
cross_guess.reveal({seed: first_below(seed) for seed in common})
print(f"(per seed: the seeds {common} run at every budget)")

# %% [markdown]
# ## Exercise 1: a 95% confidence interval for a paired gain
# The error bars above are ±1 standard deviation over seeds: they show how much seeds differ, not how well the
# mean gain is known. For that, the **95% confidence interval** of the mean paired gain: mean ± t · std / √n, with
# the sample std and Student's t quantile for n − 1 degrees of freedom (`scipy.stats.t.ppf(0.975, n - 1)`).
# Write it; the check runs it on this sweep's gains.

# %%
import math
from scipy import stats
from workbench.course.lessons.nb03 import per_seed_gains

def ci95(gains):
    # BEGIN SOLUTION
    gains = [float(x) for x in gains]
    n = len(gains)
    mean = sum(gains) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in gains) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half
    # END SOLUTION

fb = check("03.paired_ci", ci95, results)
interval = answer_or(ci95, lambda: reference("03.paired_ci", results), fb)

# %%
rows = []
for recipe in ("discriminative", "probe"):
    for budget, gains in per_seed_gains(results, recipe).items():
        low, high = interval(gains) if len(gains) > 1 else (float("nan"), float("nan"))
        rows.append({"recipe": recipe, "N": budget, "seeds": len(gains), "gain": 100 * gains.mean(),
                     "95% CI low": 100 * low, "95% CI high": 100 * high, "wins": int((gains > 0).sum())})
ci = pd.DataFrame(rows).set_index(["recipe", "N"])
ci.round(1)

# %% [markdown]
# **What few seeds can and cannot show.** With n seeds the interval's half-width is t · std / √n, and t grows fast
# as n shrinks (the next cell prints it for this sweep's seed counts). So a small std between a few seeds does *not*
# make a gain precise: a few seeds can tell the sign of a large gain, but a gain of a point or two at the large
# budgets stays compatible with zero unless the interval excludes it. The cell says which of this run's gains the
# seeds resolve.

# %%
print("t quantile (97.5%) for", ", ".join(f"{k} seeds: {stats.t.ppf(0.975, k - 1):.2f}" for k in sorted(set(ci.seeds)) if k > 1))
for (recipe, n), row in ci.iterrows():
    if math.isnan(row["95% CI low"]):
        verdict = "one seed: no interval"
    elif row["95% CI low"] > 0:
        verdict = "better than scratch (the interval excludes 0)"
    elif row["95% CI high"] < 0:
        verdict = "worse than scratch (the interval excludes 0)"
    else:
        verdict = "cannot be told from scratch with these seeds (the interval includes 0)"
    print(f"{recipe:>14} N={n:4d}: {row['gain']:+5.1f} points [{row['95% CI low']:+.1f}, {row['95% CI high']:+.1f}] "
          f"over {int(row['seeds'])} seeds: {verdict}")

# %% [markdown]
# ## Exercise 2: where does the probe fall behind?
# From this run's sweep, the smallest budget at which the probe's *mean* score is below scratch's (or `"none"`).
# Then compare with the intervals above: is that crossover resolved by these seeds?

# %%
probe_mean = s.loc["probe"]  # SOLUTION
my_budget = next((b for b in budgets if probe_mean[b] < s.loc["scratch", b]), "none")  # SOLUTION
fb = check("03.crossover", my_budget, results)
crossover = answer_or(my_budget, lambda: reference("03.crossover", results), fb)

# %% [markdown]
# ## Exercise 3: how many labels is pretraining worth?
# At N=10, discriminative fine-tuning reaches some accuracy. From the sweep, the smallest budget at which scratch's
# mean is at least as high (or `"none"`): how many labels the pretrained start was worth.

# %%
target = s.loc["discriminative", 10]  # SOLUTION
my_worth = next((b for b in budgets if s.loc["scratch", b] >= target), "none")  # SOLUTION
fb = check("03.worth_labels", my_worth, results)
worth = answer_or(my_worth, lambda: reference("03.worth_labels", results), fb)

# %% [markdown]
# ## Reading the sweep
# The cell below states the findings from *this* run's numbers.

# %%
disc = g[g.recipe == "discriminative"].set_index("budget")
probe = g[g.recipe == "probe"].set_index("budget")
for n in budgets:
    c = ci.loc[("discriminative", n)]
    print(f"N={n:4d}: discriminative {disc.loc[n, 'gain'] * 100:+5.1f} points over scratch, 95% CI [{c['95% CI low']:+.1f}, {c['95% CI high']:+.1f}] "
          f"(wins {disc.loc[n, 'wins']}/{disc.loc[n, 'seeds']}), probe {probe.loc[n, 'gain'] * 100:+5.1f}")
fade = next((n for n in budgets if disc.loc[n, "gain"] < 0.01), None)
print(f"the gain of pretraining falls below one point at N = {fade}" if fade else "the gain stays above one point at every budget here")
below = [n for n in budgets if probe.loc[n, "gain"] < 0]
print(f"the frozen probe falls below scratch at N = {below}" if below else "the frozen probe stays at or above scratch here")
print(f"scratch first matches discriminative's N=10 score at N = {worth}" if worth != "none" else
      "scratch never matches discriminative's N=10 score in this sweep")
assert disc.loc[10, "gain"] > 0.08 and disc.loc[10, "wins"] >= 0.8 * disc.loc[10, "seeds"], "pretraining should clearly help with one label per class"

# %% [markdown]
# **Where pretraining helps:** with one or two labels per class, features learned from printed characters are worth
# many labeled examples (Exercise 3 says how many). **Where it fades:** as N grows, scratch has enough data to learn
# its own features and the gap closes; the intervals say from which budget these seeds can no longer tell the two
# apart. **Where the probe falls behind:** a frozen backbone can only re-weight features learned on *printed*
# characters; with enough labels scratch adapts to *handwriting* and passes it, while discriminative fine-tuning,
# which adapts every layer, does not fall behind in the same way. This is the domain gap, measured.

# %% [markdown]
# ## Questions

# %%
get_quiz("03.review")

# %% [markdown]
# ## Summary

# %%
n10 = ci.loc[("discriminative", 10)]
print(f"Over {int(n10['seeds'])} paired seeds at N=10 (one label per class), discriminative fine-tuning scored "
      f"{s.loc['discriminative', 10]:.3f} against scratch's {s.loc['scratch', 10]:.3f}: {n10['gain']:+.1f} points, "
      f"95% CI [{n10['95% CI low']:+.1f}, {n10['95% CI high']:+.1f}], better on {int(n10['wins'])} seeds.")
last = budgets[-1]
nl = ci.loc[("discriminative", last)]
print(f"At N={last} the gain is {nl['gain']:+.1f} points [{nl['95% CI low']:+.1f}, {nl['95% CI high']:+.1f}] over {int(nl['seeds'])} seeds.")
print(f"The probe's mean first falls below scratch at N={crossover}." if crossover != "none" else
      "The probe's mean stays at or above scratch at every budget of this sweep.")
print(f"Scratch needs N={worth} labels to match what discriminative fine-tuning scored with 10." if worth != "none" else
      "Scratch never matches, within this sweep, what discriminative fine-tuning scored with 10 labels.")

# %% [markdown]
# ## Further reading
# - Yosinski et al. 2014, *How transferable are features in deep neural networks?*: transfer fades as source and target differ, the domain gap here.
# - Kornblith et al. 2019, *Do Better ImageNet Models Transfer Better?*: probe vs fine-tuning across targets and budgets.
# - Kumar et al. 2022, *Fine-Tuning can Distort Pretrained Features (LP-FT)*: when a probe beats fine-tuning, and how to combine them.
# - Howard & Ruder 2018, *ULMFiT*: discriminative fine-tuning, the recipe that keeps its lead here.
# - Dosovitskiy et al. 2021, *An Image is Worth 16x16 Words (ViT)*: how the value of pretraining grows with its scale.

# %%
elapsed()
