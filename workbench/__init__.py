"""workbench: pretrain a small model, fine-tune it, and measure what pretraining bought.

The public API: every name the notebooks and the README use is importable from here, e.g.
``from workbench import VisionTask, compare, get_recipe, figures``. The light names are imported at
once; the rest (which pull in transformers, matplotlib or the datasets) load on first use, so
``import workbench`` stays fast. Where each name lives is in ``_LAZY`` below.
"""
from __future__ import annotations

import importlib

from .device import pick_device, seed_everything
from .errors import CheckpointError, TrainingDiverged, WorkbenchError
from .train.checkpoints import load_checkpoint, save_checkpoint
from .train.callbacks import EarlyStopping, TimeBudget
from .train.events import Callback, FitResult, TrainState
from .train.freezing import frozen_groups_at, set_frozen, trainable_summary, training_starts
from .train.loop import fit
from .train.recipe import Recipe, get_recipe, recipe_names
from .train.resume import Checkpointing
from .train.schedules import preview_schedule

#: name -> the module that defines it
_LAZY = {
    # data
    "glyph_bank": "workbench.data.glyphs", "split_by_font": "workbench.data.glyphs", "FONT_FILES": "workbench.data.glyphs",
    "glyph_batches": "workbench.data.batches", "clean_glyphs": "workbench.data.batches",
    "mnist5k": "workbench.data.digits", "load_target": "workbench.data.digits",
    "shakespeare": "workbench.data.shakespeare",
    "shakespeare_tokenizer": "workbench.data.text", "encode_corpus": "workbench.data.text",
    # models
    "layer_groups": "workbench.models.groups", "group_parameter_counts": "workbench.models.groups",
    "count_parameters": "workbench.models.text",
    "minilm_available": "workbench.models.minilm", "INSTALL_HINT": "workbench.models.minilm",
    "load_minilm": "workbench.models.minilm", "minilm_classifier": "workbench.models.minilm",
    # tasks
    "VisionTask": "workbench.tasks.vision", "GenreTask": "workbench.tasks.text", "ShuffledTask": "workbench.tasks.text",
    "text_task": "workbench.tasks.text", "predict": "workbench.train.metrics", "accuracy": "workbench.train.metrics",
    # experiments
    "pretrain_vision": "workbench.pretrain.vision", "pretrained_cnn": "workbench.pretrain.vision",
    "resolve_pretrained": "workbench.pretrain.vision", "PRETRAIN_VISION": "workbench.pretrain.vision",
    "pretrain_text": "workbench.pretrain.text", "pretrained_lm": "workbench.pretrain.text",
    "PRETRAIN_TEXT": "workbench.pretrain.text",
    "compare": "workbench.experiments.compare", "summarize": "workbench.experiments.compare",
    "paired_gains": "workbench.experiments.compare", "markdown_table": "workbench.experiments.compare",
    "lab": "workbench.experiments.lab", "text_forgetting": "workbench.experiments.lab_text",
    # presentation
    "figures": "workbench.report.figures", "lab_figures": "workbench.report.lab_figures",
    "write_comparison": "workbench.report.writing",
}

#: names that are modules themselves (``workbench.figures`` is :mod:`workbench.report.figures`)
_MODULES = {"shakespeare", "lab", "figures", "lab_figures"}

__all__ = [
    "Callback", "CheckpointError", "Checkpointing", "EarlyStopping", "FitResult", "Recipe", "TimeBudget", "TrainState",
    "TrainingDiverged", "WorkbenchError", "fit", "frozen_groups_at", "get_recipe", "load_checkpoint", "pick_device",
    "preview_schedule", "recipe_names", "save_checkpoint", "seed_everything", "set_frozen", "trainable_summary",
    "training_starts", *sorted(_LAZY),
]
__version__ = "0.1.0"


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = importlib.import_module(module) if name in _MODULES else getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
