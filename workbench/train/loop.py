"""One fit loop for every model and task, with events so widgets, plots and checkpoints can hook in.

``fit`` takes a model, a :class:`Recipe` and an endless iterator of batches, and runs ``recipe.steps``
optimizer steps: freezing and gradual unfreezing, one param group per layer group, the named schedule,
AMP on GPU, periodic evaluation, optional early stopping. It returns a :class:`FitResult` whose
``history`` is a list of plain records (one per logged step or evaluation).

Stopping is always clean: a stop request (``state.request_stop()``, a ``threading.Event``, a widget's
Stop button) or Ctrl-C ends the run at the next step and keeps the model and the history so far. In
the main thread the first Ctrl-C is deferred to the end of the current step (a second one interrupts
at once), so the state a :class:`~workbench.train.resume.Checkpointing` callback saves is consistent.
``fit(..., resume_from=folder)`` continues such a run exactly where it stopped. A NaN or infinite
loss restores the last good weights and raises :class:`TrainingDiverged`.
"""
from __future__ import annotations

import copy
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..device import autocast, autocast_dtype, configure_cpu_threads, pick_device, warn_if_nondeterministic
from ..errors import TrainingDiverged
from ..models.groups import layer_groups
from . import distributed
from .events import Callback, FitResult, TrainState
from .freezing import frozen_groups_at, param_groups, set_frozen, set_train_mode, unfreeze_points
from .recipe import Recipe
from .resume import restore_training_state
from .schedules import build_scheduler


def cross_entropy_loss(label_smoothing: float = 0.0) -> Callable:
    def loss(model: nn.Module, batch) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(model(x), y, label_smoothing=label_smoothing)

    return loss


def _to(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    return type(batch)(_to(b, device) for b in batch)


def make_optimizer(model: nn.Module, recipe: Recipe, device: torch.device) -> torch.optim.Optimizer:
    groups = param_groups(model, recipe)
    try:  # fused AdamW is faster on CPU and GPU alike where the build has it
        return torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=recipe.weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=recipe.weight_decay)


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
    device = pick_device(device)
    rank, world_size = distributed.world()
    if world_size > 1 and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    warn_if_nondeterministic(device)
    if device.type == "cpu":
        configure_cpu_threads()
    model.to(device)
    loss_fn = loss_fn or cross_entropy_loss(recipe.label_smoothing)
    if world_size > 1:
        batches = distributed.shard_batches(batches, rank, world_size)
        progress = progress and rank == 0
        callbacks = callbacks if rank == 0 else [cb for cb in callbacks if getattr(cb, "all_ranks", False)]
    names = list(layer_groups(model))
    releases = {step for step, _ in unfreeze_points(recipe, names)}
    state = TrainState(model=model, recipe=recipe, seed=seed, total_steps=recipe.steps)
    state.frozen = frozen_groups_at(recipe, names, 0)
    set_frozen(model, state.frozen)
    optimizer = (optimizer_fn or make_optimizer)(model, recipe, device)
    scheduler = build_scheduler(optimizer, recipe.schedule, recipe.steps, recipe.warmup)
    state.optimizer, state.scheduler = optimizer, scheduler
    scaler = torch.amp.GradScaler(device.type) if autocast_dtype(device) == torch.float16 else None
    batch_iter: Iterator = iter(batches)
    state.batches, state.scaler = batch_iter, scaler
    state.running = torch.zeros((), device=device)
    if resume_from is not None:
        restore_training_state(resume_from, state, device)
        state.frozen = frozen_groups_at(recipe, names, state.step)
        set_frozen(model, state.frozen)
    set_train_mode(model, state.frozen, recipe.bn)
    # what forward passes go through: the model itself, or its DDP wrapper (re-made when groups unfreeze)
    trained = distributed.wrap(model, device) if world_size > 1 else model
    higher_is_better = not monitor.endswith("loss")
    last_good = copy.deepcopy(model.state_dict())

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=recipe.steps, desc=recipe.name, leave=False)
    for cb in callbacks:
        cb.on_start(state)

    def run_eval() -> None:
        model.eval()
        with torch.no_grad(), autocast(device):
            state.metrics = dict(evaluate(model))
        set_train_mode(model, state.frozen, recipe.bn)
        state.history.append({"step": state.step, "seconds": state.seconds, **state.metrics})
        for cb in callbacks:
            cb.on_eval(state)
        if recipe.early_stopping and monitor in state.metrics:
            score = state.metrics[monitor] if higher_is_better else -state.metrics[monitor]
            if score > state.best_score:
                state.best_score, state.best_step, state.bad_evals = score, state.step, 0
                state.best_weights = copy.deepcopy(model.state_dict())
            else:
                state.bad_evals += 1
                if state.bad_evals >= recipe.early_stopping:
                    state.request_stop("early_stopping")

    def on_sigint(signum, frame) -> None:  # first Ctrl-C: finish this step, then stop; second: at once
        signal.signal(signal.SIGINT, signal.default_int_handler)
        state.request_stop("interrupted")

    stop_agreed = False  # DDP: all ranks have agreed to stop (see the loop)
    previous_handler = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        while state.step < recipe.steps:
            if stop_event is not None and stop_event.is_set():
                state.request_stop("stopped")
            # Alone, a stop takes effect at once. Under DDP every rank must leave at the same step (or the
            # others wait forever in the next all-reduce): a stop waits for the next log step, where ranks agree.
            if state.stop_reason and (world_size == 1 or stop_agreed):
                break
            if state.step in releases:
                frozen = frozen_groups_at(recipe, names, state.step)
                if frozen != state.frozen:
                    state.frozen = frozen
                    set_frozen(model, frozen)
                    set_train_mode(model, frozen, recipe.bn)
                    if world_size > 1:
                        trained = distributed.wrap(model, device)
            state.in_step = True
            batch = _to(next(batch_iter), device)
            with autocast(device):
                loss = loss_fn(trained, batch)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            else:
                loss.backward()
            if recipe.clip_grad:
                nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], recipe.clip_grad)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            state.step += 1
            logging = state.step % log_every == 0 or state.step == recipe.steps
            if logging:  # the LRs this step used, before the scheduler moves them on
                used_lrs = {f"lr/{g['name']}": g["lr"] for g in optimizer.param_groups}
            scheduler.step()
            state.running += loss.detach()
            state.since_log += 1
            state.in_step = False
            if logging:
                # the only host sync, once per log_every steps (under DDP, one all-reduce of the loss and the stop flag)
                if world_size > 1:
                    state.loss, any_stop = distributed.agree(state.running / state.since_log, state.stop_reason is not None)
                    if any_stop:
                        state.request_stop("stopped on another process")
                        stop_agreed = True
                else:
                    state.loss = (state.running / state.since_log).item()
                state.running.zero_()
                state.since_log = 0
                if not math.isfinite(state.loss):
                    model.load_state_dict(last_good)
                    raise TrainingDiverged(
                        f"loss became {state.loss} at step {state.step}; the learning rate is likely too high "
                        f"(lr={recipe.lr:g}): lower it. The last good weights were restored."
                    )
                last_good = copy.deepcopy(model.state_dict())
                record = {"step": state.step, "seconds": state.seconds, "loss": state.loss}
                record.update(used_lrs)
                state.history.append(record)
                if bar is not None:
                    bar.update(state.step - bar.n)
                    bar.set_postfix(loss=f"{state.loss:.3f}")
                for cb in callbacks:
                    cb.on_log(state)
            if evaluate is not None and eval_every and state.step % eval_every == 0 and state.step < recipe.steps:
                run_eval()
    except KeyboardInterrupt:
        state.request_stop("interrupted")
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        if bar is not None:
            bar.close()
    for cb in callbacks:
        if hasattr(cb, "on_stop"):  # callbacks that do not subclass Callback may lack this newer event
            cb.on_stop(state)
    if evaluate is not None and state.stop_reason != "interrupted":
        run_eval()
    if state.best_weights is not None and state.best_step is not None:
        model.load_state_dict(state.best_weights)
        best = state.best_score if higher_is_better else -state.best_score
        state.metrics = {**state.metrics, f"best_{monitor}": best}
    model.eval()
    for cb in callbacks:
        cb.on_end(state)
    return FitResult(model, state.history, state.step, state.seconds, state.stop_reason, state.best_step, state.metrics, recipe, seed)
