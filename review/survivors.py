"""Which record of several stands for them: the survivor of a dedup group, and the record a report of a study
is read from. One rule for both: the Zotero item first (the team's own, and what its tags decide), then the
most complete record, then the first.

Pure logic: ``review.dedup`` picks each group's survivor with it, ``review.merge`` each report's record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .model import Record


def preference(record: Record) -> tuple[bool, int]:
    """How strongly a record is preferred (greater is better): whether it is a Zotero item, then how many of
    its bibliographic fields are filled (provenance, tags and notes are no part of a record's completeness)."""
    complete = sum(bool(v) for v in (record.title, record.creators, record.year, record.container, record.volume,
                                     record.issue, record.pages, record.doi, record.abstract, record.isbn,
                                     record.issn, record.publisher, record.url))
    return bool(record.zotero_key), complete


def preferred(preferences: Sequence[tuple[bool, int]]) -> int:
    """The position of the most preferred (``preference``), the first among equals."""
    return max(range(len(preferences)), key=lambda k: (preferences[k], -k))


def choose_survivors(preferences: Sequence[tuple[bool, int]], group: Sequence[int]) -> list[bool]:
    """One survivor per group (``group``: each record's group number; ``preferences``: each record's
    ``preference``): its ``preferred`` member."""
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(group):
        members[g].append(i)
    keep = {ks[preferred([preferences[k] for k in ks])] for ks in members.values()}
    return [i in keep for i in range(len(group))]


def best(records: Sequence[Record]) -> Record:
    """The ``preferred`` of ``records``."""
    return records[preferred([preference(r) for r in records])]
