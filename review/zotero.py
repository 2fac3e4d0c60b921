"""Zotero libraries through pyzotero: incremental sync into a snapshot, and the snapshot's reader.

The sync keeps two files per source under ``results/zotero/``:

* ``<source>.items.json``: the snapshot the records stage reads: every regular item (no notes or
  attachments) and the collection tree. Rewritten only when its content changes, so a refresh that
  brings nothing new leaves it (and everything downstream) untouched.
* ``<source>.state.json``: the library version of the last sync; the next one asks only for what
  changed since (``since=<version>`` and the ``/deleted`` endpoint).

Both are written atomically. If a fetch fails half way, neither changes: the previous snapshot
stays in force and the log says so. The client, its retries and its waits are ``review.zotero_client``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from pyzotero import zotero as pyzotero
from pyzotero import zotero_errors as zerr

from .atomic import write_if_changed
from .errors import ERROR, Problem, ZoteroError
from .fileio import json_bytes, read_json
from .progress import bar
from .protocol import Source
from .readers.zotero_json import data_problem, item_problem
from .zotero_client import Retry, make_client

log = logging.getLogger(__name__)

NOT_RECORDS = {"note", "attachment", "annotation"}
PAGE_SIZE = 100
SNAPSHOT_FORMAT = 1


# --- the sync ----------------------------------------------------------------------------------


@dataclass
class SyncResult:
    source: str
    changed: bool
    version: int
    fetched: int
    deleted: int
    total: int
    mode: str  # "full", "incremental", "unchanged", "local", "failed"
    message: str = ""


def snapshot_path(results: Path, source: str) -> Path:
    return results / "zotero" / f"{source}.items.json"


def state_path(results: Path, source: str) -> Path:
    return results / "zotero" / f"{source}.state.json"


def _library(settings: dict[str, Any]) -> str:
    return f"{settings.get('library_type', 'user')}s/{settings['library_id']}"


def _version_of(zot: pyzotero.Zotero) -> int:
    headers = zot.request.headers if zot.request is not None else {}
    try:
        return int(headers.get("last-modified-version", 0))
    except ValueError:
        return 0


class Sync:
    """One sync of one Zotero source into its snapshot."""

    def __init__(self, source: Source, results: Path, network: dict[str, Any], full: bool = False,
                 progress: bool = False, environ: dict[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep, page_size: int = PAGE_SIZE):
        assert source.zotero is not None
        self.page_size = page_size
        self.source = source
        self.settings = source.zotero
        self.results = results
        self.full = full
        self.progress = progress
        self.zot = make_client(self.settings, environ)
        self.call = Retry(self.zot, network, sleep)
        self.library = _library(self.settings)

    # pages through one listing, retrying page by page
    def _pages(self, what: str, first: Callable[[], list[dict]]) -> tuple[list[dict], int]:
        items = _listing(self.call(what, first), what)
        version = _version_of(self.zot)
        assert self.zot.request is not None  # the listing above was a request
        header = str(self.zot.request.headers.get("total-results", ""))
        total = int(header) if header.isdigit() else len(items)  # only shown as progress: a bad header is no harm
        followed: set[str] = set()
        keys = {item["key"] for item in items}
        with bar(f"{self.source.name}: {what}", total, long=self.progress and total > self.page_size) as shown:
            while self.zot.links and self.zot.links.get("next"):
                link = str(self.zot.links["next"])
                if link in followed:  # a page pointing back at itself or an earlier one: it would never end
                    raise ZoteroError(f"Zotero's listing of {what} links back to a page already read ({link}); "
                                      "the answer is not a listing that ends")
                followed.add(link)
                page = _listing(self.call(what, self.zot.follow), what)
                if not {item["key"] for item in page} - keys:  # empty, or only items already read: no advance
                    raise ZoteroError(f"Zotero's listing of {what} sent a page with nothing new and a link to "
                                      "another; the answer is not a listing that ends")
                keys.update(item["key"] for item in page)
                items.extend(page)
                shown.update(len(items))
                if _version_of(self.zot) not in (0, version):
                    raise _LibraryMoved()
        return items, version

    def _collections(self) -> dict[str, dict[str, Any]]:
        found, _ = self._pages("collections", lambda: self.zot.collections(limit=self.page_size))
        return {c["key"]: {"name": c["data"].get("name", ""), "parent": c["data"].get("parentCollection") or None}
                for c in found}

    def _unchanged_since(self, version: int) -> bool:
        """One cheap request: 304 if nothing in the library changed since ``version``."""
        url = f"{self.zot.endpoint}/{self.library}/items"
        headers = {**self.zot.default_headers(), "If-Modified-Since-Version": str(version)}

        def ask() -> httpx2.Response:
            assert self.zot.client is not None  # pyzotero made it with the client above
            response = self.zot.client.get(url, params={"limit": 1, "format": "versions"}, headers=headers)
            self.zot.request = response  # so that the retry sees the status and any Backoff header
            if response.status_code in (401, 403):
                raise zerr.UserNotAuthorisedError(f"HTTP {response.status_code}")
            if response.status_code == 404:
                raise zerr.ResourceNotFoundError("HTTP 404")
            if response.status_code >= 400:
                raise zerr.HTTPError(f"HTTP {response.status_code}")
            return response

        return self.call("the library version", ask).status_code == 304

    def run(self) -> SyncResult:
        snap_file = snapshot_path(self.results, self.source.name)
        state_file = state_path(self.results, self.source.name)
        old_snapshot, state = _kept(read_json(snap_file)), read_json(state_file)
        state = state if isinstance(state, dict) else {}
        same_library = state.get("library") == self.library and state.get("api_url") == self.zot.endpoint
        incremental = (not self.full and not self.zot.local and same_library and old_snapshot.get("items") is not None
                       and state.get("version"))
        for _ in range(3):
            try:
                if incremental:
                    result, snapshot, version = self._incremental(old_snapshot, int(state["version"]))
                else:
                    result, snapshot, version = self._full(old_snapshot)
                break
            except _LibraryMoved:
                log.warning("%s: the library changed during the fetch; starting again", self.source.name)
        else:
            raise ZoteroError(f"{self.source.name}: the library kept changing during the fetch; try again later")
        result.changed = write_if_changed(snap_file, json_bytes(snapshot))
        write_if_changed(state_file, json_bytes({"library": self.library, "api_url": self.zot.endpoint,
                                                 "version": version, "local": self.zot.local}))
        return result

    def _snapshot(self, items: dict[str, dict], collections: dict[str, dict]) -> dict[str, Any]:
        return {"format": SNAPSHOT_FORMAT, "library": self.library, "collections": collections, "items": items}

    def _full(self, old: dict[str, Any]) -> tuple[SyncResult, dict[str, Any], int]:
        found, version = self._pages("items", lambda: self.zot.top(limit=self.page_size, includeTrashed=1))
        items = {i["key"]: i["data"] for i in found if _is_record(i)}
        snapshot = self._snapshot(items, self._collections())
        mode = "local" if self.zot.local else "full"
        removed = len(set(old.get("items", {})) - set(items))
        result = SyncResult(self.source.name, False, version, len(items), removed, len(items), mode)
        return result, snapshot, version

    def _incremental(self, old: dict[str, Any], since: int) -> tuple[SyncResult, dict[str, Any], int]:
        if self._unchanged_since(since):
            n = len(old["items"])
            return SyncResult(self.source.name, False, since, 0, 0, n, "unchanged"), old, since
        found, version = self._pages(
            "changed items", lambda: self.zot.top(limit=self.page_size, since=since, includeTrashed=1))
        deleted = self.call("deleted items", lambda: self.zot.deleted(since=since)) or {}
        if not isinstance(deleted, dict) or not isinstance(deleted.get("items", []), list) \
                or not all(isinstance(key, str) for key in deleted.get("items", [])):
            raise ZoteroError("Zotero's answer to deleted items is not an object listing deleted keys")
        items = dict(old["items"])
        gone = set(deleted.get("items", []))
        for item in found:
            if _is_record(item):
                items[item["key"]] = item["data"]
            else:
                gone.add(item["key"])  # trashed, or turned into something that is not a record
        removed = sum(1 for key in gone if items.pop(key, None) is not None)
        collections = self._collections() if (found or deleted.get("collections")) else old.get("collections", {})
        snapshot = self._snapshot(items, collections)
        result = SyncResult(self.source.name, False, version or since, len(found), removed, len(items), "incremental")
        return result, snapshot, version or since


def _kept(snapshot: Any) -> dict[str, Any]:
    """The snapshot kept from the last sync, or ``{}`` (a full fetch) where it is not one the sync wrote:
    edited by hand, damaged, or from before answers were checked; never carried into the next one."""
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("items"), dict) \
            or not isinstance(snapshot.get("collections", {}), dict):
        return {}
    if any(data_problem(data) for data in snapshot["items"].values()):
        return {}
    return snapshot


def _listing(page: Any, what: str) -> list[dict]:
    """A page of a listing as Zotero sends it: a list of objects, each with a key and a data object of the
    API's types; anything else ends the sync (the previous snapshot stays) rather than enter the snapshot."""
    if not isinstance(page, list):
        raise ZoteroError(f"Zotero's answer to {what} is not a list of objects (it is a {type(page).__name__})")
    for n, item in enumerate(page, start=1):
        problem = item_problem(item)
        if problem:
            key = item.get("key") if isinstance(item, dict) else None
            where = f"item {key!r}" if isinstance(key, str) and key else f"object {n} of a page"
            raise ZoteroError(f"Zotero's answer to {what} is not what the API sends: {where}: {problem}")
    return page


class _LibraryMoved(Exception):
    """The library version moved between pages: the listing may have shifted."""


def _is_record(item: dict[str, Any]) -> bool:
    data = item.get("data", {})
    return data.get("itemType") not in NOT_RECORDS and not data.get("deleted")


def sync_all(config: dict[str, Any], results: Path, environ: dict[str, str] | None = None,
             sleep: Callable[[float], None] = time.sleep,
             page_size: int = PAGE_SIZE) -> tuple[list[SyncResult], list[Problem]]:
    """Sync every Zotero source; a failure keeps that source's previous snapshot and is reported.

    Raises ``ZoteroError`` only when a source fails and has no previous snapshot to fall back on.
    """
    from .protocol import sources

    results_out, problems = [], []
    for source in sources(config):
        if source.kind != "zotero":
            continue
        try:
            sync = Sync(source, results, config.get("network", {}), full=bool(config.get("zotero_full")),
                        progress=bool(config.get("output", {}).get("progress", True)),
                        environ=environ, sleep=sleep, page_size=page_size)
            outcome = sync.run()
        except ZoteroError as exc:
            if not snapshot_path(results, source.name).exists():
                raise ZoteroError(f"{source.name}: {exc}; there is no earlier snapshot to fall back on") from exc
            problems.append(Problem(code="zotero-unavailable", severity=ERROR, file=f"zotero:{source.name}",
                                    value=str(exc), expected="a successful fetch",
                                    hint="the previous snapshot of this library was used"))
            log.error("%s: %s; keeping the previous snapshot", source.name, exc)
            outcome = SyncResult(source.name, False, 0, 0, 0, 0, "failed", str(exc))
        results_out.append(outcome)
        log.info("%s: %s sync, version %s, %d fetched, %d removed, %d items, snapshot %s",
                 outcome.source, outcome.mode, outcome.version, outcome.fetched, outcome.deleted, outcome.total,
                 "updated" if outcome.changed else "unchanged")
    return results_out, problems
