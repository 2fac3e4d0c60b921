"""Study identity: one id per study for the life of the review, whatever the dedup groups do.

The dedup stage forms groups of records afresh at every refresh; a group is only a set of record ids.
The *ledger* (``extracts/studies.csv``, committed with the reviewers' files) remembers which study each
record has belonged to. It is an event log the pipeline appends to and never rewrites:

``new``      a study was created (``record_id``: the record it was named after)
``member``   ``record_id`` joined ``study_id`` (a later ``member`` row for the same record moves it)
``merged``   ``study_id`` was merged into ``other`` (the two studies' records met in one group)
``split``    ``study_id`` was split off ``other`` (a group left with some of ``other``'s records)

A ``member`` row also keeps the record's ``fingerprint`` (DOI, else title and year).

``assign`` maps the current groups onto studies. Each known study, oldest first, goes to the group that
holds its earliest recorded member still present; a study whose earliest member is in a group an older
study already took is merged into that study. A group holding only records of studies that went
elsewhere is split off the study of its earliest record; a group of records never seen is matched by
fingerprint (DOI, else title and year) to a study none of whose records is present any more (a source
renamed or re-exported under other keys), else it is a new study, named readably (``Sanderson2023``).

Pure: no files. ``review.stages.dedup`` reads and appends the ledger.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .matchkeys import title_key

LEDGER_COLUMNS = ["study_id", "event", "record_id", "other", "fingerprint"]
NEW, MEMBER, MERGED, SPLIT = "new", "member", "merged", "split"
EVENTS = (NEW, MEMBER, MERGED, SPLIT)
# words left out of a readable id made from an organisation's name
_SMALL_WORDS = {"of", "and", "the", "for", "in", "on", "to", "a", "an", "&"}
_MAX_NAME = 20


@dataclass(frozen=True)
class Member:
    """A record of the current records table, as identity needs it."""

    record_id: str
    fingerprint: str = ""


@dataclass(frozen=True)
class Group:
    """A dedup group: its members (any order) and what a new study would be named after."""

    members: tuple[Member, ...]
    authors: str = ""
    year: str = ""
    title: str = ""
    named_after: str = ""  # the record a new study is named after (the group's survivor)


@dataclass
class Assignment:
    """The study id of each group (in the order given), and the ledger rows to append."""

    ids: list[str]
    events: list[dict[str, str]] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)  # study merged this time -> study it joined
    split: dict[str, str] = field(default_factory=dict)  # study split off this time -> study it left
    renamed: dict[str, str] = field(default_factory=dict)  # every earlier id (merged ever) -> id it now is


def fingerprint(doi: str, title: str, year: str) -> str:
    """What recognises a record under another id: its DOI, else its title key and year ("" if no title)."""
    if doi:
        return f"doi:{doi.lower()}"
    key = title_key(title)
    return f"title:{key}|{year}" if key else ""


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def readable_base(authors: str, year: str, title: str = "") -> str:
    """``Sanderson2023`` from the first author's family name (an organisation's name, shortened to its
    initials when long; the first word of the title when there is no author) and the year (``nd``)."""
    first = next((a for a in (authors or "").split("; ") if a.strip()), "")
    if first:
        words = _ascii(first.split(",")[0] if "," in first else first).replace("'", "").split()
    else:
        words = [w for w in _ascii(title).replace("'", "").split() if w.lower() not in _SMALL_WORDS][:1]
    words = [re.sub(r"[^A-Za-z0-9]", "", w) for w in words]
    words = [w for w in words if w]
    name = "".join(w[:1].upper() + w[1:] for w in words if w.lower() not in _SMALL_WORDS or len(words) == 1)
    if len(name) > _MAX_NAME:
        name = "".join(w[0].upper() for w in words if w.lower() not in _SMALL_WORDS)
    year = year if re.fullmatch(r"\d{4}", year or "") else "nd"
    return f"{name or 'Study'}{year}"


def unique_id(base: str, taken: set[str], tried: dict[str, int] | None = None) -> str:
    """``base``, else ``base`` with the first free suffix b, c, ... z, then bb, bc, ...; ``tried`` remembers
    how far each base's suffixes are taken, so that thousands of studies of one name stay linear."""
    if base not in taken:
        return base
    letters = "bcdefghijklmnopqrstuvwxyz"
    n = tried.get(base, 0) if tried is not None else 0
    while True:
        suffix, k = "", n
        while True:
            suffix = letters[k % len(letters)] + suffix
            k = k // len(letters) - 1
            if k < 0:
                break
        if base + suffix not in taken:
            if tried is not None:
                tried[base] = n + 1
            return base + suffix
        n += 1


_POSITIONAL = re.compile(r":L\d+(?:@L\d+)?$")  # a record id made from a line number: another export may reuse it


class Ledger:
    """The ledger's rows, read into what ``assign`` asks of them."""

    def __init__(self, rows: Iterable[Mapping[str, str]] = ()):
        self.rows = [dict(r) for r in rows]
        self.created: dict[str, int] = {}  # study -> position of its first row
        self.merged_into: dict[str, str] = {}
        self.study_of: dict[str, str] = {}  # record -> study of its latest member row
        self.since: dict[str, int] = {}  # record -> position of that row
        self.fingerprints: dict[str, list[str]] = defaultdict(list)  # fingerprint -> studies, oldest row first
        self.printed: dict[str, str] = {}  # record -> its fingerprint when it joined
        for k, row in enumerate(self.rows):
            study, event = row["study_id"], row["event"]
            self.created.setdefault(study, k)
            if event == MERGED:
                self.merged_into[study] = row["other"]
            elif event == MEMBER:
                self.study_of[row["record_id"]] = study
                self.since[row["record_id"]] = k
                self.printed[row["record_id"]] = row.get("fingerprint", "")
                if row.get("fingerprint"):
                    self.fingerprints[row["fingerprint"]].append(study)

    def resolve(self, study: str) -> str:
        seen = set()
        while study in self.merged_into and study not in seen:
            seen.add(study)
            study = self.merged_into[study]
        return study

    def knows(self, member: Member) -> bool:
        """Whether ``member`` is a record the ledger has seen: its id, unless the id is made from a line number
        and now names another work (a re-export shifted the lines)."""
        if member.record_id not in self.study_of:
            return False
        before = self.printed.get(member.record_id, "")
        return not (_POSITIONAL.search(member.record_id) and before and member.fingerprint
                    and before != member.fingerprint)

    def taken(self) -> set[str]:
        return set(self.created)

    def renamed(self) -> dict[str, str]:
        """Every id that was merged away -> the id it is now."""
        return {old: self.resolve(old) for old in self.merged_into}


def _member_row(study: str, member: Member) -> dict[str, str]:
    return {"study_id": study, "event": MEMBER, "record_id": member.record_id, "other": "",
            "fingerprint": member.fingerprint}


def _known_studies(groups: Sequence[Group], ledger: Ledger, ids: list[str | None]) -> tuple[dict, list]:
    """Step 1: each known study, oldest first, to the group of its earliest member still present; a study
    whose earliest member is in a group an older study took is merged into that study."""
    present: dict[str, list[tuple[int, int]]] = defaultdict(list)  # study -> (position of member row, group)
    for g, group in enumerate(groups):
        for m in group.members:
            if ledger.knows(m):
                present[ledger.resolve(ledger.study_of[m.record_id])].append((ledger.since[m.record_id], g))
    merged: dict[str, str] = {}
    events: list[dict[str, str]] = []
    for study in sorted(present, key=lambda s: ledger.created.get(s, 0)):
        _, g = min(present[study])
        holder = ids[g]
        if holder is None:
            ids[g] = study
        else:
            merged[study] = holder
            events.append({"study_id": study, "event": MERGED, "record_id": "", "other": holder, "fingerprint": ""})
    return merged, events


def _by_fingerprint(group: Group, ledger: Ledger, claimed: set[str]) -> str | None:
    """A study none of whose records is present any more, recognised by a member's fingerprint."""
    found = {s for m in group.members if m.fingerprint
             for s in (ledger.resolve(x) for x in ledger.fingerprints.get(m.fingerprint, ())) if s not in claimed}
    return min(found, key=lambda s: ledger.created.get(s, 0)) if found else None


def assign(groups: Sequence[Group], ledger: Ledger) -> Assignment:
    """Each group's study id; the ledger rows that record what changed (see the module's docstring)."""
    ids: list[str | None] = [None] * len(groups)
    merged, events = _known_studies(groups, ledger, ids)
    split: dict[str, str] = {}
    taken = ledger.taken()
    tried: dict[str, int] = {}
    claimed = {s for s in ids if s}
    for g, group in enumerate(groups):
        if ids[g] is not None:
            continue
        known = sorted((ledger.since[m.record_id], ledger.resolve(ledger.study_of[m.record_id]))
                       for m in group.members if ledger.knows(m))
        again = None if known else _by_fingerprint(group, ledger, claimed)
        if again is not None:
            ids[g] = again
            claimed.add(again)
            continue
        new = unique_id(readable_base(group.authors, group.year, group.title), taken, tried)
        if known:  # records of studies that went to other groups: a split off the study of the earliest
            split[new] = known[0][1]
            events.append({"study_id": new, "event": SPLIT, "record_id": "", "other": known[0][1], "fingerprint": ""})
        else:
            events.append({"study_id": new, "event": NEW, "record_id": group.named_after, "other": "",
                           "fingerprint": ""})
        taken.add(new)
        claimed.add(new)
        ids[g] = new
    done = [s for s in ids if s is not None]
    for group, study in zip(groups, done):
        # the record a new study is named after is its first member: the one that keeps the id in a split
        for m in sorted(group.members, key=lambda m: (m.record_id != group.named_after, m.record_id)):
            if not ledger.knows(m) or ledger.resolve(ledger.study_of[m.record_id]) != study:
                events.append(_member_row(study, m))
    renamed = {old: merged.get(new, new) for old, new in ledger.renamed().items()} | merged
    return Assignment(done, events, merged, split, renamed)


# how alike (rapidfuzz's token set ratio, 0-100) the title a row shows and its study's title must be for the row
# to be about that study: copies of one work score above 90 (case, subtitles, notes); two works of one field
# rarely above 60
ROW_TITLE_SIMILARITY = 75


def row_is_about(shown: str, titles: Iterable[str]) -> bool:
    """Whether a sheet row that shows the title ``shown`` (written by the pipeline beside its study id) is about
    a study with these ``titles``: a study id overtyped with another study's id shows the first study's title,
    and its values must not move to the other study. A row with no title shown cannot be checked: it passes."""
    from rapidfuzz import fuzz

    key = title_key(shown)
    if not key:
        return True
    keys = [k for k in (title_key(t) for t in titles) if k]
    return not keys or any(fuzz.token_set_ratio(key, k) >= ROW_TITLE_SIMILARITY for k in keys)
