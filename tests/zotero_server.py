"""A loopback HTTP server that answers like the Zotero Web API v3, for pyzotero to talk to.

It serves a library of items in the API's own JSON (``tests/fixtures/zotero/items.json``: the
``key/version/library/links/meta/data`` objects the API returns), with the API's headers:
``Total-Results``, ``Last-Modified-Version``, ``Link`` pagination (absolute api.zotero.org URLs,
as the real API sends them), ``304 Not Modified`` for ``If-Modified-Since-Version``, ``since=``,
``includeTrashed``, ``format=versions``, the ``/deleted`` endpoint, and ``429`` with ``Backoff``.
Tests change the library between fetches and queue faults (429, 503, dropped connections, and hostile
answers: waits of an hour or a day, a next link to the same page, a bad Total-Results header, items
without a key, with ``data: null`` or a field of the wrong type).
"""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

FIXTURES = Path(__file__).parent / "fixtures" / "zotero"
API = "https://api.zotero.org"


class ZoteroLibrary:
    def __init__(self, library_id: str = "4815162", api_key: str | None = "TESTKEY0123456789abcdefXYZ"):
        self.library_id = library_id
        self.api_key = api_key
        self.items: dict[str, dict] = {}
        self.collections: dict[str, dict] = {}
        self.deleted: dict[str, int] = {}  # key -> library version at deletion
        self.version = 0
        self.faults: deque[tuple[str, str]] = deque()  # (path fragment, kind)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        for item in json.loads((FIXTURES / "items.json").read_text(encoding="utf-8")):
            self.version = max(self.version, item["version"])
            self.items[item["key"]] = item
        for coll in json.loads((FIXTURES / "collections.json").read_text(encoding="utf-8")):
            self.version = max(self.version, coll["version"])
            self.collections[coll["key"]] = coll

    # --- changes a test makes between fetches
    def put(self, item: dict) -> None:
        self.version += 1
        item = copy.deepcopy(item)
        item["version"] = item["data"]["version"] = self.version
        self.items[item["key"]] = item

    def edit(self, key: str, **data) -> None:
        item = copy.deepcopy(self.items[key])
        item["data"].update(data)
        self.put(item)

    def delete(self, key: str) -> None:
        self.version += 1
        del self.items[key]
        self.deleted[key] = self.version

    def fail(self, path_fragment: str, kind: str, times: int = 1) -> None:
        for _ in range(times):
            self.faults.append((path_fragment, kind))


class _Handler(BaseHTTPRequestHandler):
    server_version = "ZoteroTestServer/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    @property
    def lib(self) -> ZoteroLibrary:
        return self.server.library  # type: ignore[attr-defined]

    def _send(self, status: int, body: object = None, headers: dict | None = None) -> None:
        payload = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Zotero-API-Version", "3")
        self.send_header("Zotero-Schema-Version", "29")
        if body is not None:
            self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        lib = self.lib
        with lib.lock:
            lib.requests.append({"path": url.path, "query": query, "headers": dict(self.headers)})
            fault = None
            if lib.faults and lib.faults[0][0] in url.path:
                fault = lib.faults.popleft()[1]
        if fault == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if fault == "429":
            return self._send(429, b"Too Many Requests", {"Retry-After": "0.2", "Backoff": "0.2"})
        if fault == "not-json":  # a proxy's or captive portal's page, served as a success
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "38")
            self.end_headers()
            self.wfile.write(b"<html><body>Maintenance</body></html>\n")
            return None
        if fault == "503":
            return self._send(503, b"Service Unavailable", {"Retry-After": "0.1"})
        if fault == "429-hour":
            return self._send(429, b"Too Many Requests", {"Retry-After": "3600"})
        if fault == "503-day":
            return self._send(503, b"Service Unavailable", {"Backoff": "86400"})
        self.fault = fault  # the faults below change an answer that is otherwise served
        if fault == "bump":  # someone edits the library while we page through it
            lib.edit(sorted(lib.items)[0], extra="edited meanwhile")
        if lib.api_key and self.headers.get("Authorization") != f"Bearer {lib.api_key}":
            return self._send(403, b"Forbidden")
        path = url.path
        self.api_base = API
        if path.startswith("/api/"):  # the Zotero 7 desktop local API lives under /api
            path, self.api_base = path[4:], "http://127.0.0.1:23119/api"
        prefix = f"/users/{lib.library_id}"
        if not path.startswith(prefix):
            return self._send(404, b"Not found")
        route = path[len(prefix):]
        if route in ("/items", "/items/top"):
            return self._items(route, query)
        if route == "/deleted":
            return self._deleted(query)
        if route == "/collections":
            return self._list(list(lib.collections.values()), query, route)
        return self._send(404, b"Not found")

    def _items(self, route: str, query: dict) -> None:
        lib = self.lib
        since = self.headers.get("If-Modified-Since-Version")
        if since is not None and lib.version <= int(since):
            return self._send(304, None, {"Last-Modified-Version": lib.version})
        items = [i for i in lib.items.values()
                 if (route == "/items" or not i["data"].get("parentItem"))
                 and (query.get("includeTrashed") == "1" or not i["data"].get("deleted"))
                 and i["version"] > int(query.get("since", 0))]
        items.sort(key=lambda i: i["data"].get("dateModified", ""), reverse=True)
        if query.get("format") == "versions":
            return self._send(200, {i["key"]: i["version"] for i in items},
                              {"Last-Modified-Version": lib.version, "Total-Results": len(items)})
        return self._list(items, query, route)

    def _list(self, objects: list, query: dict, route: str) -> None:
        lib = self.lib
        start, limit = int(query.get("start", 0)), int(query.get("limit", 25))
        page = objects[start:start + limit]
        links = []
        base = f"{self.api_base}/users/{lib.library_id}{route}"
        keep = {k: v for k, v in query.items() if k not in ("start", "locale")}
        if start + limit < len(objects):
            links.append(f'<{base}?{urlencode({**keep, "start": start + limit})}>; rel="next"')
            last = (len(objects) - 1) // limit * limit
            links.append(f'<{base}?{urlencode({**keep, "start": last})}>; rel="last"')
        links.append(f'<https://www.zotero.org/users/{lib.library_id}/items>; rel="alternate"')
        total: object = len(objects)
        fault = getattr(self, "fault", None)
        if fault == "next-self":  # a next link pointing at the page just served
            links = [f'<{base}?{urlencode({**keep, "start": start})}>; rel="next"']
        elif fault == "bad-total":
            total = "many"
        elif fault in ("no-key", "null-data", "wrong-type", "not-a-list"):
            page = copy.deepcopy(page)
            if fault == "no-key":
                del page[0]["key"]
            elif fault == "null-data":
                page[0]["data"] = None
            elif fault == "wrong-type":
                page[0]["data"]["title"] = {"nested": ["object"]}
            else:
                page = {"not": "a list"}
        self._send(200, page, {"Total-Results": total, "Last-Modified-Version": lib.version,
                               "Link": ", ".join(links)})

    def _deleted(self, query: dict) -> None:
        lib = self.lib
        if "since" not in query:
            return self._send(400, b"'since' parameter must be provided")
        since = int(query["since"])
        body = {"collections": [], "searches": [], "tags": [], "settings": [],
                "items": sorted(k for k, v in lib.deleted.items() if v > since)}
        self._send(200, body, {"Last-Modified-Version": lib.version})


class ZoteroServer:
    """``with ZoteroServer() as server:`` serves ``server.library`` at ``server.url``."""

    def __init__(self, library: ZoteroLibrary | None = None):
        self.library = library or ZoteroLibrary()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.library = self.library  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ZoteroServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
