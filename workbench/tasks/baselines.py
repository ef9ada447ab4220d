"""Baselines: methods a task runs on its labeled budget without training a network.

A baseline is not a recipe: it has no learning rate, schedule or frozen groups, so it is its own small
value, a name and a one-line description. ``compare`` takes baselines beside recipes (``--recipes
scratch,tfidf``), results.csv names them like recipes, and ``recipes.json`` marks them as baselines.
The bag-of-words baselines live here; the zero-shot baseline reads the pretrained language model, so
the text task that owns that model runs it (:meth:`workbench.tasks.text.TextTask.run_zeroshot`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Baseline:
    """A method with no training run: ``name`` is what the CLI and results use, ``description`` says what it does."""

    name: str
    description: str

    def describe(self) -> str:
        """A one-line summary for legends, logs and summary.md (the same verb as :meth:`Recipe.describe`)."""
        return f"{self.name} (baseline, no training): {self.description}"

    def to_dict(self) -> dict:
        return {"kind": "baseline", "name": self.name, "description": self.description}


BASELINES = {
    "tfidf": Baseline("tfidf", "word 1-2-gram TF-IDF + logistic regression, C by cross-validation"),
    "bow": Baseline("bow", "unigram word counts + logistic regression, C by cross-validation"),
    "zeroshot": Baseline("zeroshot", "pretrained LM loss minus a unigram model's, one threshold fit on the labels"),
}


def bag_of_words(name: str, texts: list[str], y: np.ndarray, groups: np.ndarray | None, test_texts: list[str], *,
                 scoring: str, seed: int) -> tuple[np.ndarray, dict]:
    """Fit the ``tfidf`` or ``bow`` pipeline on the labeled texts; return test predictions and the chosen C.

    ``groups`` (twins) keeps each group inside one cross-validation fold, so a twin never validates its pair.
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline

    if name == "tfidf":
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    else:
        vec = CountVectorizer(ngram_range=(1, 1))
    pipe = make_pipeline(vec, LogisticRegression(max_iter=2000))
    folds = int(min(5, np.bincount(y).min()))
    extra = {}
    if folds >= 2:
        cv = GroupKFold(folds) if groups is not None else StratifiedKFold(folds, shuffle=True, random_state=seed)
        search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0, 10.0, 100.0]}, cv=cv, scoring=scoring)
        search.fit(texts, y, groups=groups)
        pipe = search.best_estimator_
        extra["C"] = search.best_params_["logisticregression__C"]
    else:
        pipe.fit(texts, y)
    return pipe.predict(test_texts), extra
