"""Layer groups of any model the workbench trains.

A model either defines ``layer_groups()`` itself (the CNN, the tiny transformers) or is a Hugging Face
BERT/GPT-2 style model whose groups are read off its modules: embeddings, one group per transformer
block, then everything else (pooler, head) as ``head``. Groups are ordered input to output.
"""
from __future__ import annotations

from torch import nn

from ..errors import WorkbenchError


def layer_groups(model: nn.Module) -> dict[str, nn.Module]:
    if hasattr(model, "layer_groups"):
        return model.layer_groups()
    base = getattr(model, "base_model", model)
    embeddings = getattr(base, "embeddings", None)
    blocks = getattr(getattr(base, "encoder", None), "layer", None) or getattr(base, "h", None)
    if embeddings is None or blocks is None:
        raise WorkbenchError(f"{type(model).__name__} has no known layer groups; give it a layer_groups() method")
    groups: dict[str, nn.Module] = {"embeddings": embeddings}
    groups.update({f"block{i + 1}": b for i, b in enumerate(blocks)})
    grouped = {id(p) for g in groups.values() for p in g.parameters()}
    rest = [m for m in model.children() if m is not base] + [m for n, m in base.named_children() if n not in ("embeddings", "encoder", "h")]
    head = nn.ModuleList(m for m in rest if any(id(p) not in grouped for p in m.parameters()))
    groups["head"] = head
    return groups


def group_parameter_counts(model: nn.Module) -> list[dict]:
    """One row per group: name, total parameters, trainable parameters."""
    rows = []
    for name, module in layer_groups(model).items():
        params = list(module.parameters())
        rows.append({
            "group": name,
            "parameters": sum(p.numel() for p in params),
            "trainable": sum(p.numel() for p in params if p.requires_grad),
        })
    return rows
