"""Resume: a run interrupted (a real SIGINT) and resumed ends bitwise equal to one that never stopped."""
import os
import signal

import pytest

from workbench.pretrain.vision import _cache_key
import torch

from workbench.data.augment import AUGMENTS
from workbench.data.batches import image_batches
from workbench.errors import CheckpointError
from workbench.models.cnn import CNNConfig, SmallCNN
from workbench.train.checkpoints import load_checkpoint
from workbench.train.events import Callback
from workbench.train.loop import fit
from workbench.train.recipe import get_recipe
from workbench.train.resume import Checkpointing

@pytest.fixture(autouse=True)
def ctrl_c_enabled():
    """These tests press Ctrl-C for real. A runner started in the background by a non-interactive shell
    inherits SIGINT as *ignored* (POSIX shells do that for `cmd &`), and then Python never installs its
    KeyboardInterrupt handler; give the test Python's default, as any terminal session has it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


# gradual unfreezing crosses the resume point, discriminative LRs, one-cycle momentum, augmentation
RECIPE = get_recipe("gradual", steps=60, unfreeze_over=1.0, backbone_lr=1e-3, augment="light", batch_size=16)


def setup(seed=0):
    """Model and batches built exactly the same way each time (as a student re-running a cell would)."""
    g = torch.Generator().manual_seed(100 + seed)
    images = torch.rand(50, 1, 28, 28, generator=g)
    labels = torch.arange(50) % 10
    torch.manual_seed(seed)
    model = SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=10))
    batches = image_batches(images, labels, RECIPE.batch_size, torch.Generator().manual_seed(seed), AUGMENTS["light"])
    return model, batches  # 50 examples / 16 per batch: epochs of 3 batches, so resume lands mid-epoch


def sigint_at(step):
    """A loss that sends this process a real SIGINT (Ctrl-C) while computing step ``step``."""
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        if calls["n"] == step:
            os.kill(os.getpid(), signal.SIGINT)
        x, y = batch
        return torch.nn.functional.cross_entropy(model(x), y, label_smoothing=RECIPE.label_smoothing)

    return loss_fn


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_interrupted_and_resumed_run_is_bitwise_identical(tmp_path):
    model_a, batches_a = setup()
    full = fit(model_a, RECIPE, batches_a, progress=False, device="cpu")
    assert full.stop_reason is None

    ck = tmp_path / "run"
    model_b, batches_b = setup()
    part = fit(model_b, RECIPE, batches_b, loss_fn=sigint_at(33), callbacks=[Checkpointing(ck, every=20)], progress=False, device="cpu")
    assert part.stop_reason == "interrupted" and part.steps_done == 33  # the step in flight finished first
    assert sorted(os.listdir(tmp_path)) == ["run"]  # no temporary folders left
    model, meta = load_checkpoint(ck)  # also an ordinary checkpoint
    assert meta["step"] == 33 and meta["resumable"] is True and same_weights(model, model_b)

    model_c, batches_c = setup()  # a fresh process would rebuild exactly this
    resumed = fit(model_c, RECIPE, batches_c, resume_from=ck, progress=False, device="cpu")
    assert resumed.steps_done == 60 and resumed.stop_reason is None
    assert same_weights(model_c, model_a)
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in full.history]


def test_plain_generators_are_fast_forwarded(tmp_path):
    """An iterator without state_dict() is replayed to the saved step: still bitwise identical."""
    def batches(seed=0):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(64, 1, 28, 28, generator=g)
        y = torch.arange(64) % 10
        while True:
            idx = torch.randint(0, 64, (8,), generator=g)
            yield x[idx], y[idx]

    recipe = get_recipe("finetune", steps=40)

    def model():
        torch.manual_seed(1)
        return SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=10))

    a = model()
    fit(a, recipe, batches(), progress=False)

    class StopAt20(Callback):
        def on_log(self, s):
            if s.step == 20:
                s.request_stop()

    b = model()
    fit(b, recipe, batches(), callbacks=[Checkpointing(tmp_path / "ck", every=1000), StopAt20()], progress=False)
    c = model()
    fit(c, recipe, batches(), resume_from=tmp_path / "ck", progress=False)
    assert same_weights(a, c)


def test_glyph_batches_resume_where_they_stopped():
    from workbench.data.batches import glyph_batches
    from workbench.data.glyphs import GlyphBank

    bank = GlyphBank.__new__(GlyphBank)
    g = torch.Generator().manual_seed(0)
    bank.images = (torch.rand(30, 56, 56, generator=g) * 255).to(torch.uint8)
    bank.labels = torch.arange(30) % 10
    it = glyph_batches(bank, 4, torch.Generator().manual_seed(5))
    next(it)
    saved = it.state_dict()
    expected = [next(it) for _ in range(3)]
    again = glyph_batches(bank, 4, torch.Generator().manual_seed(999))
    again.load_state_dict(saved)
    for (x, y), (x2, y2) in zip(expected, (next(again) for _ in range(3))):
        assert torch.equal(x, x2) and torch.equal(y, y2)


def test_resume_refuses_another_recipe_a_model_only_checkpoint_and_a_truncated_state(tmp_path, tiny_cnn):
    from workbench.train.checkpoints import save_checkpoint

    model, batches = setup()
    fit(model, RECIPE.replace(steps=20), batches, callbacks=[Checkpointing(tmp_path / "ck", every=10)], progress=False)
    model, batches = setup()
    with pytest.raises(CheckpointError, match=r"another recipe \(steps=20 \(now 60\)\)"):
        fit(model, RECIPE, batches, resume_from=tmp_path / "ck", progress=False)

    save_checkpoint(tmp_path / "plain", tiny_cnn)
    with pytest.raises(CheckpointError, match="no training state, so it cannot be resumed"):
        fit(tiny_cnn, RECIPE, setup()[1], resume_from=tmp_path / "plain", progress=False)

    t = tmp_path / "ck" / "training.safetensors"
    t.write_bytes(t.read_bytes()[:200])
    model, batches = setup()
    with pytest.raises(CheckpointError, match="unreadable or truncated"):
        fit(model, RECIPE.replace(steps=20), batches, resume_from=tmp_path / "ck", progress=False)


def test_a_mid_step_interrupt_keeps_the_previous_checkpoint(tmp_path):
    """A KeyboardInterrupt that lands inside a step (not deferred) must not save a half-done step."""
    model, batches = setup()
    calls = {"n": 0}

    def loss_fn(m, batch):
        calls["n"] += 1
        if calls["n"] == 25:
            raise KeyboardInterrupt
        return torch.nn.functional.cross_entropy(m(batch[0]), batch[1])

    with pytest.warns(UserWarning, match="interrupted in the middle of step 25"):
        res = fit(model, RECIPE, batches, loss_fn=loss_fn, callbacks=[Checkpointing(tmp_path / "ck", every=10)], progress=False)
    assert res.stop_reason == "interrupted"
    assert load_checkpoint(tmp_path / "ck")[1]["step"] == 20


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache (with the shared glyph bank linked in, so nothing is rendered again)."""
    from workbench.paths import cache_dir

    glyphs = cache_dir() / "glyphs-v1.safetensors"
    cache = tmp_path / "cache"
    cache.mkdir()
    if glyphs.exists():
        os.symlink(glyphs, cache / "glyphs-v1.safetensors")
    monkeypatch.setenv("WORKBENCH_CACHE", str(cache))
    return cache


def interrupt_pretraining_at(monkeypatch, step):
    """Make the next pretraining receive a real Ctrl-C (SIGINT) during step ``step``."""
    import workbench.pretrain.vision as pretrain

    real_fit = pretrain.fit

    def fit_with_ctrl_c(model, recipe, batches, **kw):
        monkeypatch.setattr(pretrain, "fit", real_fit)  # only once
        calls = {"n": 0}

        def loss_fn(m, batch):
            calls["n"] += 1
            if calls["n"] == step:
                os.kill(os.getpid(), signal.SIGINT)
            return torch.nn.functional.cross_entropy(m(batch[0]), batch[1], label_smoothing=recipe.label_smoothing)

        return real_fit(model, recipe, batches, loss_fn=loss_fn, **kw)

    monkeypatch.setattr(pretrain, "fit", fit_with_ctrl_c)


def test_interrupted_pretraining_is_not_cached_and_resumes_on_the_next_call(fresh_cache, monkeypatch):
    from workbench.pretrain.vision import pretrain_vision, pretrained_cnn

    kw = dict(steps=20, seed=0, widths=(4, 8, 8, 16), progress=False)
    interrupt_pretraining_at(monkeypatch, 13)
    with pytest.warns(UserWarning, match=r"pretraining stopped at step 13 of 20; it is kept at .*\.partial and the next call resumes it"):
        part = pretrained_cnn(**kw)
    assert part.path is None and part.metrics["steps"] == 13
    models = fresh_cache / "models"
    assert sorted(os.listdir(models)) == [_cache_key(62, 20, 0, (4, 8, 8, 16)) + ".partial"]  # nothing cached as complete

    resumed = pretrained_cnn(**kw)
    assert resumed.metrics["steps"] == 20 and resumed.path is not None
    assert sorted(os.listdir(models)) == [_cache_key(62, 20, 0, (4, 8, 8, 16))]  # partial removed, nothing temporary
    uninterrupted = pretrain_vision(**kw)
    assert same_weights(resumed.model, uninterrupted.model)
    assert resumed.metrics["val_accuracy"] == uninterrupted.metrics["val_accuracy"]


def test_cli_pretraining_interrupted_exits_130_and_says_how_to_resume(fresh_cache, monkeypatch, capsys):
    from workbench.cli.main import main

    interrupt_pretraining_at(monkeypatch, 12)
    assert main(["pretrain", "vision", "--steps", "20", "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "workbench: pretraining interrupted at step 12 of 20; run the same command again to resume it" in err
    assert main(["pretrain", "vision", "--steps", "20", "--quiet"]) == 0
    assert os.listdir(fresh_cache / "models") == [_cache_key(62, 20, 0, (16, 32, 64, 128))]


def test_a_text_model_with_dropout_and_random_masking_resumes_bitwise(tmp_path):
    """Dropout and MLM masking draw from the *global* torch RNG, and lm_batches is a plain generator
    (fast-forwarded): the resumed run matches only if the global RNG state was restored too."""
    from workbench.data.text import lm_batches
    from workbench.pretrain.text import mlm_loss
    from workbench.models.text import TinyConfig, TinyLM

    stream = torch.randint(4, 64, (2000,), generator=torch.Generator().manual_seed(0))
    recipe = get_recipe("finetune", steps=30, lr=3e-3, label_smoothing=0.0)

    def setup_text():
        torch.manual_seed(0)
        model = TinyLM(TinyConfig(vocab_size=64, n_layer=2, n_head=2, n_embd=32, block_size=32, dropout=0.1, causal=False))
        return model, lm_batches(stream, 32, 8, torch.Generator().manual_seed(1))

    def ctrl_c_at(step):
        calls = {"n": 0}

        def loss(m, batch):
            calls["n"] += 1
            if calls["n"] == step:
                os.kill(os.getpid(), signal.SIGINT)
            return mlm_loss(m, batch)

        return loss

    a, batches = setup_text()
    torch.manual_seed(7)  # the global RNG that dropout and masking use
    fit(a, recipe, batches, loss_fn=mlm_loss, progress=False)

    b, batches = setup_text()
    torch.manual_seed(7)
    part = fit(b, recipe, batches, loss_fn=ctrl_c_at(17), callbacks=[Checkpointing(tmp_path / "ck", every=10)], progress=False)
    assert part.stop_reason == "interrupted" and part.steps_done == 17

    c, batches = setup_text()
    torch.manual_seed(12345)  # a new process would be in some other RNG state: resume must restore it
    fit(c, recipe, batches, loss_fn=mlm_loss, resume_from=tmp_path / "ck", progress=False)
    assert same_weights(a, c)
