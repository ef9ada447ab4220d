import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workbench.errors import CheckpointError
from workbench.models.cnn import CNNConfig, SmallCNN
from workbench.train.checkpoints import load_checkpoint, save_checkpoint
from workbench.train.recipe import get_recipe


def test_round_trip_keeps_weights_config_recipe_and_outputs(tmp_path, tiny_cnn):
    x = torch.randn(4, 1, 28, 28)
    tiny_cnn.eval()
    save_checkpoint(tmp_path / "ck", tiny_cnn, recipe=get_recipe("probe"), metrics={"accuracy": 0.5})
    model, meta = load_checkpoint(tmp_path / "ck")
    assert torch.equal(model(x), tiny_cnn(x))
    assert meta["recipe"]["name"] == "probe" and meta["metrics"]["accuracy"] == 0.5
    assert meta["config"]["widths"] == [4, 8, 8, 16]
    assert sorted(os.listdir(tmp_path)) == ["ck"]  # no temporary folders left behind


def test_other_architecture_names_the_mismatch(tmp_path, tiny_cnn):
    save_checkpoint(tmp_path / "ck", tiny_cnn)
    meta = json.loads((tmp_path / "ck" / "workbench.json").read_text())
    meta["config"]["num_classes"] = 62
    (tmp_path / "ck" / "workbench.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"shape mismatches: head.weight \(10, 16\) vs \(62, 16\)"):
        load_checkpoint(tmp_path / "ck")


def test_truncated_weights_are_reported(tmp_path, tiny_cnn):
    save_checkpoint(tmp_path / "ck", tiny_cnn)
    w = tmp_path / "ck" / "model.safetensors"
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="unreadable or truncated"):
        load_checkpoint(tmp_path / "ck")


def test_missing_and_corrupted_metadata(tmp_path, tiny_cnn):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nothing")
    save_checkpoint(tmp_path / "ck", tiny_cnn)
    (tmp_path / "ck" / "workbench.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(tmp_path / "ck")


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {_Evil.marker}",))


def test_a_malicious_pickle_posing_as_weights_runs_nothing(tmp_path, tiny_cnn):
    save_checkpoint(tmp_path / "ck", tiny_cnn)
    _Evil.marker = tmp_path / "pwned"
    (tmp_path / "ck" / "model.safetensors").write_bytes(pickle.dumps({"stages.0.0.weight": _Evil()}))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "ck")
    assert not _Evil.marker.exists()


def test_a_failed_save_leaves_the_previous_checkpoint(tmp_path, tiny_cnn, monkeypatch):
    save_checkpoint(tmp_path / "ck", tiny_cnn, metrics={"v": 1})
    import workbench.train.checkpoints as ck

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(ck, "save_file", boom)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "ck", SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=10)), metrics={"v": 2})
    _, meta = load_checkpoint(tmp_path / "ck")
    assert meta["metrics"]["v"] == 1
    assert sorted(os.listdir(tmp_path)) == ["ck"]


def test_a_process_killed_mid_save_leaves_a_loadable_checkpoint(tmp_path):
    """Really kill a subprocess while it saves again and again; the folder must always load one whole save.

    Save ``i`` writes ``metrics.v = i`` and fills the first weight tensor with ``i``, so a folder mixing two
    saves (new weights, old metadata) shows; and ``v`` is the last save the child reported done, or the one after.
    """
    code = f"""
import torch, sys
from workbench.models.cnn import SmallCNN
from workbench.train.checkpoints import save_checkpoint
m = SmallCNN()
first = next(m.parameters())
save_checkpoint({str(tmp_path / 'ck')!r}, m, metrics={{'v': 0}})
print('ready', flush=True)
i = 0
while True:
    i += 1
    with torch.no_grad():
        first.fill_(i)
    save_checkpoint({str(tmp_path / 'ck')!r}, m, metrics={{'v': i}})
    print(i, flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    import time

    time.sleep(1.5)
    proc.kill()
    proc.wait()
    done = [int(line) for line in proc.stdout.read().split()]
    model, meta = load_checkpoint(tmp_path / "ck")
    v = meta["metrics"]["v"]
    assert done, "the child finished no save in 1.5 s"
    assert v in (done[-1], done[-1] + 1) and isinstance(model, SmallCNN)
    assert torch.all(next(model.parameters()) == v)  # weights and metadata come from the same save


def test_a_text_checkpoint_records_the_recipe_that_ran_and_its_seed(tmp_path):
    # `workbench pretrain text --steps 5 --seed 3 --out D` used to write a rebuilt recipe: "seed": 0, name "pretrain-text"
    from workbench.pretrain.text import load_pretrained_text, pretrain_text, save_pretrained_text

    pre = pretrain_text(steps=3, seed=3, n_layer=1, n_head=2, n_embd=16, eval_windows_n=4, progress=False, samples=False)
    assert pre.recipe.name == "pretrain-clm-bpe" and pre.recipe.steps == 3 and pre.seed == 3
    save_pretrained_text(tmp_path / "D", pre)
    meta = json.loads((tmp_path / "D" / "workbench.json").read_text())
    assert meta["recipe"] == pre.recipe.to_dict() and meta["seed"] == 3
    again = load_pretrained_text(tmp_path / "D")
    assert again.recipe == pre.recipe and again.seed == 3


def test_results_carry_the_recipe_that_trained(tmp_path, tiny_cnn):
    from workbench.pretrain.vision import PRETRAIN_VISION, pretrained_cnn
    from workbench.train.loop import fit

    def batches():
        g = torch.Generator().manual_seed(0)
        while True:
            yield torch.randn(4, 1, 28, 28, generator=g), torch.arange(4)

    recipe = get_recipe("probe", steps=2)
    res = fit(tiny_cnn, recipe, batches(), progress=False, seed=7)
    assert res.recipe is recipe and res.seed == 7
    pre = pretrained_cnn(steps=2, seed=5, widths=(4, 8, 8, 16), progress=False, rebuild=True)
    assert pre.recipe == PRETRAIN_VISION.replace(steps=2) and pre.seed == 5
    meta = json.loads((Path(pre.path) / "workbench.json").read_text())
    assert meta["recipe"] == pre.recipe.to_dict() and meta["seed"] == 5
    cached = pretrained_cnn(steps=2, seed=5, widths=(4, 8, 8, 16), progress=False)
    assert cached.path == pre.path and cached.recipe == pre.recipe and cached.seed == 5


def test_old_checkpoints_with_the_seed_inside_the_recipe_still_load():
    from workbench.train.checkpoints import recipe_and_seed

    old = {**get_recipe("gradual").to_dict(), "seed": 4, "unfreeze_every": 40}
    old.pop("unfreeze_over")
    recipe, seed = recipe_and_seed({"recipe": old})
    assert seed == 4 and recipe.unfreeze_over == 0.5 and recipe.name == "gradual"
