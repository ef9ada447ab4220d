import pytest
import torch

from workbench.train.loop import fit
from workbench.train.recipe import SCHEDULES, get_recipe
from workbench.train.schedules import preview_schedule

GROUPS = ["stage1", "stage2", "stage3", "stage4", "head"]


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_previews_one_curve_per_group(name):
    r = get_recipe("discriminative", schedule=name, steps=100)
    p = preview_schedule(r, GROUPS)
    assert set(p["lrs"]) == set(GROUPS) and all(len(v) == 100 for v in p["lrs"].values())
    head, low = torch.tensor(p["lrs"]["head"]), torch.tensor(p["lrs"]["stage1"])
    assert torch.allclose(head / low, torch.full_like(head, 10.0))  # discriminative ratio kept all run
    assert head.max() <= 1e-2 * (1 + 1e-6)


def test_schedule_shapes():
    lr = lambda name, **kw: torch.tensor(preview_schedule(get_recipe("finetune", schedule=name, steps=90, **kw), GROUPS)["lrs"]["head"])  # noqa: E731
    assert torch.all(lr("constant") == 3e-3)
    step = lr("step")
    assert step[0] == 3e-3 and torch.isclose(step[30], torch.tensor(3e-4)) and torch.isclose(step[60], torch.tensor(3e-5))
    one = lr("onecycle", warmup=0.2)
    peak = int(one.argmax())
    assert 15 <= peak <= 20 and abs(one.max() - 3e-3) < 3e-5 and one[-1] < 3e-5
    wc = lr("warmup_cosine", warmup=0.1)
    assert wc[0] < 1e-5 and int(wc.argmax()) == 9 and torch.all(wc[9:].diff() <= 1e-12)
    assert torch.all(lr("cosine").diff() <= 0) and torch.all(lr("linear").diff() < 0)


def test_preview_matches_what_training_does(tiny_cnn):
    r = get_recipe("discriminative", steps=30, schedule="warmup_cosine", augment="none")
    preview = preview_schedule(r, GROUPS)

    def batches():
        while True:
            yield torch.randn(8, 1, 28, 28), torch.arange(8) % 10

    hist = fit(tiny_cnn, r, batches(), progress=False, log_every=1).history
    for rec in hist:
        # a record after ``step`` steps holds the LRs that step used: preview index step - 1
        assert rec["lr/head"] == pytest.approx(preview["lrs"]["head"][rec["step"] - 1])
        assert rec["lr/stage1"] == pytest.approx(preview["lrs"]["stage1"][rec["step"] - 1])
    assert len(hist) == 30


def test_unfreeze_points_in_preview():
    p = preview_schedule(get_recipe("gradual", steps=200, unfreeze_over=0.75), GROUPS)
    assert p["unfreeze"] == [(38, "stage4"), (75, "stage3"), (112, "stage2"), (150, "stage1")]


def test_preview_marks_frozen_steps():
    p = preview_schedule(get_recipe("gradual", steps=100, unfreeze_over=1.0), GROUPS)
    assert all(p["trainable"]["head"])
    assert p["trainable"]["stage4"][:25] == [False] * 25 and all(p["trainable"]["stage4"][25:])
    assert p["trainable"]["stage1"] == [False] * 99 + [True]  # the last release is kept within the run: step 99
    probe = preview_schedule(get_recipe("probe", steps=10), GROUPS)
    assert not any(probe["trainable"]["stage2"]) and all(probe["trainable"]["head"])
