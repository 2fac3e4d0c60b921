"""The reader registry and the shared clean step (entry -> record)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import normalise as nz
from ..errors import ERROR, WARNING, Problem, SourceError
from ..model import Creator, Record
from ..progress import bar


@dataclass
class Entry:
    """One entry as a reader found it: canonical field names, values not yet cleaned."""

    key: str  # the entry's own id in the file ("" when it has none)
    line: int | None
    fields: dict[str, Any]
    original: dict[str, Any]
    latex: bool = False  # values are BibTeX/LaTeX-encoded


@dataclass
class ReadResult:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What a reader needs to know about the file it reads, for provenance and messages."""

    source: str
    file: str
    format: str
    database: str = ""


ReaderFn = Callable[[str, Context], Iterator["Entry | Problem"]]
READERS: dict[str, ReaderFn] = {}


def register(name: str) -> Callable[[ReaderFn], ReaderFn]:
    def decorate(fn: ReaderFn) -> ReaderFn:
        READERS[name] = fn
        return fn

    return decorate


def read_file(
    path: str | Path, fmt: str, source: str | None = None, database: str = "", encoding: str = "utf-8-sig"
) -> ReadResult:
    """Read one exported file into records and problems; ``SourceError`` if it cannot be read at all."""
    path = Path(path)
    try:
        text = path.read_text(encoding=encoding)
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: not readable as {encoding} text (byte {exc.start}); set 'encoding:' for this source"
        ) from exc
    except UnicodeError as exc:  # e.g. utf-16 without a byte-order mark: no byte to name
        raise SourceError(f"{path}: not readable as {encoding} text ({exc}); set 'encoding:' for this source") from exc
    except LookupError as exc:  # an encoding that is no text encoding (rot13), given past the protocol check
        raise SourceError(f"{path}: {encoding!r} is not a text encoding; set 'encoding:' for this source "
                          "(e.g. utf-8, latin-1, cp1252)") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from exc
    return read_text(text, fmt, Context(source=source or path.stem, file=str(path), format=fmt, database=database))


def read_text(text: str, fmt: str, ctx: Context) -> ReadResult:
    if fmt not in READERS:
        raise SourceError(f"{ctx.file}: unknown format {fmt!r} (known: {', '.join(sorted(READERS))})")
    result = ReadResult()
    entries: list[Entry] = []
    # a long read shows its progress on a terminal (entries found, then records built); logs stay quiet
    with bar(f"{Path(ctx.file).name}: reading", None, long=len(text) > 5_000_000) as shown:
        for item in READERS[fmt](text.lstrip("\ufeff"), ctx):
            if isinstance(item, Problem):
                result.problems.append(item)
            else:
                entries.append(item)
                if len(entries) % 1000 == 0:
                    shown.update(len(entries))
    result.records, problems = build_records(entries, ctx)
    result.problems.extend(problems)
    if not entries and not result.problems:  # a header-only CSV, a RIS file of ER lines: not one word otherwise
        result.problems.append(Problem(
            code="no-records", severity=WARNING, file=ctx.file, expected="at least one reference",
            hint="the file holds no reference; if the search found none, this is right, else export it again"))
    return result


def build_records(entries: Iterable[Entry], ctx: Context) -> tuple[list[Record], list[Problem]]:
    records: list[Record] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    entries = list(entries)
    with bar(f"{Path(ctx.file).name}: cleaning", len(entries)) as shown:
        for done, entry in enumerate(entries, start=1):
            if done % 1000 == 0:
                shown.update(done)
            _add(entry, ctx, records, problems, seen)
    return records, problems


def _add(entry: Entry, ctx: Context, records: list[Record], problems: list[Problem], seen: set[str]) -> None:
    """One entry cleaned into ``records`` (its id made unique in the file), its problems into ``problems``."""
    record, entry_problems = build_record(entry, ctx)
    problems.extend(entry_problems)
    if record is None:
        return
    if record.record_id in seen:
        problems.append(
            Problem(
                code="duplicate-key", severity=WARNING, file=ctx.file, row=_row(entry), column="id",
                value=entry.key, expected="an id used once in the file",
                hint="the entry is kept under an id that adds its line number",
            )
        )
        record.record_id = f"{record.record_id}@L{entry.line}"
    seen.add(record.record_id)
    records.append(record)


def _row(entry: Entry) -> str:
    return "" if entry.line is None else str(entry.line)


TEXT_FIELDS = (
    "title", "container", "volume", "issue", "publisher", "place", "institution", "url", "abstract",
    "language", "extra", "date_added", "version", "zotero_key",
)


def build_record(entry: Entry, ctx: Context) -> tuple[Record | None, list[Problem]]:
    """Clean one entry into a record (or explain why it cannot be one)."""
    f = entry.fields
    problems: list[Problem] = []

    def problem(code: str, severity: str, column: str, value: Any, expected: str, hint: str = "") -> None:
        problems.append(
            Problem(code=code, severity=severity, file=ctx.file, row=_row(entry), column=column,
                    value=str(value)[:200], expected=expected, hint=hint, record_id=record_id)
        )

    record_id = f"{ctx.source}:{entry.key}" if entry.key else f"{ctx.source}:L{entry.line}"
    names = [(c.role, part) for c in f.get("creators", []) for part in (c.family, c.given, c.name)]
    for name, raw in [*((n, f.get(n)) for n in (*TEXT_FIELDS, "date", "year", "doi")), *names]:
        if isinstance(raw, str) and nz.CONTROL.search(raw):
            shown = nz.CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", raw)
            problem("control-characters", WARNING, name, shown, "text without control characters",
                    "they were removed from the value (a NUL or the like: damage in the export, or pasted)")
    values = {name: nz.clean_text(f.get(name), latex=entry.latex) for name in TEXT_FIELDS}
    creators = [c for c in (_clean_creator(c, entry.latex) for c in f.get("creators", [])) if c]

    if not values["title"] and not creators:
        problem("empty-entry", ERROR, "title", "", "a title or an author",
                "the entry has neither and was skipped")
        return None, problems
    if not values["title"]:
        problem("missing-title", WARNING, "title", "", "a title", "kept, but it cannot be screened by title")

    raw_date = nz.clean_text(f.get("date"))
    raw_year = nz.clean_text(f.get("year"))
    year = nz.year_from_date(raw_year) or nz.year_from_date(raw_date)
    if (raw_year or raw_date) and not year:
        problem("invalid-year", WARNING, "year", raw_year or raw_date, "a four-digit year")

    raw_doi = nz.clean_text(f.get("doi"))
    doi = nz.normalise_doi(raw_doi) or nz.doi_from_extra(values["extra"])
    if raw_doi and not nz.normalise_doi(raw_doi):
        problem("invalid-doi", WARNING, "doi", raw_doi, "a DOI such as 10.1136/bmj.i1495",
                "left out of the doi column; the original value is kept")

    item_type = f.get("item_type") or "document"
    record = Record(
        record_id=record_id,
        source=ctx.source,
        source_type=ctx.format,
        database=nz.clean_text(f.get("database")) or ctx.database,
        file=ctx.file,
        line=entry.line,
        source_key=entry.key,
        item_type=item_type,
        creators=creators,
        year=year,
        date=raw_date or raw_year,
        pages=nz.normalise_pages(nz.clean_text(f.get("pages"), latex=entry.latex)),
        doi=doi,
        isbn=nz.normalise_isbn(nz.clean_text(f.get("isbn"))),
        issn=nz.normalise_issn(nz.clean_text(f.get("issn"))),
        tags=sorted({t for t in (nz.clean_text(t, latex=entry.latex) for t in f.get("tags", [])) if t}),
        collections=sorted({c for c in f.get("collections", []) if c}),
        original={k: v for k, v in entry.original.items() if v not in (None, "", [], {})},
        **values,
    )
    return record, problems


def _clean_creator(creator: Creator, latex: bool) -> Creator | None:
    cleaned = Creator(
        role=creator.role,
        family=nz.clean_text(creator.family, latex),
        given=nz.clean_text(creator.given, latex),
        name=nz.clean_text(creator.name, latex),
    )
    return cleaned if (cleaned.family or cleaned.name) else None


class NotJsonNumber:
    """What stands in for a value JSON does not allow but Python's reader takes (``NaN``, ``Infinity``) or that
    is no usable number (an integer thousands of digits long, which Python refuses to convert): never text
    or a number, so the reader reports the field as of the wrong type and leaves it out."""

    def __init__(self, literal: str):
        self.literal = literal if len(literal) <= 20 else f"a {len(literal):,}-digit number"

    def __repr__(self) -> str:
        return self.literal


MAX_INT_DIGITS = 30  # longer is no volume, page or year, and past 4,300 digits Python refuses int() itself


def _json_int(literal: str) -> int | NotJsonNumber:
    return int(literal) if len(literal.lstrip("-")) <= MAX_INT_DIGITS else NotJsonNumber(literal)


class JsonObject(dict):
    """A JSON object that gives a key twice: the first value kept (as BibTeX keeps a field's first; JSON readers
    keep the last without a word), the later ones in ``repeated`` for the reader to report."""

    repeated: list[tuple[str, Any]]


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    plain = dict(pairs)
    if len(plain) == len(pairs):
        return plain
    out = JsonObject()
    out.repeated = []
    for key, value in pairs:
        if key in out:
            out.repeated.append((key, value))
        else:
            out[key] = value
    return out


def load_json(text: str, ctx: Context) -> Any:
    """Parsed JSON, or a ``SourceError`` naming the file and line; ``NaN``, ``Infinity`` and endless integers
    come back as ``NotJsonNumber`` for the reader to report."""
    try:
        return json.loads(text, parse_constant=NotJsonNumber, parse_int=_json_int, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{ctx.file}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:  # arrays or objects nested thousands deep: no export is
        raise SourceError(f"{ctx.file}: JSON nested deeper than can be read (arrays or objects inside one "
                          "another thousands of levels deep); no reference export is") from exc


def people(names: Iterable[str], role: str = "author") -> list[Creator]:
    """Creators from personal-name strings in any of the forms exports use."""
    return [nz.split_name(n, role) for n in names if n and n.strip()]
