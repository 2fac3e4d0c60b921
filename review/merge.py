"""What a dedup group's row says: its survivor's record, completed only from copies of the same document.

A group is usually copies of one document (the same article from three databases), but a reviewer's
``same`` decision can put two reports of one study in it (a 2016 article and the 2017 paper it led to).
Copying a DOI or pages from the other report would pair a title with another document's identifiers, so
an empty field is filled only from members that are the same document: the same DOI, or titles alike and
years at most one apart. The author list follows the same rule, and a survivor whose authors were read
from a line without commas (``AU  - Sanderson Marie``, read as given name Sanderson) takes the author list
of a copy that names the same people on better grounds (initials after the family name, names given as
fields, the copy the study has been cited by): the study must not be cited as "Marie et al.". The authors
and year of the copy the study has been cited by stay the row's when a fuller copy survives. Pure:
``review.stages.dedup`` calls ``merge_group`` for each group.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

from rapidfuzz import fuzz

from .matchkeys import title_key
from .model import Creator, Record
from .survivors import best

# a record's own provenance, never taken from another member
OWN = frozenset({"record_id", "source", "source_type", "file", "line", "source_key", "zotero_key", "original"})
# titles of copies of one document: case, subtitles and database notes aside, they score above this
SAME_TITLE = 85


def same_document(a: Record, b: Record) -> bool:
    """Whether two records are copies of one document (not two reports of one study)."""
    doi_a, doi_b = a.cell("doi"), b.cell("doi")
    if doi_a and doi_b:
        return doi_a == doi_b
    key_a, key_b = title_key(a.cell("title")), title_key(b.cell("title"))
    if key_a and key_b and fuzz.token_set_ratio(key_a, key_b) < SAME_TITLE:
        return False
    year_a, year_b = a.cell("year"), b.cell("year")
    return not (year_a.isdigit() and year_b.isdigit() and abs(int(year_a) - int(year_b)) > 1)


def swapped(read: Creator, named: Creator) -> bool:
    """``read`` is ``named`` with the family and given names the wrong way round (``Sanderson Marie`` read
    as given Sanderson, family Marie, where another copy says ``Sanderson, M``)."""
    return bool(read.family and read.given and named.family and named.given
                and read.given.casefold() == named.family.casefold()
                and read.family[:1].casefold() == named.given[:1].casefold())


def _authors(record: Record) -> list[Creator]:
    return [c for c in record.creators if c.role == "author"]


# formats whose names come as family and given fields, never split from a line by guessing
STRUCTURED_NAMES = frozenset({"zotero-json", "csljson", "zotero"})
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?\s?){1,4}$")


def _name_evidence(record: Record, cited: Record | None) -> tuple[int, int, int]:
    """How far a record's split of its authors' names can be trusted: given names that are initials (only a
    family name comes before them), names given as fields, the copy the study has been cited by."""
    initials = sum(bool(_INITIALS.match(c.given)) for c in _authors(record))
    return initials, int(record.source_type in STRUCTURED_NAMES), int(record is cited)


def _better_authors(names: Record, copies: Sequence[Record], cited: Record | None = None) -> Record | None:
    """A copy of the same document whose author list has the same people with family and given names the other
    way round, when its split is the better founded (``None`` when there is none, or ``names``' is)."""
    mine = _authors(names)
    for other in copies:
        theirs = _authors(other)
        if (len(theirs) == len(mine) and any(swapped(a, b) or swapped(b, a) for a, b in zip(mine, theirs))
                and _name_evidence(other, cited) > _name_evidence(names, cited)):
            return other
    return None


def merge_group(members: Sequence[Record], survivor: Record, cited: Record | None = None) -> dict[str, str]:
    """The survivor's row, each empty field filled from the members that are the same document (most
    complete first), its author list taken from such a copy when its own was read the wrong way round.
    ``cited``: the copy the study has been cited by (the one the review knew first); its authors and year
    stay the row's, so that a fuller copy joining later completes the row without moving the citation."""
    row = survivor.as_row()
    copies = [m for m in members if m is not survivor and same_document(survivor, m)]
    names = survivor
    if cited is not None and cited is not survivor and cited in copies and _authors(cited):
        names = cited
        row["year"] = cited.year or row["year"]
    others = [c for c in copies if c is not names] + ([survivor] if names is not survivor else [])
    better = _better_authors(names, others, cited)
    if better is not None or names is not survivor:
        source = better or names
        creators = [*_authors(source), *(c for c in survivor.creators if c.role != "author")]
        row["creators"] = json.dumps([c.as_dict() for c in creators], ensure_ascii=False)
        row["authors"] = source.names("author")
    empty = [name for name, value in row.items() if not value and name not in OWN]
    for other in copies:
        if not empty:
            break
        for name in empty:
            if value := other.cell(name):
                row[name] = value
        empty = [name for name in empty if not row[name]]
    return row


# what a report of a study shows in the references ("also reported in") and in results/dedup/unique_records.csv
REPORT_FIELDS = ("item_type", "title", "authors", "creators", "year", "container", "volume", "issue", "pages", "doi",
                 "url", "publisher", "institution")


def reports(members: Sequence[Record]) -> list[list[Record]]:
    """A group's records as the documents they are copies of (PRISMA 2020's reports), in the order of each
    report's first record: a record joins the first report one of whose records is the same document."""
    out: list[list[Record]] = []
    for record in members:
        home = next((r for r in out if any(same_document(record, m) for m in r)), None)
        if home is None:
            out.append([record])
        else:
            home.append(record)
    return out


def main_report(docs: Sequence[Sequence[Record]], known_since: Mapping[str, int]) -> int:
    """Which report a study is cited by: the one the review knew first (``known_since``: record id -> when the
    ledger first had it), else the earliest published, else the first; so a report joining later never
    takes the citation from the one the team has been citing."""
    never = math.inf  # a record the ledger has not had yet

    def order(k: int) -> tuple[float, str, int]:
        first = min((known_since.get(r.record_id, never) for r in docs[k]), default=never)
        years = sorted(r.year for r in docs[k] if r.year)
        return first, years[0] if years else "9999", k

    return min(range(len(docs)), key=order)


def report_row(doc: Sequence[Record]) -> dict[str, str]:
    """One report's own bibliographic data (completed from its copies only) and its records."""
    survivor = best(doc)
    row = merge_group(sorted(doc, key=lambda m: -m.filled()), survivor)
    return {**{k: row.get(k, "") for k in REPORT_FIELDS}, "record_ids": "; ".join(sorted(r.record_id for r in doc))}
