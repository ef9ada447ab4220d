"""A small CNN a student can read in one sitting.

Four conv3x3 (no bias) - BatchNorm - ReLU stages, max-pool after the first three, global average
pool, linear head: about 105k parameters at the default widths 16-32-64-128. The stages and the head
are its *layer groups*, the units that recipes freeze and give learning rates to.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class CNNConfig:
    widths: tuple[int, ...] = (16, 32, 64, 128)
    num_classes: int = 62
    in_channels: int = 1

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}

    @classmethod
    def from_dict(cls, d: dict) -> CNNConfig:
        return cls(widths=tuple(d["widths"]), num_classes=int(d["num_classes"]), in_channels=int(d.get("in_channels", 1)))


def _stage(cin: int, cout: int, pool: bool) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    arch = "small-cnn"

    def __init__(self, config: CNNConfig | None = None):
        super().__init__()
        self.config = config or CNNConfig()
        w = self.config.widths
        chans = (self.config.in_channels, *w)
        self.stages = nn.ModuleList(_stage(chans[i], chans[i + 1], pool=i < len(w) - 1) for i in range(len(w)))
        self.head = nn.Linear(w[-1], self.config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled representation the head reads (what a linear probe sees)."""
        for stage in self.stages:
            x = stage(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def layer_groups(self) -> dict[str, nn.Module]:
        groups = {f"stage{i + 1}": s for i, s in enumerate(self.stages)}
        groups["head"] = self.head
        return groups

    def replace_head(self, num_classes: int, generator: torch.Generator | None = None) -> None:
        """A fresh, randomly initialised head for a new task (the backbone keeps its weights)."""
        head = nn.Linear(self.head.in_features, num_classes)
        if generator is not None:
            bound = 1 / self.head.in_features**0.5
            with torch.no_grad():
                head.weight.uniform_(-bound, bound, generator=generator)
                head.bias.uniform_(-bound, bound, generator=generator)
        self.head = head.to(self.head.weight.device)
        self.config.num_classes = num_classes
