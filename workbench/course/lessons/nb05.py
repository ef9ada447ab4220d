"""Notebook 05, fine-tuning the transformer: pooling by hand, reading the shuffled task, freezing to a depth.

* ``05.mean_pool``: the student mean-pools hidden states over the real tokens only (a padding mask).
  Checked against the package's mean pooling (``TinyClassifier.pooled``) on a padded batch; the mistakes
  worth naming: averaging the padding too, a sum instead of a mean, the last or first token, the wrong axis.
* ``05.shuffled_winner``: from the notebook's real-vs-shuffled results, the recipe with the best mean
  accuracy (ties: any of the tied).
* ``05.last_block``: a recipe that freezes every group below the last transformer block, for the whole run.
* the ``05.review`` quiz.
"""
from __future__ import annotations

import re

from ...errors import WorkbenchError
from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz

# ---- 05.mean_pool ----------------------------------------------------------------------------------------


def padded_batch(seed: int = 0):
    """A one-block GPT and a (4, 12) batch whose rows have 12, 9, 5 and 7 real tokens (the rest is padding)."""
    import torch

    from ...models.text import TinyConfig, TinyLM

    torch.manual_seed(seed)
    model = TinyLM(TinyConfig(vocab_size=40, n_layer=1, n_head=2, n_embd=16, block_size=16)).eval()
    ids = torch.randint(3, 40, (4, 12), generator=torch.Generator().manual_seed(seed + 1))
    mask = torch.zeros(4, 12, dtype=torch.long)
    for row, n in enumerate((12, 9, 5, 7)):
        mask[row, :n] = 1
    return {"model": model, "ids": ids.masked_fill(mask == 0, 0), "mask": mask}


def _mean_pool(hidden, mask):
    m = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1)


def _package_pooled(model, ids, mask):
    from ...models.text import TinyClassifier

    clf = TinyClassifier.from_lm(model, 2, "mean").eval()
    return clf.pooled(ids, mask)


@exercise(
    "05.mean_pool",
    task="Write mean_pool(hidden, mask): the mean of each passage's hidden states over its real tokens (mask == 1) only.",
    hint="hidden is (batch, T, dim) and mask (batch, T) with 1 for a real token and 0 for padding: multiply hidden by "
         "mask.unsqueeze(-1), sum over the tokens (dim 1) and divide by the number of real tokens, mask.sum(1, keepdim=True)",
    fixture=padded_batch,
    blank=lambda results: (lambda hidden, mask: None),  # the student's cell: a def whose body is ...
    solution=lambda results: _mean_pool,
)
def check_mean_pool(fn, results):
    import torch

    if not callable(fn):
        return failed(f"pass your function itself (mean_pool, without calling it), got a {type(fn).__name__}")
    model, ids, mask = results["model"], results["ids"], results["mask"]
    lengths = mask.sum(1).tolist()
    if min(lengths) == mask.shape[1]:
        raise WorkbenchError("this batch has no padding, so it cannot tell a masked mean from a plain one; pass a padded batch")
    with torch.no_grad():
        hidden = model.hidden_states(ids, mask)
        truth = _package_pooled(model, ids, mask)
        got = fn(hidden.clone(), mask.clone())
    if got is None:
        return failed("your function returns None: fill in its body (replace the ...) and return the pooled states")
    if not isinstance(got, torch.Tensor):
        return failed(f"return a tensor of shape (batch, dim) = {tuple(truth.shape)}, got a {type(got).__name__}")
    if tuple(got.shape) != tuple(truth.shape):
        why = " (you averaged over the hidden dimension, not over the tokens: use dim 1)" if tuple(got.shape) == tuple(hidden.shape[:2]) else ""
        return failed(f"your result has shape {tuple(got.shape)}; one vector per passage is {tuple(truth.shape)}{why}")
    got = got.to(truth.dtype)
    if torch.allclose(got, truth, atol=1e-5):
        return passed(f"the same as the package's mean pooling on a batch whose rows have {', '.join(map(str, lengths))} "
                      f"real tokens of {mask.shape[1]}: the padding does not move the average")
    m = mask.to(hidden.dtype).unsqueeze(-1)
    last = hidden[torch.arange(len(hidden)), mask.sum(1).long() - 1]
    variants = [(hidden.mean(1), "you averaged over every position, padding included: rows with padding are pulled "
                                 "towards the pad token's state; multiply by the mask and divide by the real-token count"),
                ((hidden * m).sum(1) / hidden.shape[1], "you divided by the padded length T; divide by each row's number of real "
                                                        "tokens, mask.sum(1, keepdim=True)"),
                ((hidden * m).sum(1), "that is the sum over the real tokens; divide it by how many there are"),
                (hidden.sum(1), "that is the sum over every position; mask the padding and divide by the real-token count"),
                (last, "that is the last real token's state (the 'last' pooling); mean pooling averages every real token"),
                (hidden[:, 0], "that is the first token's state; mean pooling averages every real token"),
                (hidden[:, -1], "that is the state at the last position, which is padding for the shorter rows")]
    for value, why in variants:
        if torch.allclose(got, value, atol=1e-5):
            return failed(why)
    wrong = [r for r in range(len(got)) if not torch.allclose(got[r], truth[r], atol=1e-5)]
    return failed(f"rows {wrong} differ from the package's mean pooling (those rows have {[lengths[r] for r in wrong]} real tokens)")


# ---- 05.shuffled_winner -----------------------------------------------------------------------------------


def shuffled_results():
    """Results shaped like compare()'s on the real-vs-shuffled task: the likelihood head leads."""
    import pandas as pd

    means = {"bow": 0.5, "tfidf": 0.62, "zeroshot": 0.9, "scratch": 0.52, "scratch_lm": 0.5, "finetune": 0.6, "likelihood": 0.95}
    rows = [{"task": "shuffled", "recipe": r, "budget": 100, "seed": seed, "metric": "accuracy", "score": v + j,
             "seconds": 1.0, "steps": 60} for r, v in means.items() for seed, j in enumerate((-0.01, 0.0, 0.01))]
    return pd.DataFrame(rows)


def _recipe_means(results):
    return results.groupby("recipe")["score"].mean().sort_values(ascending=False)


def _winner(results) -> str:
    return str(_recipe_means(results).index[0])


_WHY = {"likelihood": "it reads the pretrained LM's own next-token prediction, which is where knowledge of word order lives",
        "zeroshot": "its one feature is the pretrained LM's loss (minus a unigram model's): word order is exactly what that measures",
        "tfidf": "its bigrams see a little local order; no transformer recipe reached the LM's knowledge in this run",
        "finetune": "fine-tuning let the mean-pooled states learn some order from the labels"}


@exercise(
    "05.shuffled_winner",
    task="From shuffled_results, name the recipe with the best mean accuracy on real vs shuffled.",
    hint="summarize(shuffled_results) gives the mean accuracy of each recipe; give the recipe's name as a string, e.g. 'tfidf'",
    fixture=shuffled_results,
    solution=_winner,
)
def check_shuffled_winner(answer, results):
    if not isinstance(answer, str):
        return failed(f"give the recipe's name as a string, got a {type(answer).__name__}")
    means = _recipe_means(results)
    name = answer.strip().strip("'\"").lower()
    if name not in means.index:
        return failed(f"{answer!r} is not a recipe of these results; they have {', '.join(means.index)}")
    best = means.iloc[0]
    tied = [r for r, v in means.items() if abs(v - best) < 1e-9]
    if name in tied:
        why = _WHY.get(name, "")
        ties = [r for r in tied if r != name]
        if ties:
            why = f"tied with {', '.join(ties)}" + (f"; {why}" if why else "")
        return passed(f"{name}: mean accuracy {best:.3f}, ahead of {means.index[len(tied)] if len(means) > len(tied) else 'nothing'}"
                      + (f" ({means.iloc[len(tied)]:.3f})" if len(means) > len(tied) else "") + (f"; {why}" if why else ""))
    rank = list(means.index).index(name) + 1
    return failed(f"{name} has mean accuracy {means[name]:.3f}, rank {rank} of {len(means)}; another recipe scores higher")


# ---- 05.last_block ----------------------------------------------------------------------------------------

TEXT_GROUPS = ["embeddings", "block1", "block2", "block3", "block4", "lm_head", "head"]


def _names(results) -> list[str]:
    from torch import nn

    groups = results.get("groups", results) if isinstance(results, dict) else results
    if isinstance(groups, nn.Module):
        from ...models.groups import layer_groups

        return list(layer_groups(groups))
    return list(groups)


def _last_block(groups: list[str]) -> str:
    blocks = [g for g in groups if re.fullmatch(r"block\d+", g)]
    if not blocks:
        raise WorkbenchError(f"these layer groups ({', '.join(groups)}) have no blockN group")
    return max(blocks, key=lambda g: int(g[5:]))


def _last_block_solution(results):
    from ...train.recipe import get_recipe

    groups = _names(results)
    return get_recipe("finetune", "text", frozen=groups.index(_last_block(groups)))


@exercise(
    "05.last_block",
    task="Build a recipe that fine-tunes the pretrained transformer with everything below its last block frozen, for the whole run.",
    hint="frozen=k freezes the first k layer groups (embeddings, block1, ...): count the groups that come before the last "
         "block, e.g. get_recipe('finetune', 'text', frozen=k), and leave unfreeze_over at None",
    fixture=lambda: {"groups": list(TEXT_GROUPS)},
    solution=_last_block_solution,
)
def check_last_block(recipe, results):
    from ...train.freezing import frozen_groups_at
    from ...train.recipe import Recipe

    if not isinstance(recipe, Recipe):
        return failed(f"give a Recipe, got a {type(recipe).__name__}", "start from get_recipe('finetune', 'text') and change its fields")
    groups = _names(results)
    last = _last_block(groups)
    below = groups[:groups.index(last)]
    if recipe.init != "pretrained":
        return failed(f"init={recipe.init!r}: freezing blocks of a model that was not pretrained keeps random weights fixed "
                      "(that is the random_probe control)", "start from the pretrained weights: init='pretrained'")
    at_start = frozen_groups_at(recipe, groups, 0)  # raises (and so reports) a freeze that leaves nothing trainable
    if at_start != below:
        if len(at_start) < len(below):
            still = [g for g in below if g not in at_start]
            return failed(f"frozen={recipe.frozen!r} freezes {', '.join(at_start) or 'nothing'}: {', '.join(still)} still "
                          f"train{'s' if len(still) == 1 else ''}, below the last block ({last})")
        extra = [g for g in at_start if g not in below]
        return failed(f"frozen={recipe.frozen!r} freezes {', '.join(extra)} too: the last block ({last}) must train")
    if recipe.unfreeze_over:
        released = frozen_groups_at(recipe, groups, recipe.steps - 1)
        if released != below:
            return failed(f"unfreeze_over={recipe.unfreeze_over} releases frozen groups during the run (at the last step only "
                          f"{', '.join(released) or 'nothing'} {'is' if len(released) == 1 else 'are'} frozen)",
                          "the freeze holds for the whole run: leave unfreeze_over at None")
    trains = groups[len(below):]
    return passed(f"{', '.join(below)} stay frozen; {', '.join(trains)} train (frozen={recipe.frozen})")


REVIEW = register_quiz(Quiz("05.review", [
    MultipleChoice(
        "05.review.bow",
        "Why does the unigram bag of words score exactly 0.5 on real vs shuffled?",
        {"A passage and its twin have the same word counts, and twins always travel together":
             "Right: any model of word counts gives twins the same score, so it can only be right on one of each pair.",
         "Because 100 labels are too few for logistic regression": "More labels would not help: the two classes have identical counts, pair by pair.",
         "Because Shakespeare's vocabulary is too large": "Vocabulary size does not matter: the twin's counts are the real passage's counts."},
        answer="A passage and its twin have the same word counts, and twins always travel together"),
    MultipleChoice(
        "05.review.random_probe",
        "What does the random_probe recipe control for?",
        {"How much a frozen transformer's architecture gives with no pretraining at all":
             "Right: the same frozen probe on random weights; the pretrained probe's lead over it is what pretraining learned.",
         "How much the random seed changes the score": "Paired seeds do that; random_probe changes the starting weights, not the seed.",
         "Whether the labels are random": "The labels are the task's; random_probe keeps them and randomizes the backbone's weights."},
        answer="How much a frozen transformer's architecture gives with no pretraining at all"),
    MultipleChoice(
        "05.review.zeroshot",
        "The 'zeroshot' baseline fits one threshold on the LM's loss using the N labels. What is it, strictly?",
        {"A one-parameter classifier on the LM's loss, fit on the labels":
             "Right: it uses the labels to choose its threshold, so it is not zero-shot in the strict sense; only comparing the two twins' losses uses no label.",
         "A zero-shot classifier: it uses no labels": "It uses the N labels to place its threshold; the pure loss comparison of twins is the zero-label version.",
         "A fine-tuned language model": "No weight of the LM changes; only the threshold is fit."},
        answer="A one-parameter classifier on the LM's loss, fit on the labels"),
    Numeric(
        "05.review.threshold_params",
        "How many numbers does the zeroshot baseline fit on the labeled passages?",
        answer=1, tolerance=0,
        low="It does fit something on the labels: where to cut the LM-loss feature.",
        high="The LM's weights stay as they are: only one threshold on its loss is chosen from the labels.",
        explain="One threshold; the feature (the LM loss minus a unigram model's) comes from pretraining."),
    MultipleChoice(
        "05.review.pooling",
        "Why does a linear head on mean-pooled hidden states barely see word order?",
        {"An average over positions is nearly unchanged when the same tokens come in another order":
             "Right: the states carry some context, but averaging them throws most of the order away at the top.",
         "Because the transformer cannot represent order": "It can (positions are embedded and attention is causal): the LM's own loss sees order very well.",
         "Because the head has too few parameters": "A larger head on the same average would still be reading an almost order-free summary."},
        answer="An average over positions is nearly unchanged when the same tokens come in another order"),
    MultipleChoice(
        "05.review.test_plays",
        "Why are the test passages drawn from the held-out plays while the labeled ones come from the training plays?",
        {"So that a test score says how a method does on plays no model has read":
             "Right: labeled text may be text the LM has seen, as in a real fine-tuning set; the test is new to every model.",
         "Because the training plays have no genre labels": "Every play has its genre; the split is about what the models have read.",
         "To make the test set larger": "The held-out plays are fewer; the point is that no model saw them."},
        answer="So that a test score says how a method does on plays no model has read"),
    Numeric(
        "05.review.chance",
        "Genre has three balanced classes. What macro-F1 does a classifier that guesses at random score, about (two decimals)?",
        answer=1 / 3, tolerance=0.02,
        low="A random guess is right one time in three on balanced classes, and its per-class F1 is about 1/3.",
        high="With three balanced classes, chance is one in three, not one in two.",
        explain="About 0.33: the chance line on the genre bars."),
]))
