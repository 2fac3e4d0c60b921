"""Screening prioritisation: rank the records not yet screened by how likely they are to be included,
learned from the title/abstract decisions made so far. Pure: texts and labels in, scores and orders out.

The model starts from ASReview LAB's default (ELAS u4: TF-IDF of words and word pairs with sublinear term
frequency, a linear support vector machine with C = 0.11, inclusions weighted 9.8 times the exclusions in
all) and counts each record's title three times: a title states what a study is about, its abstract mostly
how. The title's weight was chosen leave-one-dataset-out over the eleven labelled sets in
``../shared/screening`` (once, twice, three and four times), beside ``asreview simulate`` with the same priors
and seeds (``benchmarks/screening_bench.py``, figures in ``benchmarks/RESULTS.md``). Deterministic for a
seed: the same decisions give the same ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

INCLUDED, EXCLUDED = 1, 0


def document(title: str, abstract: str, titles: int) -> str:
    """The text the model reads for one record: its title ``titles`` times, then its abstract."""
    return " ".join([title] * titles + [abstract])


@dataclass(frozen=True)
class Model:
    """The ranking model's settings (recorded in the report's methods)."""

    seed: int = 0
    c: float = 0.11
    ngrams: tuple[int, int] = (1, 2)
    ratio: float = 9.8  # the inclusions' total weight, in times the exclusions' (ASReview's "balanced" ratio)
    max_df: float = 0.95  # words in more than this share of the records tell nothing apart
    titles: int = 3  # times each record's title is counted in its text

    def document(self, title: str, abstract: str) -> str:
        return document(title, abstract, self.titles)

    def describe(self) -> str:
        title = {1: "title", 2: "title (counted twice)"}.get(self.titles, f"title (counted {self.titles} times)")
        return (f"TF-IDF of {title} and abstract ({self.ngrams[0]}-{self.ngrams[1]} word n-grams), "
                f"linear SVM (C = {self.c}) with inclusions weighted {self.ratio} times the exclusions, "
                f"seed {self.seed}")

    def features(self, texts: Sequence[str]) -> Any:  # a scipy sparse matrix
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        # a share of 95% of two records is below one record: a tiny set keeps every word
        max_df = self.max_df if len(texts) * self.max_df >= 2 else 1.0
        return TfidfVectorizer(ngram_range=self.ngrams, sublinear_tf=True, max_df=max_df).fit_transform(texts)

    def weights(self, y: np.ndarray) -> np.ndarray:
        """Each known record's weight: inclusions ``ratio`` times the exclusions in all, summing to the count."""
        included = int(y.sum())
        w = np.where(y == INCLUDED, 1.0, included / (self.ratio * (len(y) - included)))
        return np.asarray(w * len(y) / w.sum())

    def scores(self, features: Any, known: Iterable[int], labels: Iterable[int]) -> np.ndarray:
        """A relevance score for every record, from the labels of the ``known`` ones (both classes needed;
        with one class only, every score is 0 and the order falls back to the records' own order)."""
        from sklearn.svm import LinearSVC

        y = np.asarray(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            return np.zeros(features.shape[0])
        svm = LinearSVC(C=self.c, random_state=self.seed)
        svm.fit(features[list(known)], y, sample_weight=self.weights(y))
        return np.asarray(svm.decision_function(features))


@dataclass(frozen=True)
class Prioritisation:
    """The protocol's ``screening.prioritisation``: the model, the stopping targets, and the team's decision
    to stop (a date; the tool never stops on its own)."""

    enabled: bool = True
    model: Model = Model()
    target: float = 0.95
    confidence: float = 0.95
    stopped: str = ""  # the date the team stopped screening titles and abstracts
    note: str = ""

    @classmethod
    def from_config(cls, screening: Mapping[str, Any]) -> Prioritisation:
        raw = screening.get("prioritisation") or {}
        stop = raw.get("stopped") or {}
        return cls(enabled=bool(raw.get("enabled", True)), model=Model(seed=int(raw.get("seed", 0))),
                   target=float(raw.get("target_recall", 0.95)), confidence=float(raw.get("confidence", 0.95)),
                   stopped=str(stop.get("date", "")), note=str(stop.get("note", "")))


def features_key(texts: Sequence[str], model: Model) -> str:
    """What the features of ``texts`` depend on, as a digest: the same texts and model give the same matrix,
    so a refresh where only decisions changed may reuse the last one."""
    import hashlib

    h = hashlib.sha256(repr((model.ngrams, model.max_df, len(texts))).encode("utf-8"))
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    return h.hexdigest()


def rank_studies(texts: Sequence[str], labels: Mapping[int, int], model: Model, features: Any = None
                 ) -> dict[int, tuple[int, float]]:
    """{position: (rank, score)} for every text, rank 1 the most likely to be included, learned from the
    ``labels`` ({position: 1 included, 0 excluded}); empty until both kinds of decision have been made.
    ``features``: ``model.features(texts)`` if already at hand."""
    known = sorted(labels)
    if len({labels[k] for k in known}) < 2:
        return {}
    matrix = model.features(texts) if features is None else features
    scores = model.scores(matrix, known, [labels[k] for k in known])
    return {i: (rank, round(float(scores[i]), 4)) for rank, i in enumerate(ranked(scores, range(len(texts))), 1)}


def ranked(scores: np.ndarray, candidates: Iterable[int]) -> list[int]:
    """``candidates`` best first; ties broken by position, so that the order is the same on every run."""
    ids = np.asarray(list(candidates), dtype=int)
    return [int(i) for i in ids[np.lexsort((ids, -scores[ids]))]]


def refreshes(total: int, first: int, step: float = 0.025) -> list[int]:
    """The numbers of records screened at each retraining of ``simulate`` (a refresh): ``first`` (the priors),
    then after each batch of ``step`` times the records screened so far (at least one), up to ``total``."""
    points = [first]
    while points[-1] < total:
        points.append(min(total, points[-1] + max(1, int(points[-1] * step))))
    return points


def simulate(texts: Sequence[str], labels: Sequence[int], priors: Sequence[int], model: Model,
             step: float = 0.025) -> list[int]:
    """The order in which a reviewer screens every record when each batch is the top of the model's ranking
    and the model is retrained after each batch, as a refresh would: ``priors`` first, then batches of
    ``step`` times the records screened so far (at least one; ``refreshes`` gives where each batch ends)."""
    y = np.asarray(labels, dtype=int)
    features = model.features(texts)
    order = list(dict.fromkeys(priors))
    left = np.ones(len(y), dtype=bool)
    left[order] = False
    for end in refreshes(len(y), len(order), step)[1:]:
        scores = model.scores(features, order, y[order])
        batch = ranked(scores, np.flatnonzero(left))[:end - len(order)]
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
