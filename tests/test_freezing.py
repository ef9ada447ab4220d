import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.train.freezing import frozen_groups_at, param_groups, set_frozen, set_train_mode, trainable_summary, unfreeze_points
from workbench.train.loop import fit
from workbench.train.recipe import Recipe, get_recipe

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
    r = get_recipe("gradual", steps=200, unfreeze_every=40)
    assert frozen_groups_at(r, GROUPS, 0) == GROUPS[:4]
    assert frozen_groups_at(r, GROUPS, 40) == GROUPS[:3]
    assert frozen_groups_at(r, GROUPS, 199) == []
    assert unfreeze_points(r, GROUPS) == [(40, "stage4"), (80, "stage3"), (120, "stage2"), (160, "stage1")]


def test_gradual_unfreezing_in_fit_trains_lower_groups_only_after_release(tiny_cnn):
    # 4 frozen groups, one released every 2 steps: stage1 trains from step 8 on
    w1 = tiny_cnn.stages[0][0].weight.clone()
    fit(tiny_cnn, get_recipe("gradual", steps=8, unfreeze_every=2, schedule="constant"), batches(), progress=False)
    assert torch.equal(w1, tiny_cnn.stages[0][0].weight)
    fit(tiny_cnn, get_recipe("gradual", steps=10, unfreeze_every=2, schedule="constant"), batches(), progress=False)
    assert not torch.equal(w1, tiny_cnn.stages[0][0].weight)


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
