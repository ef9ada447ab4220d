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
# # 04 · Pretraining a tiny GPT on Shakespeare
#
# The language track asks the same question as the vision track: **what does pretraining buy?** Here the
# pretraining task needs no labels at all: a *causal language model* reads Shakespeare and learns to predict
# the next token. The labels come from the text itself.
#
# We use only what the characters *say* (headings, stage directions and speaker names are removed; names would
# give the play away) and hold out 9 whole plays (3 comedies, 3 histories, 3 tragedies) that no model sees in
# pretraining: the fine-tuning tasks of notebook 05 are drawn from them.
#
# This notebook: the corpus and its split, tokenization (characters vs byte-level BPE), next-token prediction,
# the loss and perplexity curves of the cached pretrained model, samples written as it trained, a short live
# run you can watch, and what it all costs (parameters, tokens per second, seconds).

# %%
# %matplotlib inline
import math, time
import pandas as pd
import torch
from workbench import (
    figures, shakespeare, shakespeare_tokenizer, encode_corpus, pretrained_lm, pretrain_text,
    PRETRAIN_TEXT, count_parameters, group_parameter_counts
)

# %% [markdown]
# ## The corpus and the whole-play split

# %%
summary = pd.DataFrame(shakespeare.corpus_summary())
table = summary.groupby(["split", "genre"]).agg(plays=("play", "count"), characters=("characters", "sum"))
display(table)
held = summary[summary.split == "held_out"]
print("held-out plays:", ", ".join(held.play))
assert (held.groupby("genre").play.count() >= 3).all() and len(held) == 9
assert not set(held.play) & set(summary[summary.split == "train"].play)

# %% [markdown]
# ## Tokenization: characters or byte-level BPE
#
# A tokenizer cuts text into the units the model predicts. Characters give a tiny vocabulary and long
# sequences; byte-level BPE (GPT-2's scheme, learned here from the training plays only) merges frequent
# byte sequences into 2,048 tokens, so the same context window holds about three times more text.

# %%
char_tok, bpe_tok = shakespeare_tokenizer("char"), shakespeare_tokenizer("bpe")
line = "Now, fair Hippolyta, our nuptial hour draws on apace"
print(char_tok, "->", char_tok.tokens(line)[:20])
print(bpe_tok, "->", bpe_tok.tokens(line))
held_text = shakespeare.corpus_text("held_out")[:200_000]
chars_per_token = len(held_text) / len(bpe_tok.encode(held_text))
print(f"byte-level BPE on held-out text: {chars_per_token:.2f} characters per token")
assert bpe_tok.decode(bpe_tok.encode(line)) == line and char_tok.decode(char_tok.encode(line)) == line
assert chars_per_token > 2

# %% [markdown]
# ## Next-token prediction
#
# A causal LM sees tokens 0..t and is scored (cross-entropy) on token t+1, at every position at once. The
# inputs and targets are the same window, shifted by one:

# %%
ids = bpe_tok.encode("To be, or not to be: that is the question")
for t in range(6):
    print(f"{bpe_tok.decode(ids[:t + 1])!r:45} -> {bpe_tok.decode([ids[t + 1]])!r}")

# %% [markdown]
# ## The pretrained model (cached)
#
# `pretrained_lm()` returns the tiny GPT trained by `workbench pretrain text` (4 layers, 4 heads, 128 dims,
# context 128 BPE tokens). The first call trains and caches it (several minutes on a CPU); later calls load it.

# %%
pre = pretrained_lm()
m = pre.metrics
print(f"parameters: {count_parameters(pre.model):,}")
display(pd.DataFrame(group_parameter_counts(pre.model)))
print(f"pretraining: {m['steps']} steps, {m['tokens_seen']:,} tokens, {m['seconds']:.0f} s, {m['tokens_per_second']:.0f} tokens/s")
print(f"held-out loss {m['val_loss']:.3f} (perplexity {m['val_perplexity']:.1f}), train loss {m['train_loss']:.3f}")
print(f"a model that guesses uniformly over {bpe_tok.vocab_size} tokens: loss {math.log(bpe_tok.vocab_size):.3f} (perplexity {bpe_tok.vocab_size})")
assert m["val_perplexity"] < 200 < bpe_tok.vocab_size

# %% [markdown]
# Perplexity is `exp(loss)`: the number of tokens the model is, on average, as unsure as a uniform guess among.
# Train and held-out loss are measured on fixed windows of training plays and held-out plays (64 windows at each
# evaluation in the curve; the reported final held-out loss uses 512, so it is steadier).

# %%
h = pre.frame()
evals = h.dropna(subset=["val_loss"])[["step", "tokens_seen", "train_loss", "val_loss", "val_perplexity"]]
display(evals)
fig = figures.training_curves(pre.history, metrics=("train_loss", "val_loss"), title="Pretraining the tiny GPT")

# %% [markdown]
# ## Samples over time
#
# At every evaluation the model wrote a short sample (temperature 0.8, top-k 40). Watch it go from noise to
# words to something that looks like verse.

# %%
for row in h.dropna(subset=["sample"]).itertuples():
    print(f"--- step {row.step} (held-out loss {row.val_loss:.2f}) ---")
    print(row.sample.strip()[:300], "\n")

# %% [markdown]
# Temperature divides the logits before sampling: low is safe and repetitive, high is adventurous and noisier.
# Top-k keeps only the k most likely tokens.

# %%
for temperature in (0.5, 1.0, 1.4):
    text = pre.model.generate_text(bpe_tok, "\n", 50, temperature=temperature, top_k=40, generator=torch.Generator().manual_seed(0))
    print(f"--- temperature {temperature} ---\n{text.strip()}\n")

# %% [markdown]
# ## Watch one learn: a short live run
#
# The cached model took minutes. Here is a small character-level GPT (2 layers, 64 dims) trained for 150 steps
# right now, printing a sample at each evaluation, so you can see the cost: tokens per second and seconds.

# %%
live = pretrain_text(tokenizer="char", steps=150, n_layer=2, n_head=4, n_embd=64, block_size=64, eval_every=50,
                     eval_windows_n=16, progress=True)
lm = live.metrics
print(f"{lm['parameters']:,} parameters, {lm['steps']} steps, {lm['tokens_seen']:,} tokens in {lm['seconds']:.0f} s "
      f"= {lm['tokens_per_second']:.0f} tokens/s; held-out loss {lm['val_loss']:.2f} (uniform: {math.log(char_tok.vocab_size):.2f})")
assert lm["val_loss"] < math.log(char_tok.vocab_size) - 0.5

# %% [markdown]
# ## What it cost
#
# Training cost grows with parameters x tokens. Our tiny GPT has about a million parameters and saw a couple of
# million tokens; GPT-2 small has 124 million parameters and saw billions. Next notebook: does this tiny amount
# of pretraining already help on tasks with few labels?
