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
# pretraining. Notebook 05 fine-tunes on passages from the **training** plays (as a real fine-tuning set would:
# text the LM may have read) and tests on passages from the **held-out** plays, which no model ever trains on.
#
# This notebook: the corpus and its split, tokenization (characters vs byte-level BPE), next-token prediction
# and its loss, the loss and perplexity curves of the cached pretrained model, samples written as it trained,
# a short live run you can watch, and what it all costs (parameters, tokens per second, seconds).
#
# ## Objectives
#
# - After this notebook you can explain where a language model's labels come from, and why whole plays are held out.
# - After this notebook you can say what a byte-level BPE token is and measure how much text one covers.
# - After this notebook you can write the causal LM loss yourself: every position scored on the *next* token.
# - After this notebook you can turn a loss into a perplexity and read it against a uniform guess.
# - After this notebook you can read a pretraining curve and samples, and say what temperature does.

# %%
# %matplotlib inline
import math, time
import pandas as pd
import torch
import torch.nn.functional as F
from workbench import (
    figures, shakespeare, shakespeare_tokenizer, encode_corpus, pretrained_lm, pretrain_text,
    PRETRAIN_TEXT, count_parameters, group_parameter_counts
)
from workbench.course import begin, Prediction, check, answer_or, reference, get_quiz, size, elapsed

begin("04_pretraining_a_tiny_gpt")

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
# byte sequences into 2,048 tokens, so the same context window holds more text.

# %%
char_tok, bpe_tok = shakespeare_tokenizer("char"), shakespeare_tokenizer("bpe")
line = "Now, fair Hippolyta, our nuptial hour draws on apace"
print(char_tok, "->", char_tok.tokens(line)[:20])
print(bpe_tok, "->", bpe_tok.tokens(line))
assert bpe_tok.decode(bpe_tok.encode(line)) == line and char_tok.decode(char_tok.encode(line)) == line

# %% [markdown]
# ## Predict: how much text does one BPE token cover?
#
# Before the next cell measures it on 200,000 characters of the held-out plays (which the tokenizer never saw):
# how many characters does one BPE token cover on average? (A character tokenizer: exactly 1.)

# %%
chars_pred = Prediction("04.chars_per_token", "Characters per BPE token on held-out text?", unit="characters", signed=False, digits=2)
chars_pred

# %%
held_text = shakespeare.corpus_text("held_out")[:200_000]
chars_per_token = len(held_text) / len(bpe_tok.encode(held_text))
print(f"byte-level BPE on held-out text: {chars_per_token:.2f} characters per token")
chars_pred.reveal(chars_per_token)
assert chars_per_token > 2

# %% [markdown]
# ## Exercise: characters per token on one line
#
# The average hides the variation: common words are one token, a rare name is cut into pieces. Count the
# characters per BPE token on the line above (look at `bpe_tok.tokens(line)` to see the pieces).

# %%
my_chars_per_token = len(line) / len(bpe_tok.encode(line))  # SOLUTION
check("04.chars_per_token", my_chars_per_token, {"line": line, "tokenizer": bpe_tok})

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
# context 128 BPE tokens, for the number of steps printed below). The first call trains and caches it (several
# minutes on a CPU; before class, `python -m workbench.course.prewarm` does it once); later calls load it.
# A smoke run (`WORKBENCH_SMOKE=1`) pretrains far shorter, so its numbers are not the lesson's.

# %% [markdown]
# ## Predict: the held-out perplexity
#
# A uniform guess over the 2,048 BPE tokens has perplexity 2,048. What perplexity will the pretrained tiny GPT
# reach on the held-out plays?

# %%
ppl_pred = Prediction("04.val_perplexity", "Held-out perplexity of the pretrained tiny GPT (uniform: 2,048)?", signed=False)
ppl_pred

# %%
pre = pretrained_lm(steps=size(None, smoke=60))  # None: the recipe's steps, PRETRAIN_TEXT.steps
m = pre.metrics
print(f"parameters: {count_parameters(pre.model):,}")
display(pd.DataFrame(group_parameter_counts(pre.model)))
print(f"pretraining: {m['steps']} steps, {m['tokens_seen']:,} tokens, {m['seconds']:.0f} s, {m['tokens_per_second']:.0f} tokens/s")
print(f"held-out loss {m['val_loss']:.3f} (perplexity {m['val_perplexity']:.1f}), train loss {m['train_loss']:.3f}")
print(f"a model that guesses uniformly over {bpe_tok.vocab_size} tokens: loss {math.log(bpe_tok.vocab_size):.3f} (perplexity {bpe_tok.vocab_size})")
ppl_pred.reveal(m["val_perplexity"])
assert m["val_perplexity"] < size(200, smoke=bpe_tok.vocab_size)

# %% [markdown]
# ## Exercise: the shifted next-token loss
#
# Write the loss the model was trained with. `logits` has shape (batch, T, vocab): at each position, the scores
# for the token that comes next; `ids` has shape (batch, T). Score every position but the last against the token
# one to its right, and average. The check runs your function on a fixed batch of held-out windows and compares
# it with the package's `clm_loss`.

# %%
def next_token_loss(logits, ids):
    # BEGIN SOLUTION
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    # END SOLUTION


batch_ids = torch.tensor([bpe_tok.encode(held_text[i * 5000: i * 5000 + 1000])[:64] for i in range(8)])
loss_fb = check("04.next_token_loss", next_token_loss, {"model": pre.model, "ids": batch_ids})

# %%
loss_fn = answer_or(next_token_loss, lambda: reference("04.next_token_loss"), loss_fb)
with torch.no_grad():
    print(f"the loss on these {len(batch_ids)} windows of 64 tokens: {float(loss_fn(pre.model(batch_ids), batch_ids)):.3f} "
          f"(the reported held-out loss, over 512 windows of 128: {m['val_loss']:.3f})")

# %% [markdown]
# ## Exercise: from a loss to a perplexity
#
# Perplexity is the number of tokens the model is, on average, as unsure as a uniform guess among. Turn the
# held-out loss `m["val_loss"]` (mean cross-entropy in nats per token) into a perplexity: a number, or a function
# of the loss.

# %%
my_perplexity = math.exp(m["val_loss"])  # SOLUTION
check("04.perplexity", my_perplexity, m)

# %% [markdown]
# ## The pretraining curve
#
# Train and held-out loss are measured on fixed windows of training plays and held-out plays (64 windows at each
# evaluation in the curve; the reported final held-out loss uses 512, so it is steadier).

# %%
h = pre.frame()
evals = h.dropna(subset=["val_loss"])[["step", "tokens_seen", "train_loss", "val_loss", "val_perplexity"]]
display(evals)
fig = figures.training_curves(pre.history, metrics=("train_loss", "val_loss"), title="Pretraining the tiny GPT")

# %% [markdown]
# *Figure:* the tiny GPT's train and held-out loss (nats per token) against the optimizer step, both falling as it
# trains; the gap between the two curves is what the model fits of the training plays only.

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
# right now (fewer in a smoke run), printing a sample at each evaluation, so you can see the cost: tokens per
# second and seconds.

# %%
live_steps = size(150, smoke=30)
live = pretrain_text(tokenizer="char", steps=live_steps, n_layer=2, n_head=4, n_embd=64, block_size=64,
                     eval_every=live_steps // 3, eval_windows_n=16, progress=True)
lm = live.metrics
print(f"{lm['parameters']:,} parameters, {lm['steps']} steps, {lm['tokens_seen']:,} tokens in {lm['seconds']:.0f} s "
      f"= {lm['tokens_per_second']:.0f} tokens/s; held-out loss {lm['val_loss']:.2f} (uniform: {math.log(char_tok.vocab_size):.2f})")
assert lm["val_loss"] < math.log(char_tok.vocab_size) - size(0.5, smoke=0.1)

# %% [markdown]
# ## Summary: what it cost, and what this run measured
#
# Training cost grows with parameters x tokens. GPT-2 small has 124 million parameters and was trained on
# billions of tokens (Radford et al. 2019); the cell below puts our tiny GPT's numbers beside that. Next
# notebook: does this tiny amount of pretraining already help on tasks with few labels?

# %%
print(f"- Byte-level BPE covers {chars_per_token:.2f} characters per token on held-out text, so the 128-token context "
      f"holds about {128 * chars_per_token:.0f} characters.")
print(f"- The tiny GPT has {count_parameters(pre.model):,} parameters ({count_parameters(pre.model) / 124e6:.1%} of GPT-2 "
      f"small's 124 M) and saw {m['tokens_seen']:,} tokens in {m['steps']} steps.")
print(f"- Its held-out loss is {m['val_loss']:.3f} nats per token: perplexity {m['val_perplexity']:.1f}, against "
      f"{bpe_tok.vocab_size:,} for a uniform guess ({bpe_tok.vocab_size / m['val_perplexity']:.0f}x fewer candidates).")
print(f"- Train loss {m['train_loss']:.3f}, held-out {m['val_loss']:.3f}: the plays it never read cost "
      f"{m['val_loss'] - m['train_loss']:+.3f} nats per token more.")
print(f"- The live character-level run went from uniform ({math.log(char_tok.vocab_size):.2f}) to {lm['val_loss']:.2f} "
      f"in {lm['steps']} steps and {lm['seconds']:.0f} s.")

# %% [markdown]
# ## Questions

# %%
get_quiz("04.review")

# %% [markdown]
# ## Further reading
#
# - Radford et al. 2018, *Improving Language Understanding by Generative Pre-Training* (GPT): pretrain a causal
#   LM on unlabeled text, then fine-tune it; the recipe this notebook and the next follow.
# - Radford et al. 2019, *Language Models are Unsupervised Multitask Learners* (GPT-2): byte-level BPE and the
#   124 M-parameter scale our tiny GPT is compared with.
# - Sennrich, Haddow & Birch 2016, *Neural Machine Translation of Rare Words with Subword Units*: where BPE
#   tokenization comes from.
# - Vaswani et al. 2017, *Attention Is All You Need*: the transformer block the tiny GPT stacks four of.
# - Holtzman et al. 2020, *The Curious Case of Neural Text Degeneration*: why sampling needs temperature and
#   top-k (or nucleus) truncation.

# %%
elapsed()
