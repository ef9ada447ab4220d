"""The names a user types, each listed once: the registries are keyed by these and the CLI offers them.

This module imports nothing, so ``workbench --help`` can list every choice without loading torch or
transformers; the modules that own each concept import their names from here (and
``tests/test_architecture.py`` checks that the registries match).
"""
from __future__ import annotations

#: text tasks (workbench.tasks.text.TEXT_TASKS): name -> what it asks and how it is scored
TEXT_TASKS = {"genre": "comedy, history or tragedy? (macro-F1)", "shuffled": "real passage or its word-shuffled twin? (accuracy)"}

#: the pretrained model a text task fine-tunes (workbench.tasks.text.TextTask)
BACKBONES = {"tiny": "the tiny GPT pretrained on Shakespeare's training plays (cached)",
             "minilm": "all-MiniLM-L6-v2, the optional extra workbench[minilm]"}

#: how a text classifier reads the transformer's hidden states (workbench.models.text, a recipe's ``head``)
POOLINGS = {"mean": "average over the real tokens (measured better than last)",
            "last": "the last real token",
            "lm": "the passage's mean LM loss minus a unigram model's, through the LM head (the likelihood recipe)"}
#: a recipe's ``head``: ``linear`` is the model's default reading (``mean`` pooling for a transformer)
HEADS = ("linear", *POOLINGS)

#: language-model pretraining (workbench.pretrain.text)
OBJECTIVES = {"clm": "next token (GPT)", "mlm": "masked tokens (BERT)"}
TOKENIZERS = {"char": "characters", "bpe": "byte-level BPE (vocab 2048)"}

#: the pitfalls lab (workbench.cli.lab)
LAB_EXPERIMENTS = {
    "forgetting": "glyph accuracy lost by fine-tuning, BN-statistics vs weight drift, what limits it (--text: tiny GPT)",
    "overfitting": "train/test curves at tiny N; early stopping on a carved validation split vs fixed steps",
    "augmentation": "none vs light augmentation for fine-tuning and scratch at small N",
    "sensitivity": "LR x recipe grid over seeds (heatmap) and the LR range test",
    "cost": "seconds and FLOPs of pretraining vs fine-tuning vs scratch, and the break-even task count",
}


def pooling_of(head: str) -> str:
    """The pooling a recipe's ``head`` asks a text classifier for."""
    return "mean" if head == "linear" else head

#: where a sweep's runs run: worker processes on this machine (joblib's loky) or a dask.distributed cluster
BACKENDS = ("loky", "dask")
