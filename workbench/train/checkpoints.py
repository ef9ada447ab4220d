"""Checkpoints that are not pickles: safetensors weights plus a JSON file that says what they are.

A checkpoint is a folder: ``model.safetensors`` (or a Hugging Face ``save_pretrained`` folder for HF
models) and ``workbench.json`` with the architecture, its config, the recipe, the data it saw and its
metrics. Saving writes a complete new folder beside the old one and swaps it in with renames, so a
crash mid-save leaves the previous checkpoint loadable. Loading never unpickles anything.
"""
from __future__ import annotations

import contextlib

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import CheckpointError
from ..models import architectures
from .recipe import Recipe

META = "workbench.json"
WEIGHTS = "model.safetensors"
FORMAT = 1


def _fsync_dir(path: Path) -> None:
    for f in path.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


def save_checkpoint(path: str | Path, model: nn.Module, *, files: dict[str, bytes] | None = None, **meta) -> Path:
    """Save ``model`` and JSON-able ``meta`` (recipe, data, metrics, ...) to the folder ``path``.

    ``files`` (name -> bytes) are written into the folder too, inside the same atomic swap (the
    resumable training state of :mod:`workbench.train.resume` uses this).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".saving", dir=path.parent))
    except OSError as err:
        raise CheckpointError(f"cannot write a checkpoint under {path.parent} ({err.strerror}); choose a writable --out folder") from None
    try:
        record = {"format": FORMAT, "arch": getattr(model, "arch", type(model).__name__), "saved": time.strftime("%Y-%m-%dT%H:%M:%S"), "torch": torch.__version__}
        if hasattr(model, "save_pretrained"):
            with _quiet_transformers():
                model.save_pretrained(tmp, safe_serialization=True)
        else:
            config = model.config.to_dict() if hasattr(model.config, "to_dict") else dict(model.config)
            record["config"] = config
            state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
            save_file(state, str(tmp / WEIGHTS), metadata={"format": "pt"})
        for key, value in meta.items():
            record[key] = value.to_dict() if hasattr(value, "to_dict") else value
        (tmp / META).write_text(json.dumps(record, indent=2, default=str))
        for name, data in (files or {}).items():
            (tmp / name).write_bytes(data)
        _fsync_dir(tmp)
        old = path.with_name(f".{path.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def _recover(path: Path) -> None:
    """If a save died between its two renames, the previous checkpoint is at ``.NAME.old``: restore it."""
    old = path.with_name(f".{path.name}.old")
    if not path.exists() and old.exists():
        os.replace(old, path)


def read_meta(path: str | Path) -> dict:
    path = Path(path)
    _recover(path)
    meta_file = path / META
    if not meta_file.exists():
        if path.is_file():
            raise CheckpointError(f"{path} is a file; a workbench checkpoint is a folder with {META} and {WEIGHTS}")
        raise CheckpointError(f"no checkpoint at {path} (missing {META}); train one or give the right folder")
    try:
        return json.loads(meta_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(f"{meta_file} is corrupted (not valid JSON); delete the folder and train again") from None


def recipe_and_seed(meta: dict) -> tuple[Recipe | None, int | None]:
    """The recipe a checkpoint was trained with and the run's seed, from its ``workbench.json`` record.

    Checkpoints written before the seed moved out of the recipe have it inside ``recipe``.
    """
    saved = meta.get("recipe")
    seed = meta.get("seed", (saved or {}).get("seed"))
    return (Recipe.from_dict(saved) if saved else None), seed


def load_weights(model: nn.Module, weights: dict[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Load ``weights`` strictly, naming missing/unexpected keys and shape mismatches in one line."""
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    shapes = [f"{k} {tuple(weights[k].shape)} vs {tuple(v.shape)}" for k, v in own.items() if k in weights and weights[k].shape != v.shape]
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            parts.append(f"shape mismatches: {', '.join(shapes[:3])}")
        if missing:
            parts.append(f"missing keys: {', '.join(missing[:3])}")
        if unexpected:
            parts.append(f"unexpected keys: {', '.join(unexpected[:3])}")
        raise CheckpointError(f"{source} does not fit this model ({'; '.join(parts)}); use a checkpoint of the same architecture and task")
    model.load_state_dict(weights)


def load_checkpoint(path: str | Path, *, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the model saved at ``path``; return ``(model, meta)``. Never unpickles."""
    path = Path(path)
    meta = read_meta(path)
    archs = architectures()
    arch = meta.get("arch")
    if arch not in archs:
        raise CheckpointError(f"{path} holds an unknown architecture {arch!r}; known: {', '.join(archs)}")
    cls, config_from = archs[arch]
    try:
        if hasattr(cls, "from_pretrained"):
            with _quiet_transformers():
                model = cls.from_pretrained(path)
        else:
            model = cls(config_from(meta["config"]))
            load_weights(model, load_file(str(path / WEIGHTS)), source=str(path))
    except CheckpointError:
        raise
    except (SafetensorError, OSError, ValueError, KeyError) as err:
        raise CheckpointError(f"checkpoint {path} is unreadable or truncated ({err.__class__.__name__}); train it again or use another") from None
    return model.to(device).eval(), meta


@contextlib.contextmanager
def _quiet_transformers():
    """No per-shard "Loading weights" bar from transformers for our one-file checkpoints (tqdm bars stay ours)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
