"""The pitfalls lab: forgetting metric, L2-SP, the LR range test on a known answer, and the CLI's bad input."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from workbench import lab
from workbench.models.cnn import CNNConfig, SmallCNN
from workbench import Recipe


def _cnn(seed=0, classes=5):
    torch.manual_seed(seed)
    return SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=classes))


def _fake_source(model, n=40):
    """Images and the labels ``model`` itself predicts: its source accuracy is 1.0 by construction."""
    torch.manual_seed(1)
    x = torch.randn(n, 1, 28, 28)
    with torch.no_grad():
        y = model.eval()(x).argmax(1)
    return x, y


def test_forgetting_is_zero_for_an_unchanged_backbone_and_splits_exactly():
    pre = _cnn()
    x, y = _fake_source(pre)
    same = _cnn()  # identical weights, but a different head (as after replace_head)
    same.replace_head(3)
    s = lab.source_scores(pre, same, x, y)
    assert s["source_before"] == 1.0 and s["source_after"] == 1.0 and s["forgetting"] == 0.0

    drifted = _cnn()
    drifted.replace_head(3)
    gen = torch.Generator().manual_seed(0)
    for m in drifted.modules():  # only the BN running statistics move: all forgetting is BN-statistics drift
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.add_(2 * torch.randn(m.running_mean.shape, generator=gen))
            m.running_var.mul_(torch.rand(m.running_var.shape, generator=gen) * 10 + 0.1)
    s = lab.source_scores(pre, drifted, x, y)
    assert s["forgetting"] > 0.1
    assert s["source_bn_restored"] == 1.0 and s["forgetting_weights"] == 0.0
    assert s["source_bn_only"] == s["source_after"] and s["forgetting_bn_stats_alone"] == s["forgetting"]
    assert math.isclose(s["forgetting"], s["forgetting_bn_stats"] + s["forgetting_weights"])
    # the helpers never touch their inputs
    assert drifted.head.out_features == 3 and pre.head.out_features == 5


def test_l2sp_is_zero_at_the_reference_and_its_gradient_pulls_back():
    pre = _cnn()
    ref = lab.backbone_reference(pre)
    assert not any(k.startswith("head.") for k in ref)
    model = _cnn()
    model.replace_head(3)  # the new head has another shape and is not penalised
    assert lab.l2sp_penalty(model, ref).item() == 0.0
    with torch.no_grad():
        for p in model.stages.parameters():
            p.add_(0.1)
    pen = lab.l2sp_penalty(model, ref)
    n = sum(p.numel() for p in model.stages.parameters())
    assert math.isclose(pen.item(), 0.5 * n * 0.01, rel_tol=1e-4)
    pen.backward()
    for name, p in model.stages.named_parameters():  # gradient = w - w0: a descent step moves back toward w0
        assert torch.allclose(p.grad, torch.full_like(p, 0.1), atol=1e-6), name
    assert model.head.weight.grad is None
    batch = (torch.randn(4, 1, 28, 28), torch.tensor([0, 1, 2, 0]))
    loss0 = lab.l2sp_loss(ref, 0.0)(model, batch)
    loss1 = lab.l2sp_loss(ref, 2.0)(model, batch)
    assert math.isclose(loss1.item() - loss0.item(), 2.0 * pen.item(), rel_tol=1e-4)


class _Line(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 1, bias=False, dtype=torch.float64)
        nn.init.zeros_(self.lin.weight)

    def forward(self, x):
        return self.lin(x)

    def layer_groups(self):
        return {"head": self.lin}


def test_lr_finder_finds_the_known_divergence_lr_of_linear_regression():
    """Full-batch SGD on 1/2 mean (w x - y)^2 has curvature h = mean(x^2): the loss rises iff lr > 2 / h."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 1, generator=gen, dtype=torch.float64) * 1.7
    y = 3.0 * x
    h = (x**2).mean().item()

    def batches():
        while True:
            yield x, y

    def mse(model, batch):
        xb, yb = batch
        return 0.5 * ((model(xb) - yb) ** 2).mean()

    steps, start, end = 60, 0.01 / h, 10 / h
    ratio = (end / start) ** (1 / (steps - 1))
    out = lab.lr_find(_Line(), Recipe(name="line", init="scratch", lr=1.0, weight_decay=0.0, augment="none"), batches(),
                      start_lr=start, end_lr=end, steps=steps, loss_fn=mse, optimizer_fn=lab.sgd_optimizer(), device="cpu")
    assert 2 / h <= out["divergence_lr"] <= 2 / h * ratio * 1.0001
    assert out["min_loss_lr"] < 2 / h  # the lowest loss comes before divergence
    assert out["suggested_lr"] == pytest.approx(out["min_loss_lr"] / 10)
    assert out["curve"].lr.is_monotonic_increasing


def test_lr_finder_rejects_bad_ranges():
    from workbench import WorkbenchError

    with pytest.raises(WorkbenchError, match="start_lr"):
        lab.lr_find(_Line(), Recipe(), iter(()), start_lr=1.0, end_lr=0.1)


def test_carve_validation_keeps_classes_and_rejects_tiny_budgets():
    from workbench import WorkbenchError

    labels = torch.arange(10).repeat(10)
    idx = torch.arange(50)
    train, val = lab.carve_validation(labels, idx, 0.2, seed=0)
    assert len(val) == 10 and len(train) == 40 and set(labels[val].tolist()) == set(range(10))
    assert not set(train.tolist()) & set(val.tolist())
    with pytest.raises(WorkbenchError, match="too small"):
        lab.carve_validation(labels, torch.arange(15), 0.2, seed=0)


@pytest.mark.parametrize("argv, message", [
    (["lab", "nonsense"], "invalid choice"),
    (["lab", "forgetting", "--seeds", "0"], "positive"),
    (["lab", "sensitivity", "--lrs", "abc"], "learning rates"),
    (["lab", "sensitivity", "--batch-sizes", "16,x"], "whole numbers"),
    (["lab", "cost", "--text"], "unrecognized arguments: --text"),
])
def test_cli_rejects_bad_input(argv, message, capsys):
    from workbench.cli.main import main

    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_unwritable_out_is_one_line_error(tmp_path, capsys):
    from workbench.cli.main import main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["lab", "cost", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: error:") and err.count("\n") == 1


def test_a_batch_size_axis_gets_its_own_rows_in_the_region_table_and_the_heatmap():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from workbench import lab_figures

    rows = [{"recipe": r, "lr": lr, "batch_size": bs, "seed": s, "test_accuracy": acc + 0.01 * s}
            for r, best in (("scratch", 1e-2), ("finetune", 1e-3)) for bs in (16, 64) for s in (0, 1)
            for lr, acc in ((1e-3, 0.8 if best == 1e-3 else 0.5), (1e-2, 0.8 if best == 1e-2 else 0.5))]
    region = lab.good_region(pd.DataFrame(rows))
    assert list(region.columns[:2]) == ["recipe", "batch_size"] and len(region) == 4
    assert dict(zip(region.recipe, region.best_lr)) == {"scratch": 1e-2, "finetune": 1e-3}
    fig = lab_figures.lr_heatmap(pd.DataFrame(rows))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["scratch, batch 16", "scratch, batch 64", "finetune, batch 16", "finetune, batch 64"]


def test_bn_statistics_include_sync_batchnorm():
    """The BatchNorm kinds have one home (train.freezing.BATCHNORM_TYPES): a SyncBatchNorm model has statistics too."""
    model = nn.SyncBatchNorm.convert_sync_batchnorm(_cnn())
    stats = lab.bn_buffers(model)
    assert any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
    assert len(stats) == 3 * sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules()) > 0
