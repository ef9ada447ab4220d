"""Class-balanced labeled budgets, drawn so that comparisons are paired.

For a given seed, every recipe gets the very same subset: the draw depends only on (labels, n, seed),
never on the recipe. Differences between recipes are then differences of method, not of luck.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import WorkbenchError


def balanced_subset(labels: torch.Tensor | np.ndarray, n: int, seed: int) -> torch.Tensor:
    """Indices of ``n`` examples, as equal per class as ``n`` allows (remainder to random classes)."""
    labels = torch.as_tensor(labels)
    classes = torch.unique(labels).tolist()
    k = len(classes)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise WorkbenchError(f"budget must be a whole number of labeled examples, got {n!r}")
    if n < k:
        raise WorkbenchError(f"budget {n} is smaller than the {k} classes; use at least {k} (one per class)")
    if n > len(labels):
        raise WorkbenchError(f"budget {n} is larger than the pool of {len(labels)} labeled examples; use at most {len(labels)}")
    rng = np.random.default_rng(seed)
    per_class = np.full(k, n // k)
    per_class[rng.choice(k, n % k, replace=False)] += 1
    picked = []
    for c, m in zip(classes, per_class):
        members = torch.nonzero(labels == c).flatten().numpy()
        if m > len(members):
            raise WorkbenchError(f"budget {n} needs {m} examples of class {c} but the pool has {len(members)}; lower the budget")
        picked.append(rng.choice(members, int(m), replace=False))
    out = np.concatenate(picked)
    rng.shuffle(out)
    return torch.from_numpy(out)
