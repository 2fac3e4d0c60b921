"""How the dedup decides a pair: title and author scores (rapidfuzz), then named rules and vetoes.

Pure logic: each candidate pair (``review.dedup_candidates``) gets a label, ``match``, ``maybe`` (for reviewers)
or ``distinct``, with the rule or veto that gave it and its scores; ``review.dedup`` clusters the matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from . import matchkeys as mk
from .dedup_candidates import Prepared, Settings

MATCH, MAYBE, DISTINCT = "match", "maybe", "distinct"


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
