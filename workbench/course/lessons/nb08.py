"""Notebook 08, the playground: what a freezing choice trains, where a schedule peaks, when a group is released.

The playground's panels edit one recipe; these exercises ask for recipes with a given effect and check
them with the same core functions the panels call (``frozen_groups_at``, ``preview_schedule``), on the
group names and parameter counts the notebook's freeze panel already counted. Nothing trains, and nothing
here touches the live playground (the browser tests drive it from its default recipe).

* ``08.freeze_recipe``: a recipe whose whole run trains exactly stage4 and the head.
* ``08.warmup_peak``: a 200-step recipe whose learning rate peaks at step 50.
* ``08.release_at``: gradual unfreezing from stage1-stage3 frozen, with stage1 released at step 150.
* the ``08.review`` quiz, on schedules and freezing.
"""
from __future__ import annotations

from ...errors import WorkbenchError
from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz
from ._fixtures import VISION_GROUPS


def _counts_fixture() -> dict:
    """The tiny CNN's groups and parameter counts, shaped like the freeze panel's ``parameters``."""
    from ...train.freezing import trainable_summary
    from ._fixtures import tiny_cnn

    rows = trainable_summary(tiny_cnn())
    return {"groups": list(VISION_GROUPS), "parameters": {r["group"]: r["parameters"] for r in rows}}


def _parts(results) -> tuple[list[str], dict]:
    if not (isinstance(results, dict) and "groups" in results):
        raise WorkbenchError("pass the panel's groups and counts: {'groups': pg.freeze.group_names, 'parameters': pg.freeze.parameters}")
    groups = list(results["groups"])
    params = dict(results.get("parameters") or {})
    return groups, params


def _recipe(**changes):
    """The playground's starting recipe with some fields changed (what a solution builds)."""
    from ...train.recipe import get_recipe

    return get_recipe("discriminative", **changes)


def _need_recipe(answer):
    from ...train.recipe import Recipe

    if not isinstance(answer, Recipe):
        return failed(f"give a Recipe, got a {type(answer).__name__}",
                      "start from get_recipe('discriminative') and change fields: get_recipe('discriminative', frozen=...)")
    return None


def _share(groups_training: list[str], params: dict) -> str:
    if not params or "total" not in params:
        return ""
    n = sum(params.get(g, 0) for g in groups_training)
    return f" ({n:,} of {params['total']:,} parameters, {100 * n / max(params['total'], 1):.1f}%)"


# ----------------------------------------------------------------------------------------------------------
# 08.freeze_recipe
# ----------------------------------------------------------------------------------------------------------


@exercise(
    "08.freeze_recipe",
    task="Build a recipe that, for its whole run, trains only the last backbone stage (stage4) and the head.",
    hint="frozen counts the leading groups frozen from the input up: to keep stage1, stage2 and stage3 fixed, freeze 3; "
         "leave unfreeze_over off (None) so nothing is released later",
    fixture=_counts_fixture,
    solution=lambda results: _recipe(frozen=3),
)
def check_freeze_recipe(answer, results):
    from ...train.freezing import frozen_groups_at

    bad = _need_recipe(answer)
    if bad is not None:  # a failed Feedback is falsy
        return bad
    groups, params = _parts(results)
    want = groups[-2:]
    n = answer.frozen_count(len(groups))
    if n >= len(groups):
        return failed(f"frozen={answer.frozen!r} freezes all {len(groups)} groups: nothing would train", "freeze fewer groups")
    start = frozen_groups_at(answer, groups, 0)
    trains = [g for g in groups if g not in start]
    if answer.init == "scratch":
        return failed("this recipe starts from scratch: its frozen stages would be random weights that never learn",
                      "keep init='pretrained' (start from 'discriminative', 'finetune' or 'partial'): freezing keeps "
                      "pretrained features, not random ones")
    if trains != want:
        if trains == ["head"]:
            return failed(f"frozen={answer.frozen!r} freezes stage4 too: only the head trains{_share(trains, params)}, a linear probe",
                          "freeze one group fewer")
        extra = [g for g in trains if g not in want]
        return failed(f"at the start {', '.join(trains)} train{_share(trains, params)}: {', '.join(extra)} should be frozen too"
                      if extra else f"at the start only {', '.join(trains)} train", "frozen counts groups from the input up")
    if answer.unfreeze_over:
        end = frozen_groups_at(answer, groups, answer.steps - 1)
        released = [g for g in start if g not in end]
        if released:
            return failed(f"it starts right, but unfreeze_over={answer.unfreeze_over:g} releases {', '.join(released)} before "
                          f"step {answer.steps}", "set unfreeze_over=None (the slider at 0) so the groups stay frozen all run")
    last = groups[-2]
    alone = (f"; {last} alone holds {100 * params[last] / max(params['total'], 1):.0f}% of all the parameters"
             if params.get(last) and params.get("total") else "")
    return passed(f"frozen={answer.frozen!r}: {', '.join(start)} stay fixed and {', '.join(trains)} train"
                  f"{_share(trains, params)}{alone}")


# ----------------------------------------------------------------------------------------------------------
# 08.warmup_peak
# ----------------------------------------------------------------------------------------------------------

PEAK_STEPS, PEAK_AT = 200, 50
WARMUP_SCHEDULES = ("onecycle", "warmup_cosine")


def _peak_step(recipe, groups) -> int:
    from ...train.schedules import preview_schedule

    lrs = preview_schedule(recipe, groups)["lrs"]["head" if "head" in groups else groups[-1]]
    return max(range(len(lrs)), key=lambda i: (lrs[i], -i))


@exercise(
    "08.warmup_peak",
    task=f"Build a {PEAK_STEPS}-step recipe whose learning rate rises to its peak at step {PEAK_AT} and then anneals.",
    hint=f"warmup is the fraction of the steps spent rising to the peak (not a number of steps): {PEAK_AT} of {PEAK_STEPS} "
         "steps; keep a schedule that warms up (onecycle or warmup_cosine)",
    fixture=_counts_fixture,
    solution=lambda results: _recipe(steps=PEAK_STEPS, warmup=PEAK_AT / PEAK_STEPS),
)
def check_warmup_peak(answer, results):
    bad = _need_recipe(answer)
    if bad is not None:  # a failed Feedback is falsy
        return bad
    groups, _ = _parts(results)
    if answer.steps != PEAK_STEPS:
        return failed(f"the run has {answer.steps} steps; the exercise fixes it at {PEAK_STEPS}", f"keep steps={PEAK_STEPS} and change the warm-up")
    if answer.schedule not in WARMUP_SCHEDULES:
        return failed(f"the {answer.schedule!r} schedule has no warm-up: its LR is highest at step 0",
                      f"pick one that warms up: {' or '.join(WARMUP_SCHEDULES)}")
    peak = _peak_step(answer, groups)
    if abs(peak - PEAK_AT) > 1:
        return failed(f"with warmup={answer.warmup:g} the LR peaks at step {peak}, not {PEAK_AT}: {answer.warmup:g} of "
                      f"{PEAK_STEPS} steps is {answer.warmup * PEAK_STEPS:.0f} steps of warm-up")
    return passed(f"warmup={answer.warmup:g}: the {answer.schedule} LR warms up over the first {100 * answer.warmup:.0f}% of "
                  f"the run, peaks at step {peak} and anneals over the remaining {PEAK_STEPS - peak} steps")


# ----------------------------------------------------------------------------------------------------------
# 08.release_at
# ----------------------------------------------------------------------------------------------------------

RELEASE_STEPS, RELEASE_AT, RELEASE_FROZEN = 200, 150, 3


def _first_training_step(recipe, groups, group: str):
    from ...train.freezing import frozen_groups_at

    for step in range(recipe.steps):
        if group not in frozen_groups_at(recipe, groups, step):
            return step
    return None


@exercise(
    "08.release_at",
    task=f"Gradual unfreezing: a {RELEASE_STEPS}-step recipe that starts with stage1-stage3 frozen and releases one group "
         f"at a time so that stage1 starts training at step {RELEASE_AT}.",
    hint="groups are released from the top down (stage3 first, stage1 last), evenly over the first unfreeze_over "
         f"fraction of the run: stage1, the last release, starts at step unfreeze_over * steps = {RELEASE_AT}",
    fixture=_counts_fixture,
    solution=lambda results: _recipe(steps=RELEASE_STEPS, frozen=RELEASE_FROZEN, unfreeze_over=RELEASE_AT / RELEASE_STEPS),
)
def check_release_at(answer, results):
    from ...train.freezing import unfreeze_points

    bad = _need_recipe(answer)
    if bad is not None:  # a failed Feedback is falsy
        return bad
    groups, _ = _parts(results)
    if answer.steps != RELEASE_STEPS:
        return failed(f"the run has {answer.steps} steps; the exercise fixes it at {RELEASE_STEPS}",
                      f"keep steps={RELEASE_STEPS} and choose unfreeze_over")
    n = answer.frozen_count(len(groups))
    if n != RELEASE_FROZEN:
        return failed(f"the run starts with {n} groups frozen ({', '.join(groups[:n]) or 'none'}); the exercise starts from "
                      f"stage1-stage3 frozen", f"frozen={RELEASE_FROZEN}")
    if not answer.unfreeze_over:
        return failed("unfreeze_over is off, so stage1-stage3 stay frozen all run",
                      "set unfreeze_over to the fraction of the run over which the frozen groups are released")
    points = unfreeze_points(answer, groups)
    said = ", ".join(f"{g} at step {s}" for s, g in points) or "nothing during the run"
    first = _first_training_step(answer, groups, groups[0])
    if first is None:
        return failed(f"with unfreeze_over={answer.unfreeze_over:g} the run releases {said}: stage1 never trains")
    if first != RELEASE_AT:
        return failed(f"with unfreeze_over={answer.unfreeze_over:g} the run releases {said}: stage1 starts at step {first}, not {RELEASE_AT}")
    return passed(f"unfreeze_over={answer.unfreeze_over:g} releases {said}; stage1 then trains for the last "
                  f"{RELEASE_STEPS - RELEASE_AT} steps, at an LR the schedule has already annealed")


# ----------------------------------------------------------------------------------------------------------
# The questionnaire
# ----------------------------------------------------------------------------------------------------------

REVIEW = register_quiz(Quiz("08.review", [
    MultipleChoice(
        "08.review.prefix",
        "You tick 'freeze stage3' and stage1 and stage2 are ticked too. Why?",
        {"A recipe freezes its first N groups from the input up, so freezing stage3 freezes everything below it":
             "Right: frozen is one number, the count of leading groups. A frozen stage below a training one would feed it "
             "features that cannot adapt, the arrangement fine-tuning guides avoid.",
         "The panel has a bug": "It is deliberate: frozen=3 means stage1-stage3, and the panel shows exactly what fit will do.",
         "Because stage3 cannot be frozen on its own for BatchNorm reasons": "BatchNorm has nothing to do with it; "
                                                                              "the recipe describes freezing as a prefix of the groups."},
        answer="A recipe freezes its first N groups from the input up, so freezing stage3 freezes everything below it"),
    MultipleChoice(
        "08.review.bn_train",
        "With stage1-stage3 frozen and 'BatchNorm in frozen groups: update statistics (train)', what changes in stage1 during a run?",
        {"Only its BatchNorm running mean and variance; no weight": "Right: frozen means no gradient step, but in train mode "
                                                                    "BatchNorm still updates its statistics from every batch.",
         "Nothing at all": "That is the 'keep statistics (eval)' policy; with 'train' the running statistics follow the new data.",
         "Its weights, at a lower learning rate": "Frozen groups take no optimizer step whatever their LR; only their statistics move."},
        answer="Only its BatchNorm running mean and variance; no weight"),
    Numeric(
        "08.review.peak",
        "A one-cycle schedule over 300 steps with warm-up 0.2: at which step is the learning rate highest (to within a step)?",
        answer=60, tolerance=1,
        low="The warm-up lasts warmup * steps = 0.2 * 300 steps.",
        high="The warm-up is a fraction of the run: 0.2 * 300 steps, after which the LR only anneals.",
        explain="0.2 * 300 = 60: the LR rises for 60 steps, then anneals."),
    MultipleChoice(
        "08.review.ratio",
        "With discriminative LRs (backbone LR = head LR / 10) and a cosine schedule, what does the backbone's LR curve look like?",
        {"The head's curve scaled by 1/10: same shape, same peak step": "Right: a schedule multiplies every param group's LR by "
                                                                        "the same factor at each step, so the ratio holds all run.",
         "Constant at a tenth of the head's peak": "The schedule applies to every group, the backbone's too.",
         "It starts when the head's LR has annealed": "Discriminative LRs change the size of each group's LR, not when it trains; "
                                                     "that is gradual unfreezing."},
        answer="The head's curve scaled by 1/10: same shape, same peak step"),
    MultipleChoice(
        "08.review.dotted",
        "In the schedule preview a group's line is dotted at 0 until step 80, then solid. What does that mean?",
        {"The group is frozen until step 80, when gradual unfreezing releases it": "Right: until then it has an LR in the "
                                                                                   "optimizer but takes no step; the grey line marks the release.",
         "Its learning rate warms up from 0 until step 80": "A warm-up is drawn as a solid rising line; dotted means frozen.",
         "Its LR is too small to draw": "The dotted line is drawn at exactly 0 on purpose: the group does not learn yet."},
        answer="The group is frozen until step 80, when gradual unfreezing releases it"),
    Numeric(
        "08.review.release",
        "frozen='backbone' on the CNN (4 backbone stages frozen), unfreeze_over=0.8, 200 steps: at which step does stage1 start training?",
        answer=160, tolerance=0,
        low="Groups are released from the top down: stage4 at 40, stage3 at 80, ... stage1 comes last.",
        high="Four releases spread evenly over the first 80% (160 steps): one every 40 steps, stage1 is the fourth.",
        explain="stage4 at 40, stage3 at 80, stage2 at 120, stage1 at 160."),
    MultipleChoice(
        "08.review.stop",
        "You press Stop halfway through a run. What do you keep?",
        {"The model as trained so far and its history, scored on the test set": "Right: Stop ends the run at the next step; "
                                                                                  "pg.train.result holds the model and history.",
         "Nothing: the run is discarded": "A stopped run is kept: the status line reports its test accuracy.",
         "The pretrained model only": "The weights trained so far are kept in the result."},
        answer="The model as trained so far and its history, scored on the test set"),
    MultipleChoice(
        "08.review.paired",
        "Why does the compare panel run every recipe on the same seeds?",
        {"The same seed draws the same labeled images and batch order, so a difference measures the recipe":
             "Right: the gain over scratch is then paired, seed by seed, and its spread is not inflated by which images were drawn.",
         "To make the runs faster": "Pairing changes no run's cost.",
         "Because other seeds diverge": "Any seed trains; pairing is about comparing like with like."},
        answer="The same seed draws the same labeled images and batch order, so a difference measures the recipe"),
]))
