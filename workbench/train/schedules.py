"""Named learning-rate schedules built on ``torch.optim.lr_scheduler``, and their preview.

Every schedule scales every param group, so discriminative LRs keep their ratio over the run. The
preview steps a real scheduler on a throwaway optimizer, so what a student sees before training is
exactly what training will do.
"""
from __future__ import annotations

import torch
from torch.optim import lr_scheduler as sched

from .freezing import group_lrs, training_starts, unfreeze_points
from .recipe import SCHEDULES, Recipe


def build_scheduler(optimizer: torch.optim.Optimizer, name: str, total_steps: int, warmup: float = 0.1):
    """A scheduler stepped once per optimizer step; ``warmup`` is a fraction of ``total_steps``."""
    from ..errors import check_choice

    check_choice("schedule", name, SCHEDULES)
    warm = max(1, round(warmup * total_steps)) if warmup > 0 else 0
    if name == "constant":
        return sched.LambdaLR(optimizer, lambda step: 1.0)
    if name == "step":
        return sched.StepLR(optimizer, step_size=max(1, total_steps // 3), gamma=0.1)
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=0.0)
    if name == "linear":
        return sched.LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=total_steps)
    if name == "warmup_cosine":
        if warm == 0:
            return sched.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=0.0)
        return sched.SequentialLR(
            optimizer,
            [sched.LinearLR(optimizer, start_factor=1e-3, end_factor=1.0, total_iters=warm),
             sched.CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warm), eta_min=0.0)],
            milestones=[warm],
        )
    # one-cycle: warm up to each group's LR, then anneal (cosine) far below it
    max_lrs = [g["lr"] for g in optimizer.param_groups]
    return sched.OneCycleLR(optimizer, max_lr=max_lrs, total_steps=total_steps + 1, pct_start=max(warmup, 1e-3))


def preview_schedule(recipe: Recipe, group_names: list[str]) -> dict:
    """LR of every group at every step of ``recipe``, plus the gradual-unfreezing points.

    Returns ``{"steps": [...], "lrs": {group: [...]}, "trainable": {group: [bool, ...]},
    "unfreeze": [(step, group), ...]}``: a frozen group has an LR in the optimizer but does not learn.
    """
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in group_names]
    groups = [{"params": [p], "lr": lr, "name": n} for p, lr, n in zip(params, group_lrs(recipe, group_names), group_names)]
    opt = torch.optim.SGD(groups, lr=recipe.lr)
    scheduler = build_scheduler(opt, recipe.schedule, recipe.steps, recipe.warmup)
    lrs: dict[str, list[float]] = {n: [] for n in group_names}
    trainable: dict[str, list[bool]] = {n: [] for n in group_names}
    starts = training_starts(recipe, group_names)
    for step in range(recipe.steps):
        for g in opt.param_groups:
            lrs[g["name"]].append(g["lr"])
            start = starts[g["name"]]
            trainable[g["name"]].append(start is not None and step >= start)
        opt.step()
        scheduler.step()
    return {"steps": list(range(recipe.steps)), "lrs": lrs, "trainable": trainable, "unfreeze": unfreeze_points(recipe, group_names)}
