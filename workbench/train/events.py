"""What a callback sees and may change, kept apart from the loop's internals.

:class:`TrainState` is the run so far (a callback may call ``request_stop()``), :class:`FitResult`
what ``fit`` returns, and :class:`Callback` the events a widget, a plot or a checkpointer hooks into.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .recipe import Recipe


@dataclass
class TrainState:
    """What callbacks see: the run so far. A callback reads it and may call ``request_stop()``.

    ``optimizer`` and ``scheduler`` are there to be read (the LR of each group) and, for the LR range
    test, steered. The loop's own bookkeeping (batch iterator, AMP scaler, running loss, early-stopping
    memory) is in ``_loop``, a :class:`LoopState` that only ``fit`` and :mod:`workbench.train.resume` touch.
    """

    model: nn.Module
    recipe: Recipe
    seed: int | None = None  # the run's seed, recorded beside the recipe (fit does not seed anything itself)
    step: int = 0
    total_steps: int = 0
    loss: float = float("nan")
    metrics: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    stop_reason: str | None = None
    optimizer: torch.optim.Optimizer | None = None
    scheduler: object = None
    _loop: LoopState | None = field(default=None, repr=False)

    def request_stop(self, reason: str = "stopped") -> None:
        self.stop_reason = self.stop_reason or reason

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


@dataclass
class LoopState:
    """The loop's internals, which a resumable checkpoint needs beyond :class:`TrainState` (not for callbacks)."""

    batches: object  # the batch iterator; resumable when it has state_dict()/load_state_dict()
    scaler: torch.amp.GradScaler
    running: torch.Tensor  # loss summed since the last log, and how many steps that is
    since_log: int = 0
    in_step: bool = False  # True while a step is half done (a mid-step interrupt makes the state unsaveable)
    stopper: object = None  # the recipe's EarlyStopping callback, whose memory is saved with the run


@dataclass
class FitResult:
    model: nn.Module
    history: list[dict]
    steps_done: int
    seconds: float
    stop_reason: str | None = None  # None when the run completed its steps
    best_step: int | None = None
    metrics: dict = field(default_factory=dict)
    recipe: Recipe | None = None  # the recipe this run trained with
    seed: int | None = None  # the seed its caller gave (fit records it; the caller seeded data and model)

    def frame(self):
        """The history as a pandas DataFrame (one row per record)."""
        import pandas as pd

        return pd.DataFrame(self.history)


class Callback:
    """Override the events you need. Every method receives the live :class:`TrainState`."""

    def on_start(self, state: TrainState) -> None: ...
    def on_log(self, state: TrainState) -> None: ...
    def on_eval(self, state: TrainState) -> None: ...
    def on_stop(self, state: TrainState) -> None:
        """The step loop ended (done, stopped, Ctrl-C); the model still has its last trained weights."""

    def on_end(self, state: TrainState) -> None: ...
