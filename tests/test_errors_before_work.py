"""Every argument is checked before any work: a bad plan fails at once, not after pretraining or half a comparison.

Each test runs on an empty cache and replaces pretraining (and the baselines) with a function that raises,
so a test passes only if the error came first.
"""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import WorkbenchError


class WorkHappened(RuntimeError):
    pass


def _forbid(*args, **kwargs):
    raise WorkHappened("work started before the arguments were checked")


@pytest.fixture
def no_work(tmp_path, tmp_path_factory, monkeypatch):
    """A cache with no models (its datasets built once for this file); any pretraining, or a text baseline, raises."""
    import workbench.models.minilm
    import workbench.pretrain.text
    import workbench.pretrain.vision
    import workbench.tasks.baselines

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cold-cache"))
    for module, name in [(workbench.pretrain.vision, "resolve_pretrained"), (workbench.pretrain.vision, "pretrained_cnn"),
                         (workbench.pretrain.vision, "pretrain_vision"), (workbench.pretrain.text, "pretrained_lm"),
                         (workbench.pretrain.text, "pretrain_text"), (workbench.tasks.baselines, "bag_of_words")]:
        monkeypatch.setattr(module, name, _forbid, raising=False)
    return tmp_path


def _main(args, capsys):
    from workbench.cli.main import main

    code = main(args)
    return code, capsys.readouterr().err


def test_lab_forgetting_with_a_budget_below_the_class_count_fails_before_pretraining(no_work, capsys):
    code, err = _main(["lab", "forgetting", "--budget", "3", "--out", str(no_work / "lab")], capsys)
    assert code == 2 and "budget 3 is smaller than the 10 classes" in err


def test_lab_overfitting_budget_too_small_for_a_validation_split_fails_before_pretraining(no_work, capsys):
    code, err = _main(["lab", "overfitting", "--budget", "12", "--out", str(no_work / "lab")], capsys)
    assert code == 2 and "too small to hold out" in err


def test_lab_forgetting_api_checks_the_budget_first(no_work):
    from workbench.experiments.lab import forgetting
    from workbench.tasks.vision import VisionTask

    with pytest.raises(WorkbenchError, match="smaller than the 10 classes"):
        forgetting(VisionTask("mnist5k", device="cpu"), budget=3)


def test_minilm_without_the_extra_fails_before_any_baseline_and_leaves_no_partial_results(no_work, capsys, monkeypatch):
    import workbench.models.minilm as minilm

    def missing():
        raise WorkbenchError(minilm.INSTALL_HINT)

    monkeypatch.setattr(minilm, "minilm_folder", missing)
    out = no_work / "cmp"
    code, err = _main(["compare", "text", "--task", "shuffled", "--backbone", "minilm", "--recipes", "bow,tfidf,finetune",
                       "--budgets", "10", "--seeds", "1", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and "optional extra" in err
    assert not (out / "results.partial.csv").exists() and not (out / "results.csv").exists()


@pytest.mark.parametrize("domain", ["vision", "text"])
def test_a_duplicate_budget_is_an_error(no_work, capsys, domain):
    code, err = _main(["compare", domain, "--budgets", "10,10", "--recipes", "scratch", "--seeds", "1",
                       "--out", str(no_work / domain), "--quiet"], capsys)
    assert code == 2 and "budget 10 appears twice in budgets" in err


def test_paired_gains_does_not_cross_join_duplicate_runs():
    from workbench.experiments.compare import paired_gains

    rows = [("scratch", 10, 0, 0.5), ("scratch", 10, 0, 0.7), ("probe", 10, 0, 0.6)]
    df = pd.DataFrame(rows, columns=["recipe", "budget", "seed", "score"]).assign(metric="accuracy")
    with pytest.raises(WorkbenchError, match="more than one result at budget 10, seed 0"):
        paired_gains(df)
