"""Notebook 06, a real pretrained checkpoint (MiniLM): where its parameters are, how to pool it, what to freeze.

None of these checks needs the optional MiniLM package: they read its configuration (the numbers of
``all-MiniLM-L6-v2``'s ``config.json``, below, which the notebook compares with the installed checkpoint
when it is there) and its layer-group names.

* ``06.embedding_share``: the fraction of MiniLM's parameters in its token-embedding table.
* ``06.pooling``: which pooling a classifier on MiniLM should read (``mean``, ``last`` or ``lm``).
* ``06.freeze_embeddings``: a recipe that freezes only the embeddings and trains every block and the head.
* the ``06.review`` quiz.
"""
from __future__ import annotations

import math

from ...errors import WorkbenchError
from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz

#: all-MiniLM-L6-v2's config.json, the fields that size it
MINILM_CONFIG = {"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
                 "intermediate_size": 1536, "max_position_embeddings": 512, "type_vocab_size": 2}
MINILM_GROUPS = ["embeddings"] + [f"block{i}" for i in range(1, 7)] + ["head"]


def bert_parameter_count(config: dict) -> dict[str, int]:
    """Parameters of a BERT encoder (with its pooler) from its config: per part and ``total``."""
    h, i, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    token = v * h
    embeddings = token + config["max_position_embeddings"] * h + config["type_vocab_size"] * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    pooler = h * h + h
    blocks = config["num_hidden_layers"] * layer
    return {"token_embeddings": token, "embeddings": embeddings, "per_block": layer, "blocks": blocks, "pooler": pooler,
            "total": embeddings + blocks + pooler}


def minilm_facts(config: dict | None = None) -> dict:
    """What the exercises read: the config, its parameter counts, the layer groups."""
    config = dict(config or MINILM_CONFIG)
    counts = bert_parameter_count(config)
    groups = ["embeddings"] + [f"block{k}" for k in range(1, config["num_hidden_layers"] + 1)] + ["head"]
    return {"config": config, "parameters": counts["total"], "counts": counts, "groups": groups}


def _number(answer) -> float:
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        raise WorkbenchError(f"give one number (a fraction between 0 and 1), got {answer!r}")
    return float(answer)


def _share(results) -> float:
    c = results["config"]
    return c["vocab_size"] * c["hidden_size"] / results["parameters"]


@exercise(
    "06.embedding_share",
    task="What fraction of MiniLM's parameters sits in its token-embedding table? (facts['config'], facts['parameters'])",
    hint="the token-embedding table has one row of hidden_size numbers per vocabulary entry: vocab_size * hidden_size "
         "parameters; divide by the total, facts['parameters']",
    fixture=minilm_facts,
    solution=_share,
)
def check_embedding_share(answer, results):
    value = _number(answer)
    c, total = results["config"], results["parameters"]
    counts = bert_parameter_count(c)
    truth = _share(results)
    close = lambda a, b: math.isclose(a, b, rel_tol=1e-3)  # noqa: E731
    if close(value, truth):
        return passed(f"{c['vocab_size']:,} x {c['hidden_size']} = {c['vocab_size'] * c['hidden_size']:,} of {total:,}: "
                      f"{truth:.1%} of MiniLM is its vocabulary table, which a classifier reads one row per token")
    if close(value, 100 * truth):
        return failed(f"{value:g} is a percentage; give the fraction ({value / 100:g})")
    guesses = [(counts["embeddings"] / total, "that is the whole embeddings group (position and token-type embeddings and "
                                              "its LayerNorm too); count only the token table, vocab_size * hidden_size"),
               (total / (c["vocab_size"] * c["hidden_size"]), "that is the inverse: the total over the token table"),
               (c["vocab_size"] * c["hidden_size"] / counts["blocks"], "you divided by the blocks' parameters; divide by the total"),
               (c["vocab_size"] / total, "you counted one parameter per vocabulary entry; each entry is a vector of hidden_size numbers")]
    for guess, why in guesses:
        if close(value, guess):
            return failed(f"{value:.4g}: {why}")
    if not 0 < value < 1:
        return failed(f"{value:g} is not a fraction between 0 and 1")
    return failed(f"{value:.3f} is {'too high' if value > truth else 'too low'}")


_POOLINGS = {
    "mean": "all-MiniLM-L6-v2 was trained to produce sentence embeddings by mean-pooling its token states, so the average "
            "is the summary its pretraining (and similarity tuning) shaped",
    "last": "in a BERT the last real token is always [SEP], a fixed marker; all-MiniLM was tuned to be read by the mean over "
            "its tokens, not by one token's state",
    "lm": "an encoder like MiniLM has no next-token LM head to read: 'lm' pooling is the likelihood head of a causal (GPT) "
          "model, and the encoder classifier refuses it",
}


@exercise(
    "06.pooling",
    task="Which pooling should a classifier on MiniLM read: 'mean', 'last' or 'lm'?",
    hint="think about what all-MiniLM-L6-v2 was trained to produce (sentence embeddings, how?) and what the last token of a "
         "BERT input always is",
    fixture=dict,
    solution=lambda results: "mean",
)
def check_pooling(answer, results):
    if not isinstance(answer, str):
        return failed(f"give one of {', '.join(map(repr, _POOLINGS))} as a string, got a {type(answer).__name__}")
    name = answer.strip().strip("'\"").lower()
    if name not in _POOLINGS:
        return failed(f"{answer!r} is not a pooling here; choose one of {', '.join(map(repr, _POOLINGS))}")
    if name == "mean":
        return passed("mean: " + _POOLINGS["mean"])
    return failed(f"{name}: {_POOLINGS[name]}")


def _freeze_solution(results):
    from ...train.recipe import get_recipe

    return get_recipe("finetune", "text", frozen=1)


@exercise(
    "06.freeze_embeddings",
    task="Build a recipe that fine-tunes MiniLM with only its embeddings frozen: every block and the head train, for the whole run.",
    hint="frozen=k freezes the first k layer groups, and the embeddings are the first: get_recipe('finetune', 'text', "
         "frozen=...) with unfreeze_over left at None",
    fixture=minilm_facts,
    solution=_freeze_solution,
)
def check_freeze_embeddings(recipe, results):
    from ...train.freezing import frozen_groups_at
    from ...train.recipe import Recipe

    if not isinstance(recipe, Recipe):
        return failed(f"give a Recipe, got a {type(recipe).__name__}", "start from get_recipe('finetune', 'text') and change its fields")
    groups = list(results.get("groups", MINILM_GROUPS))
    if recipe.init != "pretrained":
        return failed(f"init={recipe.init!r} starts MiniLM from random weights, and frozen random embeddings carry nothing",
                      "keep init='pretrained'")
    start = frozen_groups_at(recipe, groups, 0)  # raises (and so reports) a freeze that leaves nothing trainable
    if start != ["embeddings"]:
        if not start:
            return failed("nothing is frozen: the embeddings train too")
        return failed(f"frozen={recipe.frozen!r} freezes {', '.join(start)}: only the embeddings should be frozen")
    if recipe.unfreeze_over and frozen_groups_at(recipe, groups, recipe.steps - 1) != ["embeddings"]:
        return failed(f"unfreeze_over={recipe.unfreeze_over} releases the embeddings during the run",
                      "the freeze holds for the whole run: leave unfreeze_over at None")
    counts = bert_parameter_count(results["config"]) if "config" in results else None
    share = f": {1 - counts['embeddings'] / counts['total']:.1%} of the parameters train" if counts else ""
    return passed(f"the embeddings stay as pretrained; {', '.join(groups[1:])} train{share}")


REVIEW = register_quiz(Quiz("06.review", [
    MultipleChoice(
        "06.review.groups",
        "Why can the same recipes (probe, finetune, frozen=k) run on MiniLM unchanged?",
        {"Its layer groups (embeddings, block1..6, head) are read off the BERT structure, and recipes freeze by group":
             "Right: a recipe names groups by position, not by architecture, so it transfers to any model with groups.",
         "Because MiniLM is the same architecture as the tiny GPT": "It is a bidirectional BERT encoder with 6 blocks and another tokenizer; only the group structure is shared.",
         "Because MiniLM was pretrained on Shakespeare": "It was pretrained on general web text and tuned for sentence similarity."},
        answer="Its layer groups (embeddings, block1..6, head) are read off the BERT structure, and recipes freeze by group"),
    MultipleChoice(
        "06.review.encoder",
        "Why can the likelihood head of notebook 05 not be used on MiniLM?",
        {"MiniLM is an encoder with no next-token LM head: it does not give a passage a left-to-right loss":
             "Right: the likelihood feature is a causal LM's mean next-token loss; a bidirectional encoder has none.",
         "Because MiniLM is too large": "Size is not the issue: the feature needs a causal LM's next-token predictions.",
         "Because its tokenizer is different": "A different tokenizer changes the units, not whether a next-token loss exists."},
        answer="MiniLM is an encoder with no next-token LM head: it does not give a passage a left-to-right loss"),
    Numeric(
        "06.review.blocks",
        "MiniLM has 6 transformer blocks. How many layer groups does its classifier have (embeddings, blocks, head)?",
        answer=8, tolerance=0,
        low="Count the embeddings group, one group per block and the head.",
        high="One group for the embeddings, one per block (6), one for the head: no more.",
        explain="1 + 6 + 1 = 8, so frozen='backbone' freezes 7 of them."),
    MultipleChoice(
        "06.review.domain",
        "MiniLM read far more text than the tiny GPT. Why might it still not win on Shakespearean genre?",
        {"Its text was modern English tuned for sentence meaning; the tiny GPT read only Shakespeare":
             "Right: more pretraining helps most when its data resemble the task's; which wins here is measured, not assumed.",
         "Because bigger models always overfit small data": "A frozen probe on a big model trains only its head: no more parameters than the tiny GPT's probe fits.",
         "Because MiniLM cannot be fine-tuned": "It can: the same recipes fine-tune it, only more slowly on a CPU."},
        answer="Its text was modern English tuned for sentence meaning; the tiny GPT read only Shakespeare"),
    MultipleChoice(
        "06.review.cost",
        "A linear probe on MiniLM: which of its weights does training change in a way that moves the predictions?",
        {"Only the new linear head's, hidden_size x classes + classes of them":
             "Right: 384 x 3 + 3 = 1,155 numbers; the 22.7 M backbone parameters stay as pretrained (the head group also holds "
             "BERT's pooler, which mean pooling never reads, so no gradient reaches it).",
         "All 22.7 M": "That is full fine-tuning; a probe freezes every group but the head.",
         "The embeddings, about half of them": "Freezing only the embeddings is another recipe (frozen=1), and it trains the blocks; a probe freezes everything below the head."},
        answer="Only the new linear head's, hidden_size x classes + classes of them"),
    Numeric(
        "06.review.probe_params",
        "A new linear head on MiniLM's 384-dimensional mean-pooled states for 3 genres: how many parameters does it have?",
        answer=384 * 3 + 3, tolerance=0,
        low="A linear layer has a weight per input dimension per class, plus one bias per class.",
        high="Only the new head trains: 384 weights per class and one bias per class.",
        explain="384 x 3 + 3 = 1,155."),
]))
