"""Optional sources that need the internet (torchvision downloads) or the user's own folder.

Nothing here runs by default. Offline, a download fails with one line naming the offline dataset to
use instead, not a urllib traceback.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import WorkbenchError
from ..paths import cache_dir
from .images import ImageData, TargetTask, _split

ONLINE_TARGETS = ("mnist", "fashion-mnist", "kmnist", "cifar10")
TEST_SIZE = 2000


def _tensors(ds) -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.as_tensor(ds.data)
    if data.ndim == 4:  # CIFAR: N x H x W x 3 uint8 -> grey, as the CNN takes one channel
        data = data.float().mean(-1)
    images = data.float().div(255.0).unsqueeze(1)
    if images.shape[-1] != 28:
        images = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False)
    return images, torch.as_tensor(ds.targets, dtype=torch.int64)


def load_online(name: str) -> TargetTask:
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST, "kmnist": tvd.KMNIST, "cifar10": tvd.CIFAR10}[name]
    root = cache_dir() / "torchvision"
    try:
        ds = cls(str(root), train=True, download=True)
    except Exception as err:  # URLError, socket errors, HTTP errors: all mean "no network"
        raise WorkbenchError(
            f"dataset {name!r} must be downloaded and that failed ({err.__class__.__name__}); "
            "offline, use 'mnist5k' or 'sklearn-digits' instead"
        ) from None
    images, labels = _tensors(ds)
    return _split(ImageData(name, images, labels, [str(c) for c in ds.classes]), TEST_SIZE)


def image_folder(path: str) -> TargetTask:
    """Your own images, one sub-folder per class, turned grey and 28x28 like MNIST."""
    from torchvision.datasets import ImageFolder
    from torchvision.transforms import v2

    if not Path(path).is_dir():
        raise WorkbenchError(f"image folder {path!r} does not exist; give a folder with one sub-folder per class")
    tf = v2.Compose([v2.Grayscale(), v2.Resize((28, 28)), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    try:
        ds = ImageFolder(path, transform=tf)
    except (FileNotFoundError, OSError) as err:  # no class sub-folders, or none with images in them
        raise WorkbenchError(f"image folder {path!r} has no class sub-folders with images ({err.__class__.__name__}); "
                             "put each class's images in its own sub-folder") from None
    if len(ds.classes) < 2:
        raise WorkbenchError(f"image folder {path!r} has {len(ds.classes)} class sub-folder; a classifier needs at least 2")
    images = torch.stack([img for img, _ in ds])
    labels = torch.tensor(ds.targets)
    per_class = int(torch.bincount(labels).min())
    test_size = max(len(ds.classes), min(len(ds) // 5, per_class // 5 * len(ds.classes)))
    return _split(ImageData(Path(path).name, images, labels, list(ds.classes)), test_size)
