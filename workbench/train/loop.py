"""One fit loop for every model and task, with events so widgets, plots and checkpoints can hook in.

``fit`` takes a model, a :class:`Recipe` and an endless iterator of batches, and runs ``recipe.steps``
optimizer steps: freezing and gradual unfreezing, one param group per layer group, the named schedule,
AMP on GPU, periodic evaluation, optional early stopping (an :class:`~workbench.train.callbacks.EarlyStopping`
callback). It returns a :class:`FitResult` whose ``history`` is a list of plain records (one per logged
step or evaluation).

Stopping is always clean: a stop request (``state.request_stop()``, a ``threading.Event``, a widget's
Stop button) or Ctrl-C ends the run at the next step and keeps the model and the history so far. In
the main thread the first Ctrl-C is deferred to the end of the current step (a second one interrupts
at once), so the state a :class:`~workbench.train.resume.Checkpointing` callback saves is consistent.
``fit(..., resume_from=folder)`` continues such a run exactly where it stopped. A NaN or infinite
loss restores the last good weights and raises :class:`TrainingDiverged`.

Read ``fit`` top to bottom: set up, the step loop, the end. The small helpers below it are the parts a
first reading can skip: Ctrl-C, mixed precision, agreeing on the loss and on stopping across processes.
"""
from __future__ import annotations

import copy
import math
import signal
import threading
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..device import autocast, autocast_dtype, configure_cpu_threads, pick_device, warn_if_nondeterministic
from ..errors import TrainingDiverged
from ..models.groups import layer_groups
from . import distributed
from .callbacks import EarlyStopping
from .events import Callback, FitResult, LoopState, TrainState
from .freezing import frozen_groups_at, set_frozen, set_train_mode, unfreeze_points
from .optim import make_optimizer
from .recipe import Recipe
from .resume import restore_training_state
from .schedules import build_scheduler

__all__ = ["Callback", "cross_entropy_loss", "fit", "make_optimizer"]


def cross_entropy_loss(label_smoothing: float = 0.0) -> Callable:
    def loss(model: nn.Module, batch) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(model(x), y, label_smoothing=label_smoothing)

    return loss




def fit(
    model: nn.Module,
    recipe: Recipe,
    batches: Iterable,
    *,
    loss_fn: Callable | None = None,
    evaluate: Callable[[nn.Module], dict] | None = None,
    eval_every: int | None = None,
    monitor: str = "val_accuracy",
    callbacks: Sequence[Callback] = (),
    device: str | torch.device | None = None,
    progress: bool = True,
    stop_event: threading.Event | None = None,
    log_every: int = 10,
    resume_from=None,
    optimizer_fn: Callable[[nn.Module, Recipe, torch.device], torch.optim.Optimizer] | None = None,
    seed: int | None = None,
) -> FitResult:
    """Train ``model`` for ``recipe.steps`` steps on ``batches`` (an endless iterator of batches).

    ``resume_from``: a folder written by :class:`~workbench.train.resume.Checkpointing`; the run
    continues from its step with its weights, optimizer, scheduler, RNG and batch-iterator states.
    ``model``, ``recipe`` and ``batches`` must be built exactly as for the interrupted run.
    ``optimizer_fn(model, recipe, device)`` replaces the default AdamW (one param group per layer
    group, see :func:`make_optimizer`); the LR range test uses it to run plain SGD on a known case.
    ``seed``: the seed the caller built the model and batches with; it is recorded (``FitResult.seed``,
    resumable checkpoints), not used: ``fit`` draws no random numbers of its own.
    """
    # --- set up: device, processes, callbacks, freezing, optimizer and schedule
    device, rank, world_size = _place(model, device)
    loss_fn = loss_fn or cross_entropy_loss(recipe.label_smoothing)
    if world_size > 1:  # each process trains on its rows of the global batch; only rank 0 reports and writes
        batches = distributed.shard_batches(batches, rank, world_size)
        progress, callbacks = progress and rank == 0, (callbacks if rank == 0 else [])
    stopper = EarlyStopping(monitor, recipe.early_stopping) if recipe.early_stopping else None
    callbacks = [*callbacks, *([stopper] if stopper else [])]  # early stopping runs on every process alike
    names = list(layer_groups(model))
    releases = {step for step, _ in unfreeze_points(recipe, names)}
    state = TrainState(model=model, recipe=recipe, seed=seed, total_steps=recipe.steps)
    state.frozen = frozen_groups_at(recipe, names, 0)
    set_frozen(model, state.frozen)
    state.optimizer = optimizer = (optimizer_fn or make_optimizer)(model, recipe, device)
    state.scheduler = scheduler = build_scheduler(optimizer, recipe.schedule, recipe.steps, recipe.warmup)
    loop = state._loop = LoopState(batches=iter(batches), running=torch.zeros((), device=device), stopper=stopper,
                                   scaler=torch.amp.GradScaler(device.type, enabled=autocast_dtype(device) == torch.float16))
    if resume_from is not None:
        restore_training_state(resume_from, state, device)
    trained = _apply_freezing(model, state, names, device, world_size)  # the model, or its DDP wrapper
    last_good = copy.deepcopy(model.state_dict())
    bar = _progress_bar(recipe) if progress else None
    for cb in callbacks:
        cb.on_start(state)

    # --- the step loop
    stop_agreed = False  # under DDP, a stop takes effect only once every process has heard of it
    with _SigintDeferral(state):
        try:
            while state.step < recipe.steps:
                if stop_event is not None and stop_event.is_set():
                    state.request_stop("stopped")
                if state.stop_reason and (world_size == 1 or stop_agreed):
                    break
                if state.step in releases:  # gradual unfreezing: the next group starts training now
                    trained = _apply_freezing(model, state, names, device, world_size)
                loop.in_step = True
                batch = _to(next(loop.batches), device)
                with autocast(device):
                    loss = loss_fn(trained, batch)
                _amp_step(loss, optimizer, loop.scaler, model, recipe.clip_grad)
                state.step += 1
                logging = state.step % log_every == 0 or state.step == recipe.steps
                used_lrs = {f"lr/{g['name']}": g["lr"] for g in optimizer.param_groups} if logging else {}
                scheduler.step()  # the LRs above are the ones this step used
                loop.running += loss.detach()
                loop.since_log += 1
                loop.in_step = False
                if logging:  # the only host sync, once per log_every steps
                    state.loss, any_stop = _mean_loss_and_stop(loop, state, world_size)
                    if any_stop:
                        state.request_stop("stopped on another process")
                        stop_agreed = True
                    if not math.isfinite(state.loss):
                        model.load_state_dict(last_good)
                        raise TrainingDiverged(
                            f"loss became {state.loss} at step {state.step}; the learning rate is likely too high "
                            f"(lr={recipe.lr:g}): lower it. The last good weights were restored.")
                    last_good = copy.deepcopy(model.state_dict())
                    state.history.append({"step": state.step, "seconds": state.seconds, "loss": state.loss, **used_lrs})
                    if bar is not None:
                        bar.update(state.step - bar.n)
                        bar.set_postfix(loss=f"{state.loss:.3f}")
                    for cb in callbacks:
                        cb.on_log(state)
                if evaluate is not None and eval_every and state.step % eval_every == 0 and state.step < recipe.steps:
                    _evaluate(evaluate, state, callbacks, device)
        except KeyboardInterrupt:
            state.request_stop("interrupted")
        finally:
            if bar is not None:
                bar.close()

    # --- the end: last evaluation, best weights back, a model in eval mode
    for cb in callbacks:
        cb.on_stop(state)
    if evaluate is not None and state.stop_reason != "interrupted":
        _evaluate(evaluate, state, callbacks, device)
    if stopper is not None and stopper.best_step is not None:
        model.load_state_dict(stopper.best_weights)
        state.metrics = {**state.metrics, f"best_{monitor}": stopper.best}
    model.eval()
    for cb in callbacks:
        cb.on_end(state)
    best_step = stopper.best_step if stopper is not None else None
    return FitResult(model, state.history, state.step, state.seconds, state.stop_reason, best_step, state.metrics, recipe, seed)


# --------------------------------------------------------------------------------------------------------
# The helpers fit reads as one line each
# --------------------------------------------------------------------------------------------------------
def _place(model: nn.Module, device) -> tuple[torch.device, int, int]:
    """Move ``model`` to the chosen device (this process's GPU under DDP); (device, rank, world size)."""
    device = pick_device(device)
    rank, world_size = distributed.world()
    if world_size > 1 and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    warn_if_nondeterministic(device)
    if device.type == "cpu":
        configure_cpu_threads()
    model.to(device)
    return device, rank, world_size


def _to(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    return type(batch)(_to(b, device) for b in batch)


def _apply_freezing(model: nn.Module, state: TrainState, names: list[str], device, world_size: int) -> nn.Module:
    """Freeze the groups the recipe freezes at ``state.step``, BatchNorm per policy; what forward passes go through.

    Under DDP the model is wrapped again, since DDP tracks the parameters that were trainable when it was made.
    """
    state.frozen = frozen_groups_at(state.recipe, names, state.step)
    set_frozen(model, state.frozen)
    set_train_mode(model, state.frozen, state.recipe.bn)
    return distributed.wrap(model, device) if world_size > 1 else model


def _amp_step(loss: torch.Tensor, optimizer, scaler: torch.amp.GradScaler, model: nn.Module, clip: float | None) -> None:
    """Backward and optimizer step; the scaler scales fp16 losses and is a no-op otherwise."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    if clip:
        nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], clip)
    scaler.step(optimizer)
    scaler.update()


def _mean_loss_and_stop(loop: LoopState, state: TrainState, world_size: int) -> tuple[float, bool]:
    """The mean loss since the last log, and whether another process wants to stop (one all-reduce under DDP)."""
    mean = loop.running / loop.since_log
    if world_size > 1:
        loss, any_stop = distributed.agree(mean, state.stop_reason is not None)
    else:
        loss, any_stop = mean.item(), False
    loop.running.zero_()
    loop.since_log = 0
    return loss, any_stop


def _evaluate(evaluate: Callable, state: TrainState, callbacks: Sequence[Callback], device: torch.device) -> None:
    """Evaluate in eval mode, record the metrics, tell the callbacks, and go back to training mode."""
    model = state.model
    model.eval()
    with torch.no_grad(), autocast(device):
        state.metrics = dict(evaluate(model))
    set_train_mode(model, state.frozen, state.recipe.bn)
    state.history.append({"step": state.step, "seconds": state.seconds, **state.metrics})
    for cb in callbacks:
        cb.on_eval(state)


def _progress_bar(recipe: Recipe):
    from tqdm.auto import tqdm

    return tqdm(total=recipe.steps, desc=recipe.name, leave=False)


class _SigintDeferral:
    """In the main thread, the first Ctrl-C asks the run to stop after this step; a second interrupts at once."""

    def __init__(self, state: TrainState):
        self.state, self.previous = state, None

    def _on_sigint(self, signum, frame) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.state.request_stop("interrupted")

    def __enter__(self):
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
