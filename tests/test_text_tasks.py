"""Text tasks: pairing of twins, unigram chance by construction, disjoint pool/test, a tiny end-to-end fit."""
from collections import Counter

import pytest
import torch

from workbench.data.shakespeare import HELD_OUT_PLAYS, corpus_text
from workbench.data.text import shakespeare_tokenizer
from workbench.experiments.compare import compare, paired_gains
from workbench.pretrain.text import PretrainedText, pretrain_text
from workbench.tasks.text import GenreTask, ShuffledTask
from workbench.models.text import TinyConfig, TinyLM
from workbench.train.recipe import get_recipe, recipe_names


@pytest.fixture(scope="module")
def tiny_lm():
    tok = shakespeare_tokenizer("bpe")
    torch.manual_seed(0)
    return PretrainedText(TinyLM(TinyConfig(vocab_size=tok.vocab_size, n_layer=1, n_head=2, n_embd=16, block_size=128)), tok, {}, [])


@pytest.fixture(scope="module")
def shuffled(tiny_lm):
    return ShuffledTask(pretrained=tiny_lm, device="cpu", test_pairs=60)


@pytest.fixture(scope="module")
def genre(tiny_lm):
    return GenreTask(pretrained=tiny_lm, device="cpu", test_per_class=20)


def test_twins_have_the_same_words_and_stay_paired(shuffled):
    for split in (shuffled.pool, shuffled.test):
        assert split.labels[::2].eq(1).all() and split.labels[1::2].eq(0).all()
        for i in range(0, 40, 2):
            real, twin = split.texts[i], split.texts[i + 1]
            assert real != twin and Counter(real.split(" ")) == Counter(twin.split(" "))
    idx = shuffled.subset(30, seed=3)
    assert len(idx) == 30 and torch.bincount(shuffled.pool.groups[idx]).max() == 2
    assert not set(shuffled.pool.texts) & set(shuffled.test.texts)


def test_unigram_bag_of_words_is_exactly_chance(shuffled):
    for seed in (0, 1):
        assert shuffled.run("bow", 40, seed).score == 0.5


def test_test_passages_come_only_from_held_out_plays_and_pools_only_from_training_plays(genre, shuffled):
    """No model sees a held-out play in pretraining or fine-tuning: pools are training-play text, tests held-out text."""
    assert set(genre.pool.labels.tolist()) == {0, 1, 2} and torch.bincount(genre.test.labels).tolist() == [20, 20, 20]
    train, held = corpus_text("train"), corpus_text("held_out")
    for task in (genre, shuffled):
        assert not set(task.pool.texts) & set(task.test.texts)
    assert all(t[:60] in held and t[:60] not in train for t in genre.test.texts[:30])
    assert all(t[:60] in train and t[:60] not in held for t in genre.pool.texts[:30])
    flat_train = " ".join(train.split())
    assert all(t[:60] in flat_train for t in shuffled.pool.texts[0:40:2])  # real passages (whitespace flattened)
    assert not any(t[:60] in flat_train for t in shuffled.test.texts[0:40:2])
    assert len(HELD_OUT_PLAYS) == 9


def test_text_recipe_book():
    names = recipe_names("text")
    for name in ("scratch", "probe", "finetune", "partial", "discriminative", "gradual", "likelihood"):
        assert name in names
    assert not {"tfidf", "bow", "zeroshot"} & set(names)  # baselines are not recipes
    assert get_recipe("likelihood", "text").head == "lm"


def test_tiny_end_to_end(tiny_lm, shuffled, genre):
    pre = pretrain_text(tokenizer="char", steps=12, n_layer=1, n_head=2, n_embd=16, block_size=32, eval_every=6,
                        eval_windows_n=4, progress=False, device="cpu")
    vals = [r["val_loss"] for r in pre.history if "val_loss" in r]
    assert vals[-1] < vals[0] and pre.metrics["tokens_seen"] == 12 * 12 * 32
    recipes = [get_recipe(n, "text", steps=3, batch_size=8) for n in ("scratch", "likelihood")] + ["tfidf", "zeroshot"]
    results = compare(shuffled, recipes, [10], seeds=1, progress=False)
    assert list(results.columns[:6]) == ["task", "recipe", "budget", "seed", "metric", "score"]
    assert results.score.between(0, 1).all() and set(results.metric) == {"accuracy"}
    assert len(paired_gains(results)) == 3
    g = genre.run(get_recipe("finetune", "text", steps=2, batch_size=6), 6, 0)
    assert 0 <= g.score <= 1
