"""Freezing by layer group, the BatchNorm policy, and one optimizer parameter group per layer group.

Freezing is explicit and checked: a freeze that would leave nothing trainable, or that cannot freeze
anything because the model has a single group, raises instead of silently doing nothing. BatchNorm
inside frozen groups stays in eval mode under the ``frozen`` policy; ``model.train()`` would otherwise
switch it back to batch statistics, which changes a "frozen" backbone.

Every function here reads the groups from :func:`~workbench.models.groups.layer_groups`, so they work on
any model it groups (the workbench's own, torchvision ResNet/MobileNet, Hugging Face BERT/RoBERTa/
DistilBERT/GPT-2, any module by the generic rule). To regroup a model for all of them at once, set
``model.workbench_groups = {name: module or parameter names, ..., "head": ...}``.
"""
from __future__ import annotations

from torch import nn

from ..errors import WorkbenchError
from ..models.groups import layer_groups
from .recipe import Recipe

#: Every BatchNorm kind (1d/2d/3d, their lazy forms, SyncBatchNorm) shares this base class: the one list of them.
BATCHNORM_TYPES = (nn.modules.batchnorm._BatchNorm,)


def training_starts(recipe: Recipe, group_names: list[str]) -> dict[str, int | None]:
    """The step at which each group starts training: 0 from the start, None never (frozen all run).

    The one home of the unfreezing plan (``fit``, the schedule preview and the widgets all read it).
    Gradual unfreezing (``recipe.unfreeze_over``) releases the ``k`` frozen groups from the top down,
    the ``i``-th at step ``round(i * unfreeze_over * steps / k)``, kept within ``1 .. steps - 1`` so
    every group trains before the run ends.
    """
    n = recipe.frozen_count(len(group_names))
    if n >= len(group_names):
        raise WorkbenchError(
            f"recipe {recipe.name!r} freezes {n} of {len(group_names)} groups, leaving nothing trainable; freeze at most {len(group_names) - 1}"
        )
    if recipe.frozen and len(group_names) < 2:
        raise WorkbenchError("this model has a single layer group, so freezing would do nothing; use frozen=0")
    starts: dict[str, int | None] = {name: (None if i < n else 0) for i, name in enumerate(group_names)}
    if recipe.unfreeze_over:
        for i in range(1, n + 1):  # the i-th release is group n - i: the frozen group nearest the head first
            step = round(i * recipe.unfreeze_over * recipe.steps / n)
            starts[group_names[n - i]] = min(recipe.steps - 1, max(1, step))
    return starts


def frozen_groups_at(recipe: Recipe, group_names: list[str], step: int) -> list[str]:
    """Names of the groups frozen at ``step`` (see :func:`training_starts`)."""
    starts = training_starts(recipe, group_names)
    return [g for g in group_names if starts[g] is None or starts[g] > step]


def unfreeze_points(recipe: Recipe, group_names: list[str]) -> list[tuple[int, str]]:
    """(step, group) for every group that gradual unfreezing releases during the run, in release order."""
    starts = training_starts(recipe, group_names)
    return [(starts[g], g) for g in reversed(group_names) if starts[g]]


def set_frozen(model: nn.Module, frozen: list[str]) -> None:
    """requires_grad off for the parameters of the named groups, on for all others."""
    for name, module in layer_groups(model).items():
        for p in module.parameters():
            p.requires_grad_(name not in frozen)
    if not any(p.requires_grad for p in model.parameters()):
        raise WorkbenchError("this freeze leaves no trainable parameter; unfreeze at least one group")


def set_train_mode(model: nn.Module, frozen: list[str], bn_policy: str = "frozen") -> None:
    """``model.train()``, then BatchNorm of frozen groups back to eval under the ``frozen`` policy."""
    model.train()
    if bn_policy == "frozen":
        groups = layer_groups(model)
        for name in frozen:
            for m in groups[name].modules():
                if isinstance(m, BATCHNORM_TYPES):
                    m.eval()


def group_lrs(recipe: Recipe, group_names: list[str]) -> list[float]:
    """The peak LR of each group: the head gets ``lr``; the others ``backbone_lr`` when it is set."""
    backbone = recipe.lr if recipe.backbone_lr is None else recipe.backbone_lr
    return [recipe.lr if name == "head" else backbone for name in group_names]


def param_groups(model: nn.Module, recipe: Recipe) -> list[dict]:
    """One optimizer param group per layer group, frozen ones included so they can be unfrozen later."""
    groups = layer_groups(model)
    lrs = group_lrs(recipe, list(groups))
    seen: set[int] = set()
    out = []
    for (name, module), lr in zip(groups.items(), lrs):
        params = [p for p in module.parameters() if id(p) not in seen]
        seen.update(id(p) for p in params)
        if params:
            out.append({"params": params, "lr": lr, "name": name})
    missing = [n for n, p in model.named_parameters() if id(p) not in seen]
    if missing:
        raise WorkbenchError(f"parameters outside every layer group: {missing[:3]}; "
                             "give the model a grouping that covers them (model.workbench_groups)")
    return out


def trainable_summary(model: nn.Module) -> list[dict]:
    """Per group: parameters, trainable parameters; plus a total row. Shown to students before training."""
    from ..models.groups import group_parameter_counts

    rows = group_parameter_counts(model)
    rows.append({"group": "total", "parameters": sum(r["parameters"] for r in rows), "trainable": sum(r["trainable"] for r in rows)})
    return rows
