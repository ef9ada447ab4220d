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
# # 00 · Start here
#
# **The question of this course:** what does pretraining buy you? You will pretrain small models on cheap,
# label-rich data, fine-tune them on a target with few labels, and measure the gain against the same model
# trained from scratch, with paired seeds. This notebook trains nothing: it checks your machine and the cache,
# maps the course, and defines the words the other notebooks use (they link to the [glossary](#glossary) below).
#
# ## Objectives
# After this notebook you can:
# - check that your Python, PyTorch, device and widgets are ready, and say which pretrained models are cached;
# - name what each notebook of the course measures and which pretrained model it needs;
# - use the course's words: probe, layer group, freezing, discriminative LRs, paired seeds, budget N, ...;
# - count what a frozen model still trains, and say what a labeled budget N means per class.

# %%
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, elapsed
begin("00_start_here")

# %% [markdown]
# ## Your environment
# The course runs on a laptop CPU. The workbench picks the device itself (CUDA, then Apple's MPS, then the CPU)
# and, on machines with two cores or fewer, uses one thread per operation (a second one mostly spins while
# JupyterLab and the browser need the other core).

# %%
import platform, sys
from importlib import metadata
import torch
import workbench
from workbench import pick_device
from workbench.device import configure_cpu_threads

def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"

env = {"python": platform.python_version(), "torch": torch.__version__, "workbench": workbench.__version__,
       "device": str(pick_device()), "CPU cores": str(__import__("os").cpu_count()),
       "torch threads": str(configure_cpu_threads()), "ipywidgets": version("ipywidgets"),
       "jupyterlab_widgets": version("jupyterlab_widgets")}
for key, value in env.items():
    print(f"{key:>20}: {value}")
assert sys.version_info >= (3, 10), "the workbench needs Python 3.10 or newer"

# %% [markdown]
# **Do widgets work?** Predictions, quizzes and the playground use ipywidgets. The kernel cannot see your
# browser, so look: if a slider and a line that follows it appear below, widgets work. If you see
# `IntSlider(...)` as text instead, install `jupyterlab_widgets` in the environment that runs JupyterLab and reload
# the page; every cell still runs without widgets (you then set predictions with `.value = ...`).

# %%
import ipywidgets as w
slider = w.IntSlider(value=10, min=10, max=500, step=10, description="budget N")
echo = w.Label()
slider.observe(lambda change: setattr(echo, "value", f"N={change['new']}: {change['new'] // 10} labeled images per digit class"), names="value")
slider.value = 20
w.VBox([slider, echo])

# %% [markdown]
# ## The cache: what is pre-warmed
# Pretraining is done once, before class, by one command (`python -m workbench.course.prewarm`): it builds the
# pretrained CNN and the tiny GPT into the cache. A notebook whose model is missing pretrains it on first use,
# which costs what the table below says it cost on the machine that built it (read from the checkpoint, measured
# when it was pretrained). This cell only looks; it builds nothing.

# %%
import pandas as pd
from pathlib import Path
from workbench.paths import cache_dir
from workbench.course.prewarm import cache_status
from workbench.course.timer import format_seconds

print(f"cache: {cache_dir()}")
status = pd.DataFrame(cache_status())
def cold_cost(row):
    if not row.cached:
        return "not built here yet: measured when it is"
    return f"{format_seconds(row.pretrain_seconds)} ({int(row.steps):,} steps)" if row.pretrain_seconds else "not recorded"

status["cold start cost"] = [cold_cost(row) for row in status.itertuples()]
display(status[["model", "used by", "cached", "cold start cost"]])
for row in status.itertuples():
    if not row.cached:
        print(f"{row.model} is not cached: the first notebook that needs it pretrains it; "
              "run `python -m workbench.course.prewarm` before class instead")

# %% [markdown]
# If `docs/timings.md` exists in your checkout, it holds each notebook's measured time with a cold cache, a warm
# cache and in smoke mode (`python -m workbench.course.timings` measures it):

# %%
from workbench.course.timings import read_timings
timings_file = next((p / "docs" / "timings.md" for p in (Path.cwd(), *Path.cwd().parents) if (p / "docs" / "timings.md").exists()), None)
if timings_file:
    display(pd.DataFrame(read_timings(timings_file)).T)
else:
    print("no docs/timings.md in this checkout yet: `python -m workbench.course.timings` measures every notebook")

# %% [markdown]
# ## The course map
#
# | notebook | what it measures | pretrained model |
# |---|---|---|
# | 00 start here | your setup, the words, a budget's arithmetic | none (reads the cache) |
# | 01 pretraining a CNN | pretrain on printed characters; read real handwriting without having seen any | the CNN (built here) |
# | 02 fine-tuning recipes | six ways to adapt it (probe, full, partial, discriminative, gradual, scratch) on 20 labels | the CNN |
# | 03 pretrained vs scratch | the gain of pretraining across budgets N = 10 ... 500, with confidence intervals | the CNN |
# | 04 pretraining a tiny GPT | next-token prediction on Shakespeare: loss, perplexity, samples | the tiny GPT (built here) |
# | 05 fine-tuning the transformer | genre classification from few passages vs TF-IDF and scratch | the tiny GPT |
# | 06 a real pretrained checkpoint | the same recipes on MiniLM, a real pretrained model (optional package) | MiniLM, if installed |
# | 07 pitfalls and best practices | forgetting, leakage, seeds, BatchNorm, what goes wrong | the CNN and the tiny GPT |
# | 08 playground | build a recipe with widgets, run it, stop it, compare | the CNN |
#
# ## Two predictions about the model you will fine-tune
# The CNN of notebooks 01-03 has four convolutional stages (16, 32, 64 and 128 channels, 3×3 kernels, BatchNorm)
# and a linear head over the 62 printed characters (0-9, A-Z, a-z). Commit before the next cell counts.
#
# ### Predict: how many parameters?

# %%
n_params = Prediction("00.cnn_params", "How many parameters (in thousands) does the CNN have?", unit="thousand",
                      signed=False, digits=0)
n_params

# %% [markdown]
# ### Predict: what share of them does a linear probe train?
# A linear probe freezes every group but the head (a 128 × 62 linear layer and its bias).

# %%
head_share = Prediction("00.head_share", "What percentage of the CNN's parameters are in the head?", unit="%", signed=False)
head_share

# %%
from workbench import load_checkpoint, layer_groups, trainable_summary
from workbench.models.cnn import CNNConfig, SmallCNN

cnn_row = status.iloc[0]
model = load_checkpoint(cnn_row.path)[0] if cnn_row.cached else SmallCNN(CNNConfig(widths=(16, 32, 64, 128), num_classes=62))
print("the cached pretrained CNN" if cnn_row.cached else "not cached: the same architecture with random weights (same counts)")
per_group = pd.DataFrame(trainable_summary(model))
display(per_group)
total = sum(p.numel() for p in model.parameters())
head = sum(p.numel() for p in layer_groups(model)["head"].parameters())
n_params.reveal(total / 1000)
head_share.reveal(100 * head / total)

# %% [markdown]
# Most parameters sit in the last stages, where channels are widest (a 3×3 convolution from 64 to 128 channels
# alone has 64·128·9 weights). The head is a small share: a probe trains only that.
#
# ## Exercise 1: what a budget N means
# Every experiment gives a recipe a **labeled budget N**: N labeled images over all classes together, drawn
# class-balanced. Write the function; the check tries it on several budgets.

# %%
def images_per_class(n_labeled, n_classes):
    return n_labeled // n_classes  # SOLUTION

fb = check("00.per_class", images_per_class)
per_class = answer_or(images_per_class, lambda: reference("00.per_class"), fb)
print(f"N=10 over the 10 digit classes: {per_class(10, 10)} labeled image per class")

# %% [markdown]
# ## Exercise 2: which recipe does what?
# A **recipe** is one small value that says how a run trains. Print the shipped ones, then match each situation
# to a recipe name. The check reads the recipe's fields, so it tells you what your choice really does.

# %%
from workbench import get_recipe, recipe_names
from workbench.course.lessons.nb00 import SITUATIONS
for name in recipe_names():
    print(f"{name:>15}: {get_recipe(name).describe()}")
print()
for key, text in SITUATIONS.items():
    print(f"{key:>22}: {text}")

# %%
my_recipes = {situation: ... for situation in SITUATIONS}   # fill in each one with a recipe name
my_recipes["control"] = "scratch"  # SOLUTION
my_recipes["frozen features"] = "probe"  # SOLUTION
my_recipes["everything, one rate"] = "finetune"  # SOLUTION
my_recipes["early layers fixed"] = "partial"  # SOLUTION
my_recipes["head faster"] = "discriminative"  # SOLUTION
my_recipes["release over time"] = "gradual"  # SOLUTION
check("00.pick_recipe", my_recipes)

# %% [markdown]
# ## Exercise 3: what does freezing leave trainable?
# **Freezing** a layer group sets `requires_grad=False` on its parameters, so the optimizer leaves them alone.
# Below, the first two groups (`stage1`, `stage2`) are frozen, as the `partial` recipe does. Count the parameters
# (numbers, not tensors) that still train.

# %%
import copy
from workbench import set_frozen
partial = copy.deepcopy(model)
set_frozen(partial, list(layer_groups(partial))[:2])

n_trainable = sum(p.numel() for p in partial.parameters() if p.requires_grad)  # SOLUTION
check("00.count_partial", n_trainable, partial)

# %% [markdown]
# <a id="glossary"></a>
# ## Glossary
#
# - **Pretraining**: training a model on a large, cheap *source* task (printed characters; Shakespeare's next word)
#   so that its weights hold features worth reusing.
# - **Fine-tuning**: continuing to train a pretrained model on the *target* task (handwritten digits; a play's
#   genre), usually with a new head and few labels.
# - **Linear probe**: fine-tuning only a new linear head on top of a frozen pretrained backbone: it measures how
#   linearly readable the pretrained features are.
# - **Layer group**: a block of consecutive layers that is frozen or given a learning rate as one (here `stage1` ...
#   `stage4` and `head`, input to output).
# - **Freezing**: `requires_grad=False` on a group's parameters, so it does not train. BatchNorm's running
#   statistics are buffers, not parameters: the recipe's `bn` field says whether they still move.
# - **Discriminative LRs**: a different learning rate per layer group, smaller near the input (general features)
#   and larger at the head (Howard & Ruder 2018).
# - **Gradual unfreezing**: start with everything but the head frozen, then release one group at a time from the
#   top during the run.
# - **LR schedule**: how the learning rate changes over the steps of a run (constant, cosine, one-cycle, ...);
#   the course always plots it before using it.
# - **Warm-up**: the first part of a schedule, where the rate rises from small to its peak, so a random new head's
#   large early gradients do not wreck the pretrained weights.
# - **Paired seeds**: for a given seed, every recipe gets the same labeled subset, batch order and augmentation, so
#   the difference between two recipes at that seed measures the recipes, not the draw.
# - **Labeled budget N**: the number of labeled target examples a run may use, over all classes together
#   (N=10 digits is one per class).
# - **Zero-shot**: using a model on a task without any labeled example of that task. In notebook 01 this means
#   reading digits through ten of the 62 pretraining classes; CLIP's zero-shot (Radford et al. 2021) classifies
#   into classes named only in text at test time.
# - **Perplexity**: `exp(loss)` of a language model (loss in nats per token): it is as unsure as a uniform guess
#   among that many tokens.
# - **Masked LM**: pretraining by hiding some tokens and predicting them from both sides (BERT, Devlin et al. 2019),
#   where a causal LM (GPT) predicts each next token from the left only.
# - **Adapter / LoRA**: small trainable modules added to a frozen pretrained model; LoRA adds low-rank updates to
#   its weight matrices (Hu et al. 2021), so a fine-tuned copy costs a fraction of the model.

# %% [markdown]
# ## Questions

# %%
get_quiz("00.review")

# %% [markdown]
# ## Summary

# %%
cached = [r.model for r in status.itertuples() if r.cached]
print(f"This machine runs Python {env['python']} and torch {env['torch']} on {env['device']} with {env['torch threads']} thread(s); "
      f"cached: {', '.join(cached) if cached else 'nothing yet (run the prewarm command)'}.")
print(f"The CNN has {total:,} parameters; its head holds {head:,} of them ({100 * head / total:.1f}%), all a linear probe trains; "
      f"freezing stage1 and stage2 leaves {sum(p.numel() for p in partial.parameters() if p.requires_grad):,} trainable.")

# %% [markdown]
# ## Further reading
# - Yosinski et al. 2014, *How transferable are features in deep neural networks?*: which layers transfer, measured; the reason layer groups and freezing depth matter.
# - Howard & Ruder 2018, *Universal Language Model Fine-tuning (ULMFiT)*: discriminative learning rates, gradual unfreezing and warm-up schedules.
# - Kornblith et al. 2019, *Do Better ImageNet Models Transfer Better?*: linear probes vs fine-tuning across many targets.
# - Radford et al. 2021, *Learning Transferable Visual Models From Natural Language Supervision (CLIP)*: zero-shot in its strong sense.
# - Hu et al. 2021, *LoRA: Low-Rank Adaptation of Large Language Models*: adapters as low-rank updates.
#
# **Next:** `01_pretraining_a_cnn`.

# %%
elapsed()
