import pandas as pd
import pytest

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
    recipes = [get_recipe(n, steps=10) for n in ("scratch", "probe")]
    seen = []
    df = compare(task, recipes, [10, 20], {10: 2, 20: 1}, progress=False, on_result=seen.append)
    assert list(df.columns[:6]) == ["task", "recipe", "budget", "seed", "metric", "score"]
    assert len(df) == 6 == len(seen) and set(df.metric) == {"accuracy"} and df.score.between(0, 1).all()
    with pytest.raises(WorkbenchError, match="no recipes"):
        compare(task, [], [10], 1)
