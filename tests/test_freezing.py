import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.train.freezing import (frozen_groups_at, param_groups, set_frozen, set_train_mode, trainable_summary,
                                      training_starts, unfreeze_points)
from workbench.train.loop import fit
from workbench.train.recipe import Recipe, get_recipe
from workbench.train.schedules import preview_schedule

GROUPS = ["stage1", "stage2", "stage3", "stage4", "head"]


def batches(n=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    while True:
        x = torch.randn(n, 1, 28, 28, generator=g)
        yield x, torch.arange(n) % 10


def test_probe_trains_only_the_head(tiny_cnn):
    set_frozen(tiny_cnn, frozen_groups_at(get_recipe("probe"), GROUPS, 0))
    rows = {r["group"]: r for r in trainable_summary(tiny_cnn)}
    assert rows["head"]["trainable"] == rows["head"]["parameters"] > 0
    assert all(rows[g]["trainable"] == 0 for g in GROUPS[:-1])
    assert rows["total"]["trainable"] == rows["head"]["parameters"]


def test_frozen_weights_and_batchnorm_stats_do_not_move_under_frozen_policy(tiny_cnn):
    before = {k: v.clone() for k, v in tiny_cnn.state_dict().items()}
    fit(tiny_cnn, get_recipe("partial", steps=5, augment="none"), batches(), progress=False)
    after = tiny_cnn.state_dict()
    for k in before:
        moved = not torch.equal(before[k], after[k])
        frozen = k.startswith(("stages.0.", "stages.1."))
        assert moved != frozen or "num_batches_tracked" in k and not frozen, k
    assert torch.equal(before["stages.0.1.running_mean"], after["stages.0.1.running_mean"])


def test_train_policy_lets_batchnorm_statistics_drift(tiny_cnn):
    before = tiny_cnn.stages[0][1].running_mean.clone()
    fit(tiny_cnn, get_recipe("probe", steps=3, bn="train"), batches(), progress=False)
    assert not torch.equal(before, tiny_cnn.stages[0][1].running_mean)


def test_set_train_mode_keeps_frozen_bn_in_eval(tiny_cnn):
    set_train_mode(tiny_cnn, ["stage1"], "frozen")
    assert not tiny_cnn.stages[0][1].training and tiny_cnn.stages[1][1].training


def test_freezing_everything_or_a_single_group_raises(tiny_cnn):
    with pytest.raises(WorkbenchError, match="nothing trainable"):
        frozen_groups_at(Recipe(frozen=5), GROUPS, 0)
    with pytest.raises(WorkbenchError, match="single layer group"):
        frozen_groups_at(Recipe(frozen="backbone"), ["head"], 0)
    with pytest.raises(WorkbenchError, match="no trainable parameter"):
        set_frozen(tiny_cnn, GROUPS)


def test_gradual_unfreezing_releases_one_group_at_a_time_from_the_top():
    r = get_recipe("gradual", steps=200, unfreeze_over=0.8)  # 4 frozen groups over the first 160 steps
    assert frozen_groups_at(r, GROUPS, 0) == GROUPS[:4]
    assert frozen_groups_at(r, GROUPS, 40) == GROUPS[:3]
    assert frozen_groups_at(r, GROUPS, 199) == []
    assert unfreeze_points(r, GROUPS) == [(40, "stage4"), (80, "stage3"), (120, "stage2"), (160, "stage1")]
    assert training_starts(r, GROUPS) == {"stage1": 160, "stage2": 120, "stage3": 80, "stage4": 40, "head": 0}
    assert training_starts(get_recipe("probe"), GROUPS)["stage1"] is None


TEXT_GROUPS = ["embeddings", "block1", "block2", "block3", "block4", "lm_head", "head"]


@pytest.mark.parametrize("groups", [GROUPS, TEXT_GROUPS], ids=["vision", "text"])
@pytest.mark.parametrize("steps", [2, 7, 40, 150, 1000])
def test_gradual_unfreezing_releases_every_group_within_the_run(groups, steps):
    # the old unfreeze_every=40 (vision) / 30 (text) released nothing at 40 steps and never embeddings/block1 at 150
    r = get_recipe("gradual", "text" if groups is TEXT_GROUPS else "vision", steps=steps)
    starts = training_starts(r, groups)
    assert all(s is not None and s < steps for s in starts.values()), starts
    assert frozen_groups_at(r, groups, steps - 1) == []
    assert [g for _, g in unfreeze_points(r, groups)] == groups[-2::-1]  # from the top down, every frozen group
    p = preview_schedule(r, groups)
    assert all(p["trainable"][g][-1] for g in groups) and p["unfreeze"] == unfreeze_points(r, groups)


def _text_classifier():
    from workbench.models.text import TinyClassifier, TinyConfig, classifier_config

    torch.manual_seed(0)
    return TinyClassifier(classifier_config(TinyConfig(vocab_size=64, n_layer=4, n_head=2, n_embd=16, block_size=16), 3))


def _text_batches():
    g = torch.Generator().manual_seed(0)
    while True:
        yield {"input_ids": torch.randint(4, 64, (8, 16), generator=g), "labels": torch.arange(8) % 3}


def _text_loss(m, b):
    return torch.nn.functional.cross_entropy(m(b["input_ids"]), b["labels"])


@pytest.mark.parametrize("domain", ["vision", "text"])
def test_gradual_fit_ends_with_every_group_trained(tiny_cnn, domain):
    if domain == "vision":
        model, data, kw = tiny_cnn, batches(), {}
    else:
        model, data, kw = _text_classifier(), _text_batches(), {"loss_fn": _text_loss}
    first = next(iter(model.layer_groups().values()))
    before = [p.detach().clone() for p in first.parameters()]
    fit(model, get_recipe("gradual", domain, steps=40), data, progress=False, **kw)
    assert all(p.requires_grad for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, first.parameters()))  # the input group really trained


def test_gradual_unfreezing_in_fit_trains_lower_groups_only_after_release(tiny_cnn):
    # 4 frozen groups released over the whole of 8 steps: stage1 at step 7 (the last one), so it trains only in step 8
    from workbench.train.events import Callback

    w1 = tiny_cnn.stages[0][0].weight.clone()
    changed = {}

    class Watch(Callback):
        def on_log(self, state):
            changed[state.step] = not torch.equal(w1, tiny_cnn.stages[0][0].weight)

    recipe = get_recipe("gradual", steps=8, unfreeze_over=1.0, schedule="constant")
    assert unfreeze_points(recipe, GROUPS)[-1] == (7, "stage1")
    fit(tiny_cnn, recipe, batches(), progress=False, log_every=1, callbacks=[Watch()])
    assert changed == {**{k: False for k in range(1, 8)}, 8: True}
    assert all(p.requires_grad for p in tiny_cnn.parameters())


def test_old_recipe_json_with_unfreeze_every_still_loads():
    old = {**get_recipe("gradual").to_dict(), "unfreeze_every": 40}
    del old["unfreeze_over"]
    assert Recipe.from_dict(old).unfreeze_over == 0.5
    assert Recipe.from_dict({**old, "unfreeze_every": None}).unfreeze_over is None


def test_discriminative_param_groups(tiny_cnn):
    groups = param_groups(tiny_cnn, get_recipe("discriminative"))
    lrs = {g["name"]: g["lr"] for g in groups}
    assert lrs["head"] == 1e-2 and all(lrs[g] == 1e-3 for g in GROUPS[:-1])
    assert sum(len(g["params"]) for g in groups) == len(list(tiny_cnn.parameters()))


@pytest.mark.parametrize("field,value,msg", [
    ("lr", 0, "lr must be a positive"), ("lr", 100.0, "too large"), ("steps", -3, "steps must be"),
    ("schedule", "warp", "unknown schedule"), ("frozen", -1, "frozen is"), ("bn", "maybe", "BatchNorm policy"),
])
def test_recipe_validation(field, value, msg):
    with pytest.raises(WorkbenchError, match=msg):
        Recipe(**{field: value})


def test_recipe_round_trip_and_unknown_fields():
    r = get_recipe("gradual", lr=1e-3)
    assert Recipe.from_dict(r.to_dict()) == r
    with pytest.raises(WorkbenchError, match="unknown recipe field"):
        r.replace(learning_rate=1)
    with pytest.raises(WorkbenchError, match="unknown recipe 'nope'"):
        get_recipe("nope")
