"""cache_status(): what notebook 00 reports as pre-warmed, read from the cache without building anything."""
from __future__ import annotations


def test_cache_status_finds_the_model_pretrained_cnn_loads(tmp_path, monkeypatch, tiny_cnn):
    import workbench.pretrain.vision as vision
    from workbench.course.prewarm import cache_status
    from workbench.train.checkpoints import save_checkpoint

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    before = cache_status()
    assert [r["model"] for r in before] == ["pretrained CNN", "pretrained tiny GPT"]
    assert not any(r["cached"] for r in before) and all(r["pretrain_seconds"] is None for r in before)

    cnn = before[0]
    save_checkpoint(cnn["path"], tiny_cnn, metrics={"seconds": 12.5, "steps": 1000})
    after = cache_status()
    assert after[0]["cached"] and after[0]["pretrain_seconds"] == 12.5 and after[0]["steps"] == 1000
    assert not after[1]["cached"]

    # the folder it reports is the one pretrained_cnn() loads by default (it must not pretrain)
    def no_training(**kw):
        raise AssertionError("pretrained_cnn() would pretrain: cache_status() looked in the wrong folder")

    monkeypatch.setattr(vision, "pretrain_vision", no_training)
    assert vision.pretrained_cnn(progress=False).path == cnn["path"]


def test_an_unreadable_cache_entry_is_not_prewarmed(tmp_path, monkeypatch):
    from pathlib import Path

    from workbench.course.prewarm import cache_status

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    path = Path(cache_status()[0]["path"])
    path.mkdir(parents=True)
    (path / "workbench.json").write_text("{not json")
    assert not cache_status()[0]["cached"]
