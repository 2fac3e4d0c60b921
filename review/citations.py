"""How a study is cited: the short in-text form and the reference list (citeproc-py, a CSL style).

Pure functions of record fields; the report, the screening workbooks and the extraction sheets all
cite a study through ``short_citation`` so that one study reads the same everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any


def short_citation(authors: str, year: str) -> str:
    """``Lorne et al. 2019`` from a ``; ``-joined author list (first author's family name)."""
    names = [a for a in (authors or "").split("; ") if a]
    if not names:
        return year or "n.d."
    first = names[0].split(",")[0].strip()
    rest = "" if len(names) == 1 else f" and {names[1].split(',')[0].strip()}" if len(names) == 2 else " et al."
    return f"{first}{rest} {year or 'n.d.'}"


def csl_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """A CSL-JSON item from a study row (``study_id`` plus the canonical record columns)."""
    people = [c for c in json.loads(row["creators"] or "[]") if c.get("role", "author") == "author"]
    item: dict[str, Any] = {
        "id": row["study_id"], "type": row["item_type"] or "document", "title": row["title"],
        "author": [{"literal": c["name"]} if c.get("name") else {"family": c.get("family", ""),
                                                                 "given": c.get("given", "")} for c in people]}
    if row["year"]:
        item["issued"] = {"date-parts": [[int(row["year"])]]}
    for field, csl in (("container", "container-title"), ("volume", "volume"), ("issue", "issue"),
                       ("pages", "page"), ("doi", "DOI"), ("place", "publisher-place")):
        if row.get(field):
            item[csl] = row[field]
    publisher = row.get("institution") or row.get("publisher")
    if publisher:
        item["publisher"] = publisher
    return item


def references(rows: Iterable[Mapping[str, Any]], style: str = "harvard-cite-them-right") -> list[str]:
    """The reference list, formatted by citeproc-py, sorted as the style sorts it."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    items = [csl_item(row) for row in rows]
    if not items:
        return []
    bibliography = CitationStylesBibliography(CitationStylesStyle(style, validate=False), CiteProcJSON(items),
                                              formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    return [re.sub(r"\s+", " ", str(entry)).strip() for entry in bibliography.bibliography()]
