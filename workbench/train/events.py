"""What a callback sees and may change, kept apart from the loop's internals.

:class:`TrainState` is the run so far (a callback may call ``request_stop()``), :class:`FitResult`
what ``fit`` returns, and :class:`Callback` the events a widget, a plot or a checkpointer hooks into.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .recipe import Recipe


@dataclass
class TrainState:
    """What callbacks see: the run so far. Callbacks may call ``request_stop()``."""

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
    # what a resumable checkpoint needs beyond the above (see workbench.train.resume)
    batches: object = None  # the batch iterator; resumable when it has state_dict()/load_state_dict()
    scaler: object = None
    running: torch.Tensor | None = None  # loss summed since the last log, and how many steps that is
    since_log: int = 0
    best_score: float = -math.inf  # early stopping: best monitored score (sign-adjusted), its step, weights
    best_step: int | None = None
    best_weights: dict | None = None
    bad_evals: int = 0
    in_step: bool = False  # True while a step is half done (a mid-step interrupt makes the state unsaveable)

    def request_stop(self, reason: str = "stopped") -> None:
        self.stop_reason = self.stop_reason or reason

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


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
