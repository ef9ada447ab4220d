import pandas as pd
import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.experiments.compare import compare, markdown_table, paired_gains, seeds_for, summarize
from workbench.tasks.vision import VisionTask


def test_paired_gains_subtract_the_same_seed():
    rows = [("scratch", 10, 0, 0.5), ("scratch", 10, 1, 0.7), ("probe", 10, 0, 0.6), ("probe", 10, 1, 0.65)]
    df = pd.DataFrame(rows, columns=["recipe", "budget", "seed", "score"]).assign(metric="accuracy")
    g = paired_gains(df).iloc[0]
    assert g.gain == pytest.approx((0.1 - 0.05) / 2) and g.wins == 1 and g.seeds == 2
    s = summarize(df)
    assert s[s.recipe == "scratch"]["mean"].iloc[0] == pytest.approx(0.6)
    assert "wins 1/2" in markdown_table(df)
    with pytest.raises(WorkbenchError, match="baseline recipe 'nope'"):
        paired_gains(df, "nope")


def test_seeds_for():
    assert seeds_for(10, 3) == [0, 1, 2]
    assert seeds_for(10, {10: 2, "default": 1}) == [0, 1] and seeds_for(50, {10: 2, "default": 1}) == [0]
    with pytest.raises(WorkbenchError):
        seeds_for(10, 0)


def test_compare_runs_every_recipe_on_the_same_subsets(quick_pretrained, digits):
    from workbench.train.recipe import get_recipe

    task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
    drawn = {}  # (recipe, budget, seed) -> the labeled indices its batches were made from
    make_batches = task.batches

    def spy(recipe, idx, seed):
        drawn[recipe.name, len(idx), seed] = idx.clone()
        return make_batches(recipe, idx, seed)

    task.batches = spy
    recipes = [get_recipe(n, steps=10) for n in ("scratch", "probe")]
    seen = []
    df = compare(task, recipes, [10, 20], {10: 2, 20: 1}, progress=False, on_result=seen.append)
    assert list(df.columns[:6]) == ["task", "recipe", "budget", "seed", "metric", "score"]
    assert len(df) == 6 == len(seen) and set(df.metric) == {"accuracy"} and df.score.between(0, 1).all()
    assert len(drawn) == 6
    for budget, seed in [(10, 0), (10, 1), (20, 0)]:  # same seed: the very same images for every recipe
        assert torch.equal(drawn["scratch", budget, seed], drawn["probe", budget, seed])
    assert set(drawn["scratch", 10, 0].tolist()) != set(drawn["scratch", 10, 1].tolist())  # another seed, another draw
    with pytest.raises(WorkbenchError, match="no recipes"):
        compare(task, [], [10], 1)


def test_paired_gains_carry_a_t_interval_and_readings_warn_below_five_seeds():
    from scipy import stats

    gains = [0.1, 0.3, 0.2]
    rows = [("scratch", 10, s, 0.5) for s in range(3)] + [("probe", 10, s, 0.5 + g) for s, g in enumerate(gains)]
    df = pd.DataFrame(rows, columns=["recipe", "budget", "seed", "score"]).assign(metric="accuracy")
    g = paired_gains(df).iloc[0]
    half = stats.t.ppf(0.975, 2) * pd.Series(gains).std() / 3 ** 0.5
    assert g.ci_low == pytest.approx(0.2 - half) and g.ci_high == pytest.approx(0.2 + half)
    text = markdown_table(df)
    assert f"[{0.2 - half:+.3f}, {0.2 + half:+.3f}]" in text and "Warning: only 3 seeds" in text
    five = pd.concat([df.assign(seed=df.seed + 3 * k) for k in range(2)])
    assert "Warning" not in markdown_table(five)


def test_a_comparison_records_what_it_ran(tmp_path):
    from workbench.report.writing import write_comparison
    from workbench.tasks.baselines import BASELINES
    from workbench.train.recipe import Recipe, get_recipe

    rows = [("scratch", 10, s, 0.5 + s / 10) for s in range(2)] + [("tfidf", 10, s, 0.6) for s in range(2)]
    df = pd.DataFrame(rows, columns=["recipe", "budget", "seed", "score"]).assign(metric="accuracy")
    from workbench.experiments.compare import recipe_record

    scratch = get_recipe("scratch", steps=7)
    df.attrs["recipes"] = {"scratch": recipe_record(scratch), "tfidf": recipe_record(BASELINES["tfidf"])}
    paths = write_comparison(df, tmp_path, "t")
    import json

    saved = json.loads(paths["recipes"].read_text())
    assert saved["tfidf"]["kind"] == "baseline" and saved["scratch"]["kind"] == "recipe"
    assert Recipe.from_dict(saved["scratch"]) == scratch and saved["scratch"]["steps"] == 7
    summary = paths["summary"].read_text()
    assert scratch.describe() in summary and BASELINES["tfidf"].description in summary
