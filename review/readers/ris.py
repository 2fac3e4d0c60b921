"""RIS (rispy), record by record, with the faults rispy passes over in silence made visible.

rispy returns nothing at all for a final record with no ``ER  -`` or for one-space tags
(``TY - ``); a byte-order mark is handled when the file is read (``utf-8-sig``). Here each record
is cut out with its line number, tags are put back into the standard ``XX  - `` form (with a
warning), and a record that still yields nothing is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import rispy

from ..errors import ERROR, WARNING, Problem, SourceError
from .base import Context, Entry, people, register

_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9])\s{1,3}-(?: (.*)|\s*)$")
# a tag in lower case (``au  - ``) is read as one only where it is a RIS tag: a continuation line of an
# abstract may start "in - between"
_KNOWN = frozenset(rispy.TAG_KEY_MAPPING) | {"ER", "TY"}
_LISTS = frozenset(rispy.LIST_TYPE_TAGS)
_STANDARD = re.compile(r"^[A-Z][A-Z0-9]  - ")

TYPES = {
    "JOUR": "article-journal", "JFULL": "article-journal", "ABST": "article-journal", "EJOUR": "article-journal",
    "INPR": "article-journal", "MGZN": "article-magazine", "NEWS": "article-newspaper",
    "BOOK": "book", "EBOOK": "book", "EDBOOK": "book", "CHAP": "chapter", "ECHAP": "chapter",
    "CONF": "paper-conference", "CPAPER": "paper-conference", "RPRT": "report", "GOVDOC": "report",
    "THES": "thesis", "ELEC": "webpage", "WEB": "webpage", "BLOG": "post-weblog", "UNPB": "manuscript",
    "MANSCPT": "manuscript", "STAT": "legislation", "BILL": "bill", "DATA": "dataset", "GEN": "document",
}


def _records(text: str) -> Iterator[tuple[int, list[str], bool]]:
    """Yield (first line number, standard-form lines, ended with ER) for each record."""
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _tag(raw)
        if match:
            tag, value = match.group(1).upper(), (match.group(2) or "")
            if tag == "TY":
                if current:
                    yield start, current, False
                current, start = [], number
            line = f"{tag}  - {value}"
            if not current:
                start = number
            if tag == "ER":
                current.append(line)
                yield start, current, True
                current = []
                continue
            current.append(line)
        elif current and raw.strip():
            current.append(raw)  # continuation of the previous tag's value
    if current:
        yield start, current, False


def _tag(raw: str) -> re.Match[str] | None:
    match = _TAG.match(raw.rstrip())
    if match and not match.group(1).isupper() and match.group(1).upper() not in _KNOWN:
        return None
    return match


def _pages(rec: dict) -> str:
    start, end = rec.get("start_page", ""), rec.get("end_page", "")
    return f"{start}-{end}" if start and end and end != start else start or end


def _entry(rec: dict, line: int) -> Entry:
    kind = rec.get("type_of_reference", "GEN")
    authors = rec.get("authors", []) + rec.get("first_authors", [])
    editors = rec.get("secondary_authors", []) if kind in ("CHAP", "ECHAP", "EDBOOK", "BOOK") else []
    container = rec.get("secondary_title") or rec.get("journal_name") or rec.get("alternate_title3") or ""
    if kind in ("JOUR", "MGZN", "NEWS") and not container:
        container = rec.get("alternate_title1", "") or rec.get("alternate_title2", "")
    urls = rec.get("urls", [])
    fields = {
        "item_type": TYPES.get(kind, "document"),
        "title": rec.get("title") or rec.get("primary_title") or rec.get("translated_title", ""),
        "creators": people(authors) + people(editors, "editor"),
        "year": rec.get("year") or rec.get("publication_year", ""),
        "date": rec.get("date", ""),
        "container": container,
        "volume": rec.get("volume", ""),
        "issue": rec.get("number", ""),
        "pages": _pages(rec),
        "doi": rec.get("doi", ""),
        # RIS puts ISBN and ISSN in one SN tag; the cleaning step sorts out which is which
        "isbn": rec.get("issn", "") if kind in ("BOOK", "CHAP", "EBOOK", "ECHAP", "EDBOOK") else "",
        "issn": rec.get("issn", "") if kind not in ("BOOK", "CHAP", "EBOOK", "ECHAP", "EDBOOK") else "",
        "publisher": rec.get("publisher", ""),
        "place": rec.get("place_published", ""),
        "url": urls[0] if urls else "",
        "abstract": rec.get("abstract") or rec.get("notes_abstract", ""),
        "language": rec.get("language", ""),
        "tags": rec.get("keywords", []),
        "extra": "\n".join(rec.get("notes", [])),
        "database": rec.get("name_of_database") or rec.get("database_provider", ""),
    }
    return Entry(key=rec.get("id", ""), line=line, fields=fields, original=rec)


@register("ris")
def read(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    nonstandard = [n for n, raw in enumerate(text.splitlines(), 1) if _tag(raw)
                   and not _STANDARD.match(raw) and (not raw.rstrip().endswith("-") or not raw[:2].isupper())]
    records = list(_records(text))
    if not any(lines[0].startswith("TY  - ") for _, lines, _ in records):
        raise SourceError(f"{ctx.file}: not a RIS file (no 'TY  - ' line starts a record)")
    if nonstandard:
        yield Problem(
            code="nonstandard-ris-tags", severity=WARNING, file=ctx.file, row=str(nonstandard[0]),
            column="tag", value=text.splitlines()[nonstandard[0] - 1][:80],
            expected="two letters, two spaces, a hyphen and a space ('TY  - ')",
            hint=f"{len(nonstandard)} lines read in the standard form",
        )
    for line, lines, ended in records:
        if not ended:
            yield Problem(
                code="missing-end-tag", severity=WARNING, file=ctx.file, row=str(line), column="ER",
                value=lines[0][:80], expected="every record closed by 'ER  - '",
                hint="the record was read up to the next TY or the end of the file",
            )
            lines = [*lines, "ER  - "]
        if not lines[0].startswith("TY  - "):
            if lines != ["ER  - "]:  # tagged lines before a TY, or after an ER: a record that lost its TY
                yield Problem(
                    code="malformed-entry", severity=ERROR, file=ctx.file, row=str(line), column="TY",
                    value=lines[0][:80], expected="a RIS record: TY first, tagged lines, ER last",
                    hint="these tagged lines belong to no record (no TY line starts them); they were skipped")
            continue
        try:
            parsed = rispy.loads("\n".join(lines) + "\n")
        except Exception as exc:  # rispy's ParseError and friends: one record lost, not the file
            parsed, reason = [], str(exc)
        else:
            reason = "rispy found no record"
        if not parsed:
            yield Problem(
                code="malformed-entry", severity=ERROR, file=ctx.file, row=str(line), column="entry",
                value=lines[0][:80], expected="a RIS record: TY first, tagged lines, ER last",
                hint=f"{reason}; the record was skipped",
            )
            continue
        yield from _repeated(lines, line, ctx, parsed[0].get("id", ""))
        yield _entry(parsed[0], line)


def _repeated(lines: list[str], line: int, ctx: Context, key: str) -> Iterator[Problem]:
    """A tag that holds one value given twice in a record (two TI lines): rispy keeps the first without a word."""
    seen: set[str] = set()
    for text in lines:
        tag = text[:2]
        if _STANDARD.match(text) and tag not in _LISTS and tag not in ("TY", "ER"):
            if tag in seen:
                yield Problem(code="duplicate-field", severity=WARNING, file=ctx.file, row=str(line),
                              column=tag, value=text[6:].strip()[:120], expected="this tag once in a record",
                              hint="this later value was ignored and the first kept; remove the one that is wrong",
                              record_id=f"{ctx.source}:{key or f'L{line}'}")
            seen.add(tag)
