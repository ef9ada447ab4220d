"""Cheap stand-ins for what a notebook has at hand: a tiny CNN, its group names, a sweep's results."""
from __future__ import annotations

VISION_GROUPS = ["stage1", "stage2", "stage3", "stage4", "head"]


def tiny_cnn(seed: int = 0):
    """The course's CNN at a tenth of its width: the same groups, BatchNorm and head, built in milliseconds."""
    import torch

    from ...models.cnn import CNNConfig, SmallCNN

    torch.manual_seed(seed)
    return SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=10))


def sweep_results():
    """A budget sweep shaped like ``compare()``'s output: the probe leads at small N and falls behind from N=100."""
    import pandas as pd

    means = {"scratch": [0.30, 0.45, 0.65, 0.80, 0.88, 0.94], "probe": [0.55, 0.62, 0.70, 0.74, 0.77, 0.80],
             "discriminative": [0.60, 0.70, 0.80, 0.86, 0.91, 0.95]}
    budgets = [10, 20, 50, 100, 200, 500]
    rows = []
    for recipe, scores in means.items():
        for budget, mean in zip(budgets, scores):
            for seed, jitter in enumerate((-0.01, 0.0, 0.01)):
                rows.append({"task": "vision", "recipe": recipe, "budget": budget, "seed": seed, "metric": "accuracy",
                             "score": mean + jitter, "seconds": 1.0, "steps": 200})
    return pd.DataFrame(rows)
