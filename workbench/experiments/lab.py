"""The pitfalls lab: forgetting, overfitting and early stopping, augmentation, LR sensitivity, cost.

Every experiment here is built from the same pieces as the comparisons (a :class:`VisionTask`, recipes,
the one ``fit`` loop) and returns a tidy pandas frame, one row per run (or per evaluation, for curves).
Plots live in :mod:`workbench.lab_plots`; the ``workbench lab ...`` command and notebook 07 call these.

The measurements:

* **forgetting**: glyph accuracy on held-out fonts (the pretraining task) before and after fine-tuning,
  read through the *pretrained* glyph head. Restoring the pretrained BatchNorm running statistics into
  the fine-tuned backbone splits the loss into what BN-statistics drift costs and what weight drift costs.
* **L2-SP**: a penalty ``alpha/2 * ||w - w_pretrained||^2`` on the backbone, added through ``fit``'s
  ``loss_fn`` (no change to the loop).
* **LR range test** (:func:`lr_find`): ``fit`` with a callback that raises the LR exponentially every step.

Each experiment's runs are independent, so ``jobs=`` spreads them over worker processes exactly as
``compare`` does (:mod:`workbench.experiments.sweep`: same numbers as one job; ``WORKBENCH_JOBS``). Every
run is one module-level function of (shared inputs, one grid point), the form a worker can be sent.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..data.augment import AUGMENTS
from ..data.batches import clean_glyphs, glyph_batches, image_batches
from ..data.subsets import balanced_subset
from ..errors import TrainingDiverged, WorkbenchError, check_choice
from ..train.loop import Callback, FitResult, TrainState, cross_entropy_loss, fit
from ..train.recipe import Recipe, get_recipe
from .metrics import accuracy
from .tasks import VisionTask, data_seed

_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


# ----------------------------------------------------------------------------------------------------------
# Running one fine-tuning job with our own evaluation and loss (the same pieces VisionTask.run uses)
# ----------------------------------------------------------------------------------------------------------
def fit_on(task: VisionTask, recipe: Recipe, train_idx: torch.Tensor, seed: int, *, evaluate=None, eval_every=None,
           monitor: str = "val_accuracy", loss_fn=None, log_every: int = 10) -> FitResult:
    """Fine-tune ``task``'s model on the pool images ``train_idx`` with ``recipe``: paired by ``seed`` like compare."""
    check_choice("augment", recipe.augment, AUGMENTS)
    train = task.data.pool.subset(train_idx)
    model = task.build_model(recipe, seed)
    gen = torch.Generator().manual_seed(data_seed(seed))
    batches = image_batches(train.images, train.labels, recipe.batch_size, gen, AUGMENTS[recipe.augment])
    return fit(model, recipe.replace(seed=seed), batches, device=task.device, progress=False, evaluate=evaluate,
               eval_every=eval_every, monitor=monitor, loss_fn=loss_fn, log_every=log_every)


def test_accuracy(task: VisionTask, model: nn.Module) -> float:
    return accuracy(model, task.data.test.images, task.data.test.labels)


def _runs(fn: Callable, shared, items: list, jobs, task, recipes=(), on_result=None) -> list:
    """``[fn(shared, item) for item in items]``, in ``jobs`` worker processes once the pretrained model is loaded."""
    from .sweep import run_sweep, warm_up

    warm_up(task, [get_recipe(r, "vision") for r in recipes])
    return run_sweep(fn, shared, items, jobs=jobs, on_result=on_result, progress=False, device=task.device)


def _flat(lists) -> list:
    return [row for rows in lists for row in rows]


# ----------------------------------------------------------------------------------------------------------
# Forgetting
# ----------------------------------------------------------------------------------------------------------
def glyph_holdout():
    """Held-out fonts of the glyph bank (clean, normalised) and their labels: the pretraining task's test."""
    from ..data.glyphs import glyph_bank, split_by_font

    _, val = split_by_font(glyph_bank(62))
    return clean_glyphs(val), val.labels


def bn_buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    """BatchNorm running statistics (mean, var, batch count) of ``model``, by name: its 'BN statistics'."""
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, _BN):
            for b in ("running_mean", "running_var", "num_batches_tracked"):
                if getattr(m, b, None) is not None:
                    out[f"{name}.{b}"] = getattr(m, b).detach().clone()
    return out


def with_source_head(finetuned: nn.Module, pretrained: nn.Module, *, bn_from: nn.Module | None = None) -> nn.Module:
    """A copy of ``finetuned``'s backbone wearing ``pretrained``'s head (the pretraining task's classes).

    ``bn_from`` copies that model's BatchNorm running statistics in as well (weights stay fine-tuned).
    """
    model = copy.deepcopy(finetuned).cpu()
    model.head = copy.deepcopy(pretrained.head).cpu()
    if bn_from is not None:
        model.load_state_dict(bn_buffers(bn_from), strict=False)
    return model.eval()


def source_scores(pretrained: nn.Module, finetuned: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """Pretraining-task accuracy before and after fine-tuning, and the after-score with pretrained BN statistics.

    ``forgetting = before - after`` splits into ``bn_stats = bn_restored - after`` (what restoring only the
    pretrained BatchNorm running statistics recovers) and ``weights = before - bn_restored`` (the rest).
    The split depends on the order: weights trained together with new statistics may rely on them, so
    ``bn_stats_alone = before - bn_only`` also reports the other order (the pretrained weights wearing the
    fine-tuned statistics), the cost of the statistics drift by itself.
    """
    pre = copy.deepcopy(pretrained).cpu().eval()
    before = accuracy(pre, images, labels, normalized=True)
    after = accuracy(with_source_head(finetuned, pre), images, labels, normalized=True)
    restored = accuracy(with_source_head(finetuned, pre, bn_from=pre), images, labels, normalized=True)
    bn_only = accuracy(with_source_head(pre, pre, bn_from=finetuned), images, labels, normalized=True)
    return {"source_before": before, "source_after": after, "source_bn_restored": restored, "source_bn_only": bn_only,
            "forgetting": before - after, "forgetting_bn_stats": restored - after, "forgetting_weights": before - restored,
            "forgetting_bn_stats_alone": before - bn_only}


def l2sp_penalty(model: nn.Module, reference: dict[str, torch.Tensor]) -> torch.Tensor:
    """``1/2 * sum ||w - w0||^2`` over the parameters named in ``reference`` (the pretrained backbone)."""
    total = None
    for name, p in model.named_parameters():
        name = name.removeprefix("module.")
        ref = reference.get(name)
        if ref is None or ref.shape != p.shape:
            continue
        term = 0.5 * (p - ref.to(p.device)).pow(2).sum()
        total = term if total is None else total + term
    if total is None:
        raise WorkbenchError("L2-SP found no parameter shared with the reference weights; is this the pretrained model?")
    return total


def backbone_reference(pretrained: nn.Module) -> dict[str, torch.Tensor]:
    """The pretrained backbone's parameters (the head is replaced for the new task, so it is left out)."""
    return {n: p.detach().clone() for n, p in pretrained.named_parameters() if not n.startswith("head.")}


def l2sp_loss(reference: dict[str, torch.Tensor], alpha: float, label_smoothing: float = 0.0) -> Callable:
    """A ``fit`` loss: cross-entropy plus ``alpha`` times the L2-SP penalty toward ``reference``."""
    if alpha < 0:
        raise WorkbenchError(f"alpha must be >= 0, got {alpha!r}")
    ce = cross_entropy_loss(label_smoothing)

    def loss(model, batch):
        return ce(model, batch) + alpha * l2sp_penalty(model, reference)

    return loss


#: What each forgetting recipe varies. ``l2sp`` names a penalty strength (fit's loss_fn), not a recipe field.
def forgetting_recipes(steps: int = 200) -> dict[str, tuple[Recipe, float]]:
    ft = get_recipe("finetune", "vision", steps=steps)
    return {
        "probe": (get_recipe("probe", "vision", steps=steps), 0.0),
        "probe, BN stats train": (get_recipe("probe", "vision", steps=steps, bn="train", name="probe-bn-train"), 0.0),
        "finetune": (ft, 0.0),
        "finetune, fewer steps": (ft.replace(steps=max(1, steps // 4)), 0.0),
        "discriminative (backbone lr/10)": (get_recipe("discriminative", "vision", steps=steps), 0.0),
        "finetune + L2-SP": (ft, 0.1),
    }


def forgetting(task: VisionTask, budget: int = 50, seeds: Sequence[int] = (0, 1), *, steps: int = 200,
               recipes: dict | None = None, progress: bool = False, jobs=None) -> pd.DataFrame:
    """One row per (recipe, seed): target test accuracy and the pretraining task's accuracy before/after."""
    if task.pretrained is None:
        from .pretrain import resolve_pretrained

        task.pretrained = resolve_pretrained(device=task.device)
    images, labels = glyph_holdout()
    shared = {"task": task, "budget": budget, "images": images, "labels": labels, "reference": backbone_reference(task.pretrained)}
    recipes = recipes or forgetting_recipes(steps)
    items = [(label, recipe, alpha, seed) for label, (recipe, alpha) in recipes.items() for seed in seeds]

    def show(row):
        print(f"  {row['recipe']:32s} seed {row['seed']}: target {row['target_accuracy']:.3f}, "
              f"source {row['source_before']:.3f} -> {row['source_after']:.3f}", flush=True)

    return pd.DataFrame(_runs(_forgetting_run, shared, items, jobs, task, on_result=show if progress else None))


def _forgetting_run(shared: dict, item) -> dict:
    label, recipe, alpha, seed = item
    task, budget = shared["task"], shared["budget"]
    start = time.perf_counter()
    idx = balanced_subset(task.pool_labels, budget, seed)
    loss = l2sp_loss(shared["reference"], alpha, recipe.label_smoothing) if alpha else None
    res = fit_on(task, recipe, idx, seed, loss_fn=loss)
    return {"recipe": label, "budget": budget, "seed": seed, "steps": res.steps_done, "l2sp_alpha": alpha,
            "target_accuracy": test_accuracy(task, res.model),
            **source_scores(task.pretrained, res.model, shared["images"], shared["labels"]),
            "seconds": time.perf_counter() - start}


# ----------------------------------------------------------------------------------------------------------
# Overfitting and early stopping
# ----------------------------------------------------------------------------------------------------------
@torch.no_grad()
def _loss_and_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    from ..data.augment import normalize

    model.eval()
    device = next(model.parameters()).device
    logits = model(normalize(images).to(device)).cpu()
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).float().mean().item()


def learning_curves(task: VisionTask, recipes: Sequence[str | Recipe] = ("scratch", "finetune"), budget: int = 20,
                    seeds: Sequence[int] = (0,), *, steps: int = 300, eval_every: int = 10, augment: str = "none",
                    jobs=None) -> pd.DataFrame:
    """Train/test loss and accuracy every ``eval_every`` steps: one row per (recipe, seed, step)."""
    built = [get_recipe(r, "vision", steps=steps, augment=augment, label_smoothing=0.0) for r in recipes]
    items = [(recipe, seed) for recipe in built for seed in seeds]
    shared = {"task": task, "budget": budget, "eval_every": eval_every}
    return pd.DataFrame(_flat(_runs(_curve_run, shared, items, jobs, task, built)))


def _curve_run(shared: dict, item) -> list[dict]:
    recipe, seed = item
    task, budget, test = shared["task"], shared["budget"], shared["task"].data.test
    idx = balanced_subset(task.pool_labels, budget, seed)
    train = task.data.pool.subset(idx)

    def evaluate(m):
        tl, ta = _loss_and_accuracy(m, train.images, train.labels)
        vl, va = _loss_and_accuracy(m, test.images, test.labels)
        return {"train_loss": tl, "train_accuracy": ta, "test_loss": vl, "test_accuracy": va}

    res = fit_on(task, recipe, idx, seed, evaluate=evaluate, eval_every=shared["eval_every"])
    return [{"recipe": recipe.name, "budget": budget, "seed": seed, "step": h["step"],
             **{k: h[k] for k in ("train_loss", "train_accuracy", "test_loss", "test_accuracy")}}
            for h in res.history if "test_loss" in h]


def carve_validation(labels: torch.Tensor, idx: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a labeled budget ``idx`` into (train, validation), the validation part class-balanced."""
    k = len(torch.unique(labels))
    n_val = max(k, round(fraction * len(idx)))
    if len(idx) - n_val < k:
        raise WorkbenchError(f"a budget of {len(idx)} is too small to hold out {n_val} validation examples and keep "
                             f"one per class for training; use a budget of at least {n_val + k}")
    pos = balanced_subset(labels[idx], n_val, seed + 7919)
    mask = torch.ones(len(idx), dtype=torch.bool)
    mask[pos] = False
    return idx[mask], idx[pos]


def early_stopping(task: VisionTask, recipe: str | Recipe = "finetune", budget: int = 50, seeds: Sequence[int] = (0, 1, 2),
                   *, steps: int = 200, val_fraction: float = 0.2, patience: int = 3, eval_every: int = 10,
                   jobs=None) -> pd.DataFrame:
    """Fixed steps on all N labels vs early stopping on a validation split carved from the same N.

    One row per (seed, strategy) with the test accuracy, the steps actually run and the best step.
    """
    base = get_recipe(recipe, "vision", steps=steps)
    shared = {"task": task, "recipe": base, "budget": budget, "val_fraction": val_fraction, "patience": patience,
              "eval_every": eval_every}
    return pd.DataFrame(_flat(_runs(_early_stopping_run, shared, list(seeds), jobs, task, [base])))


def _early_stopping_run(shared: dict, seed: int) -> list[dict]:
    task, base, budget = shared["task"], shared["recipe"], shared["budget"]
    rows = []
    idx = balanced_subset(task.pool_labels, budget, seed)
    start = time.perf_counter()
    res = fit_on(task, base, idx, seed)
    rows.append({"recipe": base.name, "budget": budget, "seed": seed, "strategy": "fixed steps, all N",
                 "test_accuracy": test_accuracy(task, res.model), "steps_run": res.steps_done, "best_step": None,
                 "seconds": time.perf_counter() - start})
    train_idx, val_idx = carve_validation(task.pool_labels, idx, shared["val_fraction"], seed)
    val = task.data.pool.subset(val_idx)
    start = time.perf_counter()
    res = fit_on(task, base.replace(early_stopping=shared["patience"]), train_idx, seed, eval_every=shared["eval_every"],
                 evaluate=lambda m: {"val_accuracy": accuracy(m, val.images, val.labels)})
    rows.append({"recipe": base.name, "budget": budget, "seed": seed,
                 "strategy": f"early stopping, {len(val_idx)} of N held out",
                 "test_accuracy": test_accuracy(task, res.model), "steps_run": res.steps_done, "best_step": res.best_step,
                 "seconds": time.perf_counter() - start})
    return rows


# ----------------------------------------------------------------------------------------------------------
# Augmentation
# ----------------------------------------------------------------------------------------------------------
def augmentation(task: VisionTask, recipes: Sequence[str] = ("scratch", "discriminative"), budgets: Sequence[int] = (20,),
                 seeds: Sequence[int] = (0, 1, 2), *, steps: int = 200, augments: Sequence[str] = ("none", "light"),
                 jobs=None) -> pd.DataFrame:
    """Test accuracy of each recipe with each augmentation: one row per (recipe, augment, budget, seed), paired by seed."""
    items = [(name, get_recipe(name, "vision", steps=steps, augment=aug), budget, seed)
             for budget in budgets for seed in seeds for name in recipes for aug in augments]
    return pd.DataFrame(_runs(_augmentation_run, task, items, jobs, task, recipes))


def _augmentation_run(task: VisionTask, item) -> dict:
    name, recipe, budget, seed = item
    run = task.run(recipe, budget, seed)
    return {"recipe": name, "augment": recipe.augment, "budget": budget, "seed": seed, "test_accuracy": run.score,
            "seconds": run.seconds}


# ----------------------------------------------------------------------------------------------------------
# Hyperparameter sensitivity and the LR range test
# ----------------------------------------------------------------------------------------------------------
def lr_grid(task: VisionTask, recipes: Sequence[str] = ("scratch", "finetune"), lrs: Sequence[float] = (1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
            budget: int = 50, seeds: Sequence[int] = (0, 1), *, steps: int = 200, batch_sizes: Sequence[int | None] = (None,),
            jobs=None) -> pd.DataFrame:
    """Test accuracy over an LR x recipe (x batch size) grid; a diverged run scores NaN with ``diverged`` set."""
    items = []
    for name in recipes:
        for bs in batch_sizes:
            for lr in lrs:
                changes = {"steps": steps, "lr": lr, **({"batch_size": bs} if bs else {})}
                recipe = get_recipe(name, "vision", **changes)
                if recipe.backbone_lr is not None:  # keep a discriminative recipe's ratio
                    base = get_recipe(name, "vision")
                    recipe = recipe.replace(backbone_lr=lr * base.backbone_lr / base.lr)
                items += [(name, lr, recipe, budget, seed) for seed in seeds]
    return pd.DataFrame(_runs(_lr_grid_run, task, items, jobs, task, recipes))


def _lr_grid_run(task: VisionTask, item) -> dict:
    name, lr, recipe, budget, seed = item
    try:
        run = task.run(recipe, budget, seed)
        score, diverged, seconds = run.score, False, run.seconds
    except TrainingDiverged:
        score, diverged, seconds = float("nan"), True, float("nan")
    return {"recipe": name, "lr": lr, "batch_size": recipe.batch_size, "budget": budget, "seed": seed,
            "test_accuracy": score, "diverged": diverged, "seconds": seconds}


def good_region(grid: pd.DataFrame, tolerance: float = 0.02) -> pd.DataFrame:
    """Per recipe (and batch size): the best LR (by mean over seeds) and the LRs whose mean is within ``tolerance`` of it."""
    keys = ["recipe", "batch_size"] if "batch_size" in grid and grid.batch_size.nunique() > 1 else ["recipe"]
    m = grid.groupby(keys + ["lr"], sort=False)["test_accuracy"].mean().reset_index()
    rows = []
    for key, g in m.groupby(keys, sort=False):
        g = g.dropna()
        best = g.loc[g.test_accuracy.idxmax()]
        good = g[g.test_accuracy >= best.test_accuracy - tolerance].lr
        rows.append({**dict(zip(keys, key)), "best_lr": best.lr, "best_accuracy": best.test_accuracy,
                     "good_lr_min": good.min(), "good_lr_max": good.max(), "good_width_decades": math.log10(good.max() / good.min()),
                     "good_count": len(good), "grid_count": len(g)})
    return pd.DataFrame(rows)


class LRRangeTest(Callback):
    """Raise every group's LR geometrically each step (ratios between groups kept); stop when the loss blows up.

    Records ``(lr, loss)`` pairs where ``loss`` is the loss measured right *after* the step taken with ``lr``.
    Needs ``fit(..., log_every=1)`` and a constant schedule.
    """

    def __init__(self, start_lr: float, end_lr: float, steps: int, stop_factor: float = 4.0):
        self.lrs = np.geomspace(start_lr, end_lr, steps)
        self.stop_factor = stop_factor
        self.records: list[dict] = []
        self._ratios: list[float] = []

    def _set(self, state: TrainState, k: int) -> None:
        for g, r in zip(state.optimizer.param_groups, self._ratios):
            g["lr"] = float(self.lrs[k]) * r

    def on_start(self, state: TrainState) -> None:
        top = max(g["lr"] for g in state.optimizer.param_groups)
        self._ratios = [g["lr"] / top for g in state.optimizer.param_groups]
        self._set(state, 0)
        state.scheduler.base_lrs = [float(self.lrs[0]) * r for r in self._ratios]

    def on_log(self, state: TrainState) -> None:
        # state.loss is the loss of the weights *before* step k; it is the result of the step before it
        k = state.step - 1
        if k >= 1:
            self.records.append({"lr": float(self.lrs[k - 1]), "loss": state.loss})
            best = min(r["loss"] for r in self.records)
            if not math.isfinite(state.loss) or state.loss > self.stop_factor * best:
                state.request_stop("lr_range_test_done")
                return
        if k + 1 < len(self.lrs):
            self._set(state, k + 1)


def lr_find(model: nn.Module, recipe: Recipe, batches, *, start_lr: float = 1e-5, end_lr: float = 1.0, steps: int = 100,
            loss_fn=None, optimizer_fn=None, stop_factor: float = 4.0, smooth: float = 0.0, device=None) -> dict:
    """The LR range test (Smith 2015; fastai's ``lr_find``) on a throwaway copy of ``model``.

    Returns ``{"curve": DataFrame(lr, loss, smoothed), "divergence_lr": first LR whose step *raised* the
    (smoothed) loss for good, "min_loss_lr", "suggested_lr": min_loss_lr / 10, "steepest_lr"}``.
    """
    if not (0 < start_lr < end_lr):
        raise WorkbenchError(f"need 0 < start_lr < end_lr, got {start_lr!r} and {end_lr!r}")
    if steps < 5:
        raise WorkbenchError(f"an LR range test needs at least 5 steps, got {steps}")
    test = LRRangeTest(start_lr, end_lr, steps, stop_factor)
    run_recipe = recipe.replace(schedule="constant", warmup=0.0, steps=steps, early_stopping=None, unfreeze_every=None)
    try:
        fit(copy.deepcopy(model), run_recipe, batches, loss_fn=loss_fn, callbacks=[test], log_every=1, progress=False,
            optimizer_fn=optimizer_fn, device=device)
    except TrainingDiverged:
        pass  # the loss overflowed before the stop factor caught it: the curve so far is the answer
    curve = pd.DataFrame(test.records)
    if len(curve) < 3:
        raise WorkbenchError("the LR range test diverged at once; lower start_lr")
    ema, out = None, []
    for v in curve.loss:
        ema = v if ema is None else smooth * ema + (1 - smooth) * v
        out.append(ema)
    curve["smoothed"] = out
    # divergence: the last point where the smoothed loss is still at its running minimum, then it only rises
    i_min = int(np.argmin(curve.smoothed.values))
    rising = np.diff(curve.smoothed.values) > 0
    div = next((i + 1 for i in range(len(rising)) if rising[i] and all(rising[i:])), None)
    d_loss = np.gradient(np.log(np.maximum(curve.smoothed.values, 1e-12)), np.log(curve.lr.values))
    steep = int(np.argmin(d_loss[: max(i_min, 1) + 1]))
    min_lr = float(curve.lr[i_min])
    return {"curve": curve, "min_loss_lr": min_lr, "suggested_lr": min_lr / 10, "steepest_lr": float(curve.lr[steep]),
            "divergence_lr": float(curve.lr[div]) if div is not None else float("nan")}


def sgd_optimizer(momentum: float = 0.0) -> Callable:
    """An ``optimizer_fn`` for ``fit``: plain SGD over the model's layer-group param groups."""
    from ..train.freezing import param_groups

    def make(model, recipe, device):
        return torch.optim.SGD(param_groups(model, recipe), lr=recipe.lr, momentum=momentum, weight_decay=recipe.weight_decay)

    return make


def lr_find_vision(task: VisionTask, recipe: str | Recipe, budget: int = 50, seed: int = 0, *, start_lr: float = 1e-5,
                   end_lr: float = 1.0, steps: int = 100) -> dict:
    """The LR range test for a recipe on a labeled budget of ``task`` (same model, data and batches as a run)."""
    recipe = get_recipe(recipe, "vision")
    idx = balanced_subset(task.pool_labels, budget, seed)
    train = task.data.pool.subset(idx)
    model = task.build_model(recipe, seed)
    gen = torch.Generator().manual_seed(data_seed(seed))
    batches = image_batches(train.images, train.labels, recipe.batch_size, gen, AUGMENTS[recipe.augment])
    out = lr_find(model, recipe, batches, start_lr=start_lr, end_lr=end_lr, steps=steps, smooth=0.9, device=task.device)
    out["recipe"] = recipe.name
    return out


# ----------------------------------------------------------------------------------------------------------
# Resource intensity
# ----------------------------------------------------------------------------------------------------------
def step_flops(model: nn.Module, recipe: Recipe, batch, loss_fn=None) -> int:
    """FLOPs of one training step (forward + backward) as torch's FLOP counter sees them (matmuls and convs)."""
    from torch.utils.flop_counter import FlopCounterMode

    from ..train.freezing import frozen_groups_at, set_frozen, set_train_mode
    from ..models.groups import layer_groups

    model = copy.deepcopy(model).cpu()
    frozen = frozen_groups_at(recipe, list(layer_groups(model)), 0)
    set_frozen(model, frozen)
    set_train_mode(model, frozen, recipe.bn)
    loss_fn = loss_fn or cross_entropy_loss(recipe.label_smoothing)
    counter = FlopCounterMode(display=False)
    with counter:
        loss_fn(model, batch).backward()
    return int(counter.get_total_flops())


def _cost_curve_run(shared: dict, item) -> list[dict]:
    name, recipe, seed = item
    task, test = shared["task"], shared["task"].data.test
    idx = balanced_subset(task.pool_labels, shared["budget"], seed)
    res = fit_on(task, recipe, idx, seed, eval_every=shared["eval_every"],
                 evaluate=lambda m: {"test_accuracy": accuracy(m, test.images, test.labels)})
    return [{"recipe": name, "seed": seed, "step": h["step"], "test_accuracy": h["test_accuracy"]}
            for h in res.history if "test_accuracy" in h]


def _seconds_per_step(model, recipe, batches, steps: int = 20) -> float:
    res = fit(copy.deepcopy(model), recipe.replace(steps=steps), batches, progress=False, log_every=steps)
    return res.seconds / steps


def cost(task: VisionTask, budget: int = 100, seeds: Sequence[int] = (0, 1), *, steps: int = 200,
         recipes: Sequence[str] = ("scratch", "probe", "discriminative"), eval_every: int = 10, timing_steps: int = 20,
         jobs=None) -> dict:
    """Seconds and FLOPs of pretraining vs fine-tuning vs scratch, and the break-even number of tasks.

    Pretraining's cost is its step cost (measured now, on this machine, at its batch size) times its steps.
    Each recipe is run with test evaluations every ``eval_every`` steps; ``target`` is scratch's final mean
    accuracy, and ``steps_to_target`` the first evaluation where a recipe reaches it. A pretrained model
    saves (scratch's cost to target - the recipe's cost to target) per task; pretraining pays for itself
    after ``pretrain cost / saving`` tasks. Returns ``{"costs": frame, "curves": frame, "break_even": frame}``.
    The curves may run in ``jobs`` workers; the step timings always run here, alone, so they time one run.
    """
    from ..data.glyphs import glyph_bank, split_by_font
    from ..models.cnn import CNNConfig, SmallCNN
    from .pretrain import PRETRAIN_VISION

    if task.pretrained is None:
        from .pretrain import resolve_pretrained

        task.pretrained = resolve_pretrained(device=task.device)
    rows = []
    # pretraining: per-step cost measured now, times the steps of the cached model's recipe
    train_bank, _ = split_by_font(glyph_bank(62))
    gen = torch.Generator().manual_seed(0)
    pre_batches = glyph_batches(train_bank, PRETRAIN_VISION.batch_size, gen)
    fresh = SmallCNN(CNNConfig(widths=tuple(task.pretrained.config.widths), num_classes=62))
    sps = _seconds_per_step(fresh, PRETRAIN_VISION, pre_batches, timing_steps)
    flops = step_flops(fresh, PRETRAIN_VISION, next(pre_batches))
    rows.append({"phase": "pretraining", "recipe": PRETRAIN_VISION.name, "steps": PRETRAIN_VISION.steps,
                 "batch_size": PRETRAIN_VISION.batch_size, "seconds_per_step": sps, "flops_per_step": flops,
                 "seconds": sps * PRETRAIN_VISION.steps, "flops": flops * PRETRAIN_VISION.steps})
    items = [(name, get_recipe(name, "vision", steps=steps), seed) for name in recipes for seed in seeds]
    curves = _flat(_runs(_cost_curve_run, {"task": task, "budget": budget, "eval_every": eval_every}, items, jobs, task))
    for name in recipes:
        recipe = get_recipe(name, "vision", steps=steps)
        train = task.data.pool.subset(balanced_subset(task.pool_labels, budget, 0))
        batches = image_batches(train.images, train.labels, recipe.batch_size, torch.Generator().manual_seed(0), AUGMENTS[recipe.augment])
        model = task.build_model(recipe, 0)
        sps = _seconds_per_step(model, recipe, batches, timing_steps)
        flops = step_flops(model, recipe, next(batches))
        rows.append({"phase": "scratch" if recipe.init == "scratch" else "fine-tuning", "recipe": name, "steps": steps,
                     "batch_size": min(recipe.batch_size, budget), "seconds_per_step": sps, "flops_per_step": flops,
                     "seconds": sps * steps, "flops": flops * steps})
    costs = pd.DataFrame(rows)
    curves = pd.DataFrame(curves)
    mean_curve = curves.groupby(["recipe", "step"])["test_accuracy"].mean().reset_index()
    final = mean_curve[mean_curve.step == mean_curve.step.max()].set_index("recipe").test_accuracy
    target = float(final["scratch"]) if "scratch" in final else float(final.max())
    pre = costs.iloc[0]
    scratch = costs[costs.recipe == "scratch"].iloc[0] if "scratch" in set(costs.recipe) else None
    be = []
    for name in recipes:
        mc = mean_curve[mean_curve.recipe == name]
        hit = mc[mc.test_accuracy >= target - 1e-9]
        to_target = int(hit.step.min()) if len(hit) else None
        c = costs[costs.recipe == name].iloc[0]
        be.append({"recipe": name, "final_accuracy": float(final[name]), "target": target, "steps_to_target": to_target,
                   "seconds_to_target": c.seconds_per_step * to_target if to_target else float("nan"),
                   "flops_to_target": c.flops_per_step * to_target if to_target else float("nan")})
    be = pd.DataFrame(be)
    if scratch is not None:
        s = be[be.recipe == "scratch"].iloc[0]
        for col, pre_cost in (("seconds", pre.seconds), ("flops", pre.flops)):
            saved = s[f"{col}_to_target"] - be[f"{col}_to_target"]
            be[f"{col}_saved_per_task"] = saved
            be[f"break_even_tasks_{col}"] = [pre_cost / v if v > 0 else float("inf") for v in saved]
    return {"costs": costs, "curves": curves, "break_even": be, "budget": budget}
