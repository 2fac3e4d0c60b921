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
from ..errors import ERROR, WARNING, Problem, SourceError
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


def _rows(text: str, delimiter: str, width: int, ctx: Context) -> Iterator[tuple[int, list[str]] | Problem]:
    """Data rows with the line where each ends (the spreadsheet row for one-line rows). A quote left open
    swallows the rows after it into one cell without a word from the csv module: a row spanning several
    lines where a line before its last has the header's number of delimiters is taken for that; it is
    reported, and reading starts again on the line after it, so that only the broken row is lost."""
    lines = text.splitlines(keepends=True)
    start = 1  # index of the first line not yet read (line 0 is the header)
    while start < len(lines):
        reader = csv.reader(iter(lines[start:]), delimiter=delimiter)
        line = start + 1  # 1-based line where the next row begins
        restart = None
        for row in reader:
            end = start + reader.line_num  # 1-based line where this row ended
            # a quoted cell over several lines (an abstract's paragraphs) is valid CSV, whatever its lines hold;
            # an open quote that swallowed whole rows leaves a row of another width than the header's
            if end > line + 1 and len(row) != width and \
                    any(piece.count(delimiter) >= width - 1 for piece in lines[line:end - 1]):
                yield Problem(
                    code="csv-unclosed-quote", severity=ERROR, file=ctx.file, row=str(line), column="",
                    value=lines[line - 1].strip()[:120],
                    expected='a quoted cell closed on the same row ("" for a quote inside it)',
                    hint=f"a quote opened on line {line} is never closed, so lines {line + 1}-{end} were read "
                         "into this row; the row was skipped and the lines after it read again",
                    record_id=f"{ctx.source}:L{line}")
                restart = line  # 0-based index of the line after the broken one
                break
            if any(cell.strip() for cell in row):
                source = "".join(lines[line - 1:end])
                if '"' in source and not _strict(source, delimiter):
                    yield Problem(
                        code="csv-stray-quote", severity=ERROR, file=ctx.file, row=str(line), column="",
                        value=source.strip()[:120], expected='a quote only around a whole cell ("" for one inside it)',
                        hint="a quote in this row opens or closes a cell in the middle, so its cells may have run "
                             "together (a title taking in the authors); the row was read as it stands: check it",
                        record_id=f"{ctx.source}:L{end}")
                yield end, row  # the line where the row ends, as record ids have always used
            line = end + 1
        if restart is None:
            return
        start = restart


def _strict(source: str, delimiter: str) -> bool:
    """Whether a row's text is quoted as RFC 4180 has it (the csv module reads a stray quote without a word)."""
    try:
        for _ in csv.reader(io.StringIO(source), delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return False
    return True


def _named(fieldnames: list[str]) -> list[str]:
    """The header's names, a repeated one numbered (``Title``, ``Title (2)``): each cell keeps its column."""
    seen: dict[str, int] = {}
    out = []
    for name in fieldnames:
        key = name.strip().lower()
        seen[key] = seen.get(key, 0) + 1
        out.append(name if seen[key] == 1 or not key else f"{name} ({seen[key]})")
    return out


@register("csv")
def read(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    # the csv module refuses a cell over 128 kB with csv.Error: a long abstract, or the rows an open quote
    # swallowed (reported as csv-unclosed-quote once read); no cell can be longer than the file
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    try:
        yield from _read(text, ctx)
    except csv.Error as exc:  # what the lenient reader still refuses (a NUL in some Pythons): the file, named
        raise SourceError(f"{ctx.file}: not readable as CSV ({exc})") from exc
    finally:
        csv.field_size_limit(limit)


def _read(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    # only the delimiter is sniffed: the sniffer's guesses about quoting break rows with "" inside
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    fieldnames = _named(next(csv.reader([header_line.rstrip("\r")], delimiter=delimiter), []))
    header: dict[str, str] = {}
    for h in fieldnames:
        if h:
            header.setdefault(h.strip().lower(), h)
    columns = {name: next((header[a] for a in aliases if a in header), "") for name, aliases in ALIASES.items()}
    if not columns["title"]:
        found = ", ".join(fieldnames) or "nothing"
        raise SourceError(f"{ctx.file}: not a reference CSV (no 'title' column; header has {found})")
    twice = [h for h in fieldnames if h.endswith(")") and h.rsplit(" (", 1)[0] in fieldnames]
    if twice:
        yield Problem(code="csv-duplicate-column", severity=WARNING, file=ctx.file, row="1", column=twice[0],
                      value=", ".join(twice), expected="each column name once in the header",
                      hint="the first column of that name is read; the others are kept in original, numbered")
    width = len(fieldnames)
    for item in _rows(text, delimiter, width, ctx):
        if isinstance(item, Problem):
            yield item
            continue
        line, cells = item
        row = dict(zip(fieldnames, cells))
        extra = cells[width:]
        if any(cell.strip() for cell in extra):  # kept, numbered after the header's columns, and named
            row.update({f"extra cell {width + k}": cell for k, cell in enumerate(extra, start=1)})
            yield Problem(code="csv-extra-cells", severity=WARNING, file=ctx.file, row=str(line), column="",
                          value=delimiter.join(extra)[:120], expected=f"at most {width} cells, as the header has",
                          hint="the cells past the header's were kept in original; a delimiter inside an unquoted "
                               "cell (a title with a comma) shifts the cells after it",
                          record_id=f"{ctx.source}:L{line}")
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
