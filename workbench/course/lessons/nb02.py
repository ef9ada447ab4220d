"""Notebook 02, fine-tuning recipes: freeze by hand, count what trains, plan gradual unfreezing.

* ``02.freeze_backbone``: the student freezes every group but the head with ``requires_grad`` (what a
  linear probe is) and passes the model. Checked: the trainable parameters are exactly the head's.
* ``02.count_trainable``: the student counts the trainable parameters of a probe-frozen model.
  The mistakes worth naming: counting frozen parameters, BatchNorm's buffers, or tensors instead of numbers.
* ``02.release_all``: a recipe that starts as a probe and releases every frozen group before a run of
  fixed length ends (gradual unfreezing that never finishes is a common silent bug).
"""
from __future__ import annotations

import copy

from ..exercises import exercise, failed, passed
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
