"""CSL-JSON, as Zotero and Better BibTeX export it (a JSON array of CSL items)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import ERROR, WARNING, Problem, SourceError
from ..model import ITEM_TYPES, Creator
from .base import Context, Entry, JsonObject, NotJsonNumber, load_json, register

ROLES = {"author": "author", "editor": "editor", "translator": "translator", "container-author": "other",
         "collection-editor": "series-editor", "reviewed-author": "reviewed-author", "director": "director",
         "interviewer": "interviewer", "recipient": "recipient", "contributor": "contributor"}

# Zotero's export ids: http://zotero.org/users/123/items/KEY, or users/local/<id>/items/KEY unsynced
_ZOTERO_URI = re.compile(r"zotero\.org/(users|groups)/((?:local/)?[^/]+)/items/([A-Z0-9]{8})$")


def csl_date(value: object) -> str:
    """``{"date-parts": [[2019, 11, 5]]}`` -> ``2019-11-05``; ``raw``/``literal`` kept as given."""
    if not isinstance(value, dict):
        return str(value or "")
    parts = value.get("date-parts") or []
    if parts and parts[0] and parts[0][0] not in (None, ""):
        first = [str(p) for p in parts[0] if p not in (None, "")]
        return "-".join([first[0], *(p.zfill(2) for p in first[1:])])
    return str(value.get("raw") or value.get("literal") or "")


def csl_creators(item: dict) -> list[Creator]:
    out = []
    for field, role in ROLES.items():
        for person in item.get(field) or []:
            if not isinstance(person, dict):
                continue
            if person.get("literal"):
                out.append(Creator(role=role, name=str(person["literal"])))
            else:
                family = " ".join(str(p) for p in (person.get("non-dropping-particle"), person.get("family")) if p)
                out.append(Creator(role=role, family=family, given=str(person.get("given", ""))))
    return out


# CSL fields read as text: JSON strings, or numbers where CSL allows them (volume 12, page 5)
TEXT_FIELDS = ("title", "container-title", "collection-title", "volume", "issue", "page", "DOI", "ISBN", "ISSN",
               "publisher", "publisher-place", "URL", "abstract", "language", "keyword", "note", "type", "id")


def checked(item: dict, ctx: Context, line: int | None) -> tuple[dict, list[Problem]]:
    """The item with every field of the wrong JSON type taken out (a list title, ``type: 5``), each named in a
    problem; a name list given as one string is read as names split at ``;`` and reported."""
    clean, problems = dict(item), []

    def report(name: str, value: object, expected: str, hint: str) -> None:
        problems.append(Problem(code="wrong-type", severity=ERROR if name in ("title", "type") else WARNING,
                                file=ctx.file, row=str(line or ""), column=name, value=repr(value)[:80],
                                expected=expected, hint=hint, record_id=f"{ctx.source}:{item.get('id', '')}"))

    for name, value in item.repeated if isinstance(item, JsonObject) else ():
        problems.append(Problem(code="duplicate-field", severity=WARNING, file=ctx.file, row=str(line or ""),
                                column=name, value=repr(value)[:80], expected="each field once in an item",
                                hint="this later value was ignored and the first kept; remove the one that is wrong",
                                record_id=f"{ctx.source}:{item.get('id', '')}"))
    for name, value in item.items():  # NaN, Infinity or an endless integer anywhere in a field: the field goes
        if name not in ("title", "type") and _holds(value, NotJsonNumber):
            report(name, value, "text or a finite number", "left out")
            del clean[name]
    for name in TEXT_FIELDS:
        value = clean.get(name)
        if value is None or isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)
                                                       and name not in ("title", "type")):
            continue
        report(name, value, "text", "left out" if name != "type" else "read as a generic document")
        del clean[name]
    if "type" in item and "type" not in clean:
        clean["type"] = "document"
    for name in ROLES:
        value = item.get(name)
        if value is None or (isinstance(value, list) and all(isinstance(p, dict) for p in value)):
            continue
        if isinstance(value, str):
            clean[name] = [{"literal": part.strip()} for part in value.split(";") if part.strip()]
            report(name, value, 'a list of names ([{"family": ..., "given": ...}])',
                   "read as names separated by ;")
        else:
            clean[name] = [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []
            report(name, value, 'a list of names ([{"family": ..., "given": ...}])', "what is not a name was left out")
    return clean, problems


def _holds(value: object, kind: type) -> bool:
    """Whether ``value`` or anything inside it is a ``kind`` (iteratively: an item may nest deep)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _lines_of_items(text: str) -> list[int]:
    """Line of each top-level item in a pretty-printed array (None-safe guess for minified files)."""
    lines, depth, line, in_string, escaped = [], 0, 1, False, False
    for ch in text:
        if ch == "\n":
            line += 1
        if in_string:
            escaped = not escaped and ch == "\\"
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string, escaped = True, False
        elif ch in "[{":
            if depth == 1 and ch == "{":
                lines.append(line)
            depth += 1
        elif ch in "]}":
            depth -= 1
    return lines


def _entry(item: dict, line: int | None) -> Entry:
    item_id = str(item.get("id", ""))
    zotero = _ZOTERO_URI.search(item_id)
    kind = item.get("type", "document")
    issued = csl_date(item.get("issued"))
    fields = {
        "item_type": kind if kind in ITEM_TYPES else "document",
        "title": item.get("title", ""),
        "creators": csl_creators(item),
        "date": issued,
        "container": item.get("container-title") or item.get("collection-title", ""),
        "volume": item.get("volume", ""),
        "issue": item.get("issue", ""),
        "pages": item.get("page", ""),
        "doi": item.get("DOI", ""),
        "isbn": item.get("ISBN", ""),
        "issn": item.get("ISSN", ""),
        "publisher": item.get("publisher", "") if kind != "report" else "",
        "institution": item.get("publisher", "") if kind == "report" else "",
        "place": item.get("publisher-place", ""),
        "url": item.get("URL", ""),
        "abstract": item.get("abstract", ""),
        "language": item.get("language", ""),
        "tags": [t.strip() for t in re.split(r"[;,]", str(item.get("keyword", ""))) if t.strip()],
        "extra": item.get("note", ""),
        "zotero_key": f"{zotero.group(1)}/{zotero.group(2)}:{zotero.group(3)}" if zotero else "",
    }
    key = zotero.group(3) if zotero else item_id
    return Entry(key=key, line=line, fields=fields, original=item)


@register("csljson")
def read(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    data = load_json(text, ctx)
    if isinstance(data, dict) and "items" in data:  # Better BibTeX's JSON wraps the list
        data = data["items"]
    if not isinstance(data, list):
        raise SourceError(f"{ctx.file}: not CSL-JSON (expected a list of items, found {type(data).__name__})")
    lines = _lines_of_items(text)
    for i, item in enumerate(data):
        line = lines[i] if i < len(lines) else None
        if not isinstance(item, dict) or "type" not in item:
            yield Problem(code="malformed-entry", severity=ERROR, file=ctx.file, row=str(line or ""),
                          column="entry", value=str(item)[:80], expected="a CSL item with 'id' and 'type'",
                          hint=f"item {i + 1} of the list was skipped")
            continue
        item, problems = checked(item, ctx, line)
        yield from problems
        yield _entry(item, line)
