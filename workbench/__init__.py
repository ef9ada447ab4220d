"""workbench: pretrain a small model, fine-tune it, and measure what pretraining bought.

The short public API; everything else lives in the sub-packages named in the docstrings.
"""
from .device import pick_device, seed_everything
from .errors import CheckpointError, TrainingDiverged, WorkbenchError
from .train.checkpoints import load_checkpoint, save_checkpoint
from .train.freezing import trainable_summary
from .train.loop import Callback, FitResult, fit
from .train.recipe import Recipe, get_recipe, recipe_names
from .train.resume import Checkpointing
from .train.schedules import preview_schedule

__all__ = [
    "Callback", "CheckpointError", "Checkpointing", "FitResult", "Recipe", "TrainingDiverged", "WorkbenchError", "fit", "get_recipe",
    "load_checkpoint", "pick_device", "preview_schedule", "recipe_names", "save_checkpoint", "seed_everything",
    "trainable_summary",
]
__version__ = "0.1.0"
