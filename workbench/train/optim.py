"""The optimizer: AdamW over one param group per layer group, with no weight decay on 1-D parameters.

Weight decay pulls weights towards zero. On a matrix or a convolution kernel that is a useful prior
(smaller, smoother maps); on a BatchNorm/LayerNorm gain it pulls the gain towards 0 instead of its
natural 1, and on a bias it only shrinks an offset, so neither is regularised, only distorted. nanoGPT
and timm therefore decay only parameters with ``ndim >= 2``; we follow them. Each layer group becomes
at most two optimizer groups with the same ``name`` and LR (``decay`` True/False), so schedules,
discriminative LRs and the logged ``lr/<group>`` values are unchanged by the split.
"""
from __future__ import annotations

import torch
from torch import nn

from .freezing import param_groups
from .recipe import Recipe


def split_weight_decay(groups: list[dict], weight_decay: float) -> list[dict]:
    """Each group split into its ``ndim >= 2`` parameters (decayed) and the rest (``weight_decay=0``)."""
    out = []
    for g in groups:
        decay = [p for p in g["params"] if p.ndim >= 2]
        no_decay = [p for p in g["params"] if p.ndim < 2]
        rest = {k: v for k, v in g.items() if k != "params"}
        if decay:
            out.append({**rest, "params": decay, "weight_decay": weight_decay, "decay": True})
        if no_decay:
            out.append({**rest, "params": no_decay, "weight_decay": 0.0, "decay": False})
    return out


def make_optimizer(model: nn.Module, recipe: Recipe, device: torch.device | None = None) -> torch.optim.Optimizer:
    """AdamW (fused where the build has it: faster on CPU and GPU alike) over the recipe's param groups."""
    groups = split_weight_decay(param_groups(model, recipe), recipe.weight_decay)
    try:
        return torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=recipe.weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=recipe.weight_decay)
