"""Tokenizers (characters or byte-level BPE) and resident-tensor batches of tokens.

Both tokenizers are Hugging Face ``tokenizers`` objects, so one file, ``tokenizer.json``, saves either
one beside a model's weights and ``transformers.PreTrainedTokenizerFast(tokenizer_file=...)`` reads it.
The character tokenizer is a BPE model with no merges (one token per character); the byte-level BPE
learns ``vocab_size`` tokens from the *training plays only*, so held-out text never shapes it.
Special tokens come first in both: ``<pad>`` (0), ``<unk>`` (1), ``<mask>`` (2).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from ..errors import WorkbenchError, check_choice
from ..paths import cache_dir
from .store import atomic_write, load_tensors, save_tensors

SPECIALS = ["<pad>", "<unk>", "<mask>"]
PAD, UNK, MASK = (SPECIALS.index(t) for t in ("<pad>", "<unk>", "<mask>"))  # the one home of the special-token ids
TOKENIZERS = ("char", "bpe")
TOKENIZER_FILE = "tokenizer.json"


class TextTokenizer:
    """A thin wrapper: ``encode(text) -> list[int]``, ``decode(ids) -> str``, ``save(folder)``, ``load(folder)``."""

    def __init__(self, tokenizer: Tokenizer, kind: str):
        self.tok = tokenizer
        self.kind = kind

    @property
    def vocab_size(self) -> int:
        return self.tok.get_vocab_size()

    @property
    def pad_id(self) -> int:
        return PAD

    @property
    def mask_id(self) -> int:
        return MASK

    @property
    def special_ids(self) -> list[int]:
        """Ids of the special tokens (never sampled, never decoded)."""
        return list(range(len(SPECIALS)))

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch(list(texts))]

    def decode(self, ids) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        if self.kind == "char":  # the char "model" has no decoder: tokens are characters
            vocab = self._id_to_token()
            return "".join(vocab.get(i, "") for i in ids if i >= len(SPECIALS))
        return self.tok.decode(ids, skip_special_tokens=True)

    def _id_to_token(self) -> dict[int, str]:
        if not hasattr(self, "_itos"):
            self._itos = {i: t for t, i in self.tok.get_vocab().items()}
        return self._itos

    def tokens(self, text: str) -> list[str]:
        """The pieces a text is cut into (for showing tokenization to students)."""
        ids = self.encode(text)
        return [self.decode([i]) for i in ids]

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / TOKENIZER_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tok.save(str(path))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> TextTokenizer:
        path = Path(folder)
        path = path if path.suffix == ".json" else path / TOKENIZER_FILE
        if not path.exists():
            raise WorkbenchError(f"no {TOKENIZER_FILE} in {path.parent}; save the tokenizer with the model (tokenizer.save(folder))")
        try:
            tok = Tokenizer.from_file(str(path))
        except Exception as err:  # the tokenizers library raises a bare Exception on a damaged file
            raise WorkbenchError(f"{path} is corrupted or not a tokenizer ({err.__class__.__name__}); save the tokenizer "
                                 "with its model again") from None
        kind = "char" if tok.decoder is None else "bpe"
        return cls(tok, kind)

    def __repr__(self) -> str:
        return f"TextTokenizer({self.kind}, vocab_size={self.vocab_size})"


def char_tokenizer(text: str) -> TextTokenizer:
    """One token per character seen in ``text`` (others become ``<unk>``)."""
    chars = sorted(set(text))
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    vocab.update({c: i + len(SPECIALS) for i, c in enumerate(chars)})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok.add_special_tokens(SPECIALS)
    return TextTokenizer(tok, "char")


def bpe_tokenizer(text: str, vocab_size: int = 2048) -> TextTokenizer:
    """Byte-level BPE learned from ``text`` (GPT-2's scheme: no unknown characters, ever)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    chunks = text.split("\n\n")
    tok.train_from_iterator(chunks, trainer=trainer)
    return TextTokenizer(tok, "bpe")


def shakespeare_tokenizer(kind: str = "bpe", vocab_size: int = 2048) -> TextTokenizer:
    """The tokenizer of the training plays (cached): ``char`` or byte-level ``bpe``."""
    from .shakespeare import corpus_text

    check_choice("tokenizer", kind, TOKENIZERS)
    name = "char" if kind == "char" else f"bpe{vocab_size}"
    folder = cache_dir() / "text" / f"tokenizer-{name}"
    if (folder / TOKENIZER_FILE).exists():
        try:
            return TextTokenizer.load(folder)
        except Exception:  # a corrupted cache file: rebuild it
            pass
    text = corpus_text("train")
    tok = char_tokenizer(text) if kind == "char" else bpe_tokenizer(text, vocab_size)
    atomic_write(folder / TOKENIZER_FILE, lambda tmp: tok.tok.save(str(tmp)))
    return tok


def encode_corpus(tok: TextTokenizer, split: str, cache_name: str | None = None) -> torch.Tensor:
    """The spoken text of a split as one long tensor of token ids (cached when ``cache_name`` is given)."""
    from .shakespeare import corpus_text

    path = cache_dir() / "text" / f"ids-{cache_name}-{split}.safetensors" if cache_name else None
    if path is not None:
        cached = load_tensors(path)
        if cached is not None:
            return cached["ids"]
    text = corpus_text(split)
    chunks = text.split("\n\n")
    ids = [i for piece in tok.encode_batch([c + "\n\n" for c in chunks]) for i in piece]
    out = torch.tensor(ids, dtype=torch.int16 if tok.vocab_size < 32_000 else torch.int32)
    if path is not None:
        save_tensors(path, {"ids": out})
    return out


def lm_batches(ids: torch.Tensor, block_size: int, batch_size: int, gen: torch.Generator) -> Iterator[dict]:
    """Endless batches of ``batch_size`` random windows of ``block_size`` tokens from one long stream."""
    if len(ids) <= block_size:
        raise WorkbenchError(f"the text has {len(ids)} tokens, fewer than block_size={block_size}; use a smaller block")
    offsets = torch.arange(block_size)
    while True:
        starts = torch.randint(0, len(ids) - block_size, (batch_size, 1), generator=gen)
        yield {"input_ids": ids[starts + offsets].long()}


def corpus_ids(tok: TextTokenizer, split: str) -> torch.Tensor:
    """``encode_corpus`` with the cache named after the tokenizer (``char`` or ``bpe<vocab>``): one rule for every caller."""
    return encode_corpus(tok, split, tok.kind if tok.kind == "char" else f"bpe{tok.vocab_size}")


def eval_windows(ids: torch.Tensor, block_size: int, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` fixed windows (the same every call) for measuring held-out loss."""
    gen = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(ids) - block_size, (n, 1), generator=gen)
    return ids[starts + torch.arange(block_size)].long()


def pad_sequences(seqs: Sequence[Sequence[int]], max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``(input_ids, attention_mask)`` (truncated to ``max_len`` when given)."""
    max_len = max_len or max(len(s) for s in seqs)
    ids = torch.full((len(seqs), max_len), PAD, dtype=torch.long)
    mask = torch.zeros((len(seqs), max_len), dtype=torch.long)
    for i, s in enumerate(seqs):
        s = list(s)[:max_len]
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def class_batches(ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor, batch_size: int,
                  gen: torch.Generator, groups: torch.Tensor | None = None) -> Iterator[dict]:
    """Epochs of shuffled labeled batches. With ``groups`` (e.g. twin pairs), members of a group stay together."""
    n = len(labels)
    if groups is None:
        groups = torch.arange(n)
    uniq = torch.unique(groups)
    members = [torch.nonzero(groups == g).flatten() for g in uniq]
    per = max(1, len(members[0]))
    groups_per_batch = max(1, min(len(members), batch_size // per))
    while True:
        order = torch.randperm(len(members), generator=gen)
        for start in range(0, len(members) - groups_per_batch + 1, groups_per_batch):
            idx = torch.cat([members[j] for j in order[start: start + groups_per_batch].tolist()])
            width = int(mask[idx].sum(1).max())  # trim padding shared by the whole batch
            yield {"input_ids": ids[idx, :width], "attention_mask": mask[idx, :width], "labels": labels[idx]}
