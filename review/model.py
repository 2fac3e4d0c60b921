"""The canonical record: one reference from one source, with its provenance and original values.

Every reader turns its format into ``Record`` objects; everything downstream (dedup, screening,
sheets, report) reads ``results/records/records.csv``, whose columns are ``RECORD_COLUMNS``.
Lists (creators, tags, collections) are stored as JSON or ``; ``-joined text so that the table stays
one row per record, readable by pandas and by a person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# CSL item types are the common vocabulary: every reader maps its own type names onto these.
ITEM_TYPES = (
    "article",
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "bill",
    "book",
    "chapter",
    "dataset",
    "document",
    "entry-dictionary",
    "entry-encyclopedia",
    "interview",
    "legal_case",
    "legislation",
    "manuscript",
    "paper-conference",
    "personal_communication",
    "post-weblog",
    "presentation",
    "report",
    "review",
    "speech",
    "thesis",
    "webpage",
)

CREATOR_ROLES = ("author", "editor", "translator", "contributor", "series-editor", "reviewed-author",
                 "director", "interviewer", "recipient", "sponsor", "inventor", "other")


@dataclass(frozen=True)
class Creator:
    """A person (family + given) or a single-field name (an organisation, 'NHS England')."""

    role: str = "author"
    family: str = ""
    given: str = ""
    name: str = ""  # single-field name; family/given empty

    def display(self) -> str:
        if self.name:
            return self.name
        return f"{self.family}, {self.given}" if self.given else self.family

    def as_dict(self) -> dict[str, str]:
        # the fields by hand, in their order: dataclasses.asdict deep-copies, and records.csv holds a
        # creator list per record (a third of the dedup stage's time at 20,000 records went to it)
        pairs = (("role", self.role), ("family", self.family), ("given", self.given), ("name", self.name))
        return {k: v for k, v in pairs if v}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Creator:
        return cls(data.get("role", ""), data.get("family", ""), data.get("given", ""), data.get("name", ""))


@dataclass
class Record:
    """One reference as imported from one source. Field values are normalised but faithful."""

    record_id: str  # stable: "<source>:<zotero library:key>" or "<source>:<entry key or line>"
    source: str  # protocol source name
    source_type: str  # "zotero" or the file format
    database: str = ""
    file: str = ""
    line: int | None = None
    zotero_key: str = ""  # "users/123:ABCD2345" for Zotero items
    source_key: str = ""  # the record's own id in its source: BibTeX key, RIS ID, CSV ID, Zotero key
    item_type: str = "document"
    title: str = ""
    creators: list[Creator] = field(default_factory=list)
    year: str = ""
    date: str = ""
    container: str = ""  # journal, book title, website, or the report's institution series
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    isbn: str = ""
    issn: str = ""
    publisher: str = ""
    place: str = ""
    institution: str = ""
    url: str = ""
    abstract: str = ""
    language: str = ""
    tags: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    extra: str = ""
    date_added: str = ""
    version: str = ""
    original: dict[str, Any] = field(default_factory=dict)

    def names(self, role: str) -> str:
        """The ``authors`` / ``editors`` column: the creators of one role, ``; ``-joined."""
        return "; ".join(c.display() for c in self.creators if c.role == role)

    def as_row(self) -> dict[str, str]:
        # ``cell`` column by column, inlined: every stage that writes records calls this per record (a test
        # holds the two to the same values)
        row: dict[str, str] = {}
        for name in RECORD_COLUMNS:
            if name == "authors":
                row[name] = self.names("author")
            elif name == "editors":
                row[name] = self.names("editor")
            elif name in ("tags", "collections"):
                row[name] = "; ".join(getattr(self, name))
            elif name in ("creators", "original"):
                row[name] = self.cell(name)
            else:
                value = getattr(self, name)
                row[name] = "" if value is None else str(value)
        return row

    def cell(self, name: str) -> str:
        """One column of ``as_row``, without writing the others."""
        if name in ("authors", "editors"):
            return self.names(name[:-1])
        if name in ("tags", "collections"):
            return "; ".join(getattr(self, name))
        if name == "creators":
            return json.dumps([c.as_dict() for c in self.creators], ensure_ascii=False)
        if name == "original":
            return json.dumps(self.original, ensure_ascii=False, sort_keys=True, default=str)
        value = getattr(self, name)
        return "" if value is None else str(value)

    def filled(self) -> int:
        """How many columns of ``as_row`` are not empty, without writing them (the creators and original
        values are JSON text, never empty)."""
        scalars = sum(1 for name in SCALAR_COLUMNS if getattr(self, name))
        return (scalars + (self.line is not None) + bool(self.names("author")) + bool(self.names("editor")) + 2
                + bool("; ".join(self.tags)) + bool("; ".join(self.collections)))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Record:
        """Rebuild a record from a row of ``records.csv`` (as read with ``dtype=str``)."""

        def text(name: str) -> str:
            value = row.get(name)
            if type(value) is str:
                return value
            return "" if value is None or value != value else str(value)  # NaN check without pandas

        kwargs: dict[str, Any] = {name: text(name) for name in SCALAR_COLUMNS}
        kwargs["line"] = int(text("line")) if text("line") else None
        kwargs["creators"] = [Creator.from_dict(c) for c in json.loads(text("creators") or "[]")]
        kwargs["tags"] = [t for t in text("tags").split("; ") if t]
        kwargs["collections"] = [t for t in text("collections").split("; ") if t]
        kwargs["original"] = json.loads(text("original") or "{}")
        return cls(**kwargs)


RECORD_COLUMNS = [
    "record_id", "source", "source_type", "database", "file", "line", "zotero_key", "source_key",
    "item_type", "title", "authors", "editors", "year", "date", "container", "volume", "issue", "pages",
    "doi", "isbn", "issn", "publisher", "place", "institution", "url", "abstract", "language", "tags",
    "collections", "extra", "date_added", "version", "creators", "original",
]

SCALAR_COLUMNS = [
    c for c in RECORD_COLUMNS
    if c not in ("line", "authors", "editors", "creators", "tags", "collections", "original")
]


class Formula(str):
    """A spreadsheet cell that holds a formula, as its text (``=B2*2``): told apart from text a reviewer typed
    that starts with ``=`` (stored as text), which is text. The workbook reader gives formula cells so."""

    __slots__ = ()
