"""Layer groups, freezing, param groups, the summary and the schedule preview on models the workbench did
not write: Hugging Face BERT / RoBERTa / DistilBERT / GPT-2, torchvision ResNet / MobileNet, any module by
the generic rule, and a user-given grouping. All small and randomly initialised (nothing is downloaded)."""
import pytest
import torch
from torch import nn

from workbench.errors import WorkbenchError
from workbench.models.groups import layer_groups
from workbench.train.freezing import BATCHNORM_TYPES, param_groups, set_frozen, set_train_mode, trainable_summary
from workbench.train.optim import make_optimizer
from workbench.train.recipe import get_recipe
from workbench.train.schedules import preview_schedule

transformers = pytest.importorskip("transformers")
tvm = pytest.importorskip("torchvision.models")
transformers.logging.set_verbosity_error()

BLOCKS = ["embeddings", "block1", "block2", "head"]
RESNET = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
MOBILENET = ["stem", "stage1", "stage2", "stage3", "stage4", "head"]


def bert_cfg():
    return transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                   vocab_size=100, max_position_embeddings=64)


def roberta_cfg():
    return transformers.RobertaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                      vocab_size=100, max_position_embeddings=64)


def gpt2_cfg():
    return transformers.GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=100, n_positions=64, pad_token_id=0,
                                   bos_token_id=1, eos_token_id=2)


def distil_cfg():
    return transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, vocab_size=100,
                                         max_position_embeddings=64)


class TiedLM(nn.Module):
    """Generic rule with a parameter on the model itself and an output layer tied to the embedding."""

    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(8, 16))
        self.emb = nn.Embedding(30, 16)
        self.act = nn.GELU()
        self.body = nn.Linear(16, 16)
        self.out = nn.Linear(16, 30)
        self.out.weight = self.emb.weight

    def forward(self, x):
        return self.out(self.body(self.act(self.emb(x) + self.pos[: x.shape[1]])))


def sequential():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 10))


def n(module):
    return sum(p.numel() for p in module.parameters())


# name: (build, expected group names, the head's parameter count from the model's own modules, input kind)
CASES = {
    "BertModel": (lambda: transformers.BertModel(bert_cfg()), BLOCKS, lambda m: n(m.pooler), "text"),
    "BertForSequenceClassification": (lambda: transformers.BertForSequenceClassification(bert_cfg()), BLOCKS,
                                      lambda m: n(m.bert.pooler) + n(m.classifier), "text"),
    "BertForMaskedLM": (lambda: transformers.BertForMaskedLM(bert_cfg()), BLOCKS,  # decoder.weight is tied to the embeddings
                        lambda m: n(m.cls.predictions.transform) + m.cls.predictions.bias.numel(), "text"),
    "RobertaModel": (lambda: transformers.RobertaModel(roberta_cfg()), BLOCKS, lambda m: n(m.pooler), "text"),
    "RobertaForSequenceClassification": (lambda: transformers.RobertaForSequenceClassification(roberta_cfg()), BLOCKS,
                                         lambda m: n(m.classifier), "text"),
    "GPT2Model": (lambda: transformers.GPT2Model(gpt2_cfg()), BLOCKS, lambda m: n(m.ln_f), "text"),
    "GPT2LMHeadModel": (lambda: transformers.GPT2LMHeadModel(gpt2_cfg()), BLOCKS,  # lm_head.weight is wte.weight
                        lambda m: n(m.transformer.ln_f), "text"),
    "GPT2ForSequenceClassification": (lambda: transformers.GPT2ForSequenceClassification(gpt2_cfg()), BLOCKS,
                                      lambda m: n(m.transformer.ln_f) + n(m.score), "text"),
    "DistilBertModel": (lambda: transformers.DistilBertModel(distil_cfg()), ["embeddings", "block1", "head"],  # bare: last block
                        lambda m: n(m.transformer.layer[1]), "text"),
    "DistilBertForSequenceClassification": (lambda: transformers.DistilBertForSequenceClassification(distil_cfg()), BLOCKS,
                                            lambda m: n(m.pre_classifier) + n(m.classifier), "text"),
    "DistilBertForMaskedLM": (lambda: transformers.DistilBertForMaskedLM(distil_cfg()), BLOCKS,
                              lambda m: n(m.vocab_transform) + n(m.vocab_layer_norm) + m.vocab_projector.bias.numel(), "text"),
    "resnet18": (lambda: tvm.resnet18(num_classes=10), RESNET, lambda m: n(m.fc), "image"),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(num_classes=10), MOBILENET, lambda m: n(m.classifier), "image"),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(num_classes=10), MOBILENET, lambda m: n(m.classifier), "image"),
    "Sequential": (sequential, ["0", "1", "head"], lambda m: n(m[5]), "image"),
    "TiedLM": (TiedLM, ["emb", "body", "head"], lambda m: m.out.bias.numel(), "tokens"),
}


def build(name):
    torch.manual_seed(0)
    return CASES[name][0]()


def run(model, kind):
    """A scalar that depends on every output of ``model`` (HF outputs are dicts of tensors)."""
    g = torch.Generator().manual_seed(0)
    if kind == "image":
        return model(torch.randn(2, 3, 32, 32, generator=g)).float().pow(2).mean()
    ids = torch.randint(3, 30 if kind == "tokens" else 100, (2, 8), generator=g)
    if kind == "tokens":
        return model(ids).float().pow(2).mean()
    out = model(input_ids=ids)
    return sum(v.float().pow(2).mean() for v in out.values() if torch.is_tensor(v))


def assert_partition(model, groups):
    ids = [id(p) for g in groups.values() for p in g.parameters()]
    assert len(ids) == len(set(ids)), "a parameter is in two groups"
    assert set(ids) == {id(p) for p in model.parameters()}, "a parameter is in no group"
    assert sum(n(g) for g in groups.values()) == n(model)


@pytest.mark.parametrize("name", list(CASES))
def test_groups_are_ordered_named_and_partition_the_parameters(name):
    model = build(name)
    groups = layer_groups(model)
    assert list(groups) == CASES[name][1]
    assert_partition(model, groups)
    assert n(groups["head"]) == CASES[name][2](model) > 0
    assert list(layer_groups(model)) == list(groups)  # stable


@pytest.mark.parametrize("name", list(CASES))
def test_freezing_the_backbone_trains_exactly_the_head_and_one_step_moves_only_that(name):
    model = build(name)
    names = list(layer_groups(model))
    recipe = get_recipe("probe")
    set_frozen(model, names[:-1])
    rows = {r["group"]: r for r in trainable_summary(model)}
    head = CASES[name][2](model)
    assert rows["total"]["trainable"] == rows["head"]["trainable"] == rows["head"]["parameters"] == head
    assert rows["total"]["parameters"] == n(model)
    assert all(rows[g]["trainable"] == 0 for g in names[:-1])
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == head

    groups = param_groups(model, recipe)
    assert [g["name"] for g in groups] == names
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    set_train_mode(model, names[:-1], recipe.bn)
    opt = make_optimizer(model, recipe, torch.device("cpu"))
    run(model, CASES[name][3]).backward()
    opt.step()
    for k, p in model.named_parameters():
        assert (not torch.equal(before[k], p)) == p.requires_grad, k


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_preview_has_one_curve_per_group(name):
    names = list(layer_groups(build(name)))
    preview = preview_schedule(get_recipe("discriminative", steps=10, schedule="constant"), names)
    assert list(preview["lrs"]) == names and all(len(c) == 10 for c in preview["lrs"].values())
    assert preview["lrs"]["head"][0] == 1e-2 and all(preview["lrs"][g][0] == 1e-3 for g in names[:-1])


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small"])
def test_batchnorm_of_frozen_groups_stays_in_eval(name):
    model = build(name)
    names = list(layer_groups(model))
    frozen = names[:2]
    set_frozen(model, frozen)
    set_train_mode(model, frozen, "frozen")
    groups = layer_groups(model)
    in_frozen = {id(m) for g in frozen for m in groups[g].modules() if isinstance(m, BATCHNORM_TYPES)}
    bns = [m for m in model.modules() if isinstance(m, BATCHNORM_TYPES)]
    assert in_frozen and len(in_frozen) < len(bns)
    assert all(m.training == (id(m) not in in_frozen) for m in bns)
    stats = {id(m): m.running_mean.clone() for m in bns}
    with torch.no_grad():
        run(model, "image")
    assert all(torch.equal(stats[id(m)], m.running_mean) == (id(m) in in_frozen) for m in bns)
    set_train_mode(model, frozen, "train")
    assert all(m.training for m in bns)


def test_sync_batchnorm_in_frozen_resnet_groups_stays_in_eval():
    model = nn.SyncBatchNorm.convert_sync_batchnorm(build("resnet18"))
    set_train_mode(model, ["stem", "layer1"], "frozen")
    assert isinstance(model.bn1, nn.SyncBatchNorm) and not model.bn1.training and not model.layer1[0].bn2.training
    assert model.layer2[0].bn1.training


def test_freeze_panel_on_a_resnet():
    pytest.importorskip("ipywidgets")
    from workbench.widgets import FreezePanel

    model = build("resnet18")
    f = FreezePanel(model)
    assert f.group_names == RESNET and f.has_batchnorm
    f.checkboxes["layer4"].value = True  # freezes everything up to layer4: only fc trains
    assert f.recipe.frozen == 5 and f.trainable["total"] == n(model.fc)


# A user-given grouping
# ----------------------------------------------------------------------------------------------------------
RESNET_PREFIXES = {"stem": ["conv1", "bn1"], "body": ["layer1", "layer2", "layer3", "layer4"], "head": "fc"}


def test_user_grouping_by_parameter_names_and_by_modules():
    model = build("resnet18")
    groups = layer_groups(model, RESNET_PREFIXES)
    assert list(groups) == ["stem", "body", "head"] and groups["head"] is model.fc
    assert_partition(model, groups)
    assert n(groups["stem"]) == n(model.conv1) + n(model.bn1)
    seq = sequential()
    groups = layer_groups(seq, {"features": seq[:5], "head": seq[5]})
    assert list(groups) == ["features", "head"] and n(groups["features"]) == n(seq[0]) + n(seq[1])
    lm = TiedLM()
    groups = layer_groups(lm, {"input": ["pos", "emb"], "head": ["body", "out.bias"]})  # out.weight is emb.weight
    assert_partition(lm, groups)


def test_a_grouping_set_on_the_model_reaches_freezing_and_param_groups():
    model = build("resnet18")
    model.workbench_groups = RESNET_PREFIXES
    set_frozen(model, ["stem", "body"])
    rows = {r["group"]: r for r in trainable_summary(model)}
    assert list(rows) == ["stem", "body", "head", "total"] and rows["total"]["trainable"] == n(model.fc)
    assert [g["name"] for g in param_groups(model, get_recipe("discriminative"))] == ["stem", "body", "head"]
    set_train_mode(model, ["stem", "body"], "frozen")
    assert not model.bn1.training and not model.layer4[1].bn2.training


@pytest.mark.parametrize("groups,msg", [
    ({"stem": ["conv1", "bn1"], "body": ["layer1", "layer2", "layer3", "layer4"], "head": ["avgpool"]},
     r"2 parameter\(s\) in no layer group: fc.weight, fc.bias; add them"),
    ({"stem": ["conv1", "bn1", "layer1"], "body": ["layer1.0", "layer2", "layer3", "layer4"], "head": "fc"},
     r"parameter\(s\) in two groups: layer1.0.conv1.weight \(in 'stem' and 'body'\)"),
    ({"stem": ["conv1", "bn1", "layer9"], "head": "fc"}, r"group 'stem': 'layer9' is no module or parameter of ResNet"),
    ({"stem": "conv1", "classifier": "fc"}, r"last layer group must be called 'head'.*not 'classifier'"),
])
def test_a_bad_user_grouping_says_what_is_wrong(groups, msg):
    with pytest.raises(WorkbenchError, match=msg):
        layer_groups(build("resnet18"), groups)


def test_tied_weights_given_to_two_groups_are_reported():
    lm = TiedLM()
    with pytest.raises(WorkbenchError, match=r"emb.weight \(in 'input' and 'head'\).*tied"):
        layer_groups(lm, {"input": ["pos", "emb"], "head": ["body", "out"]})


def test_the_generic_rule_needs_two_parameterised_children():
    with pytest.raises(WorkbenchError, match="1 layer group.*pass groups="):
        layer_groups(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))
    with pytest.raises(WorkbenchError, match="0 layer group"):
        layer_groups(nn.Linear(4, 2))


def test_generic_rule_merges_parameter_free_children_into_the_next_group():
    seq = sequential()
    groups = layer_groups(seq)
    assert list(groups["head"].parts) == [seq[2], seq[3], seq[4], seq[5]]  # ReLU, pool, flatten join the head
    lm = TiedLM()
    groups = layer_groups(lm)
    assert id(lm.pos) in {id(p) for p in groups["emb"].parameters()} and lm.act in list(groups["body"].parts)
