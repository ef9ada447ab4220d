"""Bad input through the CLI (beyond tests/test_cli.py): exit 2, one line on stderr, the API's own
message, nothing half-written; a diverged run and Ctrl-C end cleanly too."""
import json
import os
import shutil

import pytest
import torch

from workbench.cli.main import main


def cli(args, capsys):
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert "Traceback" not in err and len(last) < 400
    return code, last


@pytest.fixture
def ckpt(tmp_path, quick_pretrained):
    """A copy of a real pretrained checkpoint folder, free to damage."""
    dst = tmp_path / "ck"
    shutil.copytree(quick_pretrained.path, dst)
    return dst


@pytest.mark.parametrize("args,message", [
    (["compare", "vision", "--seeds", "many"], "--seeds takes a positive count like 5, or per budget like 10=10,20=10,default=3; got 'many'"),
    (["compare", "vision", "--seeds", "10=x"], "--seeds takes a positive count"),
    (["compare", "vision", "--recipes", ","], "expected names separated by commas, like scratch,probe"),
    (["compare", "vision", "--steps", "-5"], "expected a positive whole number, got '-5'"),
    (["pretrain", "vision", "--steps", "ten"], "expected a positive whole number, got 'ten'"),
    (["pretrain", "vision", "--seed", "-3"], "--seed takes a whole number >= 0, like 0 or 42; got '-3'"),
    (["compare", "vision", "--device", "tpu"], "unknown device 'tpu'; choose one of: auto, cpu, cuda, mps"),
    (["pretrain", "vision", "--out", "/proc/forbidden/ck"], "cannot create output folder /proc/forbidden"),
])
def test_more_bad_flags(args, message, capsys):
    code, last = cli(args, capsys)
    assert code == 2 and message in last


def test_the_cli_prints_exactly_the_api_message(capsys):
    """The API raises a WorkbenchError; the CLI prints that very message after 'workbench: error: '."""
    from workbench.data.digits import load_target
    from workbench.errors import WorkbenchError
    from workbench.train.recipe import get_recipe

    for args, api in [
        (["compare", "vision", "--recipes", "scratch,nope"], lambda: get_recipe("nope")),
        (["compare", "vision", "--target", "imagenet"], lambda: load_target("imagenet")),
    ]:
        with pytest.raises(WorkbenchError) as info:
            api()
        code, last = cli(args, capsys)
        assert code == 2 and last == f"workbench: error: {info.value}"


def test_damaged_or_foreign_checkpoints_are_named(ckpt, tmp_path, capsys):
    base = ["compare", "vision", "--recipes", "probe", "--budgets", "10", "--seeds", "1", "--steps", "2", "--out", str(tmp_path / "out"), "--pretrained"]
    meta = json.loads((ckpt / "workbench.json").read_text())

    code, last = cli(base + [str(ckpt / "model.safetensors")], capsys)
    assert code == 2 and "is a file; a workbench checkpoint is a folder" in last

    (ckpt / "workbench.json").write_text(json.dumps({**meta, "config": {**meta["config"], "widths": [16, 32, 64, 64]}}))
    code, last = cli(base + [str(ckpt)], capsys)
    assert code == 2 and "does not fit this model (shape mismatches: stages.3.0.weight (128, 64, 3, 3) vs (64, 64, 3, 3)" in last

    (ckpt / "workbench.json").write_text(json.dumps({**meta, "arch": "resnet50"}))
    code, last = cli(base + [str(ckpt)], capsys)
    assert code == 2 and "holds an unknown architecture 'resnet50'; known: small-cnn" in last

    (ckpt / "workbench.json").write_text(json.dumps(meta))
    w = ckpt / "model.safetensors"
    w.write_bytes(w.read_bytes()[: len(w.read_bytes()) // 2])
    code, last = cli(base + [str(ckpt)], capsys)
    assert code == 2 and "is unreadable or truncated (SafetensorError); train it again or use another" in last

    (ckpt / "workbench.json").write_text('{"arch": "small-cnn", ')
    code, last = cli(base + [str(ckpt)], capsys)
    assert code == 2 and "workbench.json is corrupted (not valid JSON); delete the folder and train again" in last
    assert not (tmp_path / "out" / "results.csv").exists()


def test_an_empty_image_folder_target(tmp_path, capsys):
    code, last = cli(["compare", "vision", "--target", f"folder:{tmp_path}"], capsys)
    assert code == 2 and "has no class sub-folders with images" in last


def test_an_online_dataset_offline(monkeypatch, capsys):
    import urllib.error

    import torchvision.datasets as tvd

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tvd, "KMNIST", offline)
    code, last = cli(["compare", "vision", "--target", "kmnist"], capsys)
    assert code == 2 and last == ("workbench: error: dataset 'kmnist' must be downloaded and that failed (URLError); "
                                  "offline, use 'mnist5k' or 'sklearn-digits' instead")


def test_an_output_path_that_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    code, last = cli(["compare", "vision", "--out", str(tmp_path / "taken")], capsys)
    assert code == 2 and "cannot create output folder" in last and "choose another with --out" in last


def test_a_diverged_run_is_one_line_exit_2_and_writes_no_partial_results(tmp_path, monkeypatch, capsys):
    import workbench.train.loop as loop

    def exploding(label_smoothing=0.0):
        def loss(model, batch):
            return torch.nn.functional.cross_entropy(model(batch[0]), batch[1]) * float("nan")

        return loss

    monkeypatch.setattr(loop, "cross_entropy_loss", exploding)
    out = tmp_path / "out"
    code, last = cli(["compare", "vision", "--recipes", "scratch", "--budgets", "10", "--seeds", "1", "--steps", "20",
                      "--out", str(out), "--quiet"], capsys)
    assert code == 2
    assert last == ("workbench: error: loss became nan at step 10; the learning rate is likely too high (lr=0.01): "
                    "lower it. The last good weights were restored.")
    assert os.listdir(out) == []  # no half-written results, plots or temp files


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    import workbench.experiments.compare as cmp

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cmp, "compare", interrupted)
    code, last = cli(["compare", "vision", "--recipes", "scratch", "--budgets", "10", "--out", "/tmp/wb-ctrl-c-test"], capsys)
    shutil.rmtree("/tmp/wb-ctrl-c-test", ignore_errors=True)
    assert code == 130 and last == "workbench: interrupted"
