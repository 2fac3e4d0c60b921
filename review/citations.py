"""How a study is cited: the short in-text form and the reference list (citeproc-py, a CSL style).

Pure functions of record fields. ``citations`` gives every study of a set one short citation
(``Ham et al. 2018``; a corporate author whole, ``Department for Levelling Up, Housing and Communities
2022``; the title when there is no author), with ``a``/``b`` after the year where two studies would
otherwise read the same; the reference list carries the same letters, in the style's order, and keeps
the style's italics as marked parts, so each output (Markdown, HTML, Word) renders them its own way.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from rapidfuzz import fuzz, process

# data never reaches the formatter's markup: angle brackets are held aside while citeproc renders
_LT, _GT = "\ue000", "\ue001"
_ITALIC = re.compile(r"<i>(.*?)</i>", re.DOTALL)
_TAGS = re.compile(r"</?(?:b|span|sup|sub)[^>]*>")
_TITLE_WORDS = 6


def authors_of(row: Mapping[str, Any]) -> list[str]:
    """The authors' family names, or an organisation's whole name (commas and all), in order; an edited book
    with no author is cited by its editors, as the reference list gives it."""
    for role, column in (("author", "authors"), ("editor", "editors")):
        people = _creators(row, role)
        if people:
            return [c.get("name") or c.get("family", "") for c in people if c.get("name") or c.get("family")]
        listed = [a.split(",")[0].strip() for a in (row.get(column) or "").split("; ") if a.strip()]
        if listed:
            return listed
    return []


def _creators(row: Mapping[str, Any], role: str) -> list[dict[str, Any]]:
    try:
        creators = json.loads(row.get("creators") or "[]")
    except (TypeError, ValueError):
        return []
    return [c for c in creators if isinstance(c, dict) and c.get("role", "author") == role]


def short_form(names: list[str], year: str, title: str = "") -> str:
    """``Lorne et al. 2019``; with no author, the title's first words (``Integrated care systems explained 2020``)."""
    when = year or "n.d."
    if not names:
        words = (title or "Untitled").split()
        return " ".join(words[:_TITLE_WORDS]) + ("..." if len(words) > _TITLE_WORDS else "") + f" {when}"
    rest = "" if len(names) == 1 else f" and {names[1]}" if len(names) == 2 else " et al."
    return f"{names[0]}{rest} {when}"


def short_citation(authors: str, year: str) -> str:
    """``Lorne et al. 2019`` from a ``; ``-joined author list (when only that is at hand)."""
    return short_form(authors_of({"authors": authors}), year)


def year_suffixes(rows: Iterable[Mapping[str, Any]], key: str = "study_id") -> dict[str, str]:
    """``a``, ``b``, ... for the studies whose short citations would otherwise be the same (ordered by title,
    as the reference list orders them); ``""`` for the others."""
    same: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        same[short_form(authors_of(row), row.get("year", ""), row.get("title", ""))].append(
            (str(row.get("title", "")).casefold(), str(row[key])))
    out = {}
    for group in same.values():
        letters = len(group) > 1
        for k, (_, study) in enumerate(sorted(group)):
            out[study] = "abcdefghijklmnopqrstuvwxyz"[k % 26] * (k // 26 + 1) if letters else ""
    return out


def citations(rows: Iterable[Mapping[str, Any]], key: str = "study_id") -> dict[str, str]:
    """Each study's short citation, unambiguous within ``rows`` (one citation per study everywhere)."""
    rows = list(rows)
    suffix = year_suffixes(rows, key)
    return {str(r[key]): short_form(authors_of(r), (r.get("year") or "n.d.") + suffix[str(r[key])], r.get("title", ""))
            for r in rows}


# a bracketed citation: an author-like name (capitalised, no comma) and a year, then perhaps a locator
_BRACKETS = re.compile(r"\(([^()]*)\)")
_CITED = re.compile(r"^\s*(?:see |e\.g\.,? |cf\. )?(?P<who>[A-Z][^;,:()]*?)\s+(?P<year>(?:1[89]|20)\d{2}[a-z]?|n\.d\.)"
                    r"(?![\w-])")
_MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December", "Spring", "Summer", "Autumn", "Winter"}


def cited(text: str) -> list[str]:
    """The citations a text makes in brackets, as written: ``(Lorne et al. 2019a, executive summary)`` gives
    ``Lorne et al. 2019a``, and several in one bracket are split at ``;``. Only a name and a year count: a
    bracketed date (``April 2023``) or span (``1974-82``) is not a citation."""
    out = []
    for inside in _BRACKETS.findall(text or ""):
        for part in inside.split(";"):
            match = _CITED.match(part)
            if match and match["who"].split()[0] not in _MONTHS:
                out.append(f"{match['who']} {match['year']}")
    return out


def unresolved(text: str, known: Collection[str]) -> list[tuple[str, str]]:
    """Each bracketed citation of ``text`` that no reference carries, with the likeliest one it meant (the
    same year and the closest name; "" when none is close): a reader cannot find ``Lorne et al. 2019`` in a
    list that has ``2019a`` and ``2019b``, nor ``King's Fund 2018`` where the report is Charles et al.'s."""
    out = []
    for citation in cited(text):
        if citation in known:
            continue
        year = citation.rsplit(" ", 1)[1][:4]
        near = process.extractOne(citation, [k for k in known if year in k], scorer=fuzz.token_set_ratio,
                                  score_cutoff=60)
        out.append((citation, near[0] if near else ""))
    return out


# the item types whose title the Harvard style sets in double quotation marks
_QUOTED = {"article-journal", "article-magazine", "article-newspaper", "chapter", "paper-conference", "entry",
           "entry-encyclopedia", "entry-dictionary"}


def csl_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """A CSL-JSON item from a study row (``study_id`` plus the canonical record columns)."""
    item: dict[str, Any] = {"id": row["study_id"], "type": row.get("item_type") or "document",
                            "title": row.get("title", "")}
    if item["type"] in _QUOTED and isinstance(item["title"], str):  # quotes inside a quoted title turn single
        item["title"] = re.sub(r"[\u201c\"](.+?)[\u201d\"]", "\u2018\\1\u2019", item["title"])
    for role in ("author", "editor"):  # an empty list would keep the style from putting the title in their place
        people = _creators(row, role)
        if people:
            item[role] = [{"literal": c["name"]} if c.get("name") else {"family": c.get("family", ""),
                                                                        "given": c.get("given", "")} for c in people]
    if row.get("year"):
        item["issued"] = {"date-parts": [[int(row["year"])]]}
    if row.get("year_suffix"):
        item["year-suffix"] = row["year_suffix"]
    for field, csl in (("container", "container-title"), ("volume", "volume"), ("issue", "issue"),
                       ("pages", "page"), ("doi", "DOI"), ("place", "publisher-place")):
        if row.get(field):
            item[csl] = row[field]
    if item["type"] == "report" and "issue" in item:  # a report's number (Cmnd. 5055, HC 587), which the style prints
        item["number"] = item.pop("issue")
    publisher = row.get("institution") or row.get("publisher")
    if publisher:
        item["publisher"] = publisher
    if row.get("url") and not row.get("doi"):  # grey literature: where it is, and when it was seen there
        item["URL"] = row["url"]
        accessed = str(row.get("date_added") or "")[:10]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", accessed):
            item["accessed"] = {"date-parts": [[int(part) for part in accessed.split("-")]]}
    return item


def _held(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("<", _LT).replace(">", _GT)
    if isinstance(value, list):
        return [_held(v) for v in value]
    if isinstance(value, dict):
        return {k: _held(v) for k, v in value.items()}
    return value


def _parts(entry: str) -> list[dict[str, Any]]:
    """A formatted entry as parts ``{"text", "italic"}``, the data's own angle brackets given back."""
    entry = _TAGS.sub("", re.sub(r"\s+", " ", entry)).strip()
    parts: list[tuple[str, bool]] = []
    at = 0
    for match in _ITALIC.finditer(entry):
        if match.start() > at:
            parts.append((entry[at:match.start()], False))
        parts.append((match.group(1), True))
        at = match.end()
    if at < len(entry):
        parts.append((entry[at:], False))
    texts = [html.unescape(text).replace(_LT, "<").replace(_GT, ">") for text, _ in parts]
    for k in range(1, len(texts)):  # a title ending "?" or "!" takes no full stop after it
        if texts[k - 1].rstrip().endswith(("?", "!")) and texts[k].startswith("."):
            texts[k] = texts[k][1:]
    return [{"text": text, "italic": italic} for text, (_, italic) in zip(texts, parts) if text]


def _without_repeated_title(parts: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    """With no author the style puts the title first; citeproc-py prints it a second time: kept once."""
    if len(parts) < 2 or not title or parts[0]["text"].strip() != title.strip():
        return parts
    for k in range(len(parts) - 1, 0, -1):
        if parts[k]["text"].strip() == title.strip():
            tail = parts[k + 1:]
            if tail and not tail[0]["italic"]:
                tail = [{"text": tail[0]["text"].lstrip(". ") or "", "italic": False}, *tail[1:]]
            head = parts[:k]
            head[-1] = {"text": head[-1]["text"].rstrip(" ") + ("." if not tail or tail[0]["text"] == "" else ""),
                        "italic": head[-1]["italic"]}
            return [p for p in [*head, *tail] if p["text"]]
    return parts


_EDITED_BY = re.compile(r"\s*Edited by [^.]*\.")


def _without_repeated_editors(parts: list[dict[str, Any]], editors: tuple[str, str] | None
                              ) -> list[dict[str, Any]]:
    """An edited book's editors stand first, in the authors' place; citeproc-py prints them again after the
    title, with or without "Edited by" (". Allen et al. Bristol", ". Lambert, P. Begley, and S. Sheard."):
    kept once. ``editors`` are the first and last editor's family names."""
    if not editors:
        return parts
    first, last = editors
    again = re.compile(r"\.\s*(?:Edited by\s+)?(?:[A-Z][\w.\- ]*?\s)?" + re.escape(first) + r"\b.*?(?:"
                       + re.escape(last) + r"|et al)\.")
    out, seen_title, done = [], False, False
    for p in parts:
        if p["italic"]:
            seen_title = True
        elif seen_title and not done and again.search(p["text"]):
            p, done = {**p, "text": again.sub(".", p["text"], count=1)}, True
        out.append({**p, "text": _EDITED_BY.sub("", p["text"])} if not p["italic"] else p)
    return [p for p in out if p["text"]]


def reference_parts(rows: Iterable[Mapping[str, Any]], style: str = "harvard-cite-them-right"
                    ) -> list[list[dict[str, Any]]]:
    """The reference list in the style's order, each entry as parts (text, italic)."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    rows = sorted(rows, key=lambda r: (short_form(authors_of(r), r.get("year", "")).casefold(),
                                       str(r.get("title", "")).casefold()))
    # a study's other reports (unique_records.csv's ``reports``) are formatted too, and listed with it
    others = {f"{row['study_id']}{_REPORT}{k}": {**report, "study_id": f"{row['study_id']}{_REPORT}{k}"}
              for row in rows for k, report in enumerate(_other_reports(row))}
    items = [csl_item(row) for row in [*rows, *others.values()]]
    if not items:
        return []
    # citeproc-py keeps item ids in lower case
    titles = {str(row["study_id"]).lower(): str(row.get("title", "")) if not authors_of(row) else "" for row in rows}
    bibliography = CitationStylesBibliography(CitationStylesStyle(style, validate=False),
                                              CiteProcJSON([_held(i) for i in items]), formatter.html)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    bibliography.sort()
    titles.update({key.lower(): str(r.get("title", "")) if not authors_of(r) else "" for key, r in others.items()})
    # an edited book's first and last editor, as authors_of names them for a work with no author
    edited = {str(r["study_id"]).lower(): (names[0], names[-1]) for r in [*rows, *others.values()]
              if not _creators(r, "author") and _creators(r, "editor") for names in [authors_of(r)]}
    # the style marks a journal article without volume or pages "[Preprint]"; only a preprint is one (an
    # article published online first, or exported without its volume, is not)
    preprints = {str(r["study_id"]).lower() for r in [*rows, *others.values()] if r.get("item_type") == "article"}
    formatted = {str(key).lower(): _without_repeated_editors(
                     _without_repeated_title(_parts(str(entry) if str(key).lower() in preprints
                                                    else str(entry).replace(" [Preprint]", "")),
                                             titles.get(str(key).lower(), "")),
                     edited.get(str(key).lower()))
                 for key, entry in zip(bibliography.keys, bibliography.bibliography())}
    entries = []
    for row in rows:
        entry = list(formatted[str(row["study_id"]).lower()])
        also = [formatted[key.lower()] for key in others if key.split(_REPORT)[0] == str(row["study_id"])]
        for k, report in enumerate(also):
            entry += [{"text": " Also reported in: " if k == 0 else "; ", "italic": False}, *report]
        entries.append(entry)
    # the style sorts by author, and by the title that takes an absent author's place: citeproc-py leaves
    # those first, so the list is put in that order here (stable: the style's order otherwise)
    return sorted(entries, key=lambda parts: "".join(p["text"] for p in parts).casefold())


_REPORT = "~report"  # the id of a study's other report in the bibliography (never a study id: ~ is not in one)


def _other_reports(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A study's other reports than the one it is cited by, as unique_records.csv keeps them (JSON)."""
    try:
        reports = json.loads(row.get("reports") or "[]")
    except (TypeError, ValueError):
        return []
    return [r for r in reports if isinstance(r, dict)] if isinstance(reports, list) else []


def references(rows: Iterable[Mapping[str, Any]], style: str = "harvard-cite-them-right") -> list[str]:
    """The reference list as plain text, in the style's order."""
    return ["".join(p["text"] for p in entry) for entry in reference_parts(rows, style)]
