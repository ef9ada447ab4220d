"""Callbacks that ship with the workbench: early stopping and a time budget.

A callback reads the :class:`~workbench.train.events.TrainState` it is given and may call
``state.request_stop(reason)``; that is all. ``fit`` creates an :class:`EarlyStopping` itself when the
recipe sets ``early_stopping`` (the patience), and at the end puts back the best weights it remembered.
"""
from __future__ import annotations

import copy
import math

import torch

from .events import Callback, TrainState


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` evaluations in a row; remember the best weights.

    A metric whose name ends in ``loss`` is better lower, any other better higher. ``best_step`` and
    ``best`` are the step and value of the best evaluation so far; ``best_weights`` a copy of the model then.
    """

    def __init__(self, monitor: str = "val_accuracy", patience: int = 3):
        self.monitor, self.patience = monitor, patience
        self.sign = -1.0 if monitor.endswith("loss") else 1.0
        self.best_score = -math.inf  # sign * metric, so higher is always better
        self.best_step: int | None = None
        self.best_weights: dict | None = None
        self.bad_evals = 0

    @property
    def best(self) -> float:
        return self.sign * self.best_score

    def on_eval(self, state: TrainState) -> None:
        if self.monitor not in state.metrics:
            return
        score = self.sign * state.metrics[self.monitor]
        if score > self.best_score:
            self.best_score, self.best_step, self.bad_evals = score, state.step, 0
            self.best_weights = copy.deepcopy(state.model.state_dict())
        else:
            self.bad_evals += 1
            if self.bad_evals >= self.patience:
                state.request_stop("early_stopping")

    # what a resumable checkpoint keeps of it (workbench.train.resume)
    def state_dict(self) -> dict:
        return {"score": self.best_score, "step": self.best_step, "bad_evals": self.bad_evals, "weights": self.best_weights}

    def load_state_dict(self, d: dict, device: torch.device | None = None) -> None:
        self.best_score, self.best_step, self.bad_evals = d["score"], d["step"], d["bad_evals"]
        weights = d["weights"]
        self.best_weights = None if weights is None else {k: v.to(device) for k, v in weights.items()}


class TimeBudget(Callback):
    """Stop the run after ``seconds`` of training."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_log(self, state: TrainState) -> None:
        if state.seconds >= self.seconds:
            state.request_stop("time_budget")
