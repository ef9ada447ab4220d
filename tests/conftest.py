"""Shared fixtures: real data, and a briefly pretrained CNN (real training, a few seconds)."""
from __future__ import annotations

import os

import pytest
import torch

# Comparisons run serially unless a test asks for workers (tests/test_sweep.py does): on 2 shared cores a
# pool per small comparison would cost more than it saves, and serial is the reference the sweep matches.
os.environ.setdefault("WORKBENCH_JOBS", "1")


@pytest.fixture(scope="session")
def digits():
    from workbench.data.digits import mnist5k

    return mnist5k()


@pytest.fixture(scope="session")
def quick_pretrained():
    """A CNN pretrained for 80 steps on glyphs: enough to beat chance on real digits, cached by its key."""
    from workbench.pretrain.vision import pretrained_cnn

    return pretrained_cnn(steps=80, seed=0, progress=False)


@pytest.fixture
def tiny_cnn():
    from workbench.models.cnn import CNNConfig, SmallCNN

    torch.manual_seed(0)
    return SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=10))
