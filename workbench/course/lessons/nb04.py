"""Notebook 04, pretraining a tiny GPT: from a loss to a perplexity.

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
]))
