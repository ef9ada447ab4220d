"""Resumable training: a checkpoint of the whole run, so an interrupted run continues bit for bit.

A resumable checkpoint is an ordinary checkpoint folder (``load_checkpoint`` and fine-tuning read it
like any other) plus two files written inside the same atomic folder swap:

* ``training.safetensors``: every tensor of the run: the model's state, the optimizer's state
  (AdamW moments and step counts), the RNG states (torch CPU and CUDA, NumPy's Mersenne twister),
  the batch iterator's state, the early-stopping best weights, the loss accumulated since the last log;
* ``training.json``: everything else (step, history, metrics, scheduler state, optimizer param
  groups, Python's RNG state, the recipe), with each tensor replaced by ``{"__tensor__": key}``.

Nothing is pickled, so a resumable checkpoint from a stranger runs no code either.

**Where the batches resume.** The workbench's batch iterators (:mod:`workbench.data.batches`) are
resumable objects: their ``state_dict()`` is the ``torch.Generator`` state at the current batch
boundary plus, for epoch-based iterators, the epoch's permutation and position. Resuming loads that
into the freshly built iterator, which then draws exactly the batches the interrupted run would have
drawn (O(1), no replay). Any other iterator (a plain Python generator, a text-batch function) is
*fast-forwarded*: ``fit`` draws and discards ``step`` batches, which is exact when the iterator is
built with the same seed as before, and costs only data time.

**When it is saved.** :class:`Checkpointing` saves every ``every`` steps (at the next log step) and
when the loop ends for any reason (done, Stop, Ctrl-C). ``fit`` defers the first Ctrl-C to the end of
the current step, so the saved state is always at a step boundary; if an interrupt nevertheless lands
mid-step (a second Ctrl-C, or one outside the main thread), the half-done step is not saved and the
previous checkpoint is kept.
"""
from __future__ import annotations

import json
import math
import os
import random
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from ..errors import CheckpointError, check_positive
from .checkpoints import load_weights, read_meta, save_checkpoint
from .events import Callback

TENSORS = "training.safetensors"
STATE = "training.json"
FORMAT = 1


def _flatten(obj, key: str, tensors: dict[str, torch.Tensor]):
    """A JSON-able copy of ``obj`` with its tensors moved into ``tensors`` under dotted keys."""
    if isinstance(obj, torch.Tensor):
        tensors[key] = obj.detach().cpu().clone().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _flatten(v, f"{key}.{k}", tensors) for k, v in obj.items()}
        return {"__items__": [[k, _flatten(v, f"{key}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot save {type(obj).__name__} at {key} in a resumable checkpoint")


def _unflatten(obj, tensors: dict[str, torch.Tensor]):
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__tuple__" in obj:
            return tuple(_unflatten(v, tensors) for v in obj["__tuple__"])
        if "__items__" in obj:
            return {k: _unflatten(v, tensors) for k, v in obj["__items__"]}
        return {k: _unflatten(v, tensors) for k, v in obj.items()}
    return obj


def _plain(value):
    """JSON fallback for metrics such as NumPy scalars."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _rng_states() -> dict:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_states(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


def save_training_state(path: str | Path, state) -> Path | None:
    """Write a resumable checkpoint of the live :class:`~workbench.train.loop.TrainState` to ``path``.

    Returns the folder, or None (with a warning) when the run was interrupted in the middle of a step,
    whose half-done state must not be resumed from: the previous checkpoint is then kept.
    """
    loop = state._loop
    if loop.in_step:
        warnings.warn(f"training was interrupted in the middle of step {state.step + 1}; "
                      f"keeping the previous resumable checkpoint at {path}", stacklevel=2)
        return None
    tensors: dict[str, torch.Tensor] = {}
    batches = loop.batches.state_dict() if hasattr(loop.batches, "state_dict") else None
    no_stopper = {"score": -math.inf, "step": None, "bad_evals": 0, "weights": None}
    stopper = loop.stopper.state_dict() if loop.stopper is not None else no_stopper
    record = {
        "format": FORMAT,
        "step": state.step,
        "loss": state.loss,
        "metrics": state.metrics,
        "history": state.history,
        "stop_reason": state.stop_reason,
        "model": _flatten(state.model.state_dict(), "model", tensors),
        "optimizer": _flatten(state.optimizer.state_dict(), "optimizer", tensors),
        "scheduler": _flatten(state.scheduler.state_dict(), "scheduler", tensors),
        "scaler": _flatten(loop.scaler.state_dict(), "scaler", tensors) if loop.scaler.is_enabled() else None,
        "rng": _flatten(_rng_states(), "rng", tensors),
        "batches": _flatten(batches, "batches", tensors) if batches is not None else "fast-forward",
        "running": _flatten(loop.running, "running", tensors),
        "since_log": loop.since_log,
        "best": {**stopper, "weights": _flatten(stopper["weights"], "best", tensors)},  # early stopping's memory
    }
    files = {TENSORS: save_bytes(tensors), STATE: json.dumps(record, default=_plain).encode()}
    return save_checkpoint(path, state.model, files=files, recipe=state.recipe, seed=state.seed, metrics=state.metrics,
                           step=state.step, resumable=True)


def restore_training_state(path: str | Path, state, device: torch.device) -> None:
    """Load the resumable checkpoint at ``path`` into a freshly set-up run (``fit`` calls this)."""
    path = Path(path)
    meta = read_meta(path)
    if not (path / STATE).exists():
        raise CheckpointError(f"{path} holds a model but no training state, so it cannot be resumed; fine-tune from it, "
                              "or write resumable checkpoints with the Checkpointing callback")
    arch = getattr(state.model, "arch", type(state.model).__name__)
    if meta.get("arch") != arch:
        raise CheckpointError(f"{path} was saved from a {meta.get('arch')!r} model, not {arch!r}; resume with the same model")
    saved = meta.get("recipe") or {}
    diffs = [f"{k}={saved.get(k)!r} (now {v!r})" for k, v in state.recipe.to_dict().items() if saved.get(k) != v]
    if diffs:
        raise CheckpointError(f"{path} was saved by a run with another recipe ({', '.join(diffs[:3])}); "
                              "resume with the same recipe or start a new run")
    try:
        record = json.loads((path / STATE).read_text())
        tensors = load_bytes((path / TENSORS).read_bytes())
        record = _unflatten(record, tensors)
    except (json.JSONDecodeError, UnicodeDecodeError, SafetensorError, OSError, KeyError) as err:
        raise CheckpointError(f"resumable checkpoint {path} is unreadable or truncated ({err.__class__.__name__}); "
                              "resume from an earlier one or start again") from None
    load_weights(state.model, record["model"], source=str(path))
    try:
        state.optimizer.load_state_dict(record["optimizer"])
        state.scheduler.load_state_dict(record["scheduler"])
    except (ValueError, KeyError) as err:
        raise CheckpointError(f"the optimizer or schedule saved in {path} does not fit this run ({err}); "
                              "resume with the same model and recipe") from None
    loop = state._loop
    if loop.scaler.is_enabled() and record["scaler"] is not None:
        loop.scaler.load_state_dict(record["scaler"])
    _set_rng_states(record["rng"])
    if record["batches"] != "fast-forward" and hasattr(loop.batches, "load_state_dict"):
        loop.batches.load_state_dict(record["batches"])
    else:  # any other iterator: replay the batches the interrupted run consumed (exact for the same seed)
        for _ in range(record["step"]):
            next(loop.batches)
    state.step = record["step"]
    state.loss = record["loss"]
    state.metrics = record["metrics"]
    state.history = record["history"]
    loop.running = record["running"].to(device)
    loop.since_log = record["since_log"]
    if loop.stopper is not None:
        loop.stopper.load_state_dict(record["best"], device)


class Checkpointing(Callback):
    """A ``fit`` callback that keeps a resumable checkpoint of the run at ``path``.

    It saves every ``every`` steps (at the first log step at or after each multiple, so in effect a
    multiple of ``log_every``) and once more when the loop ends (done, Stop, Ctrl-C). Resume with
    ``fit(model, recipe, batches, resume_from=path)``, the model, recipe and batches built as before.
    """

    def __init__(self, path: str | Path, every: int = 100):
        check_positive("every", every, integer=True)
        self.path, self.every, self.saved_step = Path(path), every, None
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CheckpointError(f"cannot create checkpoint folder {parent} ({err.strerror}); choose a writable folder") from None
        if not os.access(parent, os.W_OK):
            raise CheckpointError(f"checkpoint folder {parent} is not writable; choose a writable folder")

    def save(self, state) -> None:
        if save_training_state(self.path, state) is not None:
            self.saved_step = state.step

    def on_start(self, state) -> None:
        self.saved_step = state.step

    def on_log(self, state) -> None:
        if state.step - self.saved_step >= self.every:
            self.save(state)

    def on_stop(self, state) -> None:
        if state.step != self.saved_step or not (self.path / STATE).exists():
            self.save(state)
