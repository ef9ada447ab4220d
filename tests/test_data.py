import pytest
import torch

from workbench.data.augment import AUGMENTS, augment_batch
from workbench.data.batches import glyph_batches, image_batches
from workbench.data.glyphs import CHARACTERS, FONT_FILES, STROKE_WIDTHS, glyph_bank, split_by_font
from workbench.data.subsets import balanced_subset
from workbench.errors import WorkbenchError


def test_glyph_bank_covers_every_font_character_and_stroke():
    bank = glyph_bank(62)
    assert len(bank) == len(FONT_FILES) * len(CHARACTERS) * len(STROKE_WIDTHS)
    assert bank.images.shape[1:] == (56, 56) and bank.images.dtype == torch.uint8
    assert torch.bincount(bank.labels).tolist() == [len(FONT_FILES) * len(STROKE_WIDTHS)] * 62
    # white on black, centred by mass like MNIST
    img = bank.images.float()
    ys = torch.arange(56).view(1, 56, 1).float()
    cy = (img * ys).sum((1, 2)) / img.sum((1, 2))
    assert (cy - 28).abs().max() < 1.5
    assert img[:, 0, :].mean() < 1  # borders are black


def test_digit_variant_and_font_split():
    bank = glyph_bank(10)
    assert set(bank.labels.tolist()) == set(range(10)) and bank.classes == "0123456789"
    train, val = split_by_font(glyph_bank(62))
    assert set(train.fonts.tolist()).isdisjoint(val.fonts.tolist())


def test_mnist5k_split_is_fixed_balanced_and_disjoint(digits):
    assert len(digits.test) == 1000 and len(digits.pool) == 4000
    assert torch.bincount(digits.test.labels).tolist() == [100] * 10
    again = __import__("workbench.data.digits", fromlist=["mnist5k"]).mnist5k()
    assert torch.equal(again.test.images, digits.test.images)
    test_rows = {tuple(x.flatten().tolist()[::7]) for x in digits.test.images[:200]}
    pool_rows = {tuple(x.flatten().tolist()[::7]) for x in digits.pool.images}
    assert not test_rows & pool_rows
    assert 0 <= digits.pool.images.min() and digits.pool.images.max() <= 1


def test_sklearn_digits_target():
    from workbench.data.digits import sklearn_digits

    t = sklearn_digits()
    assert t.pool.images.shape[1:] == (1, 28, 28) and len(t.test) == 500


@pytest.mark.parametrize("n", [10, 20, 37, 100])
def test_balanced_subset_is_balanced_deterministic_and_paired(digits, n):
    labels = digits.pool.labels
    idx = balanced_subset(labels, n, seed=3)
    counts = torch.bincount(labels[idx], minlength=10)
    assert len(idx) == n and len(set(idx.tolist())) == n
    assert counts.max() - counts.min() <= 1
    assert torch.equal(idx, balanced_subset(labels, n, seed=3))  # same seed -> same subset for every recipe
    assert not torch.equal(idx, balanced_subset(labels, n, seed=4))


@pytest.mark.parametrize("bad,msg", [(5, "smaller than the 10 classes"), (10**6, "larger than the pool"), (2.5, "whole number")])
def test_balanced_subset_rejects_bad_budgets(digits, bad, msg):
    with pytest.raises(WorkbenchError, match=msg):
        balanced_subset(digits.pool.labels, bad, seed=0)


def test_augmentation_is_seeded_and_changes_images(digits):
    x = digits.pool.images[:32]
    a = augment_batch(x, AUGMENTS["pretrain"], torch.Generator().manual_seed(1))
    b = augment_batch(x, AUGMENTS["pretrain"], torch.Generator().manual_seed(1))
    c = augment_batch(x, AUGMENTS["pretrain"], torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and (a.amax((1, 2, 3)) - 1).abs().max() < 1e-5
    assert augment_batch(x, AUGMENTS["none"]) is x


def test_batch_iterators_shapes_and_epochs(digits):
    gb = next(glyph_batches(glyph_bank(62), 16, torch.Generator().manual_seed(0)))
    assert gb[0].shape == (16, 1, 28, 28) and gb[1].shape == (16,)
    sub = digits.pool.subset(torch.arange(10))
    it = image_batches(sub.images, sub.labels, 64, torch.Generator().manual_seed(0))
    x, y = next(it)
    assert x.shape[0] == 10  # a budget smaller than the batch is one whole batch
    assert sorted(y.tolist()) == sorted(sub.labels.tolist())


def test_corrupted_cache_is_rebuilt(tmp_path, monkeypatch):
    from workbench.data import store

    path = tmp_path / "x.safetensors"
    store.save_tensors(path, {"a": torch.arange(3)})
    assert torch.equal(store.load_tensors(path)["a"], torch.arange(3))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.warns(UserWarning, match="rebuilding"):
        assert store.load_tensors(path) is None
    assert not path.exists()
