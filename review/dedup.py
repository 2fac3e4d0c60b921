"""Deduplication: marks duplicate groups and keeps the evidence; never deletes a record.

prepare (match keys) -> candidate pairs (several blocking keys) -> score (rapidfuzz) -> decide
(named rules and vetoes) -> cluster (transitive, but no chain across a veto) -> merge (one surviving
record per group, filled from the others, every member's record id kept).

Pure logic, one module per step: ``review.dedup_candidates`` (match keys, blocking, the thresholds),
``review.dedup_rules`` (scores, rules and vetoes), this one (clusters and the run of them all). The stage is
``review.stages.dedup``. Decisions reviewers take in
``extracts/duplicates.xlsx`` (``review.workbooks.duplicates``) enter here as forced matches and forced
vetoes, keyed by record ids, so they hold on every refresh.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .dedup_candidates import Prepared, Settings, candidate_pairs, prepare
from .dedup_rules import DISTINCT, MATCH, MAYBE, PairDecision, decide
from .model import Record
from .survivors import choose_survivors

log = logging.getLogger(__name__)


class _Clusters:
    """Union-find whose unions respect vetoes and cluster-wide constraints (one DOI, years within the gap)."""

    def __init__(self, p: Prepared, settings: Settings):
        n = len(p)
        self.parent = list(range(n))
        self.vetoed: list[set[int]] = [set() for _ in range(n)]  # roots this root must never join
        self.dois: list[set[str]] = [{d} if d else set() for d in p.doi]
        years = [int(y) for y in p.year]
        self.years: list[tuple[int, int] | None] = [(y, y) if y else None for y in years]
        self.gap = settings.max_year_gap

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def veto(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.vetoed[a].add(b)
            self.vetoed[b].add(a)

    def can_join(self, a: int, b: int, doi_overruled: bool = False) -> bool:
        if b in self.vetoed[a] or any(self.find(x) == b for x in self.vetoed[a]):
            return False
        if len(self.dois[a] | self.dois[b]) > 1 and not doi_overruled:
            return False
        ya, yb = self.years[a], self.years[b]
        return not (ya and yb and max(ya[1], yb[1]) - min(ya[0], yb[0]) > self.gap)

    def union(self, i: int, j: int, force: bool = False, doi_overruled: bool = False) -> bool:
        a, b = self.find(i), self.find(j)
        if a == b:
            return True
        if not force and not self.can_join(a, b, doi_overruled):
            return False
        if len(self.vetoed[a]) < len(self.vetoed[b]):
            a, b = b, a
        self.parent[b] = a
        self.vetoed[a] |= {self.find(x) for x in self.vetoed[b]}
        self.dois[a] |= self.dois[b]
        ya, yb = self.years[a], self.years[b]
        self.years[a] = (min(ya[0], yb[0]), max(ya[1], yb[1])) if ya and yb else ya or yb
        return True


@dataclass
class Result:
    """Everything the dedup decided, with the evidence."""

    group: list[int]  # group number per record (0-based, in order of first member)
    survivor: list[bool]
    rule: list[str]  # the rule of the first link that joined the record to its group ("" for a record alone)
    score: list[str]  # title/author scores of that link
    decisions: list[PairDecision] = field(default_factory=list)
    refused: list[PairDecision] = field(default_factory=list)  # matches a veto or constraint kept apart

    @property
    def n_groups(self) -> int:
        return len(set(self.group))

    def members(self) -> dict[int, list[int]]:
        """Each group's members: group number -> the records' positions, in order."""
        out: dict[int, list[int]] = defaultdict(list)
        for k, g in enumerate(self.group):
            out[g].append(k)
        return out


def cluster(p: Prepared, decisions: list[PairDecision], settings: Settings,
            same: Iterable[tuple[int, int]] = (), different: Iterable[tuple[int, int]] = ()) -> Result:
    n = len(p)
    uf = _Clusters(p, settings)
    for i, j in different:
        uf.veto(i, j)
    for d in decisions:
        if d.label == DISTINCT and d.rule.startswith("veto:"):
            uf.veto(d.i, d.j)
    rule = [""] * n
    score = [""] * n
    for i, j in same:
        uf.union(i, j, force=True)
        rule[j] = rule[j] or "reviewer:same"
    refused = []
    matches = sorted((d for d in decisions if d.label == MATCH), key=lambda d: (-d.title, d.i, d.j))
    for d in matches:
        overruled = bool(p.doi[d.i] and p.doi[d.j] and p.doi[d.i] != p.doi[d.j])  # a veto let it through (dedup_rules)
        if uf.union(d.i, d.j, doi_overruled=overruled):
            for k in (d.i, d.j):
                if not rule[k]:
                    rule[k] = d.rule
                    score[k] = f"title={d.title:.3f};authors={d.authors:.3f}"
        else:
            refused.append(d)
    roots = [uf.find(i) for i in range(n)]
    numbering: dict[int, int] = {}
    group = [numbering.setdefault(r, len(numbering)) for r in roots]
    survivor = choose_survivors(p.preference, group)
    return Result(group=group, survivor=survivor, rule=rule, score=score, decisions=decisions, refused=refused)


def run(records: Sequence[Record], settings: Settings | None = None,
        same: Iterable[tuple[str, str]] = (), different: Iterable[tuple[str, str]] = ()) -> Result:
    """Deduplicate records; ``same``/``different`` are reviewers' decisions as record-id pairs."""
    settings = settings or Settings()
    p = prepare(records)
    position = {rid: k for k, rid in enumerate(p.ids)}
    same_idx = [(position[a], position[b]) for a, b in same if a in position and b in position]
    diff_idx = [(position[a], position[b]) for a, b in different if a in position and b in position]
    pairs = candidate_pairs(p, settings.max_block)
    decisions = decide(p, pairs, settings)
    result = cluster(p, decisions, settings, same_idx, diff_idx)
    log.info("%d records, %d candidate pairs, %d matches, %d for review, %d groups", len(p), len(pairs),
             sum(d.label == MATCH for d in decisions), sum(d.label == MAYBE for d in decisions), result.n_groups)
    return result


# --- groups and survivors ---------------------------------------------------------------------


def group_labels(ids: Sequence[str], group: Sequence[int]) -> list[str]:
    """Each group named after its smallest record id: stable while the group keeps that member."""
    smallest: dict[int, str] = {}
    for rid, g in zip(ids, group):
        if g not in smallest or rid < smallest[g]:
            smallest[g] = rid
    return [smallest[g] for g in group]


def review_pairs(result: Result) -> list[PairDecision]:
    """Undecided pairs worth a reviewer's time: those whose records still ended in different groups."""
    return [d for d in result.decisions if d.label == MAYBE and result.group[d.i] != result.group[d.j]]
