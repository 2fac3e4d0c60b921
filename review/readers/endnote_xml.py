"""EndNote XML (File > Export > XML), parsed with defusedxml so a hostile file cannot expand entities."""

from __future__ import annotations

import io
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ..errors import ERROR, Problem, SourceError
from .base import Context, Entry, people, register

TYPES = {
    "Journal Article": "article-journal", "Electronic Article": "article-journal",
    "Magazine Article": "article-magazine", "Newspaper Article": "article-newspaper",
    "Book": "book", "Edited Book": "book", "Electronic Book": "book", "Book Section": "chapter",
    "Electronic Book Section": "chapter", "Conference Proceedings": "paper-conference",
    "Conference Paper": "paper-conference", "Report": "report", "Government Document": "report",
    "Thesis": "thesis", "Web Page": "webpage", "Statute": "legislation", "Bill": "bill",
    "Unpublished Work": "manuscript", "Dataset": "dataset", "Generic": "document",
}


def _text(node: Element | None) -> str:
    return "".join(node.itertext()).strip() if node is not None else ""


def _all(node: Element, path: str) -> list[str]:
    return [t for t in (_text(n) for n in node.findall(path)) if t]


def _entry(rec: Element, index: int) -> Entry:
    ref_type = rec.find("ref-type")
    kind = ref_type.get("name", "") if ref_type is not None else ""
    number = _text(rec.find("rec-number"))
    isbn = _text(rec.find("isbn"))
    book_like = TYPES.get(kind, "document") in ("book", "chapter")
    fields = {
        "item_type": TYPES.get(kind, "document"),
        "title": _text(rec.find("titles/title")),
        "creators": people(_all(rec, "contributors/authors/author"))
        + people(_all(rec, "contributors/secondary-authors/author"), "editor"),
        "year": _text(rec.find("dates/year")),
        "date": _text(rec.find("dates/pub-dates/date")),
        "container": _text(rec.find("titles/secondary-title")) or _text(rec.find("periodical/full-title")),
        "volume": _text(rec.find("volume")),
        "issue": _text(rec.find("number")),
        "pages": _text(rec.find("pages")),
        "doi": _text(rec.find("electronic-resource-num")),
        "isbn": isbn if book_like else "",
        "issn": "" if book_like else isbn,
        "publisher": _text(rec.find("publisher")),
        "place": _text(rec.find("pub-location")),
        "url": next(iter(_all(rec, "urls/related-urls/url")), ""),
        "abstract": _text(rec.find("abstract")),
        "language": _text(rec.find("language")),
        "tags": _all(rec, "keywords/keyword"),
        "extra": _text(rec.find("notes")),
        "database": _text(rec.find("remote-database-name")),
    }
    original = {child.tag: _text(child) for child in rec if _text(child)}
    return Entry(key=number or f"record{index}", line=None, fields=fields, original=original)


@register("endnote-xml")
def read(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    """The records of an export, one at a time: each is read and then cleared as soon as it has been parsed
    (the whole tree of a 200 MB export took 1.8 GB). The records are those at ``<xml><records><record>``;
    only if there are none, any ``<record>`` (a hand-made or damaged export)."""
    tags: list[str] = []  # the open elements, the root first
    elsewhere: list[Entry | Problem] = []
    found = 0
    try:
        for event, node in SafeET.iterparse(io.BytesIO(text.encode("utf-8")), events=("start", "end")):
            if event == "start":
                if not tags and node.tag != "xml":
                    break
                tags.append(node.tag)
                continue
            tags.pop()
            if node.tag != "record":
                continue
            if tags == ["xml", "records"]:
                found += 1
                yield _read_record(node, found, ctx)
            elif not found:
                elsewhere.append(_read_record(node, len(elsewhere) + 1, ctx))
            node.clear()
    except ParseError as exc:
        line, column = exc.position
        raise SourceError(f"{ctx.file}: line {line}, column {column}: not well-formed XML ({exc.msg})") from exc
    except DefusedXmlException as exc:
        raise SourceError(f"{ctx.file}: refused: the XML declares entities or a DTD ({exc})") from exc
    if not found and not elsewhere:
        raise SourceError(f"{ctx.file}: not an EndNote XML export (expected <xml><records><record>...)")
    yield from ([] if found else elsewhere)


def _read_record(rec: Element, index: int, ctx: Context) -> Entry | Problem:
    if rec.find("titles/title") is None and rec.find("contributors") is None:
        return Problem(code="malformed-entry", severity=ERROR, file=ctx.file, row=f"record {index}",
                       column="record", value=_text(rec.find("rec-number")),
                       expected="a <record> with <titles> or <contributors>", hint="the record was skipped")
    entry = _entry(rec, index)
    entry.original["_position"] = index
    return entry
