"""BibTeX, entry by entry so that one broken entry costs only itself.

The text is cut at each ``@type{`` that starts a line and each piece is read by ``bibtex_syntax`` (the
fields bibtexparser 1.4 would give, about fifty times faster), with the ``@string`` macros defined before
it. An entry that cannot be read is reported with the line of its fault; text after an entry's closing
brace (an extra ``}`` that closed it early, losing the fields after it) is reported too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import ERROR, WARNING, Problem, SourceError
from ..model import Creator
from . import bibtex_syntax as syntax
from .base import Context, Entry, people, register

_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*[{(]", re.MULTILINE)
_SKIP = {"comment", "preamble"}
_STRING_NAME = re.compile(r"\s*@\s*string\s*[{(]\s*([^\s\"#%'(),={}]+)", re.IGNORECASE)
MAX_EXPANSION = 50_000_000  # characters @string macros may add to a file, at least (ten times the file's length)  # @string macros are read, then used by the entries after them

TYPES = {
    "article": "article-journal",
    "book": "book",
    "booklet": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "proceedings": "book",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "unpublished": "manuscript",
    "misc": "document",
    "legislation": "legislation",
    "dataset": "dataset",
}

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def split_bibtex_names(text: str) -> list[str]:
    """Split a BibTeX name list at `` and `` outside braces."""
    names: list[str] = []
    current: list[str] = []
    depth, i = 0, 0
    while i < len(text):
        ch = text[i]
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and text[i:i + 5].lower() == " and " :
            names.append("".join(current))
            current, i = [], i + 5
            continue
        current.append(ch)
        i += 1
    names.append("".join(current))
    return [n.strip() for n in names if n.strip()]


def bibtex_creators(text: str, role: str) -> list[Creator]:
    out = []
    for name in split_bibtex_names(" ".join(text.split())):
        if name.startswith("{") and name.endswith("}") and name.count("{") == 1:
            out.append(Creator(role=role, name=name[1:-1]))  # {NHS England}: an organisation, kept whole
        else:
            out.extend(people([name], role))
    return out


def _date(fields: dict[str, str]) -> str:
    if fields.get("date"):
        return fields["date"]
    year = fields.get("year", "").strip()
    month = fields.get("month", "").strip().lower()[:3]
    if year and month in MONTHS:
        return f"{year}-{MONTHS[month]:02d}"
    if year and month.isdigit():
        return f"{year}-{int(month):02d}"
    return year


def _entry(raw: dict[str, str], line: int) -> Entry:
    kind = raw.get("ENTRYTYPE", "misc").lower()
    f = {k.lower(): v for k, v in raw.items()}
    creators = bibtex_creators(f.get("author", ""), "author") + bibtex_creators(f.get("editor", ""), "editor")
    url = f.get("url", "")
    if not url and "\\url{" in f.get("howpublished", ""):
        url = f["howpublished"].split("\\url{", 1)[1].split("}", 1)[0]
    item_type = TYPES.get(kind, "document")
    if kind == "misc" and url:
        item_type = "webpage"
    fields = {
        "item_type": item_type,
        "title": f.get("title", ""),
        "creators": creators,
        "year": f.get("year", ""),
        "date": _date(f),
        "container": f.get("journal") or f.get("journaltitle") or f.get("booktitle") or f.get("series", ""),
        "volume": f.get("volume", ""),
        "issue": f.get("number", "") or f.get("issue", ""),
        "pages": f.get("pages", ""),
        "doi": f.get("doi", ""),
        "isbn": f.get("isbn", ""),
        "issn": f.get("issn", ""),
        "publisher": f.get("publisher", ""),
        "place": f.get("address", "") or f.get("location", ""),
        "institution": f.get("institution", "") or f.get("school", "") or f.get("organization", ""),
        "url": url,
        "abstract": f.get("abstract", ""),
        "language": f.get("language", "") or f.get("langid", ""),
        "tags": [t.strip() for t in re.split(r"[;,]", f.get("keywords", "")) if t.strip()],
        "extra": f.get("note", "") or f.get("annote", ""),
    }
    return Entry(key=raw.get("ID", ""), line=line, fields=fields, original=dict(raw), latex=True)


@register("bibtex")
def read(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    starts = list(_START.finditer(text))
    if not starts:
        raise SourceError(f"{ctx.file}: not a BibTeX file (no line starts with @type{{key, ...)")
    strings: dict[str, str] = {}
    # what macros may add to the file's own length, all entries together: each value is bounded by the syntax,
    # but ten thousand short entries naming one long macro would still fill the memory
    budget = max(MAX_EXPANSION, 10 * len(text))
    line, counted = 1, 0  # line numbers counted on from the previous entry: once over the text, not per entry
    for i, match in enumerate(starts):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        kind = match.group(1).lower()
        if kind in _SKIP:
            continue
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        chunk = text[match.start():end]
        key_guess = chunk.split("{", 1)[-1].split(",", 1)[0].strip()[:80]
        notes: list[syntax.Note] = []
        try:
            if kind == "string":
                name, value = syntax.string(chunk, strings, notes)
                strings[name] = value
            else:
                fields, closed = syntax.entry(chunk, strings, notes)
                budget -= max(0, sum(map(len, fields.values())) - len(chunk))
                if budget < 0:
                    raise syntax.BibSyntaxError("@string macros expand the file's entries to more than "
                                                f"{max(MAX_EXPANSION, 10 * len(text)):,} characters", 0)
        except syntax.BibSyntaxError as exc:
            if kind == "string" and (named := _STRING_NAME.match(chunk)):
                strings[named.group(1).lower()] = ""  # defined, empty: its name is not pasted into the entries
            yield Problem(
                code="malformed-entry", severity=ERROR, file=ctx.file, row=str(line), column="entry",
                value=chunk.splitlines()[0].strip()[:120],
                expected="@type{key, field = {value}, ...} with balanced braces",
                hint=f"{_diagnose(chunk, str(exc))} (seen at line {line + chunk.count(chr(10), 0, exc.offset)}); "
                     "the entry was skipped",
                record_id=f"{ctx.source}:{key_guess}",
            )
            continue
        yield from _noted(notes, chunk, line, ctx, fields.get("ID", key_guess) if kind != "string" else "")
        if kind == "string":
            continue
        after = syntax.trailing(chunk[closed:])
        if after is not None:
            at = closed + after
            rest = chunk[at:]
            lost = sorted(set(re.findall(r"(\w+)\s*=", rest)))
            yield Problem(
                code="text-after-entry", severity=ERROR, file=ctx.file, row=str(line + chunk.count("\n", 0, at)),
                column="entry", value=" ".join(rest.split())[:120],
                expected="nothing but space or % comments after the entry's closing }",
                hint="an extra } closed the entry early, so what follows it was not read"
                     + (f" (fields lost: {', '.join(lost)})" if lost else "")
                     + "; the entry was kept without it: remove the extra } just before",
                record_id=f"{ctx.source}:{fields.get('ID', key_guess)}",
            )
        yield _entry(fields, line)


def _noted(notes: list[syntax.Note], chunk: str, line: int, ctx: Context, key: str) -> Iterator[Problem]:
    """What the syntax noticed in an entry or @string it read: a field given twice (its later value ignored,
    as BibTeX ignores it), a name that is no @string macro (kept in the value as written)."""
    first: dict[tuple[str, str, str], syntax.Note] = {}
    for note in notes:
        first.setdefault((note.kind, note.field, note.value), note)
    for note in first.values():  # each once, at its first place
        row = str(line + chunk.count("\n", 0, note.offset))
        if note.kind == "duplicate-field":
            yield Problem(code="duplicate-field", severity=WARNING, file=ctx.file, row=row, column=note.field,
                          value=" ".join(note.value.split())[:120], expected="each field once in an entry",
                          hint="this later value was ignored and the first kept (as BibTeX does); "
                               "remove the one that is wrong", record_id=f"{ctx.source}:{key}" if key else "")
        else:
            yield Problem(code="undefined-macro", severity=WARNING, file=ctx.file, row=row, column=note.field,
                          value=note.value, expected="an @string macro defined above, a month (jan ... dec), "
                          "a number, or a value in {braces} or \"quotes\"",
                          hint="the name was kept in the value as written; put the value in braces, or define "
                               "the macro", record_id=f"{ctx.source}:{key}" if key else "")


def _diagnose(chunk: str, fault: str) -> str:
    body = chunk.rstrip()
    if body.count("{") != body.count("}"):
        return f"unbalanced braces ({body.count('{')} opening, {body.count('}')} closing): {fault}"
    return fault
