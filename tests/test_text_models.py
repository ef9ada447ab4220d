"""The tiny transformer: HF save/load round trip, causality, layer groups and freezing (also on HF BERT / MiniLM)."""
import pytest
import torch

from workbench.models.groups import layer_groups
from workbench.models.text import TinyClassifier, TinyConfig, TinyLM
from workbench.train.checkpoints import load_checkpoint, save_checkpoint
from workbench.train.freezing import param_groups, set_frozen, trainable_summary
from workbench.train.recipe import get_recipe


def tiny(causal=True):
    torch.manual_seed(0)
    return TinyLM(TinyConfig(vocab_size=50, n_layer=2, n_head=2, n_embd=16, block_size=24, causal=causal))


def test_save_pretrained_round_trip(tmp_path):
    lm = tiny()
    x = torch.randint(3, 50, (2, 10))
    lm.save_pretrained(tmp_path / "lm")
    assert (tmp_path / "lm" / "model.safetensors").exists() and (tmp_path / "lm" / "config.json").exists()
    again = TinyLM.from_pretrained(tmp_path / "lm")
    assert torch.allclose(lm(x), again(x))
    clf = TinyClassifier.from_lm(lm, 3, "mean")
    assert torch.equal(clf.lm_head.weight, lm.lm_head.weight)
    save_checkpoint(tmp_path / "clf", clf, recipe=get_recipe("finetune", "text"))
    loaded, meta = load_checkpoint(tmp_path / "clf")
    assert isinstance(loaded, TinyClassifier) and meta["recipe"]["name"] == "finetune"
    assert torch.allclose(clf.eval()(x), loaded(x)) and loaded.config.num_labels == 3


def test_causal_model_does_not_look_ahead_and_mlm_does():
    x = torch.randint(3, 50, (1, 12))
    y = x.clone()
    y[0, -1] = (x[0, -1] + 1) % 47 + 3
    gpt, bert = tiny(True).eval(), tiny(False).eval()
    assert torch.allclose(gpt(x)[0, :-1], gpt(y)[0, :-1], atol=1e-6)
    assert not torch.allclose(bert(x)[0, :-1], bert(y)[0, :-1], atol=1e-6)


def test_padding_does_not_change_pooled_predictions():
    for pooling in ("mean", "last", "lm"):
        clf = TinyClassifier.from_lm(tiny(), 2, pooling).eval()
        x = torch.randint(3, 50, (1, 7))
        padded = torch.cat([x, torch.zeros(1, 3, dtype=torch.long)], 1)
        mask = torch.tensor([[1] * 7 + [0] * 3])
        assert torch.allclose(clf(x), clf(padded, mask), atol=1e-5), pooling


def test_layer_groups_cover_everything_and_freezing_works():
    clf = TinyClassifier.from_lm(tiny(), 3, "mean")
    assert list(layer_groups(clf)) == ["embeddings", "block1", "block2", "lm_head", "head"]
    groups = param_groups(clf, get_recipe("discriminative", "text"))
    assert {g["name"]: g["lr"] for g in groups}["head"] == 2e-3 and groups[0]["lr"] == 3e-4
    set_frozen(clf, ["embeddings", "block1", "block2", "lm_head"])
    rows = {r["group"]: r for r in trainable_summary(clf)}
    assert rows["block2"]["trainable"] == 0 and rows["head"]["trainable"] == rows["head"]["parameters"] > 0
    assert list(layer_groups(tiny())) == ["embeddings", "block1", "block2", "head"]


def test_sampling_writes_text():
    from workbench.data.text import char_tokenizer

    tok = char_tokenizer("abcdefghij klmnop\n" * 3)
    lm = TinyLM(TinyConfig(vocab_size=tok.vocab_size, n_layer=1, n_head=2, n_embd=16, block_size=16))
    text = lm.generate_text(tok, "ab", max_new_tokens=20, generator=torch.Generator().manual_seed(0))
    assert isinstance(text, str) and len(text) == 20


def _check_bert_freezing(model):
    groups = layer_groups(model)
    names = list(groups)
    assert names[0] == "embeddings" and names[-1] == "head" and names[1] == "block1"
    set_frozen(model, names[:-2])
    rows = {r["group"]: r for r in trainable_summary(model)}
    assert rows["embeddings"]["trainable"] == 0 and rows[names[-2]]["trainable"] > 0
    covered = {id(p) for g in groups.values() for p in g.parameters()}
    assert all(id(p) in covered for p in model.parameters())


def test_freezing_on_a_hugging_face_bert():
    from transformers import BertConfig, BertModel

    from workbench.models.minilm import EncoderClassifier

    bert = BertModel(BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32))
    _check_bert_freezing(bert)
    _check_bert_freezing(EncoderClassifier(bert, 3))


def test_freezing_on_minilm():
    from workbench.models.minilm import INSTALL_HINT, minilm_available

    if not minilm_available():
        pytest.skip(f"MiniLM not installed: {INSTALL_HINT}")
    from workbench.models.minilm import load_minilm, minilm_classifier

    bundle = load_minilm()
    clf = minilm_classifier(bundle, 3)
    assert len(layer_groups(clf)) == 8  # embeddings, 6 blocks, head
    _check_bert_freezing(clf)
    enc = bundle.tokenizer(["To be, or not to be"], return_tensors="pt")
    assert clf(enc["input_ids"], enc["attention_mask"]).shape == (1, 3)


def test_the_likelihood_feature_subtracts_the_unigram_baseline_token_by_token(tmp_path):
    torch.manual_seed(0)
    cfg = TinyConfig(vocab_size=50, n_layer=1, n_head=2, n_embd=16, block_size=16)
    clf = TinyClassifier.from_lm(TinyLM(cfg), 2, "lm")
    ids = torch.randint(3, 50, (3, 10))
    plain = clf.token_losses(ids)
    assert torch.allclose(clf.likelihood_feature(ids), plain)  # no baseline set: the plain LM loss
    clf.unigram_nll.copy_(torch.arange(50.0) / 10)
    expected = plain - (torch.arange(50.0) / 10)[ids[:, 1:]].mean(1)
    assert torch.allclose(clf.likelihood_feature(ids), expected, atol=1e-5)
    clf.save_pretrained(tmp_path)  # the baseline is a buffer: it travels with the checkpoint
    assert torch.equal(TinyClassifier.from_pretrained(tmp_path).unigram_nll, clf.unigram_nll)
