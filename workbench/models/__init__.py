"""Models that expose their ordered layer groups (input to output), the unit of freezing and LRs.

The registry below is what a checkpoint's ``arch`` field is looked up in: a new model is a class with
``layer_groups()``, an ``arch`` name and an entry here; checkpoints then save and load it unchanged.
"""
from __future__ import annotations


def architectures() -> dict:
    """``{arch name: (model class, config-from-dict)}`` for every model a checkpoint may hold.

    Imported lazily so that ``import workbench.models`` stays cheap (transformers is heavy).
    """
    from .cnn import CNNConfig, SmallCNN
    from .text import TEXT_ARCHITECTURES

    return {SmallCNN.arch: (SmallCNN, CNNConfig.from_dict), **TEXT_ARCHITECTURES}
