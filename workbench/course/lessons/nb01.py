"""Notebook 01, pretraining a CNN on printed characters: reading its 62 outputs.

* ``01.digit_accuracy``: the student writes ``digit_accuracy(logits, labels)``, the zero-shot accuracy on
  real digits that reads only the ten digit logits (columns 0-9 of 62). Mistakes worth naming: the argmax
  over all 62 outputs, a count or a percentage instead of a fraction.
* ``01.case_merge``: the held-out-font accuracy when a letter's upper and lower case count as one class,
  from the notebook's predictions (how much of the glyph "error" is a case the font hardly marks).
* ``01.top_confusion``: the most frequent mistake (true digit, predicted digit) in the zero-shot confusion
  matrix on handwritten digits, from the notebook's predictions.
* the ``01.review`` quiz.
"""
from __future__ import annotations

from ...errors import WorkbenchError
from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz

CLASSES62 = list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _scalar(value) -> float:
    if hasattr(value, "item") and getattr(value, "numel", lambda: 1)() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WorkbenchError(f"give one number (a fraction between 0 and 1), got {type(value).__name__} {value!r:.60}")
    return float(value)


# ---- 01.digit_accuracy -----------------------------------------------------------------------------
def _logits_fixture(seed: int = 0):
    import torch

    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (200,), generator=g)
    logits = torch.randn(200, 62, generator=g)
    logits[torch.arange(200), labels] += 1.5  # right more often than chance among the digits...
    logits[:, 10:] += 0.8 * torch.rand(200, 52, generator=g)  # ...while letters often win the 62-way argmax
    return {"logits": logits, "labels": labels}


def _digit_accuracy(logits, labels):
    return (logits[:, :10].argmax(1) == labels).float().mean().item()


@exercise(
    "01.digit_accuracy",
    task="Write digit_accuracy(logits, labels): the accuracy on real digits reading only the ten digit outputs (columns 0-9).",
    hint="keep the digit columns, logits[:, :10], take the argmax over them (dim 1), compare with labels and average: "
         "(pred == labels).float().mean()",
    fixture=_logits_fixture,
    solution=lambda results: _digit_accuracy,
)
def check_digit_accuracy(answer, results):
    if not callable(answer):
        return failed(f"give a function digit_accuracy(logits, labels), got a {type(answer).__name__}")
    logits, labels = results["logits"], results["labels"]
    got = _scalar(answer(logits, labels))
    truth = _digit_accuracy(logits, labels)
    all62 = (logits.argmax(1) == labels).float().mean().item()
    n = len(labels)
    if abs(got - truth) < 1e-6:
        return passed(f"{truth:.3f} reading the 10 digit outputs (the argmax over all 62 gives {all62:.3f}: "
                      "letters such as O, l, S win some digits)")
    if abs(got - all62) < 1e-6 and abs(all62 - truth) > 1e-6:
        return failed(f"{got:.3f} is the argmax over all 62 outputs: a handwritten 0 read as 'O' counts as wrong there",
                      "slice the digit columns first: logits[:, :10]")
    if abs(got - 100 * truth) < 1e-4:
        return failed(f"{got:.1f} is a percentage; give the fraction {truth:.3f}", "drop the * 100")
    if abs(got - truth * n) < 1e-3:
        return failed(f"{got:.0f} is the number of right answers; divide by the {n} images", "use .float().mean()")
    return failed(f"{got:.3f} is not the digit-only accuracy of these logits")


# ---- 01.case_merge ---------------------------------------------------------------------------------
def _case_merged(results) -> float:
    classes = results["classes"]
    pred, labels = results["pred"].tolist(), results["labels"].tolist()
    return sum(classes[p].lower() == classes[t].lower() for p, t in zip(pred, labels)) / len(labels)


def _case_fixture():
    import torch

    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 62, (300,), generator=g)
    pred = labels.clone()
    flip = torch.rand(300, generator=g) < 0.3
    letters = labels >= 10
    swap = flip & letters  # a letter read in the other case
    pred[swap] = torch.where(labels[swap] < 36, labels[swap] + 26, labels[swap] - 26)
    other = (torch.rand(300, generator=g) < 0.1) & ~swap
    pred[other] = (labels[other] + 7) % 62
    return {"pred": pred, "labels": labels, "classes": list(CLASSES62)}


@exercise(
    "01.case_merge",
    task="From the held-out-font predictions, compute the accuracy when upper and lower case of a letter count as one class.",
    hint="classes[i] is the character of class i: a prediction p for label t is right if classes[p].lower() == classes[t].lower(); "
         "average that over the images",
    fixture=_case_fixture,
    solution=_case_merged,
)
def check_case_merge(answer, results):
    got = _scalar(answer)
    truth = _case_merged(results)
    plain = (results["pred"] == results["labels"]).float().mean().item()
    if abs(got - truth) < 5e-4:
        return passed(f"{truth:.3f} with case merged, against {plain:.3f} exactly: {100 * (truth - plain):.1f} points of the "
                      "glyph 'error' were letters read in the other case (c/C, o/O, s/S... differ only by size)")
    if abs(got - plain) < 5e-4:
        return failed(f"{got:.3f} is the plain accuracy: nothing is merged yet")
    if abs(got - 100 * truth) < 0.05:
        return failed(f"{got:.1f} is a percentage; give the fraction {truth:.3f}")
    if got < plain:
        return failed(f"{got:.3f} is below the plain accuracy {plain:.3f}: merging classes can only turn mistakes into hits")
    return failed(f"{got:.3f} is not the case-merged accuracy of these predictions")


# ---- 01.top_confusion ------------------------------------------------------------------------------
def _confusions(results):
    from collections import Counter

    return Counter((int(t), int(p)) for t, p in zip(results["labels"].tolist(), results["pred"].tolist()) if t != p)


def _top(results):
    counts = _confusions(results)
    return max(counts, key=lambda k: (counts[k], -k[0], -k[1]))


def _confusion_fixture():
    import torch

    labels = torch.arange(10).repeat(20)
    pred = labels.clone()
    pred[(labels == 7).nonzero().flatten()[:9]] = 1   # 9 sevens read as 1: the top mistake
    pred[(labels == 4).nonzero().flatten()[:6]] = 9
    pred[(labels == 2).nonzero().flatten()[:3]] = 7
    return {"pred": pred, "labels": labels}


@exercise(
    "01.top_confusion",
    task="From the zero-shot predictions on handwritten digits, give the most frequent mistake as (true digit, predicted digit).",
    hint="count the pairs (label, prediction) with label != prediction, e.g. with collections.Counter, and take the most common; "
         "in the confusion matrix that is the largest cell off the diagonal (rows are true, columns predicted)",
    fixture=_confusion_fixture,
    solution=_top,
)
def check_top_confusion(answer, results):
    if isinstance(answer, str) or not hasattr(answer, "__len__") or len(answer) != 2:
        return failed(f"give a pair (true digit, predicted digit), got {answer!r:.60}")
    try:
        t, p = (int(a) for a in answer)
    except (TypeError, ValueError):
        return failed(f"give two digits, got {answer!r:.60}")
    counts = _confusions(results)
    top = _top(results)
    if t == p:
        return failed(f"({t}, {p}) is on the diagonal: those are the images read right", "look off the diagonal")
    n = counts.get((t, p), 0)
    if (t, p) == top or n == counts[top]:
        return passed(f"{n} handwritten {t}s were read as {p}, the most frequent mistake (of {sum(counts.values())} in all)")
    if counts.get((p, t), 0) == counts[top]:
        return failed(f"({t}, {p}) is the other way round: {counts[top]} {p}s were read as {t}, but only {n} {t}s as {p}",
                      "the pair is (true, predicted): rows of the matrix are the true digits")
    return failed(f"{n} {t}s were read as {p}, but a mistake is more frequent ({counts[top]} times)")


# ---- the quiz --------------------------------------------------------------------------------------
REVIEW = register_quiz(Quiz("01.review", [
    MultipleChoice(
        "01.review.fonts",
        "Why does validation use fonts the model never trains on?",
        {"So it measures reading new typefaces, not remembering the training ones":
             "Right: a glyph from a training font, even freshly augmented, is close to one the model has seen.",
         "Because those fonts are harder": "They are not chosen to be harder; they are chosen to be unseen.",
         "To make pretraining faster": "Which fonts are held out changes nothing about speed."},
        answer="So it measures reading new typefaces, not remembering the training ones"),
    MultipleChoice(
        "01.review.augment",
        "Why augment the printed glyphs (thickness, rotation, shear, blur...) during pretraining?",
        {"Printed characters are too regular; augmentation pushes them towards the variety of handwriting":
             "Right: the target is handwriting, and the source only helps as far as it resembles it.",
         "To have more classes": "Augmentation changes images, never their labels: still 62 classes.",
         "Because the fonts are low resolution": "They are rendered at 28x28 like MNIST; augmentation is about variety, not resolution."},
        answer="Printed characters are too regular; augmentation pushes them towards the variety of handwriting"),
    MultipleChoice(
        "01.review.zero_shot",
        "What makes this notebook's zero-shot different from CLIP's (Radford et al. 2021)?",
        {"Our digit classes are 10 of the 62 pretraining classes; CLIP classifies into classes named only in text at test time":
             "Right: we read outputs the model was trained to produce; CLIP builds a classifier from class names it may never have been trained on.",
         "Ours uses labeled digits": "No handwritten digit, labeled or not, was used: that is what makes it zero-shot at all.",
         "CLIP is not zero-shot": "CLIP's zero-shot is the strong sense: new classes, named in text."},
        answer="Our digit classes are 10 of the 62 pretraining classes; CLIP classifies into classes named only in text at test time"),
    MultipleChoice(
        "01.review.cap",
        "Why can the held-out-font accuracy on 62 classes not approach 100%?",
        {"Some classes look the same in print: o/O/0, l/I/1, s/S, x/X...":
             "Right: no model can tell them apart from the pixels alone, so a share of the 'errors' is irreducible.",
         "The model is too small": "A bigger model cannot tell an 'O' from a '0' in a font where they are drawn the same.",
         "Validation fonts are blurred": "They are clean renderings; the confusions are between characters, not blur."},
        answer="Some classes look the same in print: o/O/0, l/I/1, s/S, x/X..."),
    MultipleChoice(
        "01.review.digits_only",
        "Why read only the ten digit outputs on handwritten digits?",
        {"The task is to tell ten digits apart; the letter outputs are not among the answers":
             "Right: restricting the argmax to the task's classes is what 'reading through the pretraining head' means.",
         "Because the letter outputs are broken": "They work on letters; on a digit task a letter is simply not an allowed answer.",
         "To make the accuracy look better than it is": "It is the right measurement for a 10-class task; reading all 62 answers a different question."},
        answer="The task is to tell ten digits apart; the letter outputs are not among the answers"),
    MultipleChoice(
        "01.review.filters",
        "What do the first-layer 3x3 filters mostly look like, and why does it matter for fine-tuning?",
        {"Edge and stroke detectors: general features that handwriting needs too, so early layers are the safest to keep":
             "Right: that is why freezing, if any, starts from the input side (Yosinski et al. 2014).",
         "Whole characters: each filter is one glyph": "A 3x3 filter cannot hold a 28x28 character; whole shapes appear only in deep layers.",
         "Random noise: the first layer learns nothing": "The filters show clear oriented edges after pretraining; compare them with random ones."},
        answer="Edge and stroke detectors: general features that handwriting needs too, so early layers are the safest to keep"),
    Numeric(
        "01.review.chance",
        "What accuracy (as a fraction) does guessing uniformly among the ten digits score?",
        answer=0.1, tolerance=0.001,
        low="With ten equally likely classes one guess in ten is right.",
        high="With ten equally likely classes only one guess in ten is right.",
        explain="Chance on 10 balanced classes is 0.1; the zero-shot score is read against it."),
]))
