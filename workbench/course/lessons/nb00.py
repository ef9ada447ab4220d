"""Notebook 00, start here: the words of the course, a budget's arithmetic, what freezing leaves trainable.

* ``00.per_class``: the student writes ``images_per_class(n_labeled, n_classes)`` for a balanced subset
  (what a budget N means per class). Mistakes worth naming: returning N itself, N times the classes, the
  inverse, or a fraction where the subsets give whole images.
* ``00.pick_recipe``: the student matches six described situations to the shipped vision recipes. The check
  reads the recipes' own fields, so its feedback says what the chosen recipe really does.
* ``00.count_partial``: the student counts the trainable parameters of the CNN after freezing its first two
  layer groups (the ``partial`` recipe). Checked like ``02.count_trainable`` (buffers, frozen parameters, tensors).
* the ``00.review`` quiz: the glossary.
"""
from __future__ import annotations

import copy

from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz
from ._fixtures import tiny_cnn
from .nb02 import check_count_trainable, _count

# ---- 00.per_class ----------------------------------------------------------------------------------
_CASES = [(10, 10), (50, 10), (500, 10), (62, 62), (620, 62), (20, 10)]


def _per_class(n_labeled, n_classes):
    return n_labeled // n_classes


def _number(value):
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"return one number, got {value!r}")
    return value


@exercise(
    "00.per_class",
    task="Write images_per_class(n_labeled, n_classes): how many labeled images of each class a balanced budget holds.",
    hint="a budget N counts labeled images over all classes together; a balanced subset splits it equally: N // classes",
    fixture=lambda: {"cases": list(_CASES)},
    solution=lambda results: _per_class,
)
def check_per_class(answer, results=None):
    if not callable(answer):
        return failed(f"give a function of (n_labeled, n_classes), got a {type(answer).__name__}",
                      "def images_per_class(n_labeled, n_classes): return ...")
    cases = (results or {}).get("cases", _CASES) if isinstance(results, dict) else _CASES
    for n, k in cases:
        try:
            got = _number(answer(n, k))
        except TypeError as err:
            return failed(f"images_per_class({n}, {k}) failed: {err}")
        truth = n // k
        if got == truth:
            continue
        if got == n:
            why = "that is the budget itself: N counts images over all classes, not per class"
        elif got == n * k:
            why = "that multiplies: N is already the total over the classes, so divide"
        elif k and n and abs(got - k / n) < 1e-9:
            why = "that is classes / N, upside down"
        else:
            why = f"it should be {truth}"
        return failed(f"images_per_class({n}, {k}) gave {got}: {why}")
    return passed("; ".join(f"N={n} over {k} classes is {n // k} per class" for n, k in cases[:3]) +
                  ": one label per class at N=10 is the course's hardest budget")


# ---- 00.pick_recipe --------------------------------------------------------------------------------
#: situation -> (what it asks for, a test on a Recipe, why the test matters)
SITUATIONS = {
    "control": "The same CNN from random weights, the control every gain of pretraining is measured against",
    "frozen features": "Keep every pretrained layer fixed and train only a new head (the cheapest, most conservative choice)",
    "everything, one rate": "Train every layer from the pretrained weights, all at the same learning rate",
    "early layers fixed": "Keep the first two layer groups (edge and stroke detectors) fixed and train the rest",
    "head faster": "Train every layer, but the new head at a learning rate ten times the backbone's",
    "release over time": "Start as a linear probe, then release one layer group at a time from the top",
}


def _is(situation: str, r) -> tuple[bool, str]:
    """Does recipe ``r`` do what ``situation`` describes? (and what it does instead)."""
    if situation == "control":
        return r.init == "scratch", f"init={r.init!r}: it starts from the pretrained weights, so it is not the control"
    if r.init != "pretrained":
        return False, "init='scratch': it throws the pretrained weights away"
    if situation == "frozen features":
        return r.frozen == "backbone" and not r.unfreeze_over, (
            "it releases frozen groups during the run" if r.frozen == "backbone" else f"frozen={r.frozen!r}: more than the head trains")
    if situation == "everything, one rate":
        return r.frozen == 0 and r.backbone_lr is None, (
            f"backbone_lr={r.backbone_lr}: the backbone has its own rate" if r.frozen == 0 else f"frozen={r.frozen!r}: not every layer trains")
    if situation == "early layers fixed":
        return r.frozen == 2 and not r.unfreeze_over, f"frozen={r.frozen!r}, unfreeze_over={r.unfreeze_over}"
    if situation == "head faster":
        ok = r.frozen == 0 and r.backbone_lr is not None and r.lr >= 5 * r.backbone_lr
        return ok, f"frozen={r.frozen!r}, lr={r.lr:g}, backbone_lr={r.backbone_lr}"
    if situation == "release over time":
        return bool(r.unfreeze_over) and r.frozen != 0, f"unfreeze_over={r.unfreeze_over}: nothing is released during the run"
    raise KeyError(situation)


_ANSWERS = {"control": "scratch", "frozen features": "probe", "everything, one rate": "finetune",
            "early layers fixed": "partial", "head faster": "discriminative", "release over time": "gradual"}


@exercise(
    "00.pick_recipe",
    task="Match each situation in SITUATIONS to the name of the shipped vision recipe that does it: a dict {situation: recipe name}.",
    hint="print get_recipe(name).describe() for each name in recipe_names(): which groups are frozen, lr vs backbone_lr, "
         "unfreeze_over, init",
    fixture=lambda: {"situations": dict(SITUATIONS)},
    solution=lambda results: dict(_ANSWERS),
    blank=lambda results: {situation: ... for situation in SITUATIONS},
)
def check_pick_recipe(answer, results=None):
    from ...train.recipe import get_recipe, recipe_names

    if not isinstance(answer, dict):
        return failed(f"give a dict {{situation: recipe name}}, got a {type(answer).__name__}")
    names = recipe_names()
    missing = [s for s in SITUATIONS if s not in answer]
    if missing:
        return failed(f"no answer for {', '.join(repr(s) for s in missing)}")
    blank = [s for s in SITUATIONS if answer[s] is ... or answer[s] is None]
    if len(blank) == len(SITUATIONS):
        return failed("every situation is still ...: replace each ... with a recipe name")
    wrong = []
    for situation in SITUATIONS:
        name = answer[situation]
        if name is ... or name is None:
            wrong.append(f"{situation!r}: not answered yet")
            continue
        if name not in names:
            wrong.append(f"{situation!r}: {name!r} is not a vision recipe (they are {', '.join(names)})")
            continue
        ok, why = _is(situation, get_recipe(name))
        if not ok:
            wrong.append(f"{situation!r}: {name!r} does not, {why}")
    if wrong:
        return failed(f"{len(wrong)} of {len(SITUATIONS)} not right yet: " + "; ".join(wrong))
    return passed("each situation has the recipe whose fields do it: " + ", ".join(f"{answer[s]}" for s in SITUATIONS))


# ---- 00.count_partial ------------------------------------------------------------------------------
def _partial_frozen(seed: int = 0):
    from ...models.groups import layer_groups
    from ...train.freezing import set_frozen

    model = copy.deepcopy(tiny_cnn(seed))
    set_frozen(model, list(layer_groups(model))[:2])
    return model


@exercise(
    "00.count_partial",
    task="Count the trainable parameters (numbers, not tensors) of the CNN after freezing its first two layer groups.",
    hint="add up p.numel() over the parameters p with p.requires_grad",
    fixture=_partial_frozen,
    solution=_count,
)
def check_count_partial(answer, model):
    return check_count_trainable(answer, model)


# ---- the quiz --------------------------------------------------------------------------------------
REVIEW = register_quiz(Quiz("00.review", [
    MultipleChoice(
        "00.review.probe",
        "What does a linear probe train?",
        {"Only the new head; every pretrained layer group is frozen":
             "Right: the frozen backbone's features are read by a linear layer, which is all that learns.",
         "Every layer, at a small learning rate": "That is full fine-tuning with a low rate; a probe freezes the backbone.",
         "Only the first layer": "The first layer is the most general one; a probe keeps it, and every other backbone group, frozen."},
        answer="Only the new head; every pretrained layer group is frozen"),
    MultipleChoice(
        "00.review.discriminative",
        "Discriminative learning rates means...",
        {"different layer groups get different learning rates (here the head 10x the backbone)":
             "Right: layers near the input hold general features and should move less than the new head.",
         "the learning rate changes over the run": "That is a schedule (warm-up, one-cycle, cosine); discriminative LRs differ between groups.",
         "a classifier is trained to discriminate classes": "Every classifier does that; the word refers to giving groups their own rates."},
        answer="different layer groups get different learning rates (here the head 10x the backbone)"),
    MultipleChoice(
        "00.review.paired",
        "Two recipes are compared with paired seeds. What is the same for both at seed 3?",
        {"The labeled images, their batch order and their augmentation":
             "Right: so their difference at seed 3 measures the recipe, not which images were drawn.",
         "The final weights": "The recipes train differently, so their weights differ; what they share is the data and its order.",
         "Nothing: a seed only sets the initial weights": "Here the seed draws the labeled subset too, and that draw matters most at small N."},
        answer="The labeled images, their batch order and their augmentation"),
    MultipleChoice(
        "00.review.zero_shot",
        "In notebook 01 the glyph-pretrained CNN reads handwritten digits 'zero-shot'. How does that differ from CLIP's zero-shot?",
        {"The digit classes were pretraining classes; CLIP classifies into classes named only in text at test time":
             "Right: our model never saw handwriting, but it was trained to output '0'-'9'; CLIP builds a classifier from class names.",
         "It does not differ: both classify without any labeled target examples":
             "Both use no target labels, but CLIP's classes need not exist at pretraining; ours are a subset of the 62 glyph classes.",
         "Ours needs text prompts": "Ours reads ten of its own 62 outputs; text prompts are CLIP's way of naming new classes."},
        answer="The digit classes were pretraining classes; CLIP classifies into classes named only in text at test time"),
    MultipleChoice(
        "00.review.warmup",
        "Why warm up the learning rate at the start of fine-tuning?",
        {"The new head is random, so its first gradients are large and noisy; a small rate at first keeps them from wrecking the pretrained features":
             "Right: warm-up ramps the rate up over the first steps (here 10% of the run).",
         "To make training faster overall": "Warm-up spends its first steps at low rates; it buys stability, not speed.",
         "Because frozen layers need it": "Frozen layers do not train at all; warm-up matters for the groups that do."},
        answer="The new head is random, so its first gradients are large and noisy; a small rate at first keeps them from wrecking the pretrained features"),
    MultipleChoice(
        "00.review.lora",
        "What does an adapter such as LoRA train?",
        {"A few small added matrices beside frozen pretrained weights":
             "Right: LoRA adds a low-rank update to frozen weight matrices, so a fine-tuned copy costs a fraction of the model.",
         "Every weight, at low rank precision": "LoRA's 'low rank' is about the shape of the update, not about number precision.",
         "Only the head, like a probe": "A probe trains just the head; LoRA adapts the inside of the frozen layers too."},
        answer="A few small added matrices beside frozen pretrained weights"),
    Numeric(
        "00.review.per_class",
        "The digits have 10 classes and subsets are balanced. How many labeled images per class does N=100 give?",
        answer=10, tolerance=0,
        low="N counts labeled images over all classes together, and 100 over 10 classes is more than that.",
        high="N counts labeled images over all classes together, not per class: divide by the 10 classes.",
        explain="N is the total; a balanced subset gives each class N / 10."),
]))
