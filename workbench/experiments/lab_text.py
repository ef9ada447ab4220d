"""The pitfalls lab's text counterpart: what fine-tuning the tiny GPT on a classification task does to its
language modelling, the task it was pretrained on.

The vision lab reads forgetting as glyph accuracy through the pretrained head and splits it into
BatchNorm-statistics drift and weight drift. A transformer has no running statistics (LayerNorm
normalises each token on the fly), so here *all* forgetting is weight drift, and it is read on a
continuous scale: the held-out language-model loss (and perplexity) of the fine-tuned body under the
pretrained LM head. A mean-pooled classifier never uses its LM head, so that head stays exactly the
pretrained one (the optimizer sees no gradient for it); what changes is the body under it.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence

import pandas as pd
import torch

from ..data.text import corpus_ids, eval_windows
from ..train.recipe import Recipe, get_recipe
from .lab import l2sp_penalty
from .sweep import run_sweep, warm_up
from .text_tasks import TextTask


def text_forgetting_recipes(steps: int = 150) -> dict[str, tuple[Recipe, float]]:
    """Label -> (recipe, L2-SP strength): the same levers as the vision lab's forgetting experiment."""
    ft = get_recipe("finetune", "text", steps=steps)
    return {
        "probe": (get_recipe("probe", "text", steps=steps), 0.0),
        "finetune": (ft, 0.0),
        "finetune, fewer steps": (ft.replace(steps=max(1, steps // 4)), 0.0),
        "discriminative (backbone lr/7)": (get_recipe("discriminative", "text", steps=steps), 0.0),
        "finetune + L2-SP": (ft, 1.0),
    }


def held_out_windows(pretrained, n: int = 128, seed: int = 3) -> torch.Tensor:
    """``n`` fixed windows of the held-out plays in the pretrained model's tokens (the source task's test set)."""
    ids = corpus_ids(pretrained.tokenizer, "held_out")
    return eval_windows(ids, pretrained.model.config.block_size, n, seed=seed)


@torch.no_grad()
def lm_loss(model: torch.nn.Module, windows: torch.Tensor, batch: int = 32) -> float:
    """Mean next-token loss over ``windows`` through the model's LM head (a TinyLM, or a TinyClassifier's body + LM head)."""
    device = next(model.parameters()).device
    model.eval()
    losses = [model.token_losses(windows[i: i + batch].to(device)).cpu() for i in range(0, len(windows), batch)]
    return float(torch.cat(losses).mean())


def text_forgetting(task: TextTask, budget: int = 100, seeds: Sequence[int] = (0, 1), *, steps: int = 150,
                    recipes: dict | None = None, windows: int = 128, progress: bool = False, jobs=None) -> pd.DataFrame:
    """One row per (recipe, seed): the task's test score, and held-out LM loss before and after fine-tuning.

    ``jobs`` worker processes run the (recipe, seed) runs in parallel, as in :func:`workbench.experiments.compare.compare`.
    """
    pretrained = task.pretrained
    if not hasattr(pretrained.model, "token_losses") or not pretrained.model.config.causal:
        from ..errors import WorkbenchError

        raise WorkbenchError("text forgetting needs the tiny GPT (a causal LM) as the backbone; "
                             "use the default backbone, not MiniLM or a masked LM")
    held_out = held_out_windows(pretrained, windows)
    before = lm_loss(pretrained.model, held_out)
    # L2-SP pulls the body toward its pretrained weights; the LM head is not trained by a pooled classifier
    reference = {n: p.detach().clone() for n, p in pretrained.model.named_parameters() if not n.startswith("lm_head.")}
    recipes = recipes or text_forgetting_recipes(steps)
    items = [(label, recipe, alpha, seed) for label, (recipe, alpha) in recipes.items() for seed in seeds]
    warm_up(task, [recipe for _, recipe, _, _ in items])  # encode the passages once, before the task travels
    shared = {"task": task, "budget": budget, "held_out": held_out, "before": before, "reference": reference}

    def show(row):
        print(f"  {row['recipe']:32s} seed {row['seed']}: {task.metric} {row['target_score']:.3f}, held-out LM loss "
              f"{before:.3f} -> {row['source_loss_after']:.3f}", flush=True)

    rows = run_sweep(_text_forgetting_run, shared, items, jobs=jobs, on_result=show if progress else None, progress=False,
                     device=task.device)
    return pd.DataFrame(rows)


def _text_forgetting_run(shared: dict, item) -> dict:
    label, recipe, alpha, seed = item
    task, budget, before, reference = shared["task"], shared["budget"], shared["before"], shared["reference"]
    start = time.perf_counter()
    penalty = (lambda m: alpha * l2sp_penalty(m, reference)) if alpha else None
    run = task.run(recipe, budget, seed, penalty=penalty)
    after = lm_loss(run.model, shared["held_out"])
    return {"recipe": label, "budget": budget, "seed": seed, "steps": run.steps, "l2sp_alpha": alpha,
            "target_score": run.score, "metric": task.metric, "source_loss_before": before,
            "source_loss_after": after, "forgetting": after - before,
            "perplexity_before": math.exp(before), "perplexity_after": math.exp(after),
            "seconds": time.perf_counter() - start}
