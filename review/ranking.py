"""Screening prioritisation: rank the records not yet screened by how likely they are to be included,
learned from the title/abstract decisions made so far. Pure: texts and labels in, scores and orders out.

The model is ASReview's default family, measured on the labelled sets in ``../shared/screening``
(``benchmarks/screening_bench.py``): TF-IDF of title and abstract (words and word pairs, sublinear term
frequency) and a linear support vector machine (C = 0.11) trained with the classes weighted to balance
(inclusions are rare). Deterministic for a seed: the same decisions give the same ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

INCLUDED, EXCLUDED = 1, 0


@dataclass(frozen=True)
class Model:
    """The ranking model's settings (recorded in the protocol and in the report's methods)."""

    seed: int = 0
    c: float = 0.11
    ngrams: tuple[int, int] = (1, 2)

    def describe(self) -> str:
        return (f"TF-IDF of title and abstract ({self.ngrams[0]}-{self.ngrams[1]} word n-grams), linear SVM "
                f"(C = {self.c}) with balanced class weights, seed {self.seed}")

    def features(self, texts: Sequence[str]) -> Any:  # a scipy sparse matrix
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(ngram_range=self.ngrams, sublinear_tf=True).fit_transform(list(texts))

    def scores(self, features: Any, known: Iterable[int], labels: Iterable[int]) -> np.ndarray:
        """A relevance score for every record, from the labels of the ``known`` ones (both classes needed;
        with one class only, every score is 0 and the order falls back to the records' own order)."""
        from sklearn.svm import LinearSVC

        y = np.asarray(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            return np.zeros(features.shape[0])
        weights = np.where(y == INCLUDED, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
        svm = LinearSVC(C=self.c, random_state=self.seed)
        svm.fit(features[list(known)], y, sample_weight=weights)
        return np.asarray(svm.decision_function(features))


def ranked(scores: np.ndarray, candidates: Iterable[int]) -> list[int]:
    """``candidates`` best first; ties broken by position, so that the order is the same on every run."""
    ids = np.asarray(list(candidates), dtype=int)
    return [int(i) for i in ids[np.lexsort((ids, -scores[ids]))]]


def simulate(texts: Sequence[str], labels: Sequence[int], priors: Sequence[int], model: Model,
             step: float = 0.025) -> list[int]:
    """The order in which a reviewer screens every record when each batch is the top of the model's ranking
    and the model is retrained after each batch, as a refresh would: ``priors`` first, then batches of
    ``step`` times the records screened so far (at least one)."""
    y = np.asarray(labels, dtype=int)
    features = model.features(texts)
    order = list(dict.fromkeys(priors))
    left = np.ones(len(y), dtype=bool)
    left[order] = False
    while left.any():
        scores = model.scores(features, order, y[order])
        batch = ranked(scores, np.flatnonzero(left))[:max(1, int(len(order) * step))]
        order.extend(batch)
        left[batch] = False
    return order


def metrics(order: Sequence[int], labels: Sequence[int], priors: Sequence[int]) -> dict[str, float]:
    """WSS@95, recall after 10% screened, records screened to find every inclusion (priors left out, as
    ASReview and the literature do)."""
    left_out = set(priors)
    y = np.asarray(labels, dtype=int)[[i for i in order if i not in left_out]]
    n, total = len(y), int(y.sum())
    found = np.cumsum(y)
    at_95 = int(np.argmax(found >= np.ceil(0.95 * total))) + 1
    return {"wss95": (n - at_95) / n - 0.05, "recall10": float(found[max(0, round(0.1 * n) - 1)] / total),
            "last_inclusion": int(np.flatnonzero(y)[-1]) + 1, "records": n, "inclusions": total}
