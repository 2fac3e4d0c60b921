"""What the dedup compares: each record's match keys (column by column), the thresholds of its rules, and the
candidate pairs, the records that share at least one blocking key.

Pure logic, the first steps of ``review.dedup`` (prepare -> candidate pairs); the rules that decide a pair are
``review.dedup_rules``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from . import matchkeys as mk
from .model import Record
from .survivors import preference


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
    preference: list[tuple[bool, int]]  # which record of a group survives (review.survivors)

    def __len__(self) -> int:
        return len(self.ids)


def prepare(records: Sequence[Record]) -> Prepared:
    titles, alts, authors, givens, author_text, years, dois, containers = [], [], [], [], [], [], [], []
    volumes, issues, firsts, lasts, isbns, notices, abstracts, numbers, preferences = ([] for _ in range(9))
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
        preferences.append(preference(r))
    return Prepared(
        ids=[r.record_id for r in records], title=titles, alt_title=alts, authors=authors, given=givens,
        author_text=author_text,
        year=np.array(years, dtype=np.int32), doi=dois, container=containers, volume=volumes, issue=issues,
        first_page=firsts, last_page=lasts, isbn=isbns, notice=notices,
        abstract_venue=np.array(abstracts, dtype=bool), proceedings=np.array(proceedings, dtype=bool),
        numbers=numbers, preference=preferences,
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
