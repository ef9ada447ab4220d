"""The Task protocol's conformance test (like scikit-learn's ``check_estimator``): every task, through the protocol.

``check_task`` asks only what the protocol promises, so a new task passes it without edits elsewhere:
VisionTask, GenreTask and ShuffledTask with tiny budgets and steps, and a toy regression task defined
here whose metric is lower-is-better and whose budget is not counted in images.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from workbench.errors import WorkbenchError
from workbench.experiments.compare import compare, markdown_table, paired_gains
from workbench.tasks.base import RunResult, Task, data_seed
from workbench.tasks.baselines import Baseline
from workbench.train.recipe import Recipe


# -- a toy task: regression, mean squared error (lower is better) -------------------------------------------
class _Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head = nn.Linear(4, 8), nn.Linear(8, 1)

    def layer_groups(self):
        return {"body": self.body, "head": self.head}

    def forward(self, x):
        return self.head(torch.relu(self.body(x))).squeeze(-1)


class ToyRegression(Task):
    """y = x . w + noise; scored by mean squared and absolute error on a fixed test set."""

    name = "toy-regression"
    metrics = {"mse": False, "mae": False}
    budget_unit = "points"
    recipes = {"scratch": Recipe(name="scratch", init="scratch", lr=1e-2, steps=5, batch_size=8, augment="none"),
               "slow": Recipe(name="slow", init="scratch", lr=1e-3, steps=5, batch_size=8, augment="none")}
    baselines = {"mean": Baseline("mean", "predict the labeled points' mean")}

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        w = torch.randn(4, generator=g)
        self.x = torch.randn(160, 4, generator=g)
        self.y = self.x @ w + 0.1 * torch.randn(160, generator=g)
        self.pool, self.test = slice(0, 100), slice(100, 160)
        self.device = "cpu"

    def subset(self, budget, seed):
        if budget > 100:
            raise WorkbenchError(f"budget {budget} is larger than the pool of 100 points; use at most 100")
        return torch.from_numpy(np.random.default_rng(seed).choice(100, budget, replace=False))

    def build_model(self, recipe, seed, train_idx=None):
        torch.manual_seed(data_seed(seed) + 2)
        return _Toy()

    def batches(self, recipe, idx, seed):
        gen = torch.Generator().manual_seed(data_seed(seed))
        x, y = self.x[idx], self.y[idx]
        while True:
            pick = torch.randint(len(idx), (min(recipe.batch_size, len(idx)),), generator=gen)
            yield x[pick], y[pick]

    def fit_options(self, recipe, idx, *, eval_every=None):
        return {"loss_fn": lambda m, b: ((m(b[0]) - b[1]) ** 2).mean()}

    def _scores(self, pred):
        err = pred - self.y[self.test]
        return {"mse": float((err ** 2).mean()), "mae": float(err.abs().mean())}

    @torch.no_grad()
    def evaluate(self, model):
        model.eval()
        return self._scores(model(self.x[self.test]))

    def run_baseline(self, baseline, idx, seed):
        return self._scores(torch.full((60,), float(self.y[idx].mean()))), {}


# -- the checks every task must pass ------------------------------------------------------------------------
def check_task(task: Task, recipes: list, budget: int, other_budget: int) -> None:
    """Everything compare, the lab, the widgets and the CLI rely on, asked through the protocol only."""
    assert isinstance(task, Task) and isinstance(task.name, str) and isinstance(task.budget_unit, str)
    assert task.metric == next(iter(task.metrics)) and task.higher_is_better is task.metrics[task.metric]
    assert task.recipes and all(isinstance(r, Recipe) and r.name == n for n, r in task.recipes.items())
    assert all(isinstance(b, Baseline) and b.name == n for n, b in task.baselines.items())
    for name in [*task.recipes, *task.baselines]:
        assert task.get_recipe(name).name == name
    with pytest.raises(WorkbenchError, match="unknown recipe 'nope'; choose one of"):
        task.get_recipe("nope")

    # every argument is checked before any training
    first = recipes[0]
    for bad, message in [(([first], [budget, budget]), "appears twice in budgets"),
                         (([first], [0]), "budget must be a positive whole number"),
                         (([first], []), "no budgets"),
                         (([], [budget]), "no recipes"),
                         (([first, first], [budget]), "appears twice in recipes"),
                         (([first], [10**7]), "larger than the pool")]:
        with pytest.raises(WorkbenchError, match=message):
            task.check(*bad)
    assert [r.name for r in task.check(recipes, [budget])] == [task.get_recipe(r).name for r in recipes]

    # the labeled draw depends on (budget, seed) only
    a, b, c = task.subset(budget, 0), task.subset(budget, 0), task.subset(budget, 1)
    assert len(a) == budget and torch.equal(a, b) and not torch.equal(a.sort().values, c.sort().values)

    # one run: every metric, the primary one as score, deterministic for a seed
    run = task.run(recipes[0], budget, 0)
    assert isinstance(run, RunResult) and set(run.scores) == set(task.metrics)
    assert run.score == run.scores[task.metric] and run.steps == task.get_recipe(recipes[0]).steps
    assert task.run(recipes[0], budget, 0).score == run.score

    # and a comparison that needs no domain: the task's own book, its direction, what ran
    results = compare(task, recipes, [budget, other_budget], 2, progress=False)
    assert len(results) == 2 * 2 * len(recipes) and set(results.metric) == {task.metric}
    assert set(results.higher_is_better) == {task.higher_is_better}
    assert set(results.attrs["recipes"]) == {task.get_recipe(r).name for r in recipes}
    for m in task.metrics:
        if m != task.metric:
            assert results[f"score_{m}"].notna().all()
    base = task.get_recipe(recipes[0]).name
    gains = paired_gains(results, base)
    assert len(gains) == 2 * (len(recipes) - 1) and {"ci_low", "ci_high"} <= set(gains.columns)
    assert "Warning: only 2 seeds" in markdown_table(results, base)


@pytest.fixture(scope="module")
def tiny_lm():
    from workbench.data.text import shakespeare_tokenizer
    from workbench.models.text import TinyConfig, TinyLM
    from workbench.pretrain.text import PretrainedText

    tok = shakespeare_tokenizer("bpe")
    torch.manual_seed(0)
    return PretrainedText(TinyLM(TinyConfig(vocab_size=tok.vocab_size, n_layer=1, n_head=2, n_embd=16, block_size=128)), tok, {}, [])


def test_vision_task_conforms(quick_pretrained, digits):
    from workbench.tasks.vision import VisionTask

    task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
    check_task(task, [task.get_recipe(n, steps=3) for n in ("scratch", "probe")], 10, 20)


def test_genre_task_conforms(tiny_lm):
    from workbench.tasks.text import GenreTask

    task = GenreTask(pretrained=tiny_lm, device="cpu", test_per_class=10)
    assert task.metrics == {"macro_f1": True, "accuracy": True} and "zeroshot" not in task.baselines
    with pytest.raises(WorkbenchError, match="the zeroshot baseline does not apply to genre; its baselines: tfidf, bow"):
        task.check(["scratch", "zeroshot"], [6])
    check_task(task, [task.get_recipe("scratch", steps=2, batch_size=6), "tfidf"], 6, 9)


def test_shuffled_task_conforms(tiny_lm):
    from workbench.tasks.text import ShuffledTask

    task = ShuffledTask(pretrained=tiny_lm, device="cpu", test_pairs=30)
    check_task(task, [task.get_recipe("scratch", steps=2, batch_size=6), "bow", "zeroshot"], 6, 10)


def test_a_lower_is_better_task_conforms_and_gains_follow_its_direction():
    task = ToyRegression()
    check_task(task, ["scratch", "slow", "mean"], 20, 40)
    results = compare(task, ["scratch", "mean"], [20], 3, progress=False)
    g = paired_gains(results, "mean").iloc[0]
    s, m = results[results.recipe == "scratch"].score.to_numpy(), results[results.recipe == "mean"].score.to_numpy()
    assert g.gain == pytest.approx((m - s).mean())  # a lower error than the baseline is a positive gain
    assert g.wins == int((s < m).sum())
    assert "mse (lower is better)" in markdown_table(results, "mean")


def test_panels_take_names_metric_and_budget_unit_from_the_task():
    """No vision assumptions in the panels: a lower-is-better task counted in points drives them too."""
    from workbench.widgets.compare import ComparePanel
    from workbench.widgets.train import TrainPanel

    task = ToyRegression()
    panel = ComparePanel(task, recipes=("scratch", "mean"), budgets=(20,), seeds=2, steps=10)
    assert set(panel.recipes.options) == {"yours", "scratch", "slow", "mean"}
    assert [r.name for r in panel.chosen_recipes()] == ["scratch", "mean"]
    panel.baseline.value = "mean"
    panel.run()
    assert panel.wait(60) and len(panel.results) == 4, panel.message.value
    assert "mse, positive = better" in panel.gain_table.value and "labeled points" in panel.gain_table.value
    assert TrainPanel(task, budget=20).budget.description == "labeled points N"
