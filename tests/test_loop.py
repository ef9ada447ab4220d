import dataclasses
import threading

import pytest
import torch

from workbench.errors import TrainingDiverged
from workbench.tasks.vision import VisionTask
from workbench.train.loop import Callback, fit
from workbench.train.recipe import get_recipe


def endless(seed=0, n=16):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 1, 28, 28, generator=g)
    y = torch.arange(64) % 10
    while True:
        idx = torch.randint(0, 64, (n,), generator=g)
        yield x[idx], y[idx]


def test_fit_learns_a_real_task(quick_pretrained, digits):
    task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
    r = task.run(get_recipe("discriminative", steps=60), budget=50, seed=0)
    assert r.score > 0.5  # chance is 0.1
    losses = [h["loss"] for h in r.history if "loss" in h]
    assert losses[-1] < losses[0]


def test_same_seed_same_numbers_on_cpu(quick_pretrained, digits):
    task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
    a = task.run(get_recipe("finetune", steps=15), budget=20, seed=1)
    b = task.run(get_recipe("finetune", steps=15), budget=20, seed=1)
    assert a.score == b.score
    assert all(torch.equal(p, q) for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values()))


def test_stop_event_and_callbacks_end_training_cleanly(tiny_cnn):
    stop = threading.Event()

    class StopAt(Callback):
        def on_log(self, state):
            if state.step >= 20:
                stop.set()

    res = fit(tiny_cnn, get_recipe("finetune", steps=500), endless(), callbacks=[StopAt()], stop_event=stop, progress=False)
    assert res.stop_reason == "stopped" and res.steps_done == 20
    assert res.history[-1]["step"] == 20

    class Request(Callback):
        def on_log(self, state):
            state.request_stop("enough")

    res = fit(tiny_cnn, get_recipe("finetune", steps=500), endless(), callbacks=[Request()], progress=False)
    assert res.stop_reason == "enough" and res.steps_done == 10


def test_ctrl_c_keeps_the_model_and_history(tiny_cnn):
    def interrupting():
        for i, b in enumerate(endless()):
            if i == 25:
                raise KeyboardInterrupt
            yield b

    res = fit(tiny_cnn, get_recipe("finetune", steps=500), interrupting(), progress=False)
    assert res.stop_reason == "interrupted" and res.steps_done == 25 and len(res.history) == 2


def test_nan_loss_restores_last_good_weights_and_says_why(tiny_cnn):
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        out = torch.nn.functional.cross_entropy(model(batch[0]), batch[1])
        return out * float("nan") if calls["n"] > 12 else out

    with pytest.raises(TrainingDiverged, match="learning rate is likely too high"):
        fit(tiny_cnn, get_recipe("finetune", steps=100), endless(), loss_fn=loss_fn, progress=False)
    assert all(torch.isfinite(p).all() for p in tiny_cnn.parameters())


def test_early_stopping_restores_the_best_weights(tiny_cnn):
    scores = iter([0.5, 0.9, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1])
    res = fit(tiny_cnn, get_recipe("finetune", steps=100, early_stopping=2), endless(), evaluate=lambda m: {"val_accuracy": next(scores)},
              eval_every=10, progress=False)
    assert res.stop_reason == "early_stopping" and res.best_step == 20 and res.steps_done == 40
    assert res.metrics["best_val_accuracy"] == 0.9


def test_cpu_threads_follow_workbench_threads(tiny_cnn, monkeypatch):
    from workbench.device import configure_cpu_threads

    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("WORKBENCH_THREADS", "1")
        fit(tiny_cnn, get_recipe("finetune", steps=2), endless(), progress=False)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("WORKBENCH_THREADS", "2")
        assert configure_cpu_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_early_stopping_is_a_callback_on_the_state_callbacks_see(tiny_cnn):
    from workbench.train.callbacks import EarlyStopping
    from workbench.train.events import TrainState

    state = TrainState(model=tiny_cnn, recipe=get_recipe("finetune"))
    stop = EarlyStopping("val_loss", patience=2)  # a loss: lower is better
    for step, loss in [(10, 1.0), (20, 0.5), (30, 0.7), (40, 0.6)]:
        state.step, state.metrics = step, {"val_loss": loss}
        stop.on_eval(state)
        assert state.stop_reason == (None if step < 40 else "early_stopping")
    assert stop.best_step == 20 and stop.best == 0.5 and stop.best_weights is not None
    seen = []

    class Look(Callback):
        def on_log(self, s):
            seen.append({f.name for f in dataclasses.fields(s) if not f.name.startswith("_")})

    fit(tiny_cnn, get_recipe("finetune", steps=10), endless(), progress=False, callbacks=[Look()])
    assert seen and not seen[0] & {"best_weights", "best_score", "running", "since_log", "batches", "scaler", "in_step"}
