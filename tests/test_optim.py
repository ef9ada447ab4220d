"""Weight decay only on matrices and kernels (nanoGPT, timm): never on norm gains or biases."""
from __future__ import annotations

import torch

from workbench import get_recipe
from workbench.models.text import TinyConfig, TinyLM
from workbench.train.optim import make_optimizer


def _decay_by_param(opt):
    return {id(p): (g["weight_decay"], g["name"]) for g in opt.param_groups for p in g["params"]}


def test_no_weight_decay_on_one_dimensional_parameters(tiny_cnn):
    recipe = get_recipe("discriminative", weight_decay=0.05)
    opt = make_optimizer(tiny_cnn, recipe)
    decay = _decay_by_param(opt)
    assert len(decay) == sum(1 for _ in tiny_cnn.parameters())  # every parameter exactly once
    for name, p in tiny_cnn.named_parameters():
        expected = 0.0 if p.ndim < 2 else 0.05
        assert decay[id(p)][0] == expected, (name, p.shape, decay[id(p)])
    bn = [n for n, p in tiny_cnn.named_parameters() if p.ndim == 1]
    assert bn, "the CNN has BatchNorm gains and biases"


def test_split_keeps_each_layer_groups_lr_and_name():
    model = TinyLM(TinyConfig(vocab_size=50, n_embd=16, n_layer=2, n_head=2))
    recipe = get_recipe("discriminative", "text")
    opt = make_optimizer(model, recipe)
    lrs = {}
    for g in opt.param_groups:
        lrs.setdefault(g["name"], set()).add(g["lr"])
    assert all(len(v) == 1 for v in lrs.values()), lrs  # both halves of a layer group share its LR
    assert lrs["head"] == {recipe.lr} and lrs["block1"] == {recipe.backbone_lr}
    assert {g["decay"] for g in opt.param_groups if g["name"] == "block1"} == {True, False}


def test_a_layer_norm_gain_is_not_pulled_towards_zero():
    """With zero gradients, AdamW's decoupled decay alone moves parameters: gains must stay at 1."""
    model = TinyLM(TinyConfig(vocab_size=50, n_embd=16, n_layer=1, n_head=2))
    opt = make_optimizer(model, get_recipe("finetune", "text", weight_decay=0.5, lr=0.1))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for n, p in model.named_parameters():
        if p.ndim < 2:
            assert torch.equal(p, before[n]), n
        elif before[n].abs().sum() > 0:
            assert not torch.equal(p, before[n]), n  # matrices are decayed
