"""A tiny transformer a student can read top to bottom: GPT (causal) or BERT-style (masked) language model.

One small file in nanoGPT's spirit, but made a Hugging Face ``PreTrainedModel`` so the on-disk
conventions carry over to real checkpoints: ``save_pretrained(folder)`` writes ``config.json`` and
``model.safetensors``, ``TinyLM.from_pretrained(folder)`` reads them back.

- :class:`TinyLM`: embeddings -> ``n_layer`` blocks -> final norm -> LM head. ``config.causal`` picks
  GPT (each token sees only the past; trained to predict the next token) or BERT-style (every token
  sees every token; trained to fill in ``<mask>`` tokens).
- :class:`TinyClassifier`: the same body (its LM head kept as the ``lm_head`` group) plus a classification
  head that reads the hidden states by one of :data:`workbench.choices.POOLINGS`; with ``lm`` the logits
  are an affine function of the passage's mean LM loss, so fine-tuning reaches the knowledge stored in
  the LM head itself (the *likelihood* recipe).

Both define ``layer_groups()`` (embeddings, block1..n, head), the units recipes freeze and give LRs to.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel

from ..choices import POOLINGS


class TinyConfig(PretrainedConfig):
    model_type = "workbench-tiny"

    def __init__(self, vocab_size: int = 2048, n_layer: int = 4, n_head: int = 4, n_embd: int = 128,
                 block_size: int = 128, dropout: float = 0.0, causal: bool = True, pooling: str = "mean",
                 pad_token_id: int = 0, mask_token_id: int = 2, loss_center: float = 4.0, **kwargs):
        # the token ids default to workbench.data.text's (PAD, MASK); pretrain.text.model_config passes the tokenizer's
        self.vocab_size = vocab_size
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_embd = n_embd
        self.block_size = block_size
        self.dropout = dropout
        self.causal = causal
        self.pooling = pooling
        self.mask_token_id = mask_token_id
        self.loss_center = loss_center  # pooling="lm": the LM loss is centred on this before the affine head
        super().__init__(pad_token_id=pad_token_id, **kwargs)


def _dropout(p: float) -> nn.Module:
    """Dropout, or nothing at all when ``p`` is 0 (the default): an identity costs no call in the hot loop."""
    return nn.Dropout(p) if p > 0 else nn.Identity()


class SelfAttention(nn.Module):
    def __init__(self, c: TinyConfig):
        super().__init__()
        self.n_head, self.causal, self.dropout = c.n_head, c.causal, c.dropout
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        p = self.dropout if self.training else 0.0
        if self.causal:  # right padding never matters to a causal model: real tokens only look back
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
        else:  # bidirectional: every token may look at every real (non-pad) token
            attn_mask = None if pad_mask is None else pad_mask[:, None, None, :].bool()
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=p)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, c: TinyConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.n_embd)
        self.attn = SelfAttention(c)
        self.ln2 = nn.LayerNorm(c.n_embd)
        self.mlp = nn.Sequential(nn.Linear(c.n_embd, 4 * c.n_embd), nn.GELU(), nn.Linear(4 * c.n_embd, c.n_embd))
        self.drop = _dropout(c.dropout)

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x), pad_mask))
        return x + self.drop(self.mlp(self.ln2(x)))


class Embeddings(nn.Module):
    def __init__(self, c: TinyConfig):
        super().__init__()
        self.tok = nn.Embedding(c.vocab_size, c.n_embd)
        self.pos = nn.Embedding(c.block_size, c.n_embd)
        self.drop = _dropout(c.dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        return self.drop(self.tok(ids) + self.pos(pos))


class _Base(PreTrainedModel):
    config_class = TinyConfig
    base_model_prefix = "body"
    _no_split_modules = ["Block"]

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def _build_body(self, config: TinyConfig) -> None:
        """Embeddings, blocks, final norm and LM head: the part the LM and the classifier share."""
        self.embeddings = Embeddings(config)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, n_embd) after the final norm."""
        if input_ids.shape[1] > self.config.block_size:
            raise ValueError(f"sequence of {input_ids.shape[1]} tokens is longer than block_size={self.config.block_size}")
        x = self.embeddings(input_ids)
        for block in self.blocks:
            x = block(x, attention_mask)
        return self.ln_f(x)

    def groups_before_head(self) -> dict[str, nn.Module]:
        groups: dict[str, nn.Module] = {"embeddings": self.embeddings}
        groups.update({f"block{i + 1}": b for i, b in enumerate(self.blocks)})
        return groups

    def token_losses(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                     baseline: torch.Tensor | None = None) -> torch.Tensor:
        """Per passage: mean next-token loss over its real tokens (a causal LM's "how surprised am I").

        ``baseline`` (one loss per vocabulary entry, e.g. a unigram model's ``-log p(token)``) is subtracted
        token by token: the result is how much better the LM predicts the passage than that baseline would.
        """
        logits = self.lm_head(self.hidden_states(input_ids, attention_mask))[:, :-1]
        target = input_ids[:, 1:]
        loss = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")
        if baseline is not None:
            loss = loss - baseline[target]
        keep = torch.ones_like(loss) if attention_mask is None else attention_mask[:, 1:].to(loss.dtype)
        return (loss * keep).sum(1) / keep.sum(1).clamp_min(1)


class TinyLM(_Base):
    """Tiny GPT (``causal=True``) or tiny BERT-style masked LM (``causal=False``)."""

    arch = "tiny-lm"

    def __init__(self, config: TinyConfig):
        super().__init__(config)
        self._build_body(config)
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits over the vocabulary at every position, (B, T, vocab_size)."""
        return self.lm_head(self.hidden_states(input_ids, attention_mask))

    def layer_groups(self) -> dict[str, nn.Module]:
        return {**self.groups_before_head(), "head": nn.ModuleList([self.ln_f, self.lm_head])}

    @torch.no_grad()
    def generate_text(self, tokenizer, prompt: str = "\n", max_new_tokens: int = 200, temperature: float = 0.8,
                      top_k: int | None = 40, generator: torch.Generator | None = None) -> str:
        """Sample a continuation of ``prompt`` token by token (causal models only)."""
        if not self.config.causal:
            raise ValueError("a masked LM does not write left to right; sample from a causal (GPT) model")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        ids = torch.tensor([tokenizer.encode(prompt) or [tokenizer.pad_id]], device=device)
        start = ids.shape[1]
        for _ in range(max_new_tokens):
            logits = self(ids[:, -self.config.block_size:])[:, -1] / max(temperature, 1e-5)
            logits[:, tokenizer.special_ids] = -math.inf  # never sample <pad>, <unk>, <mask>
            if top_k:
                kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
                logits[logits < kth] = -math.inf
            nxt = torch.multinomial(F.softmax(logits, -1).cpu(), 1, generator=generator).to(device)
            ids = torch.cat([ids, nxt], 1)
        self.train(was_training)
        return tokenizer.decode(ids[0, start:].tolist())


class TinyClassifier(_Base):
    """The same body with a classification head reading pooled states (``mean``/``last``) or the LM loss (``lm``)."""

    arch = "tiny-classifier"

    def __init__(self, config: TinyConfig):
        super().__init__(config)
        self._build_body(config)
        self.classifier = nn.Linear(config.n_embd, config.num_labels)
        self.loss_scale = nn.Parameter(torch.zeros(config.num_labels))  # for pooling="lm": logit = scale * loss + bias
        # pooling="lm": per-token unigram losses (-log p(token) in the training corpus) subtracted from the LM loss, so
        # the feature is what the LM knows beyond word frequencies; zeros (the default) means the plain LM loss
        self.register_buffer("unigram_nll", torch.zeros(config.vocab_size))
        self.post_init()

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.hidden_states(input_ids, attention_mask)
        mask = torch.ones(input_ids.shape, device=h.device) if attention_mask is None else attention_mask.to(h.dtype)
        if self.config.pooling == "last":
            last = mask.sum(1).long().clamp_min(1) - 1
            return h[torch.arange(len(h), device=h.device), last]
        return (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp_min(1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits, (B, num_labels)."""
        if self.config.pooling == "lm":
            loss = self.likelihood_feature(input_ids, attention_mask)
            return self.loss_scale * (loss.unsqueeze(1) - self.config.loss_center) + self.classifier.bias
        return self.classifier(self.pooled(input_ids, attention_mask))

    def likelihood_feature(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The likelihood head's one feature per passage: mean LM loss minus the unigram baseline."""
        return self.token_losses(input_ids, attention_mask, baseline=self.unigram_nll)

    def layer_groups(self) -> dict[str, nn.Module]:
        """embeddings, block1..n, lm_head (final norm + LM head, pretrained), head (new: classifier + loss scale)."""
        head = nn.ModuleList([self.classifier, _ParamHolder(self.loss_scale)])
        return {**self.groups_before_head(), "lm_head": nn.ModuleList([self.ln_f, self.lm_head]), "head": head}

    @classmethod
    def from_lm(cls, lm: TinyLM, num_labels: int, pooling: str = "mean", generator: torch.Generator | None = None) -> TinyClassifier:
        """A classifier that starts from ``lm``'s weights with a fresh head (HF would warn: the head is new)."""
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of: {', '.join(POOLINGS)}")
        model = cls(classifier_config(lm.config, num_labels, pooling))
        missing, unexpected = model.load_state_dict(lm.state_dict(), strict=False)
        assert not unexpected and set(missing) <= {"classifier.weight", "classifier.bias", "loss_scale", "unigram_nll"}, (missing, unexpected)
        if generator is not None:
            with torch.no_grad():
                model.classifier.weight.normal_(0.0, 0.02, generator=generator)
                model.classifier.bias.zero_()
        return model.to(next(lm.parameters()).device)


class _ParamHolder(nn.Module):
    """Lets a bare parameter (the LM-loss scale) sit in a layer group."""

    def __init__(self, p: nn.Parameter):
        super().__init__()
        self.p = p


def classifier_config(config: TinyConfig, num_labels: int, pooling: str = "mean") -> TinyConfig:
    """A copy of an LM's config for a classifier with ``num_labels`` classes."""
    d = {k: v for k, v in config.to_dict().items() if k not in ("id2label", "label2id", "num_labels")}
    return TinyConfig(**{**d, "num_labels": num_labels, "pooling": pooling})


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


TEXT_ARCHITECTURES = {
    TinyLM.arch: (TinyLM, TinyConfig.from_dict),
    TinyClassifier.arch: (TinyClassifier, TinyConfig.from_dict),
}
