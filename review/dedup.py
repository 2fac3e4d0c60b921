"""Deduplication: marks duplicate groups and keeps the evidence; never deletes a record.

prepare (match keys) -> candidate pairs (several blocking keys) -> score (rapidfuzz) -> decide
(named rules and vetoes) -> cluster (transitive, but no chain across a veto) -> merge (one surviving
record per group, filled from the others, every member's record id kept).

Pure logic: the stage is ``review.stages.dedup``. Decisions reviewers take in
``extracts/duplicates.xlsx`` (``review.workbooks.duplicates``) enter here as forced matches and forced
vetoes, keyed by record ids, so they hold on every refresh.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from . import matchkeys as mk
from .model import Record

log = logging.getLogger(__name__)

MATCH, MAYBE, DISTINCT = "match", "maybe", "distinct"


@dataclass(frozen=True)
class Settings:
    """Thresholds of the decision rules (protocol key ``dedup``); the defaults need no tuning."""

    title_strong: float = 0.95  # titles this close match on their own with agreeing authors and year
    title_match: float = 0.90  # titles this close match with agreeing authors and venue or pages
    title_maybe: float = 0.80  # below title_match and above this: a pair for reviewers
    author_match: float = 0.75  # author lists this close agree
    max_year_gap: int = 1  # online-first and print years differ by one at most
    max_block: int = 200  # a blocking key shared by more records than this is too common to use

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> Settings:
        """Thresholds from the protocol's ``dedup`` section (other keys there, like ``sheet``, are not thresholds)."""
        known = {k: v for k, v in (config or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Prepared:
    """Match keys of every record, column by column (index = position in the input list)."""

    ids: list[str]
    title: list[str]
    alt_title: list[str]  # the original-language title a database appended in brackets, if any
    authors: list[tuple[str, ...]]
    given: list[tuple[str, ...]]  # first given name of each author, to see family/given swapped
    author_text: list[str]
    year: np.ndarray  # int, 0 = unknown
    doi: list[str]
    container: list[str]
    volume: list[str]
    issue: list[str]
    first_page: list[str]
    last_page: list[str]
    isbn: list[str]
    notice: list[str]
    abstract_venue: np.ndarray  # bool
    proceedings: np.ndarray  # bool
    numbers: list[frozenset[str]]
    zotero: np.ndarray  # bool
    completeness: np.ndarray  # int

    def __len__(self) -> int:
        return len(self.ids)


def prepare(records: Sequence[Record]) -> Prepared:
    titles, alts, authors, givens, author_text, years, dois, containers = [], [], [], [], [], [], [], []
    volumes, issues, firsts, lasts, isbns, notices, abstracts, numbers, zot, complete = ([] for _ in range(10))
    proceedings = []
    for r in records:
        title, alt = mk.title_variants(r.title)
        people = [c for c in r.creators if c.role == "author" and mk.author_key(c.family or c.name)]
        names = tuple(mk.author_key(c.family or c.name) for c in people)
        container = mk.container_key(r.container)
        titles.append(title)
        alts.append(alt)
        authors.append(names)
        givens.append(tuple(mk.author_key((c.given or "").split(" ")[0]) for c in people))
        author_text.append(" ".join(names[:6]))
        years.append(int(r.year) if r.year.isdigit() else 0)
        dois.append(r.doi)
        containers.append(container)
        volume = mk.number_key(r.volume)
        volumes.append("" if volume and volume == r.year else volume)  # a year put in the volume field
        issues.append(mk.number_key(r.issue))
        firsts.append(mk.first_page(r.pages))
        lasts.append(mk.last_page(r.pages))
        isbns.append(r.isbn.split("; ")[0] if r.isbn else "")
        notices.append(mk.notice_kind(title))
        abstracts.append(mk.is_abstract_venue(r.container, r.issue, r.pages))
        proceedings.append(mk.is_proceedings(container))
        numbers.append(mk.title_numbers(title))
        zot.append(bool(r.zotero_key))
        complete.append(sum(bool(v) for v in (r.title, r.creators, r.year, r.container, r.volume, r.issue, r.pages,
                                               r.doi, r.abstract, r.isbn, r.issn, r.publisher, r.url)))
    return Prepared(
        ids=[r.record_id for r in records], title=titles, alt_title=alts, authors=authors, given=givens,
        author_text=author_text,
        year=np.array(years, dtype=np.int32), doi=dois, container=containers, volume=volumes, issue=issues,
        first_page=firsts, last_page=lasts, isbn=isbns, notice=notices,
        abstract_venue=np.array(abstracts, dtype=bool), proceedings=np.array(proceedings, dtype=bool),
        numbers=numbers, zotero=np.array(zot, dtype=bool),
        completeness=np.array(complete, dtype=np.int32),
    )


# --- candidate pairs -------------------------------------------------------------------------------


def blocking_keys(p: Prepared, i: int) -> Iterable[str]:
    """The keys under which record ``i`` meets its candidate duplicates. Several keys, so that a typo
    in one field does not hide a pair: the DOI; the title's first and last words; first author with
    year and page; year, volume and page; and the title's compact form for short titles."""
    title = p.title[i]
    words = title.split()
    if p.doi[i]:
        yield "d:" + p.doi[i]
    if len(words) >= 3:
        yield "t:" + " ".join(words[:4])
        yield "e:" + " ".join(words[-4:])
    elif title:
        yield "s:" + title + f":{p.year[i]}"
    first_author = p.authors[i][0] if p.authors[i] else ""
    if first_author and p.first_page[i]:
        yield f"a:{first_author}:{p.year[i]}:{p.first_page[i]}"
    if p.volume[i] and p.first_page[i]:
        yield f"v:{p.year[i]}:{p.volume[i]}:{p.first_page[i]}"
    if first_author and len(words) >= 3:
        # first author + initials of the first title words: catches titles reworded at both ends
        yield f"i:{first_author}:" + "".join(w[0] for w in words[:6])
    if p.isbn[i]:
        yield "b:" + p.isbn[i]
    alt_words = p.alt_title[i].split()
    if len(alt_words) >= 3:
        yield "t:" + " ".join(alt_words[:4])
        yield "e:" + " ".join(alt_words[-4:])


@lru_cache(maxsize=1024)
def _triu(k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(k, 1)


def candidate_pairs(p: Prepared, max_block: int = 200) -> np.ndarray:
    """Distinct pairs ``(i, j)``, ``i < j``, of records that share at least one blocking key."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i in range(len(p)):
        for key in blocking_keys(p, i):
            members = blocks[key]
            if not members or members[-1] != i:  # a title and its variant may give the same key
                members.append(i)
    n = len(p)
    codes_list: list[int] = []
    chunks = []
    for members in blocks.values():
        k = len(members)
        if k == 2:  # most blocks: no numpy round trip
            codes_list.append(members[0] * n + members[1])
        elif 2 < k <= max_block:
            arr = np.array(members, dtype=np.int64)
            left, right = _triu(k)
            chunks.append(arr[left] * n + arr[right])
    chunks.append(np.array(codes_list, dtype=np.int64))
    codes = np.unique(np.concatenate(chunks))
    if not len(codes):
        return np.empty((0, 2), dtype=np.int64)
    return np.stack([codes // n, codes % n], axis=1)


# --- scores and decisions ----------------------------------------------------------------------


@dataclass
class PairDecision:
    i: int
    j: int
    label: str
    rule: str
    title: float
    authors: float  # -1 when one side has no authors


def _similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    score = Indel.normalized_similarity(a, b)
    if score < 0.95:
        short, long_ = (a, b) if len(a) <= len(b) else (b, a)
        if long_.startswith(short + " ") and short.count(" ") >= 5:
            score = max(score, 0.95)  # one database dropped the subtitle
    return score


def title_similarity(p: Prepared, i: int, j: int) -> float:
    """Normalised Indel similarity of the titles, the best over each record's title and bracketed
    original-language title; a title that is the other's whole beginning (subtitle dropped) and has
    at least six words counts as 0.95."""
    best = _similarity(p.title[i], p.title[j])
    if best < 1.0 and (p.alt_title[i] or p.alt_title[j]):
        for a in (p.title[i], p.alt_title[i]):
            for b in (p.title[j], p.alt_title[j]):
                if a and b and (a, b) != (p.title[i], p.title[j]):
                    best = max(best, _similarity(a, b))
    return best


def title_is_prefix(a: str, b: str) -> bool:
    """One title is the whole beginning of the other, at least three words long."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return short.count(" ") >= 2 and long_.startswith(short + " ")


def author_similarity(p: Prepared, i: int, j: int) -> float:
    """token-set similarity of the family names (-1 if a side has none); also tried with one side's
    given names, for exports that swapped family and given names (``Andrea, C.`` for Carignani, Andrea)."""
    a, b = p.authors[i], p.authors[j]
    if not a or not b:
        return -1.0
    if a[0] == b[0] and (len(a) == 1 or len(b) == 1):
        return 1.0
    score = fuzz.token_set_ratio(p.author_text[i], p.author_text[j]) / 100.0
    if score < 0.75:
        for x, y in ((p.given[i], b), (a, p.given[j])):
            if x and all(x):
                score = max(score, fuzz.token_set_ratio(" ".join(x[:6]), " ".join(y[:6])) / 100.0)
    return score


def _same_issue_of_record(p: Prepared, i: int, j: int) -> bool:
    """Same venue, year, volume, issue and pages: strong enough to overrule a DOI one database got wrong.
    Recurring columns ("Editorial introduction", pages 5-10 of every issue) differ in issue or last page."""
    def agree(values: Sequence[str]) -> bool:
        return not (values[i] and values[j]) or values[i] == values[j]

    numbers_agree = (p.abstract_venue[i] or p.abstract_venue[j]  # supplements' volume/issue are unreliable
                     or (agree(p.volume) and agree(p.issue)))
    return (bool(p.first_page[i]) and p.first_page[i] == p.first_page[j] and p.year[i] == p.year[j]
            and agree(p.last_page) and numbers_agree and mk.containers_agree(p.container[i], p.container[j]))


def _plain_issue(issue: str) -> bool:
    """An issue number worth trusting: some exports fill the field with record numbers (``1368``)."""
    return issue.isdigit() and 0 < int(issue) < 100


def _veto(p: Prepared, i: int, j: int, t: float, a: float, settings: Settings) -> str:
    """The first reason why two records cannot be the same work, or ``""``.

    A shared DOI overrides the vetoes that read unreliable fields (issue, volume, venue); a DOI that
    differs is overruled only by the same title, authors, venue, year and first page."""
    same_doi = bool(p.doi[i]) and p.doi[i] == p.doi[j]
    if p.doi[i] and p.doi[j] and not same_doi and not (t >= 0.98 and a >= 0.9 and _same_issue_of_record(p, i, j)):
        return "veto:doi-differs"
    if p.year[i] and p.year[j] and abs(int(p.year[i]) - int(p.year[j])) > settings.max_year_gap:
        return "veto:year-gap"
    if p.notice[i] != p.notice[j]:
        return "veto:notice-vs-article"
    ni, nj = p.numbers[i], p.numbers[j]
    if ni and nj and not (ni <= nj or nj <= ni):  # "Part 1" vs "Part 2"; a truncated title is no conflict
        return "veto:part-numbers-differ"
    if same_doi:
        return ""
    pages_agree = bool(p.first_page[i]) and p.first_page[i] == p.first_page[j]
    pages_differ = bool(p.first_page[i] and p.first_page[j]) and not pages_agree
    abstract = p.abstract_venue[i] or p.abstract_venue[j]
    venues_differ = bool(p.container[i] and p.container[j]) and not mk.containers_agree(p.container[i], p.container[j])
    if p.abstract_venue[i] != p.abstract_venue[j] and (pages_differ or venues_differ or p.year[i] != p.year[j]):
        return "veto:abstract-vs-article"  # a meeting abstract and the paper that followed it
    if p.proceedings[i] != p.proceedings[j] and venues_differ and not abstract and not pages_agree:
        return "veto:conference-vs-journal"  # a conference paper and its journal version
    if venues_differ and pages_differ:
        return "veto:venue-and-pages-differ"  # another publication of the same title (a commentary, a reprint)
    if p.proceedings[i] and p.proceedings[j] and venues_differ and p.year[i] != p.year[j]:
        return "veto:different-conferences"  # the same paper presented at two conferences
    if p.volume[i] and p.volume[j] and p.volume[i] != p.volume[j] and not (abstract and not pages_differ):
        # supplements' volume fields are unreliable ("1)" for "Suppl. 1"): there, only differing pages count
        return "veto:volume-differs"
    same_range = pages_agree and (not (p.last_page[i] and p.last_page[j]) or p.last_page[i] == p.last_page[j])
    if (p.volume[i] and p.volume[i] == p.volume[j] and p.issue[i] != p.issue[j] and _plain_issue(p.issue[i])
            and _plain_issue(p.issue[j]) and not same_range and mk.containers_agree(p.container[i], p.container[j])):
        return "veto:issue-differs"  # a recurring column ("Editor's comments") in another issue
    return ""


def decide_pair(p: Prepared, i: int, j: int, settings: Settings) -> PairDecision:
    t = title_similarity(p, i, j)
    a = author_similarity(p, i, j)
    veto = _veto(p, i, j, t, a, settings)
    if veto:
        return PairDecision(i, j, DISTINCT, veto, t, a)
    same_doi = bool(p.doi[i]) and p.doi[i] == p.doi[j]
    authors_agree = a >= settings.author_match or (a >= 0 and p.authors[i][0] == p.authors[j][0] and t >= 0.95)
    authors_unknown = a < 0
    pages_agree = bool(p.first_page[i]) and p.first_page[i] == p.first_page[j]
    volume_agree = bool(p.volume[i]) and p.volume[i] == p.volume[j]
    venue_agree = mk.containers_agree(p.container[i], p.container[j])
    long_title = len(p.title[i]) >= 30 and len(p.title[j]) >= 30

    prefix = title_is_prefix(p.title[i], p.title[j])
    if same_doi and (t >= 0.7 or prefix or not p.title[i] or not p.title[j]):
        return PairDecision(i, j, MATCH, "doi", t, a)
    same_year = bool(p.year[i]) and p.year[i] == p.year[j]
    if t >= settings.title_strong:
        if authors_agree and (long_title or venue_agree or pages_agree or same_year):
            return PairDecision(i, j, MATCH, "title+authors+year", t, a)
        issue_agree = bool(p.issue[i]) and p.issue[i] == p.issue[j]
        if authors_unknown and venue_agree and (pages_agree or (long_title or (volume_agree and issue_agree))):
            return PairDecision(i, j, MATCH, "title+venue", t, a)
    if t >= settings.title_match and authors_agree and (venue_agree or pages_agree or volume_agree):
        return PairDecision(i, j, MATCH, "title+authors+venue", t, a)
    if t >= settings.title_strong and volume_agree and pages_agree:
        return PairDecision(i, j, MATCH, "title+volume+pages", t, a)  # authors garbled in one export
    if prefix and authors_agree and pages_agree and (volume_agree or venue_agree):
        return PairDecision(i, j, MATCH, "title-prefix+authors+pages", t, a)
    if (a >= 0.9 and venue_agree and volume_agree and pages_agree and p.year[i] == p.year[j]
            and p.last_page[i] and p.last_page[i] == p.last_page[j] and p.first_page[i] != p.last_page[i]
            and not (p.abstract_venue[i] or p.abstract_venue[j])
            and not (_plain_issue(p.issue[i]) and _plain_issue(p.issue[j]) and p.issue[i] != p.issue[j])):
        return PairDecision(i, j, MATCH, "authors+issue-of-record", t, a)  # e.g. title in another language
    if t >= settings.title_maybe and authors_agree and volume_agree and pages_agree:
        return PairDecision(i, j, MATCH, "authors+volume+pages", t, a)
    pages_differ = bool(p.first_page[i] and p.first_page[j]) and not pages_agree
    if t >= settings.title_maybe or (same_doi and t >= 0.5 and not pages_differ):
        # a shared DOI with unrelated titles is a supplement's DOI on its abstracts: not worth asking
        return PairDecision(i, j, MAYBE, "similar", t, a)
    return PairDecision(i, j, DISTINCT, "dissimilar", t, a)


def decide(p: Prepared, pairs: np.ndarray, settings: Settings) -> list[PairDecision]:
    return [decide_pair(p, int(i), int(j), settings) for i, j in pairs]


# --- clustering ---------------------------------------------------------------------------------


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
        overruled = bool(p.doi[d.i] and p.doi[d.j] and p.doi[d.i] != p.doi[d.j])  # _veto let it through
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
    survivor = choose_survivors(p, group)
    return Result(group=group, survivor=survivor, rule=rule, score=score, decisions=decisions, refused=refused)


def choose_survivors(p: Prepared, group: list[int]) -> list[bool]:
    """One survivor per group: the Zotero item first, then the most complete record, then the first."""
    best: dict[int, int] = {}
    for i, g in enumerate(group):
        j = best.get(g)
        if j is None or (p.zotero[i], p.completeness[i], -i) > (p.zotero[j], p.completeness[j], -j):
            best[g] = i
    keep = set(best.values())
    return [i in keep for i in range(len(group))]


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
