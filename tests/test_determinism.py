"""The same seed gives the same results table twice on CPU; GPU runs warn that they may not."""
import warnings

import pandas as pd
import torch

from workbench import device as wb_device
from workbench.experiments.compare import compare, markdown_table
from workbench.tasks.vision import VisionTask
from workbench.train.recipe import get_recipe


def test_a_small_comparison_run_twice_gives_the_same_table(quick_pretrained, digits):
    def once():
        task = VisionTask(digits, pretrained=quick_pretrained.model, device="cpu")
        # scratch and a fine-tune with augmentation: model init, subset draw, batch order, augmentation
        recipes = [get_recipe("scratch", steps=20), get_recipe("discriminative", steps=20)]
        return compare(task, recipes, [10, 20], 2, progress=False)

    a, b = once(), once()
    assert len(a) == 8
    cols = ["task", "recipe", "budget", "seed", "metric", "score", "steps"]  # everything but wall-clock seconds
    pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True)
    assert markdown_table(a) == markdown_table(b)
    assert a.score.nunique() > 1  # the runs did differ from each other, so equality means something


def test_gpu_runs_warn_unless_deterministic_algorithms_are_on(monkeypatch):
    monkeypatch.setattr(wb_device, "_warned", set())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wb_device.warn_if_nondeterministic(torch.device("cpu"))  # CPU: silent
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wb_device.warn_if_nondeterministic(torch.device("cuda"))
        wb_device.warn_if_nondeterministic(torch.device("cuda"))  # once per process
    assert len(caught) == 1 and "torch.use_deterministic_algorithms(True)" in str(caught[0].message)
    monkeypatch.setattr(wb_device, "_warned", set())
    torch.use_deterministic_algorithms(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            wb_device.warn_if_nondeterministic(torch.device("cuda"))
    finally:
        torch.use_deterministic_algorithms(False)
