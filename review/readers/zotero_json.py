"""Zotero's item JSON (the Web API's ``data`` objects, as the sync stores them) -> canonical entries.

Also the ``zotero-json`` format: a snapshot file written by ``review sync`` read on its own
(``review import snap.json --format zotero-json``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import Problem, SourceError
from ..model import CREATOR_ROLES, Creator
from .base import Context, Entry, load_json, register

TYPES = {
    "journalArticle": "article-journal", "magazineArticle": "article-magazine",
    "newspaperArticle": "article-newspaper", "book": "book", "bookSection": "chapter",
    "report": "report", "thesis": "thesis", "webpage": "webpage", "conferencePaper": "paper-conference",
    "document": "document", "manuscript": "manuscript", "statute": "legislation", "bill": "bill",
    "hearing": "bill", "case": "legal_case", "blogPost": "post-weblog", "forumPost": "post-weblog",
    "presentation": "speech", "interview": "interview", "letter": "personal_communication",
    "email": "personal_communication", "dataset": "dataset", "preprint": "article",
    "encyclopediaArticle": "entry-encyclopedia", "dictionaryEntry": "entry-dictionary",
    "standard": "document", "film": "document", "podcast": "document", "software": "document",
}

CONTAINER_FIELDS = ("publicationTitle", "bookTitle", "proceedingsTitle", "websiteTitle", "blogTitle",
                    "forumTitle", "encyclopediaTitle", "dictionaryTitle", "programTitle", "seriesTitle")


# the data fields read as text, as the Web API sends them: a string (or absent)
TEXT_FIELDS = ("key", "itemType", "title", "date", "volume", "issue", "pages", "DOI", "ISBN", "ISSN", "publisher",
               "place", "institution", "university", "url", "abstractNote", "language", "extra", "dateAdded",
               "name", *CONTAINER_FIELDS)


def data_problem(data: Any) -> str | None:
    """What makes ``data`` (an item's or a collection's ``data`` object) other than the API sends, or ``None``.
    Checked before an answer enters a snapshot, so that a broken server or proxy cannot leave one that every
    later run fails on."""
    if not isinstance(data, dict):
        return f"its data is {type(data).__name__}, not an object"
    for name in TEXT_FIELDS:
        if name in data and not isinstance(data[name], str):
            return f"field {name!r} is {type(data[name]).__name__} ({str(data[name])[:40]!r}), not text"
    lists = {"creators": ("creatorType", "name", "firstName", "lastName"), "tags": ("tag",)}
    for name, texts in lists.items():
        value = data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, dict) and all(isinstance(v.get(t, ""), str)
                                                                             for t in texts) for v in value):
            return f"field {name!r} is not a list of objects with text in {', '.join(texts)}"
    parent = data.get("parentCollection", False)
    if parent is not False and not isinstance(parent, str):
        return f"field 'parentCollection' is {type(parent).__name__}, not a collection key or false"
    collections = data.get("collections") or []
    if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
        return "field 'collections' is not a list of collection keys"
    return None


def item_problem(item: Any) -> str | None:
    """What makes ``item`` (an object of a Web API listing) other than the API sends, or ``None``."""
    if not isinstance(item, dict):
        return f"it is {type(item).__name__}, not an object"
    if not isinstance(item.get("key"), str) or not item["key"]:
        return "it has no key"
    return data_problem(item.get("data"))


def _role(creator_type: str) -> str:
    kebab = "".join(f"-{c.lower()}" if c.isupper() else c for c in creator_type)
    return kebab if kebab in CREATOR_ROLES else "other"


def zotero_creators(data: dict[str, Any]) -> list[Creator]:
    out = []
    for c in data.get("creators") or []:
        role = _role(c.get("creatorType", "author"))
        if c.get("name"):
            out.append(Creator(role=role, name=c["name"]))
        else:
            out.append(Creator(role=role, family=c.get("lastName", ""), given=c.get("firstName", "")))
    return out


def zotero_fields(data: dict[str, Any], collection_names: dict[str, str]) -> dict[str, Any]:
    item_type = data.get("itemType", "document")
    return {
        "item_type": TYPES.get(item_type, "document"),
        "title": data.get("title", ""),
        "creators": zotero_creators(data),
        "date": data.get("date", ""),
        "container": next((data[f] for f in CONTAINER_FIELDS if data.get(f)), ""),
        "volume": data.get("volume", ""),
        "issue": data.get("issue", ""),
        "pages": data.get("pages", ""),
        "doi": data.get("DOI", ""),  # reports and books keep it in extra: picked up when cleaning
        "isbn": data.get("ISBN", ""),
        "issn": data.get("ISSN", ""),
        "publisher": data.get("publisher", ""),
        "place": data.get("place", ""),
        "institution": data.get("institution", "") or data.get("university", ""),
        "url": data.get("url", ""),
        "abstract": data.get("abstractNote", ""),
        "language": data.get("language", ""),
        "tags": [t.get("tag", "") for t in data.get("tags") or []],
        "collections": [collection_names.get(k, k) for k in data.get("collections") or []],
        "extra": data.get("extra", ""),
        "date_added": data.get("dateAdded", ""),
        "version": str(data.get("version", "")),
    }


def subtree(collections: dict[str, dict[str, Any]], root: str) -> set[str]:
    """The key of ``root`` and of every collection below it, at any depth."""
    children: dict[str, list[str]] = {}
    for key, info in collections.items():
        if info.get("parent"):
            children.setdefault(info["parent"], []).append(key)
    keys, stack = set(), [root]
    while stack:
        key = stack.pop()
        if key not in keys:
            keys.add(key)
            stack.extend(children.get(key, []))
    return keys


def select_items(snapshot: dict[str, Any], collection: str | None, include_subcollections: bool,
                 tags: list[str]) -> list[dict[str, Any]]:
    """The snapshot's items that pass the source's collection and tag filters, in key order."""
    collections = snapshot.get("collections", {})
    wanted = None
    if collection:
        wanted = subtree(collections, collection) if include_subcollections else {collection}
    out = []
    for key in sorted(snapshot.get("items", {})):
        data = snapshot["items"][key]
        problem = data_problem(data)
        if problem:  # a snapshot edited by hand, or written before the sync checked answers
            raise SourceError(f"the Zotero snapshot's item {key!r}: {problem}; delete the snapshot in "
                              "results/zotero/ and sync again")
        if wanted is not None and not wanted.intersection(data.get("collections") or []):
            continue
        item_tags = {t.get("tag") for t in data.get("tags") or []}
        if not all(tag in item_tags for tag in tags):
            continue
        out.append(data)
    return out


def snapshot_entries(snapshot: dict[str, Any], collection: str | None = None, include_subcollections: bool = True,
                     tags: list[str] | None = None) -> Iterator[Entry]:
    """The entries of a snapshot that pass a source's filters."""
    library = snapshot.get("library", "")
    names = {k: v.get("name", k) for k, v in snapshot.get("collections", {}).items()}
    for data in select_items(snapshot, collection, include_subcollections, tags or []):
        fields = zotero_fields(data, names)
        key = data.get("key") or ""
        fields["zotero_key"] = f"{library}:{key}"
        yield Entry(key=key, line=None, fields=fields, original=data)


@register("zotero-json")
def read_snapshot(text: str, ctx: Context) -> Iterator[Entry | Problem]:
    """A snapshot written by the sync, unfiltered (for ``review import``)."""
    snapshot = load_json(text, ctx)
    if not isinstance(snapshot, dict) or "items" not in snapshot:
        raise SourceError(f"{ctx.file}: not a Zotero snapshot written by review sync")
    yield from snapshot_entries(snapshot)
