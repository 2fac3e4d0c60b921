"""CSV exports with one reference per row (bib-dedupe/ASySD layout, or common database exports).

Column names are matched case-insensitively against the aliases below; ``ID`` is the record id.
Row numbers are reported as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from .. import normalise as nz
from ..errors import Problem, SourceError
from ..model import Creator
from .base import Context, Entry, people, register
from .bibtex import TYPES as BIBTEX_TYPES

ALIASES = {
    "id": ("id", "record_id", "key", "accession number"),
    "item_type": ("entrytype", "type", "item type", "document type"),
    "title": ("title", "article title", "primary_title"),
    "author": ("author", "authors", "author full names"),
    "editor": ("editor", "editors"),
    "year": ("year", "publication year", "py"),
    "date": ("date",),
    "container": ("journal", "source title", "secondary_title", "publication title", "journal/book"),
    "booktitle": ("booktitle", "book title"),
    "volume": ("volume",),
    "issue": ("number", "issue"),
    "pages": ("pages", "page"),
    "doi": ("doi",),
    "isbn": ("isbn",),
    "issn": ("issn",),
    "publisher": ("publisher",),
    "institution": ("institution",),
    "url": ("url", "link"),
    "abstract": ("abstract",),
    "language": ("language",),
    "tags": ("keywords", "tags"),
    "extra": ("note", "notes"),
    "database": ("database", "source"),
}

_PLACEHOLDERS = {"unknown", "na", "n/a", "none", "null", "nan", "[no title]"}


def split_author_list(text: str) -> list[str]:
    """Split an author cell: ``A, B and C, D``; ``A; B``; squashed Medline ``Adeli K.Lewis G. F.``."""
    text = " ".join(text.split())
    if not text:
        return []
    if " and " in text:
        return [p.strip() for p in text.split(" and ") if p.strip()]
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()]
    # "Adeli K.Lewis G. F.": a name ends at initials' full stop and the next begins with a capital
    parts = re.split(r"(?<=[A-Z]\.)(?=[A-Z][a-z])", text)
    return [p.strip() for p in parts if p.strip()]


def _value(row: dict[str, str], columns: dict[str, str], name: str) -> str:
    column = columns.get(name)
    value = (row.get(column) or "").strip() if column else ""
    return "" if value.lower() in _PLACEHOLDERS else value


def _creators(text: str, role: str) -> list[Creator]:
    return people(split_author_list(text), role)


@register("csv")
def read(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    # only the delimiter is sniffed: the sniffer's guesses about quoting break rows with "" inside
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = {h.strip().lower(): h for h in (reader.fieldnames or []) if h}
    columns = {name: next((header[a] for a in aliases if a in header), "") for name, aliases in ALIASES.items()}
    if not columns["title"]:
        found = ", ".join(reader.fieldnames or []) or "nothing"
        raise SourceError(f"{ctx.file}: not a reference CSV (no 'title' column; header has {found})")
    for row in reader:
        line = reader.line_num  # physical line of the row's end; equals the spreadsheet row for one-line rows
        kind = _value(row, columns, "item_type").lower()
        container = _value(row, columns, "container") or _value(row, columns, "booktitle")
        fields = {
            "item_type": BIBTEX_TYPES.get(kind, "document"),
            "title": _value(row, columns, "title"),
            "creators": _creators(_value(row, columns, "author"), "author")
            + _creators(_value(row, columns, "editor"), "editor"),
            "year": _value(row, columns, "year"),
            "date": _value(row, columns, "date"),
            "container": container,
            **{k: _value(row, columns, k) for k in (
                "volume", "issue", "pages", "doi", "isbn", "issn", "publisher", "institution", "url",
                "abstract", "language", "extra", "database")},
            "tags": [t.strip() for t in re.split(r"[;]", _value(row, columns, "tags")) if t.strip()],
        }
        # pages of the form "376 -- 383" come from BibTeX-derived CSVs
        fields["pages"] = nz.normalise_pages(str(fields["pages"]))
        original = {k: v for k, v in row.items() if k}
        yield Entry(key=_value(row, columns, "id"), line=line, fields=fields, original=original)
