"""Scores computed the same way everywhere."""
from __future__ import annotations

import torch
from torch import nn

from ..data.augment import normalize


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, *, normalized: bool = False, batch: int = 1000, classes: int | None = None) -> torch.Tensor:
    """Predicted class of each image; ``classes`` restricts the argmax to the first logits (zero-shot)."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(images), batch):
        x = images[i : i + batch].to(device)
        logits = model(x if normalized else normalize(x))
        if classes is not None:
            logits = logits[:, :classes]
        out.append(logits.argmax(1).cpu())
    return torch.cat(out)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, **kw) -> float:
    return (predict(model, images, **kw) == labels).float().mean().item()
