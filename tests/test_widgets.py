"""Kernel-side widget tests: drive controls with ``.value =`` and ``.click()``, assert on panel state."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from workbench.train.recipe import get_recipe  # noqa: E402
from workbench.widgets import ComparePanel, FreezePanel, SchedulePanel, TrainPanel, app_command, playground  # noqa: E402
from workbench.widgets.compare import parse_budgets  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402


@pytest.fixture(scope="module")
def pg():
    return playground(recipe="discriminative")


def test_freeze_checkbox_changes_recipe_and_counts(pg):
    f = pg.freeze
    pg.freeze.recipe = get_recipe("discriminative")
    total = f.trainable["total"]
    assert total == f.parameters["total"] > 0
    f.checkboxes["stage2"].value = True  # freezing goes from the input up
    assert pg.recipe.frozen == 2
    assert f.checkboxes["stage1"].value and not f.checkboxes["stage3"].value
    assert f.trainable["total"] == total - f.parameters["stage1"] - f.parameters["stage2"]
    assert f.trainable["stage2"] == 0 and f.trainable["stage3"] == f.parameters["stage3"]
    # every linked panel sees the same recipe
    assert pg.schedule.recipe.frozen == pg.train.recipe.frozen == pg.compare.recipe.frozen == 2
    assert "frozen=2" in pg.train.summary.value
    f.checkboxes["stage1"].value = False  # unfreezing a group unfreezes the ones after it
    assert pg.recipe.frozen == 0 and f.trainable["total"] == total


def test_freeze_everything_says_so(pg):
    f = pg.freeze
    f.checkboxes["head"].value = True
    assert f.trainable["total"] == 0
    assert "no trainable parameter" in f.message.value
    assert "nothing trainable" in pg.schedule.message.value  # the preview says why it did not redraw
    f.checkboxes["stage1"].value = False
    assert f.message.value == "" and f.trainable["total"] == f.parameters["total"]


def test_bn_policy_is_a_recipe_field(pg):
    pg.freeze.bn.value = "train"
    assert pg.recipe.bn == "train"
    pg.freeze.bn.value = "frozen"
    assert pg.recipe.bn == "frozen"


def test_freeze_panel_on_a_transformer():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=32)
    model = transformers.BertForSequenceClassification(cfg)
    f = FreezePanel(model)
    assert f.group_names == ["embeddings", "block1", "block2", "head"]
    assert not f.has_batchnorm and "none in this model" in f.bn.description
    f.checkboxes["block1"].value = True
    assert f.recipe.frozen == 2 and f.trainable["embeddings"] == 0 and f.trainable["block2"] > 0


def test_schedule_preview_follows_controls(pg):
    s = pg.schedule
    pg.freeze.recipe = get_recipe("discriminative", steps=100)
    before, redraws, png = s.preview, s.redraws, s.plot.value
    assert set(before["lrs"]) == {"stage1", "stage2", "stage3", "stage4", "head"}
    assert len(before["steps"]) == 100
    s.schedule.value = "constant"
    assert pg.recipe.schedule == "constant" and s.redraws == redraws + 1 and s.plot.value != png
    assert np.allclose(s.preview["lrs"]["head"], 1e-2) and np.allclose(s.preview["lrs"]["stage1"], 1e-3)
    s.ratio.value = 1.0
    assert pg.recipe.backbone_lr is None and np.allclose(s.preview["lrs"]["stage1"], 1e-2)
    s.lr.value = 1e-3
    assert pg.recipe.lr == pytest.approx(1e-3)
    s.steps.value = 200
    assert len(s.preview["steps"]) == 200


def test_schedule_marks_unfreeze_points(pg):
    pg.freeze.recipe = get_recipe("gradual", steps=200)
    s = pg.schedule
    assert s.preview["unfreeze"] == [(25, "stage4"), (50, "stage3"), (75, "stage2"), (100, "stage1")]
    assert s.starts == {"stage1": 100, "stage2": 75, "stage3": 50, "stage4": 25, "head": 0}
    s.unfreeze_over.value = 0
    assert pg.recipe.unfreeze_over is None and s.preview["unfreeze"] == []
    assert s.starts["stage1"] is None


def test_train_runs_keeps_history_and_stops_fast(pg):
    t = pg.train
    pg.freeze.recipe = get_recipe("discriminative", steps=1000)  # long enough to be running on a fast machine
    t.budget.value = 10
    t.run_button.click()
    assert t.running and t.stop_button.disabled is False and t.run_button.disabled
    deadline = time.perf_counter() + 60
    # stop once it has trained a while and the plot has been redrawn a few times
    while (t.progress.value < 30 or len(t.plot_times) < 5) and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert t.progress.value >= 30, "training made no progress"
    assert t.running, "the run ended before Stop could be pressed"
    t.stop_button.click()
    assert t.wait(10)
    print("stop latency", t.train_stop_latency, t.stop_latency, "plot gaps", np.diff(t.plot_times))
    assert t.stop_reason == "stopped" and t.train_stop_latency < 2.0
    assert t.model is t.result.model
    assert t.result is not None and 30 <= t.result.steps < 1000
    assert t.result.model is not None and t.result.history == t.history
    assert [r["step"] for r in t.history if "loss" in r][:3] == [1, 2, 3]
    assert any("accuracy" in r for r in t.history)
    assert "stopped" in t.status.value and t.run_button.disabled is False and t.stop_button.disabled
    gaps = np.diff(t.plot_times)
    assert len(gaps) >= 3 and gaps.max() <= 1.0, gaps


def test_train_shows_errors_in_a_label(pg):
    t = pg.train
    pg.freeze.recipe = get_recipe("discriminative", steps=20, frozen=5)  # freezes every group
    t.run_button.click()
    assert t.wait(30)
    assert t.result is None and t.status.value == "failed"
    assert "nothing trainable" in t.message.value and "\n" not in t.message.value


def test_compare_results_arrive_and_gains(pg):
    c = pg.compare
    pg.freeze.recipe = get_recipe("discriminative")
    c.recipes.value = ("scratch", "discriminative", "yours")
    c.budgets.value = "10"
    c.seeds.value = 1
    c.steps.value = 10
    c.run_button.click()
    assert c.wait(120)
    assert len(c.results) == 3 == c.plan_size and c.progress.value == 3
    assert set(c.results.recipe) == {"scratch", "discriminative", "yours"}
    assert set(c.results.steps) == {10}
    assert c.gains is not None and set(c.gains.recipe) == {"discriminative", "yours"}
    assert "paired gain" in c.gain_table.value and c.status.value.startswith("done")


def test_compare_stop_ends_the_run_in_progress(pg):
    c = pg.compare
    c.recipes.value = ("scratch",)
    c.budgets.value = "10, 20"
    c.seeds.value = 3
    c.steps.value = 500
    c.run_button.click()
    time.sleep(1.5)
    c.stop_button.click()
    assert c.wait(10)
    assert c.stop_latency < 2.0 and len(c.results) < c.plan_size and c.status.value.startswith("stopped")


def test_compare_bad_budgets():
    with pytest.raises(WorkbenchError, match="whole numbers"):
        parse_budgets("10, twenty")
    assert parse_budgets("10 20,50") == [10, 20, 50]


def test_app_command_is_loopback_by_default(tmp_path):
    nb = tmp_path / "x.ipynb"
    nb.write_text("{}")
    cmd = app_command(nb)
    assert "--Voila.ip=127.0.0.1" in cmd and "--port=8866" in cmd and "--no-browser" in cmd
    assert "--Voila.ip=0.0.0.0" in app_command(nb, ip="0.0.0.0", port=9000)
    with pytest.raises(WorkbenchError, match="not found"):
        app_command(tmp_path / "missing.ipynb")
    assert app_command().__len__() > 3  # the playground notebook ships with the repo


def test_cli_app_subcommand(monkeypatch):
    from workbench import cli

    args = cli.build_parser().parse_args(["app"])
    assert (args.port, args.ip) == (8866, "127.0.0.1")
    seen = {}
    monkeypatch.setattr("workbench.widgets.app.serve_app", lambda nb, **kw: seen.update(nb=nb, **kw) or 0)
    assert cli.main(["app", "--port", "9001", "--ip", "0.0.0.0"]) == 0
    assert seen == {"nb": None, "port": 9001, "ip": "0.0.0.0", "open_browser": False}



def test_freeze_panel_on_the_tiny_transformer():
    from workbench.models.text import TinyClassifier, TinyConfig

    cfg = TinyConfig(vocab_size=64, n_layer=2, n_head=2, n_embd=16, block_size=16, num_labels=3)
    f = FreezePanel(TinyClassifier(cfg), get_recipe("probe", "text"))
    assert f.group_names[-1] == "head" and len(f.group_names) >= 3
    assert 0 < f.trainable["total"] == f.trainable["head"] < f.parameters["total"]  # a probe trains the head only
