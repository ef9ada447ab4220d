"""Pretraining the small CNN on printed glyphs, and the cache that lets every later step reuse it."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ..data.batches import clean_glyphs, glyph_batches
from ..data.digits import mnist5k
from ..data.glyphs import glyph_bank, split_by_font
from ..device import pick_device, seed_everything
from ..errors import CheckpointError
from ..models.cnn import CNNConfig, SmallCNN
from ..paths import cache_dir
from ..train.checkpoints import load_checkpoint, recipe_and_seed, save_checkpoint
from ..train.events import FitResult
from ..train.loop import fit
from ..train.recipe import Recipe
from ..train.metrics import accuracy

#: Measured on a 2-core CPU: 1,000 steps take about a minute and lose under a point downstream vs 1,500.
PRETRAIN_VISION = Recipe(
    name="pretrain-glyphs", init="scratch", lr=3e-3, weight_decay=5e-4, schedule="onecycle", warmup=0.15,
    steps=1000, batch_size=128, label_smoothing=0.1, augment="pretrain",
)


@dataclass
class Pretrained:
    model: SmallCNN
    metrics: dict
    history: list[dict]
    path: str | None = None
    recipe: Recipe | None = None  # the recipe that trained it (read back from the checkpoint when cached)
    seed: int | None = None


def pretrain_vision(*, classes: int = 62, steps: int = PRETRAIN_VISION.steps, seed: int = 0, widths=(16, 32, 64, 128),
                    device=None, progress: bool = True, callbacks=(), stop_event=None, resume_from=None) -> Pretrained:
    """Train a fresh CNN to recognise ``classes`` printed characters; score it on unseen fonts and real digits.

    ``resume_from``: a resumable checkpoint of the same call (see :mod:`workbench.train.resume`).
    ``metrics["steps"]`` is below ``steps`` when the run was stopped or interrupted.
    """
    recipe = PRETRAIN_VISION.replace(steps=steps)
    bank = glyph_bank(classes)
    train, val = split_by_font(bank)
    val_x = clean_glyphs(val)
    digits = mnist5k().test
    device = pick_device(device)
    gen = seed_everything(seed)
    model = SmallCNN(CNNConfig(widths=tuple(widths), num_classes=classes))

    def evaluate(m):
        return {"val_accuracy": accuracy(m, val_x, val.labels, normalized=True),
                "zero_shot_digits": accuracy(m, digits.images, digits.labels, classes=10)}

    start = time.perf_counter()
    result: FitResult = fit(model, recipe, glyph_batches(train, recipe.batch_size, gen), evaluate=evaluate,
                            eval_every=max(1, steps // 5), device=device, progress=progress, callbacks=callbacks,
                            stop_event=stop_event, resume_from=resume_from, seed=seed)
    metrics = {**result.metrics, "seconds": time.perf_counter() - start, "steps": result.steps_done}
    return Pretrained(result.model.cpu(), metrics, result.history, recipe=result.recipe, seed=seed)


#: Bump when the glyph bank, the augmentation or the pretraining recipe changes: old cached models are then ignored.
PIPELINE_VERSION = 3  # 3: no weight decay on 1-D parameters (norm gains, biases)


def _cache_key(classes: int, steps: int, seed: int, widths) -> str:
    return f"cnn-glyphs{classes}-v{PIPELINE_VERSION}-steps{steps}-seed{seed}-w{'-'.join(map(str, widths))}"


def pretrained_cnn(*, classes: int = 62, steps: int = PRETRAIN_VISION.steps, seed: int = 0, widths=(16, 32, 64, 128),
                   device=None, progress: bool = True, rebuild: bool = False) -> Pretrained:
    """The cached pretrained CNN, trained (and cached) first if it is missing or unreadable.

    While it trains, a resumable checkpoint ``<key>.partial`` is kept beside the cache every 100 steps
    and on Ctrl-C. An interrupted pretraining is *not* cached as if it were complete: it is returned
    with a warning (``metrics["steps"] < steps``, ``path`` None), and the next call resumes it.
    Two processes asking at once (sweep workers, two notebooks): one trains, the other waits and loads.
    """
    from ..data.store import cache_lock

    path = cache_dir() / "models" / _cache_key(classes, steps, seed, tuple(widths))
    with cache_lock(path):
        return _cached_or_trained(path, classes=classes, steps=steps, seed=seed, widths=widths, device=device,
                                  progress=progress, rebuild=rebuild)


def _cached_or_trained(path, *, classes, steps, seed, widths, device, progress, rebuild) -> Pretrained:
    import shutil
    import warnings

    from ..train.resume import Checkpointing

    partial = path.with_name(path.name + ".partial")
    if not rebuild and path.exists():
        try:
            model, meta = load_checkpoint(path)
            recipe, _ = recipe_and_seed(meta)  # the seed is in the cache key
            return Pretrained(model, meta.get("metrics", {}), meta.get("history", []), str(path), recipe, seed)
        except CheckpointError as err:
            warnings.warn(f"cached model unusable ({err}); pretraining again", stacklevel=3)
    if rebuild:
        shutil.rmtree(partial, ignore_errors=True)
    kw = dict(classes=classes, steps=steps, seed=seed, widths=widths, device=device, progress=progress,
              callbacks=[Checkpointing(partial, every=100)])
    try:
        result = pretrain_vision(**kw, resume_from=partial if (partial / "training.json").exists() else None)
    except CheckpointError as err:  # a partial run from another version or damaged: start afresh
        warnings.warn(f"cannot resume the interrupted pretraining ({err}); starting again", stacklevel=3)
        shutil.rmtree(partial, ignore_errors=True)
        result = pretrain_vision(**kw)
    if result.metrics["steps"] < steps:
        warnings.warn(f"pretraining stopped at step {result.metrics['steps']} of {steps}; it is kept at {partial} "
                      "and the next call resumes it", stacklevel=3)
    from ..train.distributed import is_main_process

    if result.metrics["steps"] < steps or not is_main_process():  # under torchrun only rank 0 writes
        return result
    save_checkpoint(path, result.model, recipe=result.recipe, seed=result.seed,
                    data={"source": f"glyphs{classes}", "fonts": "matplotlib ttf", "val": "held-out fonts"},
                    metrics=result.metrics, history=result.history)
    shutil.rmtree(partial, ignore_errors=True)
    result.path = str(path)
    return result


def resolve_pretrained(pretrained=None, **kw) -> SmallCNN:
    """A model from a model, a checkpoint folder, or the default cache."""
    if pretrained is None:
        return pretrained_cnn(**kw).model
    if isinstance(pretrained, torch.nn.Module):
        return pretrained
    if isinstance(pretrained, Pretrained):
        return pretrained.model
    model, meta = load_checkpoint(pretrained)
    if not isinstance(model, SmallCNN):
        raise CheckpointError(f"{pretrained} holds a {meta.get('arch')!r} model; vision fine-tuning needs a "
                              f"{SmallCNN.arch!r} checkpoint (make one with: workbench pretrain vision --out FOLDER)")
    return model
