"""Notebook 02, fine-tuning recipes: freeze by hand, count what trains, plan gradual unfreezing.

* ``02.freeze_backbone``: the student freezes every group but the head with ``requires_grad`` (what a
  linear probe is) and passes the model. Checked: the trainable parameters are exactly the head's.
* ``02.count_trainable``: the student counts the trainable parameters of a probe-frozen model.
  The mistakes worth naming: counting frozen parameters, BatchNorm's buffers, or tensors instead of numbers.
* ``02.release_all``: a recipe that starts as a probe and releases every frozen group early enough that each
  trains for at least half of a run of fixed length (a group released at the annealed end of the run barely trains).
* ``02.freeze_depth``: from the notebook's N=20 sweep, the freezing depth (0 finetune, 2 partial, 4 probe)
  that scores best; the feedback defends it with the paired margin over the runner-up and its 95% interval.
* the ``02.review`` quiz.
"""
from __future__ import annotations

import copy

from ...errors import WorkbenchError
from ..exercises import exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz
from ._fixtures import VISION_GROUPS, tiny_cnn

def _bn_parameter_names(model) -> set[str]:
    from torch import nn

    bn = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
    names = set()
    for mname, module in model.named_modules():
        if isinstance(module, bn):
            names.update(f"{mname}.{p}" if mname else p for p, _ in module.named_parameters(recurse=False))
    return names


def _freeze_head_only(model):
    model = copy.deepcopy(model)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return model


def _need_model(answer):
    from torch import nn

    if not isinstance(answer, nn.Module):
        return failed(f"pass the model you froze (an nn.Module); got a {type(answer).__name__}",
                      "check(\"02.freeze_backbone\", model) after your loop over model.parameters()")
    return None


@exercise(
    "02.freeze_backbone",
    task="Freeze every layer group but the head by setting requires_grad yourself (a linear probe), then pass the model.",
    hint="loop over model.parameters() and call p.requires_grad_(False), then switch the head's parameters back on "
         "with model.head.parameters(); model.state_dict() gives detached copies, so setting requires_grad there changes nothing",
    fixture=tiny_cnn,
    blank=copy.deepcopy,  # the student's cell leaves the model untouched
    solution=_freeze_head_only,
)
def check_freeze_backbone(model, results=None):
    bad = _need_model(model)
    if bad:
        return bad
    from ...models.groups import layer_groups

    groups = layer_groups(model)
    if "head" not in groups:
        return failed(f"this model's layer groups are {list(groups)}: there is no 'head' group to keep trainable")
    head_ids = {id(p) for p in groups["head"].parameters()}
    named = list(model.named_parameters())
    total = sum(p.numel() for _, p in named)
    n_head = sum(p.numel() for p in groups["head"].parameters())
    trainable = [(n, p) for n, p in named if p.requires_grad]
    n_train = sum(p.numel() for _, p in trainable)
    if not trainable:
        return failed(f"nothing is trainable: all {total:,} parameters are frozen, the head's too",
                      "a linear probe trains the head: after freezing everything, call requires_grad_(True) on model.head.parameters()")
    frozen_head = [n for n, p in named if id(p) in head_ids and not p.requires_grad]
    if frozen_head:
        return failed(f"part of the head is frozen ({', '.join(frozen_head)}): the probe must train the head's weight and bias",
                      "switch requires_grad back on for every parameter in model.head.parameters()")
    backbone = [n for n, p in named if id(p) not in head_ids]
    still = [n for n, p in trainable if id(p) not in head_ids]
    if not still:
        return passed(f"only the head trains: {n_train:,} trainable parameters of {total:,}, exactly the head's")
    counts = f"{n_train:,} parameters are trainable, the head has {n_head:,}"
    if len(still) == len(backbone):
        return failed(f"nothing in the backbone is frozen yet: {counts}")
    bn = _bn_parameter_names(model)
    if set(still) <= bn:
        return failed(f"the convolutions are frozen, but {len(still)} BatchNorm tensors still train ({', '.join(still[:3])}"
                      f"{', ...' if len(still) > 3 else ''}): {counts}",
                      "BatchNorm's weight and bias (gamma, beta) are parameters: freeze them too. Its running mean and variance "
                      "are buffers, which requires_grad does not touch: the recipe's bn policy (eval mode) is what keeps those fixed")
    return failed(f"{len(still)} backbone tensors still train, e.g. {', '.join(still[:3])}: {counts}")


def _probe_frozen(seed: int = 0):
    return _freeze_head_only(tiny_cnn(seed))


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@exercise(
    "02.count_trainable",
    task="Count the trainable parameters (numbers, not tensors) of the probe-frozen model.",
    hint="add up p.numel() over the parameters p with p.requires_grad",
    fixture=_probe_frozen,
    solution=_count,
)
def check_count_trainable(answer, model):
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        return failed(f"give one whole number, got {answer!r}")
    answer = int(answer)
    params = list(model.parameters())
    truth = _count(model)
    if answer == truth:
        return passed(f"{truth:,} trainable parameters, of {sum(p.numel() for p in params):,} in the model")
    everything = sum(p.numel() for p in params)
    state = sum(t.numel() for t in model.state_dict().values())
    buffers = sum(b.numel() for b in model.buffers())
    if answer == everything:
        return failed(f"{answer:,} is every parameter, frozen ones included", "count only the parameters with p.requires_grad")
    if answer in (state, truth + buffers):
        return failed(f"{answer:,} includes BatchNorm's running statistics",
                      "your count includes BatchNorm's running_mean, running_var and num_batches_tracked: those are buffers, "
                      "not parameters (model.buffers() lists them), and nothing trains them; count model.parameters() with requires_grad")
    if answer == sum(p.requires_grad for p in params) or answer == len(params):
        return failed(f"{answer} is a number of tensors, not of parameters", "a weight matrix holds many numbers: add up p.numel()")
    return failed(f"{answer:,} is {'too many' if answer > truth else 'too few'}")


def _group_names(results) -> list[str]:
    from torch import nn

    groups = results.get("groups", results) if isinstance(results, dict) else results
    if isinstance(groups, nn.Module):
        from ...models.groups import layer_groups

        return list(layer_groups(groups))
    return list(groups)


_RELEASE_FIXTURE = {"groups": VISION_GROUPS, "steps": 120}


def _release_solution(results):
    from ...train.recipe import get_recipe

    return get_recipe("gradual", steps=results["steps"], unfreeze_over=0.4)


@exercise(
    "02.release_all",
    task="Build a recipe for a run of results['steps'] steps that starts as a probe and releases every frozen group "
         "early enough that each one trains for at least half of the run.",
    hint="gradual unfreezing releases the frozen groups one at a time, from the top down, evenly over the first "
         "unfreeze_over fraction of the run: the last one (stage1) starts at step unfreeze_over * steps "
         "(unfreeze_points(recipe, groups) lists the releases)",
    fixture=lambda: dict(_RELEASE_FIXTURE),
    solution=_release_solution,
)
def check_release_all(recipe, results):
    from ...train.freezing import frozen_groups_at, unfreeze_points
    from ...train.recipe import Recipe

    if not isinstance(recipe, Recipe):
        return failed(f"give a Recipe, got a {type(recipe).__name__}", "start from get_recipe('gradual', ...) and change its fields")
    groups = _group_names(results)
    steps = int(results["steps"]) if isinstance(results, dict) and "steps" in results else recipe.steps
    if recipe.steps != steps:
        return failed(f"the run has {recipe.steps} steps; the time budget fixes it at {steps}",
                      "keep steps as it is and change when groups are released (unfreeze_over)")
    n_frozen = recipe.frozen_count(len(groups))
    if n_frozen < len(groups) - 1:
        return failed(f"the run starts with {n_frozen} of {len(groups)} groups frozen; a probe freezes all but the head",
                      "frozen='backbone' freezes every group but the head")
    start = frozen_groups_at(recipe, groups, 0)  # raises (and so reports) a freeze that leaves nothing trainable
    if not recipe.unfreeze_over:
        return failed(f"unfreeze_over is None, so {', '.join(start)} stay frozen to the end",
                      "set unfreeze_over to the fraction of the run over which the frozen groups are released")
    points = unfreeze_points(recipe, groups)
    last_step, last_group = max(points)
    trained = recipe.steps - last_step
    if trained * 2 < recipe.steps:
        return failed(f"{last_group} is released at step {last_step}, so it trains for only {trained} of {recipe.steps} steps "
                      f"(less than half): unfreeze_over={recipe.unfreeze_over:g} spreads the releases over too much of the run")
    listed = ", ".join(f"{g} at {s}" for s, g in points)
    return passed(f"every group trains for at least half the run (the last, {last_group}, for {trained} of {recipe.steps} "
                  f"steps): {listed}")


# ---- 02.freeze_depth -------------------------------------------------------------------------------
#: how many leading groups of the five each recipe of the sweep freezes for the whole run
DEPTHS = {"finetune": 0, "partial": 2, "probe": 4}


def _depth_scores(results):
    import pandas as pd

    if not isinstance(results, pd.DataFrame):
        raise WorkbenchError("pass the notebook's compare() results (a DataFrame)")
    rows = results[results["recipe"].isin(list(DEPTHS))]
    missing = sorted(set(DEPTHS) - set(rows["recipe"]))
    if missing:
        raise WorkbenchError(f"the results have no {', '.join(missing)} rows; the sweep needs finetune, partial and probe")
    per_seed = rows.pivot_table(index="seed", columns="recipe", values="score")
    return per_seed.rename(columns=DEPTHS)


def _best_depth(results) -> int:
    means = _depth_scores(results).mean()
    return int(means.idxmax())


def _depth_fixture():
    import pandas as pd

    rows = []
    for recipe, base in (("scratch", 0.35), ("probe", 0.62), ("partial", 0.70), ("finetune", 0.67)):
        for seed, jitter in enumerate((-0.02, 0.01, 0.0, 0.03, -0.01)):
            rows.append({"task": "mnist5k", "recipe": recipe, "budget": 20, "seed": seed, "metric": "accuracy",
                         "score": base + jitter + (0.02 * (seed % 2) if recipe == "finetune" else 0.0), "seconds": 1.0, "steps": 200})
    return pd.DataFrame(rows)


@exercise(
    "02.freeze_depth",
    task="From the notebook's N=20 results, give the number of leading groups frozen (0 finetune, 2 partial, 4 probe) that scores best.",
    hint="summarize(results) gives each recipe's mean; finetune freezes 0 groups, partial 2 (stage1, stage2), probe 4 (all but the head)",
    fixture=_depth_fixture,
    solution=_best_depth,
)
def check_freeze_depth(answer, results):
    import math

    if isinstance(answer, str) and answer in DEPTHS:
        return failed(f"{answer!r} is a recipe; give the number of groups it freezes ({DEPTHS[answer]})")
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        return failed(f"give a number of frozen groups (0, 2 or 4), got {answer!r:.60}")
    depth = int(answer)
    per_seed = _depth_scores(results)
    if depth not in per_seed.columns:
        return failed(f"this sweep froze 0 (finetune), 2 (partial) or 4 (probe) groups, not {depth}")
    means = per_seed.mean()
    best = int(means.idxmax())
    name = {d: r for r, d in DEPTHS.items()}
    if depth != best:
        return failed(f"freezing {depth} groups ({name[depth]}) scores {means[depth]:.3f} on average, but freezing {best} "
                      f"({name[best]}) scores {means[best]:.3f}")
    runner = int(means.drop(best).idxmax())
    diff = (per_seed[best] - per_seed[runner]).dropna()
    n = len(diff)
    wins = int((diff > 0).sum())
    text = (f"freezing {best} groups ({name[best]}) scores {means[best]:.3f}, {100 * diff.mean():+.1f} points over the runner-up, "
            f"{runner} groups ({name[runner]}), winning on {wins} of {n} paired seeds")
    if n > 1:
        from scipy import stats

        half = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / math.sqrt(n)
        low, high = 100 * (diff.mean() - half), 100 * (diff.mean() + half)
        text += f"; the 95% interval of that paired gain is {low:+.1f} to {high:+.1f} points"
        text += (": the sweep supports it" if low > 0 else
                 ": it includes 0, so with these seeds the two depths cannot be told apart; defend it with that caveat")
    return passed(text)


# ---- the quiz --------------------------------------------------------------------------------------
REVIEW = register_quiz(Quiz("02.review", [
    MultipleChoice(
        "02.review.buffers",
        "A probe freezes every BatchNorm weight and bias, yet with bn='train' the frozen stages still change. How?",
        {"Their running mean and variance are buffers, updated by every batch in train mode":
             "Right: requires_grad does not touch buffers; only eval mode (bn='frozen') keeps them fixed.",
         "The optimizer ignores requires_grad": "It does not: frozen parameters get no gradient and do not move.",
         "Weight decay shrinks the frozen weights": "Decay is applied by the optimizer, which never sees frozen parameters."},
        answer="Their running mean and variance are buffers, updated by every batch in train mode"),
    MultipleChoice(
        "02.review.partial",
        "Why does `partial` freeze the first two groups rather than the last two?",
        {"Early layers hold general features (edges, strokes) that transfer; later ones are specific to the source task":
             "Right: what is most reusable is kept; what is most specific to printed glyphs is adapted.",
         "The last groups have fewer parameters": "They have more (stage4 is most of the model); the reason is what they encode.",
         "Freezing the last groups is not allowed": "It is allowed, but rarely useful: the head would then read frozen, source-specific features."},
        answer="Early layers hold general features (edges, strokes) that transfer; later ones are specific to the source task"),
    MultipleChoice(
        "02.review.discriminative",
        "In the `discriminative` recipe, the head's learning rate is 10x the backbone's. Why not the other way round?",
        {"The head starts random and must learn a lot; the backbone is already good and should move little":
             "Right: a large rate on pretrained layers risks erasing what pretraining bought.",
         "The head has more parameters": "The head is a small share of the parameters; the rate reflects how far each part must move.",
         "Small rates train faster": "They train slower; that is the point for the pretrained layers."},
        answer="The head starts random and must learn a lot; the backbone is already good and should move little"),
    MultipleChoice(
        "02.review.gradual",
        "A 120-step gradual-unfreezing run has 4 frozen groups and unfreeze_over=0.9. When does stage1, the last, start training?",
        {"At step 108, so it trains for only 12 steps, at the low end of the schedule":
             "Right: the releases are spread evenly over the first 90% of the run (27, 54, 81, 108); the last group barely "
             "trains, which the schedule preview shows before any compute is spent.",
         "At step 0, with the head": "Gradual unfreezing starts as a probe: only the head trains at step 0.",
         "Never: the run ends first": "unfreeze_over is a fraction of the run, at most 1, so every group is released before "
                                      "the last step; the question is how long it then trains."},
        answer="At step 108, so it trains for only 12 steps, at the low end of the schedule"),
    MultipleChoice(
        "02.review.preview",
        "Why preview a schedule before training?",
        {"To see every group's learning rate and the unfreeze points before spending any compute":
             "Right: a wrong warm-up, a group stuck frozen or a rate 10x off shows in the picture at no cost.",
         "Because the preview trains the model faster": "The preview trains nothing; it runs the schedulers on a dummy optimizer.",
         "Because schedules are random": "Schedules are deterministic functions of the step; that is why they can be previewed."},
        answer="To see every group's learning rate and the unfreeze points before spending any compute"),
    MultipleChoice(
        "02.review.paired",
        "At N=20, two recipes differ by less than the standard deviation over seeds. Can a comparison still tell them apart?",
        {"Yes, if it is paired: the difference per seed can be consistent even when scores vary a lot between seeds":
             "Right: most of the spread comes from which 20 images were drawn, and pairing cancels it.",
         "No, never": "Unpaired, often not; paired, the per-seed differences may all have the same sign.",
         "Yes, by using the best seed of each": "Picking seeds is cherry-picking; the pair at each seed is what is fair."},
        answer="Yes, if it is paired: the difference per seed can be consistent even when scores vary a lot between seeds"),
    Numeric(
        "02.review.head_share",
        "The CNN has 105,390 parameters and its head 7,998. What percentage does a linear probe train (one decimal)?",
        answer=7.6, tolerance=0.1,
        low="A probe trains the whole head: 7,998 of 105,390.",
        high="A probe trains only the head: 7,998 of 105,390, not the backbone.",
        explain="7,998 / 105,390 = 7.6%: the probe is cheap, and limited to re-weighting frozen features.", unit="%"),
]))
