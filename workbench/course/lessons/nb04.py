"""Notebook 04, pretraining a tiny GPT: the shifted loss, a perplexity, what a token covers.

* ``04.next_token_loss``: the student writes the causal LM loss from the logits and the token ids (the
  shift by one). Checked on a fixed batch against the package's ``clm_loss``; the mistakes worth naming:
  no shift (predicting the token it already sees), the shift the wrong way, a sum instead of a mean.
* ``04.chars_per_token``: characters per byte-level BPE token on a given line. The mistakes worth
  naming: the inverse (tokens per character), words instead of tokens, the character tokenizer's count.
* ``04.perplexity``: the student turns the held-out loss (mean cross-entropy per token, in nats) into a
  perplexity, as a number or as a function of the loss. The mistakes worth naming: base 2 or 10
  instead of e, the sign, or the loss itself.
* the ``04.review`` quiz.
"""
from __future__ import annotations

import math

from ...errors import WorkbenchError
from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz

_FIXTURE = {"val_loss": 4.234}


# ---- 04.next_token_loss --------------------------------------------------------------------------------

def tiny_lm_batch(seed: int = 0):
    """A one-block GPT with a 40-token vocabulary and a fixed (4, 12) batch of ids: the exercise's fixture."""
    import torch

    from ...models.text import TinyConfig, TinyLM

    torch.manual_seed(seed)
    model = TinyLM(TinyConfig(vocab_size=40, n_layer=1, n_head=2, n_embd=16, block_size=16)).eval()
    ids = torch.randint(3, 40, (4, 12), generator=torch.Generator().manual_seed(seed + 1))
    return {"model": model, "ids": ids}


def _reference_loss(logits, ids):
    import torch.nn.functional as F

    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def _loss_variants(logits, ids) -> list[tuple[float, str]]:
    import torch.nn.functional as F

    v = logits.shape[-1]
    n = ids[:, 1:].numel()
    ref = float(_reference_loss(logits, ids))
    return [
        (float(F.cross_entropy(logits.reshape(-1, v), ids.reshape(-1))),
         "that is the loss without the shift: the logits at position t are scored against the token at t, which the "
         "model already sees; score logits[:, :-1] against ids[:, 1:]"),
        (float(F.cross_entropy(logits[:, 1:].reshape(-1, v), ids[:, :-1].reshape(-1))),
         "the shift goes the wrong way: you score the logits at t + 1 against the token at t (predicting the past); "
         "the logits at t predict the token at t + 1"),
        (ref * n, "that is the sum of the per-token losses; the loss is their mean (F.cross_entropy's default reduction)"),
        (ref / __import__("math").log(2), "that is the loss in bits (log base 2); cross-entropy here is in nats"),
        (-ref, "the sign is flipped: cross-entropy is minus the log-probability of the right token, a positive number"),
    ]


@exercise(
    "04.next_token_loss",
    task="Write next_token_loss(logits, ids): the mean cross-entropy of every position's logits against the NEXT token.",
    hint="logits has shape (batch, T, vocab) and ids (batch, T): drop the last position of the logits (nothing follows "
         "it) and the first token of ids (nothing predicts it), flatten them to (N, vocab) and (N,) with .reshape and "
         "call F.cross_entropy, which averages over the N predictions",
    fixture=tiny_lm_batch,
    blank=lambda results: (lambda logits, ids: None),  # the student's cell: a def whose body is ...
    solution=lambda results: _reference_loss,
)
def check_next_token_loss(fn, results):
    import torch

    from ...pretrain.text import clm_loss

    if not callable(fn):
        return failed(f"pass your function itself (next_token_loss, without calling it), got a {type(fn).__name__}")
    model, ids = results["model"], results["ids"]
    with torch.no_grad():
        truth = float(clm_loss(model, {"input_ids": ids}))
        logits = model(ids)
        got = fn(logits.clone(), ids.clone())
    if got is None:
        return failed("your function returns None: fill in its body (replace the ...) and return the loss")
    if hasattr(got, "ndim") and got.ndim > 0:
        if got.numel() == 1:
            got = got.reshape(())
        else:
            return failed(f"your function returns a tensor of shape {tuple(got.shape)}; the loss is one number, the mean over "
                          "every position of every row")
    got = float(got.item() if hasattr(got, "item") else got)
    if abs(got - truth) <= 1e-4 * max(1.0, abs(truth)):
        return passed(f"{got:.4f}, the package's clm_loss to 4 decimals on a fixed batch of {ids.shape[0]} rows x "
                      f"{ids.shape[1]} tokens: {ids[:, 1:].numel()} predictions ({ids.shape[1] - 1} per row: every position but the last)")
    for value, why in _loss_variants(logits, ids):
        if abs(got - value) <= 1e-4 * max(1.0, abs(value)):
            return failed(f"your loss is {got:.4f}, the package's {truth:.4f}: {why}")
    return failed(f"your loss is {got:.4f}; the package's clm_loss gives {truth:.4f} on the same batch")


# ---- 04.chars_per_token ----------------------------------------------------------------------------------

class _PairTokenizer:
    """A stand-in tokenizer for tests: one token per two characters."""

    kind = "bpe"

    def encode(self, text: str) -> list[int]:
        return [hash(text[i:i + 2]) % 97 for i in range(0, len(text), 2)]


_LINE = "Now, fair Hippolyta, our nuptial hour draws on apace"


def _chars_per_token(results) -> float:
    return len(results["line"]) / len(results["tokenizer"].encode(results["line"]))


@exercise(
    "04.chars_per_token",
    task="How many characters does one byte-level BPE token cover, on average, on results['line']?",
    hint="count the characters of the line (len(line)) and its BPE tokens (len(bpe_tok.encode(line))), and divide the "
         "first by the second",
    fixture=lambda: {"line": _LINE, "tokenizer": _PairTokenizer()},
    solution=_chars_per_token,
)
def check_chars_per_token(answer, results):
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return failed(f"give one number (characters per token), got {answer!r}")
    line = results["line"]
    n_chars, n_tokens, n_words = len(line), len(results["tokenizer"].encode(line)), len(line.split())
    truth = n_chars / n_tokens
    if math.isclose(answer, truth, rel_tol=2e-3):
        return passed(f"{n_chars} characters in {n_tokens} BPE tokens: {truth:.2f} characters per token, so a 128-token "
                      f"context holds about {128 * truth:.0f} characters of this kind of text")
    guesses = [(n_tokens / n_chars, "that is tokens per character, the inverse: divide the characters by the tokens"),
               (n_chars / n_words, "that is characters per word: count BPE tokens (bpe_tok.encode(line)), not words"),
               (n_words / n_tokens, "that is words per token: count the line's characters, len(line)"),
               (1.0, "with the character tokenizer every token is one character; use the BPE tokenizer"),
               (n_chars // n_tokens, "that is a whole-number division (//); use / to keep the fraction")]
    for guess, why in guesses:
        if math.isclose(answer, guess, rel_tol=2e-3):
            return failed(f"{answer:g}: {why}")
    return failed(f"{answer:g} is {'too many' if answer > truth else 'too few'} characters per token for this line")


def _loss(results) -> float:
    if isinstance(results, dict):
        if "val_loss" not in results:
            raise WorkbenchError(f"the results have no 'val_loss' (keys: {sorted(results)}); pass pre.metrics")
        return float(results["val_loss"])
    return float(results)


def _number(value) -> float:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WorkbenchError(f"a perplexity is one number, got {value!r}")
    return float(value)


def _call(fn, loss: float) -> float:
    """``fn(loss)`` for a float, or for a 0-d tensor when the student's function wants torch."""
    try:
        return _number(fn(loss))
    except TypeError:
        import torch

        return _number(fn(torch.tensor(loss)))


def _close(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isclose(a, b, rel_tol=1e-3)


def _diagnose(value: float, loss: float):
    truth = math.exp(loss)
    if _close(value, truth):
        return None
    guesses = [(2 ** loss, "that is 2 ** loss: the loss is in nats (natural log), so the base is e"),
               (10 ** loss, "that is 10 ** loss: the loss is in nats (natural log), so the base is e"),
               (math.exp(-loss), "that is exp(-loss), the geometric-mean probability of the right token; perplexity is its inverse"),
               (loss, "that is the loss itself")]
    for guess, why in guesses:
        if _close(value, guess):
            return why
    if value < 1:
        return f"{value:g} is below 1: a perplexity is at least 1 (a model that is always sure and right)"
    return f"{value:g} is {'too high' if value > truth else 'too low'} for a loss of {loss:.3f}"


@exercise(
    "04.perplexity",
    task="Turn the held-out loss (pre.metrics['val_loss'], nats per token) into a perplexity: a number or a function of the loss.",
    hint="perplexity = e to the power of the mean cross-entropy: math.exp(loss); the model is as unsure as a uniform guess among that many tokens",
    fixture=lambda: dict(_FIXTURE),
    solution=lambda results: math.exp(_loss(results)),
)
def check_perplexity(answer, results):
    loss = _loss(results)
    if callable(answer):
        for test in (0.0, 1.0, loss):
            got = _call(answer, test)
            why = _diagnose(got, test)
            if why:
                return failed(f"your function gives {got:g} for a loss of {test:g}: {why}")
        return passed(f"perplexity(loss) = exp(loss): {math.exp(loss):.1f} for this model's held-out loss of {loss:.3f}")
    why = _diagnose(_number(answer), loss)
    if why:
        return failed(why)
    return passed(f"exp({loss:.3f}) = {math.exp(loss):.1f}: the model is as unsure as a uniform guess among about "
                  f"{math.exp(loss):.0f} tokens")


REVIEW = register_quiz(Quiz("04.review", [
    MultipleChoice(
        "04.review.labels",
        "Where do the labels of causal language-model pretraining come from?",
        {"From the text itself: each token is the label of the tokens before it": "That is why pretraining needs no annotation.",
         "From annotators who mark each line's genre": "Genre labels are the fine-tuning task of notebook 05, not pretraining.",
         "From a larger model's predictions": "That would be distillation; here the next token of the text is the target."},
        answer="From the text itself: each token is the label of the tokens before it"),
    Numeric(
        "04.review.ppl",
        "A model's held-out loss is 2.0 nats per token. What is its perplexity (one decimal)?",
        answer=math.exp(2.0), tolerance=0.05,
        low="Perplexity is exp(loss), not 2 ** loss or the loss itself.",
        high="Perplexity is exp(loss) with the natural base e, not 10 ** loss.",
        explain="exp(2.0) = 7.4: as unsure as a uniform guess among about 7 tokens."),
    Numeric(
        "04.review.uniform",
        "A model that guesses uniformly over a 2,048-token vocabulary: what is its loss in nats per token (two decimals)?",
        answer=math.log(2048), tolerance=0.01,
        low="The loss of a uniform guess is -log(1/V) = log(V), with the natural log: log(2048).",
        high="The loss of a uniform guess is log(V) in nats (natural log), not log2(V) = 11 bits.",
        explain="log(2048) = 7.62 nats; its perplexity is 2,048, the vocabulary size: the ceiling a trained model must get under."),
    MultipleChoice(
        "04.review.shift",
        "In a causal LM's loss, the logits at position t are scored against which token?",
        {"The token at t + 1": "Right: inputs and targets are the same window shifted by one, so every position predicts its successor.",
         "The token at t": "The model sees the token at t (it is its input there): predicting it would be copying, and the loss would fall to zero.",
         "The last token of the window": "Every position is scored, each on its own next token, not only the end of the window."},
        answer="The token at t + 1"),
    MultipleChoice(
        "04.review.heldout",
        "Why is the held-out loss measured on whole plays that pretraining never sees?",
        {"A loss on text the model trained on can fall by memorising; unseen plays measure what generalises":
             "Right: whole plays, not random lines, so no speech or scene of a held-out play leaks into training.",
         "Because the held-out plays are easier": "They are the same kind of verse; the point is that the model has not read them.",
         "To make the evaluation faster": "Held-out windows cost the same as training windows; the point is what they measure."},
        answer="A loss on text the model trained on can fall by memorising; unseen plays measure what generalises"),
    MultipleChoice(
        "04.review.finetune_data",
        "Where do notebook 05's labeled fine-tuning passages come from?",
        {"From the training plays; only its test passages come from the held-out plays":
             "Right: as in a real fine-tuning set, the labeled text may be text the LM has read; the test plays are new to every model.",
         "From the held-out plays": "Only the test passages do: scoring on plays no model has read is what makes the test honest.",
         "From text written by the model": "No: every passage is Shakespeare's; the labels (genre, real vs shuffled) come free from the corpus."},
        answer="From the training plays; only its test passages come from the held-out plays"),
    MultipleChoice(
        "04.review.bpe",
        "Why does byte-level BPE let the same 128-token context hold more text than characters?",
        {"It merges frequent byte sequences (common words, endings) into single tokens":
             "Right: each token covers several characters on average, so 128 tokens span several hundred characters.",
         "It drops rare characters": "Byte-level BPE can write every byte: nothing is dropped, rare strings just take more tokens.",
         "It compresses the text with a zip-like code the model decodes": "The tokens are merged byte sequences from a learned table, not a general-purpose compressor."},
        answer="It merges frequent byte sequences (common words, endings) into single tokens"),
    MultipleChoice(
        "04.review.temperature",
        "What does raising the sampling temperature from 0.5 to 1.4 do?",
        {"It flattens the next-token distribution: more varied, noisier text":
             "Right: the logits are divided by the temperature before the softmax, so a high temperature spreads probability to unlikely tokens.",
         "It makes the model more accurate": "Temperature changes how we sample, not what the model learned; its loss is the same.",
         "It makes the model write longer words": "Nothing about lengths: it changes how sure the sampler is, token by token."},
        answer="It flattens the next-token distribution: more varied, noisier text"),
]))
