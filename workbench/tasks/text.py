"""Text tasks whose labels come free from the corpus: labeled pools from the training plays, tests from the held-out plays.

- :class:`GenreTask`: is an 80-word passage from a comedy, a history or a tragedy? (macro-F1)
- :class:`ShuffledTask`: is a 32-word passage real, or its twin with the same words in random order?
  (accuracy). Twins stay together: in every labeled budget, in every batch and in the test set, so
  any model that sees only word counts scores exactly 0.5.

Labeled pools come from the training plays (the ones the language model was pretrained on, as a
real fine-tuning set would be) and test sets from the 9 held-out plays, which no model sees in
pretraining or fine-tuning: a test score says how well a model generalises to plays it never read.
Both tasks implement the :class:`~workbench.tasks.base.Task` protocol, so ``compare`` runs them
unchanged. Besides transformer recipes they run the baselines (:mod:`workbench.tasks.baselines`)
``tfidf`` and ``bow`` and, for the shuffled task, ``zeroshot`` (the pretrained LM's own loss minus a
unigram model's, one threshold fit on the labels). The *likelihood* recipe fine-tunes through the same feature.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.shakespeare import GENRES, play_texts, plays
from ..data.subsets import balanced_subset
from ..data.text import class_batches, pad_sequences
from ..device import pick_device, seed_everything
from ..choices import BACKBONES, TEXT_TASKS as TEXT_TASK_NAMES, pooling_of
from ..errors import WorkbenchError, check_choice
from ..models.text import TinyClassifier, classifier_config
from ..train.recipe import TEXT_RECIPES, Recipe
from .base import Task, data_seed
from .baselines import BASELINES, Baseline, bag_of_words

_WORD = re.compile(r"\S+")


def play_parts(genres: tuple[str, ...] | None = None) -> dict[str, dict[str, str]]:
    """``{"pool": {play: text}, "test": {play: text}}``: pool from training plays, test from held-out plays.

    ``genres`` keeps only plays from those genre folders (the genre task has no label for a romance).
    """
    return {part: {p: t for p, t in play_texts(split).items() if genres is None or plays(split)[p] in genres}
            for part, split in (("pool", "train"), ("test", "held_out"))}


def word_passages(text: str, words: int, flatten: bool = False) -> list[str]:
    """Consecutive non-overlapping passages of ``words`` words (line breaks kept unless ``flatten``)."""
    spans = [m.span() for m in _WORD.finditer(text)]
    out = []
    for i in range(0, len(spans) - words + 1, words):
        chunk = spans[i: i + words]
        out.append(" ".join(text[a:b] for a, b in chunk) if flatten else text[chunk[0][0]: chunk[-1][1]])
    return out


@dataclass
class TextSplit:
    texts: list[str]
    labels: torch.Tensor
    groups: torch.Tensor  # twins share a group; otherwise one group per passage


def macro_f1(pred, labels) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(np.asarray(labels), np.asarray(pred), average="macro"))


def accuracy_score(pred, labels) -> float:
    return float((np.asarray(pred) == np.asarray(labels)).mean())


SCORERS = {"macro_f1": macro_f1, "accuracy": accuracy_score}


class TextTask(Task):
    """Shared machinery: encode passages for a backbone, build the model a recipe asks for, fit, score."""

    name = "text"
    metrics = {"accuracy": True}
    budget_unit = "passages"
    recipes = TEXT_RECIPES
    baselines = {n: BASELINES[n] for n in ("tfidf", "bow")}
    classes: tuple[str, ...] = ()
    paired = False

    def __init__(self, pretrained=None, backbone: str = "tiny", device=None, test_size: int | None = None):
        check_choice("backbone", backbone, BACKBONES)
        self.backbone = backbone
        self._pretrained = pretrained
        self.device = pick_device(device)
        self.pool, self.test = self.build()
        self._encoded: dict = {}

    # -- data -------------------------------------------------------------------------------------------
    def build(self) -> tuple[TextSplit, TextSplit]:
        raise NotImplementedError

    @property
    def pool_labels(self) -> torch.Tensor:
        return self.pool.labels

    def check_plan(self, plan) -> None:
        """The MiniLM extra is installed when it is the backbone; the zeroshot baseline has a causal LM to read."""
        if self.backbone == "minilm":
            from ..models.minilm import INSTALL_HINT, minilm_available

            if not minilm_available():
                raise WorkbenchError(INSTALL_HINT)
            if any(r.name == "zeroshot" and isinstance(r, Baseline) for r in plan):
                raise WorkbenchError("the zeroshot baseline needs a causal (GPT) language model; use --backbone tiny")

    def scores_of(self, pred, labels) -> dict[str, float]:
        """Every metric of :attr:`metrics` for predicted and true labels."""
        return {m: SCORERS[m](pred, labels) for m in self.metrics}

    def subset(self, budget: int, seed: int) -> torch.Tensor:
        """Indices of the labeled budget: class-balanced (and whole twin pairs for paired tasks)."""
        if not self.paired:
            return balanced_subset(self.pool.labels, budget, seed)
        n_pairs = len(torch.unique(self.pool.groups))
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
            raise WorkbenchError(f"budget must be a whole number of labeled passages, got {budget!r}")
        if budget > 2 * n_pairs:
            raise WorkbenchError(f"budget {budget} is larger than the pool of {2 * n_pairs} labeled passages; use at most {2 * n_pairs}")
        if budget < 2 or budget % 2:
            raise WorkbenchError(f"budget {budget} must be an even number of passages, at least 2: {self.name} draws whole pairs of twins")
        rng = np.random.default_rng(seed)
        pairs = torch.from_numpy(rng.choice(n_pairs, budget // 2, replace=False))
        return torch.nonzero(torch.isin(self.pool.groups, pairs)).flatten()

    # -- the pretrained language model -------------------------------------------------------------------
    def load_pretrained(self, source=None, *, progress: bool = True):
        """Resolve the backbone this task fine-tunes (the one place a text task does it): ``source`` (or the one
        given at construction) is a PretrainedText or a checkpoint folder; none means the cached tiny LM
        (pretrained first if missing) or, for ``backbone="minilm"``, the MiniLM extra."""
        source = self._pretrained if source is None else source
        if source is None:
            if self.backbone == "minilm":
                from ..models.minilm import load_minilm

                source = load_minilm()
            else:
                from ..pretrain.text import pretrained_lm

                source = pretrained_lm(device=self.device, progress=progress)
        elif isinstance(source, str) or hasattr(source, "__fspath__"):
            from ..pretrain.text import load_pretrained_text

            source = load_pretrained_text(source)
        self.pretrained = source
        return source

    @property
    def pretrained(self):
        """The pretrained backbone: a PretrainedText (tiny GPT + tokenizer) or the MiniLM bundle (resolved on first use)."""
        if self._pretrained is None or isinstance(self._pretrained, str) or hasattr(self._pretrained, "__fspath__"):
            self.load_pretrained()
        return self._pretrained

    @pretrained.setter
    def pretrained(self, value) -> None:
        self._pretrained = value
        self._encoded = {}  # token ids belong to a backbone's tokenizer
        self.__dict__.pop("_unigram_nll", None)

    def encoded(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(input_ids, attention_mask) of the pool or test passages for the current backbone (cached)."""
        if split not in self._encoded:
            data = self.pool if split == "pool" else self.test
            tok = self.pretrained.tokenizer
            max_len = getattr(getattr(self.pretrained.model, "config", None), "block_size", None) or 128
            if self.backbone == "minilm":
                enc = tok(data.texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
                self._encoded[split] = (enc["input_ids"], enc["attention_mask"])
            else:
                self._encoded[split] = pad_sequences(tok.encode_batch(data.texts), max_len)
        return self._encoded[split]

    # -- models ----------------------------------------------------------------------------------------------
    def build_model(self, recipe: Recipe, seed: int, train_idx: torch.Tensor | None = None) -> nn.Module:
        """The same architecture for every recipe; only the starting weights differ (a fair comparison)."""
        k = len(self.classes)
        pooling = pooling_of(recipe.head)
        gen = torch.Generator().manual_seed(data_seed(seed) + 1)
        if self.backbone == "minilm":
            from ..models.minilm import minilm_classifier

            return minilm_classifier(self.pretrained, k, pooling, init=recipe.init, seed=data_seed(seed) + 2, generator=gen)
        lm = self.pretrained.model
        if recipe.init == "pretrained":
            model = TinyClassifier.from_lm(lm, k, pooling, generator=gen)
        else:  # scratch (trained) or random (frozen control): a fresh copy of the same architecture
            seed_everything(data_seed(seed) + 2)
            model = TinyClassifier(classifier_config(lm.config, k, pooling))
        if pooling == "lm":
            model.unigram_nll.copy_(self.unigram_nll())
            if train_idx is not None:  # centre the feature on the labeled passages' mean
                ids, mask = self.encoded("pool")
                model.config.loss_center = float(_losses(model.to(self.device), ids[train_idx], mask[train_idx]).mean())
        return model

    def unigram_nll(self) -> torch.Tensor:
        """``-log p(token)`` of every vocabulary entry in the training plays (add-one smoothed): a bag-of-words LM."""
        if not hasattr(self, "_unigram_nll"):
            from ..data.text import corpus_ids

            tok = self.pretrained.tokenizer
            ids = corpus_ids(tok, "train")
            counts = torch.bincount(ids, minlength=tok.vocab_size).float() + 1.0
            self._unigram_nll = -(counts / counts.sum()).log()
        return self._unigram_nll

    # -- the steps of a run (the template is Task.run) -------------------------------------------------------
    def batches(self, recipe: Recipe, idx: torch.Tensor, seed: int):
        ids, mask = self.encoded("pool")
        gen = torch.Generator().manual_seed(data_seed(seed))
        return class_batches(ids[idx], mask[idx], self.pool.labels[idx], min(recipe.batch_size, len(idx)), gen,
                             groups=self.pool.groups[idx] if self.paired else None)

    def fit_options(self, recipe: Recipe, idx: torch.Tensor, *, eval_every: int | None = None, penalty=None) -> dict:
        """Cross-entropy with the recipe's label smoothing; ``penalty(model) -> tensor`` is added to the loss
        (the lab's L2-SP regulariser uses it). Text tasks have no live evaluation: ``eval_every`` is ignored."""
        smoothing = recipe.label_smoothing

        def loss_fn(m, batch):
            loss = F.cross_entropy(m(batch["input_ids"], batch["attention_mask"]), batch["labels"], label_smoothing=smoothing)
            return loss if penalty is None else loss + penalty(m)

        return {"loss_fn": loss_fn}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return self.scores_of(self.predict(model), self.test.labels)

    @torch.no_grad()
    def predict(self, model: nn.Module, batch: int = 64) -> torch.Tensor:
        ids, mask = self.encoded("test")
        model.eval()
        out = []
        for i in range(0, len(ids), batch):
            m = mask[i: i + batch]
            w = int(m.sum(1).max())
            out.append(model(ids[i: i + batch, :w].to(self.device), m[:, :w].to(self.device)).argmax(1).cpu())
        return torch.cat(out)

    # -- baselines ---------------------------------------------------------------------------------------------
    def run_baseline(self, baseline: Baseline, idx: torch.Tensor, seed: int) -> tuple[dict[str, float], dict]:
        if baseline.name == "zeroshot":
            return self.run_zeroshot(idx)
        groups = self.pool.groups[idx].numpy() if self.paired else None
        pred, extra = bag_of_words(baseline.name, [self.pool.texts[i] for i in idx.tolist()], self.pool.labels[idx].numpy(),
                                   groups, self.test.texts, scoring="f1_macro" if self.metric == "macro_f1" else "accuracy",
                                   seed=seed)
        return self.scores_of(pred, self.test.labels.numpy()), extra

    def run_zeroshot(self, idx: torch.Tensor) -> tuple[dict[str, float], dict]:
        raise WorkbenchError(f"the zeroshot baseline needs a task with a likelihood signal (shuffled), not {self.name}")


@torch.no_grad()
def _losses(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, batch: int = 64, baseline: torch.Tensor | None = None) -> torch.Tensor:
    """Per passage: the likelihood feature of a classifier, or a language model's mean next-token loss (minus
    ``baseline[token]`` per token when given)."""
    device = next(model.parameters()).device
    model.eval()
    out = []
    for i in range(0, len(ids), batch):
        m = mask[i: i + batch]
        w = int(m.sum(1).max())
        x, mk = ids[i: i + batch, :w].to(device), m[:, :w].to(device)
        if hasattr(model, "likelihood_feature"):
            out.append(model.likelihood_feature(x, mk).cpu())
        else:
            out.append(model.token_losses(x, mk, baseline=None if baseline is None else baseline.to(device)).cpu())
    return torch.cat(out)


class GenreTask(TextTask):
    """Comedy, history or tragedy? 80-word passages; trained on training plays, macro-F1 on the held-out plays."""

    name = "genre"
    metrics = {"macro_f1": True, "accuracy": True}
    classes = GENRES
    paired = False
    words = 80

    def __init__(self, pretrained=None, backbone: str = "tiny", device=None, test_per_class: int = 200):
        self.test_per_class = test_per_class
        super().__init__(pretrained, backbone, device)

    def build(self):
        parts = play_parts(GENRES)
        genre_of = plays("all")
        split = {}
        for part in ("pool", "test"):
            texts, labels = [], []
            for play in sorted(parts[part]):
                ps = word_passages(parts[part][play], self.words)
                texts += ps
                labels += [GENRES.index(genre_of[play])] * len(ps)
            split[part] = (texts, torch.tensor(labels))
        texts, labels = split["test"]
        keep = balanced_subset(labels, min(self.test_per_class * 3, len(labels)), seed=12345).sort().values
        test = TextSplit([texts[i] for i in keep.tolist()], labels[keep], keep.clone())
        texts, labels = split["pool"]
        return TextSplit(texts, labels, torch.arange(len(labels))), test


def shuffle_words(text: str, rng: np.random.Generator) -> str:
    """The same words in a random order (never the original order)."""
    words = text.split(" ")
    for _ in range(10):
        order = rng.permutation(len(words))
        if not np.array_equal(order, np.arange(len(words))):
            break
    return " ".join(words[i] for i in order)


class ShuffledTask(TextTask):
    """Real passage (1) or its word-shuffled twin (0)? Twins share a group and always travel together."""

    name = "shuffled"
    metrics = {"accuracy": True}
    baselines = {n: BASELINES[n] for n in ("tfidf", "bow", "zeroshot")}
    classes = ("shuffled", "real")
    paired = True
    words = 32

    def __init__(self, pretrained=None, backbone: str = "tiny", device=None, test_pairs: int = 300):
        self.test_pairs = test_pairs
        super().__init__(pretrained, backbone, device)

    def build(self):
        parts = play_parts()
        rng = np.random.default_rng(2024)
        out = {}
        for part in ("pool", "test"):
            real = [p for play in sorted(parts[part]) for p in word_passages(parts[part][play], self.words, flatten=True)]
            if part == "test" and len(real) > self.test_pairs:
                keep = np.sort(np.random.default_rng(12345).choice(len(real), self.test_pairs, replace=False))
                real = [real[i] for i in keep]
            texts, labels, groups = [], [], []
            for g, passage in enumerate(real):
                texts += [passage, shuffle_words(passage, rng)]
                labels += [1, 0]
                groups += [g, g]
            out[part] = TextSplit(texts, torch.tensor(labels), torch.tensor(groups))
        return out["pool"], out["test"]

    def run_zeroshot(self, idx: torch.Tensor) -> tuple[float, dict]:
        """Lower LM loss = real. The feature is the LM loss minus a unigram model's loss on the same tokens (equal for
        twins, so only word order moves it); one threshold on it is fit on the labeled passages; no weights change."""
        model = self.pretrained.model.to(self.device)
        if getattr(model.config, "causal", False) is not True:
            raise WorkbenchError("the zeroshot baseline needs a causal (GPT) language model")
        pool_ids, pool_mask = self.encoded("pool")
        uni = self.unigram_nll()
        train_loss = _losses(model, pool_ids[idx], pool_mask[idx], baseline=uni).numpy()
        y = self.pool.labels[idx].numpy()
        cands = np.sort(train_loss)
        accs = [((train_loss < t) == y).mean() for t in cands]
        threshold = float(cands[int(np.argmax(accs))]) + 1e-6
        test_ids, test_mask = self.encoded("test")
        test_loss = _losses(model, test_ids, test_mask, baseline=uni).numpy()
        pred = (test_loss < threshold).astype(int)
        real, fake = test_loss[self.test.labels.numpy() == 1], test_loss[self.test.labels.numpy() == 0]
        return self.scores_of(pred, self.test.labels.numpy()), {"threshold": threshold, "pairs_ranked_right": float((real < fake).mean())}

    def pair_ranking(self) -> float:
        """Fraction of test pairs where the pretrained LM gives the real passage the lower loss (no labels at all)."""
        model = self.pretrained.model.to(self.device)
        ids, mask = self.encoded("test")
        loss = _losses(model, ids, mask).numpy()
        labels = self.test.labels.numpy()
        return float((loss[labels == 1] < loss[labels == 0]).mean())


TEXT_TASKS = {cls.name: cls for cls in (GenreTask, ShuffledTask)}
assert tuple(TEXT_TASKS) == tuple(TEXT_TASK_NAMES), "workbench.choices.TEXT_TASKS names the text tasks"


def text_task(name: str, **kw) -> TextTask:
    check_choice("task", name, TEXT_TASKS)
    return TEXT_TASKS[name](**kw)
