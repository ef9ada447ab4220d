"""Bad input through the package API: a WorkbenchError subclass with a one-line message that says what
to do, and no half-written file left behind. (The CLI prints the very same message: test_reliability_cli.)"""
import json
import os
import warnings

import pytest
import torch
from torch import nn

from workbench.device import pick_device
from workbench.errors import CheckpointError, TrainingDiverged, WorkbenchError
from workbench.models.cnn import CNNConfig, SmallCNN
from workbench.train.recipe import get_recipe


def leftovers(folder):
    """Temporary files or folders a save would leave if it were interrupted."""
    return [p for p in os.listdir(folder) if p.startswith(".") or p.endswith((".tmp", ".saving", ".old"))]


def batches():
    g = torch.Generator().manual_seed(0)
    while True:
        yield torch.randn(8, 1, 28, 28, generator=g), torch.arange(8)


def tiny():
    torch.manual_seed(0)
    return SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=10))


def _fit(recipe, model=None, **kw):
    from workbench.train.loop import fit

    return fit(model or tiny(), recipe, batches(), progress=False, **kw)


def _subset(n, labels=None):
    from workbench.data.subsets import balanced_subset

    return balanced_subset(torch.arange(200) % 10 if labels is None else labels, n, 0)


def _compare(recipes=("scratch",), budgets=(10,), seeds=1):
    from workbench.experiments.compare import compare

    from workbench.data.subsets import balanced_subset
    from workbench.tasks.base import Task
    from workbench.train.recipe import VISION_RECIPES

    class NoTask(Task):  # never reached: the arguments are refused before any run
        name, recipes = "none", VISION_RECIPES

        def subset(self, budget, seed):
            return balanced_subset(torch.arange(100) % 10, budget, seed)

        def build_model(self, *a):
            raise AssertionError("should not train")

        batches = evaluate = build_model

    return compare(NoTask(), list(recipes), list(budgets), seeds, progress=False)


def _single_group_freeze():
    class OneGroup(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(784, 10)

        def forward(self, x):
            return self.head(x.flatten(1))

        def layer_groups(self):
            return {"head": self.head}

    return _fit(get_recipe("probe", steps=5), OneGroup())  # probe freezes "the backbone": here, nothing


CASES = {
    # recipes: names, fields and values
    "unknown recipe": (lambda: get_recipe("nope"), WorkbenchError, r"unknown recipe 'nope'; choose one of: scratch, probe, finetune"),
    "unknown domain": (lambda: get_recipe("scratch", "audio"), WorkbenchError, r"unknown domain 'audio'; choose one of: vision"),
    "unknown recipe field": (lambda: get_recipe("scratch", epochs=3), WorkbenchError, r"unknown recipe field\(s\) \['epochs'\]; fields are: name, init"),
    "unknown schedule": (lambda: get_recipe("scratch", schedule="exponential"), WorkbenchError, r"unknown schedule 'exponential'; choose one of: constant, step, cosine"),
    "unknown BatchNorm policy": (lambda: get_recipe("probe", bn="maybe"), WorkbenchError, r"unknown BatchNorm policy 'maybe'; choose one of: frozen, train"),
    "unknown init": (lambda: get_recipe("scratch", init="imagenet"), WorkbenchError, r"unknown init 'imagenet'; choose one of: pretrained, scratch, random"),
    "lr zero": (lambda: get_recipe("finetune", lr=0), WorkbenchError, r"lr must be a positive number, got 0"),
    "lr negative": (lambda: get_recipe("finetune", lr=-1e-3), WorkbenchError, r"lr must be a positive number, got -0.001"),
    "lr absurdly large": (lambda: get_recipe("finetune", lr=100.0), WorkbenchError, r"lr=100.0 is too large \(at most 10.0\); lower it"),
    "lr not a number": (lambda: get_recipe("finetune", lr="fast"), WorkbenchError, r"lr must be a positive number, got 'fast'"),
    "backbone lr negative": (lambda: get_recipe("discriminative", backbone_lr=-1.0), WorkbenchError, r"backbone_lr must be a positive number"),
    "steps negative": (lambda: get_recipe("finetune", steps=-5), WorkbenchError, r"steps must be a positive integer, got -5"),
    "steps fractional": (lambda: get_recipe("finetune", steps=2.5), WorkbenchError, r"steps must be a positive integer, got 2.5"),
    "batch size zero": (lambda: get_recipe("finetune", batch_size=0), WorkbenchError, r"batch_size must be a positive integer, got 0"),
    "warmup not a fraction": (lambda: get_recipe("finetune", warmup=1.5), WorkbenchError, r"warmup is a fraction of the steps in \[0, 1\), got 1.5"),
    "negative weight decay": (lambda: get_recipe("finetune", weight_decay=-0.1), WorkbenchError, r"weight_decay must be >= 0"),
    "frozen nonsense": (lambda: get_recipe("partial", frozen="all"), WorkbenchError, r"frozen is a number of leading groups \(>= 0\) or 'backbone', got 'all'"),
    "unfreeze_over zero": (lambda: get_recipe("gradual", unfreeze_over=0), WorkbenchError, r"unfreeze_over is a fraction .* in \(0, 1\]"),
    # freezing against a real model's groups
    "freezing everything": (lambda: _fit(get_recipe("partial", frozen=5, steps=5)), WorkbenchError, r"freezes 5 of 5 groups, leaving nothing trainable; freeze at most 4"),
    "unfreeze plan past the groups": (lambda: _fit(get_recipe("gradual", frozen=9, steps=5)), WorkbenchError, r"freezes 9 of 5 groups, leaving nothing trainable; freeze at most 4"),
    "schedule preview past the groups": (lambda: __import__("workbench").preview_schedule(get_recipe("gradual", frozen=7), ["stage1", "head"]), WorkbenchError, r"freezes 7 of 2 groups"),
    "freezing a single-group model": (_single_group_freeze, WorkbenchError, r"single layer group, so freezing would do nothing; use frozen=0"),
    # budgets and seeds
    "budget below the class count": (lambda: _subset(5), WorkbenchError, r"budget 5 is smaller than the 10 classes; use at least 10"),
    "budget above the pool": (lambda: _subset(500), WorkbenchError, r"budget 500 is larger than the pool of 200 labeled examples; use at most 200"),
    "budget not a whole number": (lambda: _subset(10.5), WorkbenchError, r"budget must be a whole number of labeled examples, got 10.5"),
    "budget a class cannot fill": (lambda: _subset(30, torch.tensor([0] * 50 + [1] * 2)), WorkbenchError, r"budget 30 needs 15 examples of class 1 but the pool has 2; lower the budget"),
    "empty recipe list": (lambda: _compare(recipes=()), WorkbenchError, r"no recipes to compare; give at least one"),
    "empty budget list": (lambda: _compare(budgets=()), WorkbenchError, r"no budgets to compare; give at least one"),
    "zero seeds": (lambda: _compare(seeds=0), WorkbenchError, r"seeds must be at least 1, got 0"),
    "seed count missing for a budget": (lambda: _compare(seeds={20: 3}), WorkbenchError, r"no seed count given for budget 10; add it or a 'default'"),
    "unknown recipe in a comparison": (lambda: _compare(recipes=("scratch", "nope")), WorkbenchError, r"unknown recipe 'nope'"),
    # devices
    "unknown device": (lambda: pick_device("tpu"), WorkbenchError, r"unknown device 'tpu'; choose one of: auto, cpu, cuda, mps"),
    "CUDA asked where none": (lambda: pick_device("cuda"), WorkbenchError, r"device 'cuda' was asked for but no CUDA GPU is available; use --device cpu or auto"),
    # datasets
    "unknown dataset": (lambda: __import__("workbench.data.digits", fromlist=["x"]).load_target("imagenet"), WorkbenchError, r"unknown dataset 'imagenet'; choose one of: mnist5k, sklearn-digits, mnist"),
    "missing image folder": (lambda: __import__("workbench.data.digits", fromlist=["x"]).load_target("folder:/no/such/dir"), WorkbenchError, r"image folder '/no/such/dir' does not exist"),
    "unknown glyph class count": (lambda: __import__("workbench.data.glyphs", fromlist=["x"]).glyph_bank(26), WorkbenchError, r"unknown glyph class count 26; choose one of: 62, 10"),
    # callbacks
    "checkpoint every zero steps": (lambda: __import__("workbench").Checkpointing("/tmp/never", every=0), WorkbenchError, r"every must be a positive integer, got 0"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_a_workbench_error_with_one_line(case):
    call, kind, message = CASES[case]
    with pytest.raises(kind, match=message) as info:
        call()
    assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_mps_asked_where_none():
    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(WorkbenchError, match="device 'mps' was asked for but Apple's MPS is not available"):
        pick_device("mps")


def test_an_empty_image_folder_and_a_one_class_folder(tmp_path):
    from workbench.data.digits import load_target

    with pytest.raises(WorkbenchError, match=r"has no class sub-folders with images \(FileNotFoundError\); put each class's images in its own sub-folder"):
        load_target(f"folder:{tmp_path}")
    from PIL import Image

    (tmp_path / "cats").mkdir()
    Image.new("L", (28, 28)).save(tmp_path / "cats" / "a.png")
    with pytest.raises(WorkbenchError, match="has 1 class sub-folder; a classifier needs at least 2"):
        load_target(f"folder:{tmp_path}")


def test_an_online_only_dataset_offline_names_the_offline_alternatives(monkeypatch):
    import urllib.error

    import torchvision.datasets as tvd

    from workbench.data.digits import load_target

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tvd, "FashionMNIST", offline)
    with pytest.raises(WorkbenchError, match=r"dataset 'fashion-mnist' must be downloaded and that failed \(URLError\); offline, use 'mnist5k' or 'sklearn-digits' instead"):
        load_target("fashion-mnist")


def test_an_unwritable_output_folder_fails_early(tmp_path, monkeypatch):
    from workbench.report import writing as report

    (tmp_path / "file").write_text("x")
    with pytest.raises(WorkbenchError, match=r"cannot create output folder .*file/sub \(Not a directory\); choose another with --out"):
        report.writable_dir(tmp_path / "file" / "sub")
    monkeypatch.setattr(report.os, "access", lambda *a: False)  # as root every folder is writable, so pretend
    with pytest.raises(WorkbenchError, match=r"output folder .* is not writable; choose another with --out"):
        report.writable_dir(tmp_path / "ro")
    assert sorted(os.listdir(tmp_path)) == ["file", "ro"]


def test_checkpoints_into_an_unwritable_place_fail_with_one_line_and_leave_nothing(tmp_path):
    from workbench import Checkpointing, save_checkpoint

    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match=r"cannot write a checkpoint under .*file \((File exists|Not a directory)\); choose a writable --out folder"):
        save_checkpoint(tmp_path / "file" / "ck", tiny())
    with pytest.raises(CheckpointError, match=r"cannot create checkpoint folder .*file \((File exists|Not a directory)\); choose a writable folder"):
        Checkpointing(tmp_path / "file" / "ck")
    assert os.listdir(tmp_path) == ["file"]


@pytest.fixture
def saved(tmp_path):
    from workbench import save_checkpoint

    save_checkpoint(tmp_path / "ck", tiny(), recipe=get_recipe("probe"))
    return tmp_path / "ck"


def test_a_checkpoint_of_another_architecture_is_named(saved):
    from workbench import load_checkpoint

    meta = json.loads((saved / "workbench.json").read_text())
    (saved / "workbench.json").write_text(json.dumps({**meta, "arch": "resnet50"}))
    with pytest.raises(CheckpointError, match=r"holds an unknown architecture 'resnet50'; known: small-cnn"):
        load_checkpoint(saved)


def test_a_checkpoint_with_other_layers_names_the_keys(saved):
    from workbench import load_checkpoint

    meta = json.loads((saved / "workbench.json").read_text())
    meta["config"]["widths"] = [4, 8, 8]  # a three-stage CNN: the saved fourth stage is unexpected
    (saved / "workbench.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"shape mismatches: head.weight \(10, 16\) vs \(10, 8\); unexpected keys: stages.3."):
        load_checkpoint(saved)


def test_a_checkpoint_of_another_task_for_vision_fine_tuning(saved, monkeypatch):
    """A text model's checkpoint handed to vision fine-tuning is refused by name, not by AttributeError."""
    from workbench.pretrain import vision as pretrain

    monkeypatch.setattr(pretrain, "load_checkpoint", lambda p: (nn.Linear(2, 2), {"arch": "tiny-gpt"}))
    with pytest.raises(CheckpointError, match=r"holds a 'tiny-gpt' model; vision fine-tuning needs a 'small-cnn' checkpoint"):
        pretrain.resolve_pretrained(str(saved))


def test_a_file_given_as_checkpoint_folder(saved):
    from workbench import load_checkpoint

    with pytest.raises(CheckpointError, match=r"model.safetensors is a file; a workbench checkpoint is a folder with workbench.json"):
        load_checkpoint(saved / "model.safetensors")


def test_a_corrupted_cached_model_is_pretrained_again_automatically(tmp_path, monkeypatch):
    """Truncate the cached pretrained model: the next call warns, pretrains again, and caches a good one."""
    from workbench.pretrain.vision import pretrained_cnn

    from workbench.paths import cache_dir

    glyphs = cache_dir() / "glyphs-v1.safetensors"
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    if os.path.exists(glyphs):  # reuse the rendered glyph bank rather than rendering it again
        os.symlink(glyphs, tmp_path / "glyphs-v1.safetensors")
    first = pretrained_cnn(steps=3, seed=0, widths=(4, 8, 8, 16), progress=False)
    weights = tmp_path / "models" / os.path.basename(first.path) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:64])
    with pytest.warns(UserWarning, match=r"cached model unusable \(checkpoint .* is unreadable or truncated"):
        again = pretrained_cnn(steps=3, seed=0, widths=(4, 8, 8, 16), progress=False)
    assert all(torch.equal(a, b) for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()))
    assert leftovers(tmp_path / "models") == []


def test_a_corrupted_cache_file_is_rebuilt(tmp_path):
    from workbench.data.store import load_tensors, save_tensors

    path = tmp_path / "cache.safetensors"
    save_tensors(path, {"x": torch.arange(5)})
    path.write_bytes(path.read_bytes()[:30])
    with pytest.warns(UserWarning, match=r"cache file .* is unreadable \(.*\); rebuilding it"):
        assert load_tensors(path) is None
    save_tensors(path, {"x": torch.arange(5)})
    assert torch.equal(load_tensors(path)["x"], torch.arange(5)) and leftovers(tmp_path) == []


def test_an_unknown_augmentation_in_a_recipe_is_named(digits):
    from workbench.tasks.vision import VisionTask

    with pytest.raises(WorkbenchError, match=r"unknown augment 'heavy'; choose one of: none"):
        VisionTask(digits, device="cpu").run(get_recipe("scratch", augment="heavy", steps=2), 10, 0)


def test_divergence_keeps_the_last_good_weights_exactly():
    from workbench.train.loop import Callback, fit

    snapshot = {}

    class Keep(Callback):
        def on_log(self, state):
            snapshot.update({k: v.clone() for k, v in state.model.state_dict().items()})

    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        out = nn.functional.cross_entropy(model(batch[0]), batch[1])
        return out * float("inf") if calls["n"] > 23 else out

    model = tiny()
    with pytest.raises(TrainingDiverged, match=r"loss became (nan|inf) at step 30; the learning rate is likely too high \(lr=0.003\): lower it. The last good weights were restored."):
        fit(model, get_recipe("finetune", steps=100), batches(), loss_fn=loss_fn, callbacks=[Keep()], progress=False)
    assert all(torch.equal(v, snapshot[k]) for k, v in model.state_dict().items())  # the weights logged at step 20


def _text_checkpoint(folder, vocab_size):
    from workbench.data.text import char_tokenizer
    from workbench.models.text import TinyConfig, TinyLM
    from workbench.train.checkpoints import save_checkpoint

    torch.manual_seed(0)
    model = TinyLM(TinyConfig(vocab_size=vocab_size, n_layer=1, n_head=2, n_embd=16, block_size=16))
    save_checkpoint(folder, model)
    char_tokenizer("to be or not to be").save(folder)  # a tokenizer of its own size, whatever the model's
    return model


def test_a_tokenizer_that_does_not_match_the_model_is_refused(tmp_path):
    from workbench.data.text import char_tokenizer
    from workbench.pretrain.text import load_pretrained_text

    fits = char_tokenizer("to be or not to be").vocab_size
    _text_checkpoint(tmp_path / "ok", fits)
    assert load_pretrained_text(tmp_path / "ok").tokenizer.vocab_size == fits
    _text_checkpoint(tmp_path / "bad", fits + 5)
    with pytest.raises(CheckpointError, match=rf"the tokenizer in .*bad has {fits} tokens but the model was trained with {fits + 5}; "
                                              "they do not belong together: save the model with its own tokenizer"):
        load_pretrained_text(tmp_path / "bad")


def test_a_corrupted_tokenizer_file_is_named(tmp_path):
    from workbench.data.text import TextTokenizer, char_tokenizer

    path = char_tokenizer("abc").save(tmp_path)
    path.write_text(path.read_text()[:40])
    with pytest.raises(WorkbenchError, match=r"tokenizer.json is corrupted or not a tokenizer \(Exception\); save the tokenizer with its model again"):
        TextTokenizer.load(tmp_path)
