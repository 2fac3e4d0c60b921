"""The Zotero Web API through pyzotero, made patient within bounds: a client whose waits (the server's Backoff
and Retry-After) come out of one budget per source (``network.max_wait_seconds``), and ``Retry``, bounded
exponential backoff around each call that turns every failure into a ``ZoteroError`` saying what to check.
The API key is read from the environment and never logged. ``review.zotero`` syncs a library with them.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx2
from pyzotero import zotero as pyzotero
from pyzotero import zotero_errors as zerr

from .errors import ZoteroError

log = logging.getLogger(__name__)

LOCAL_API_URL = "http://127.0.0.1:23119/api"

T = TypeVar("T")


class _Budget:
    """All the waiting one source's sync may do (``network.max_wait_seconds``): a server asking for more
    (``Retry-After: 3600``, ``Backoff: 86400``) ends the sync at once, and the previous snapshot is used."""

    def __init__(self, seconds: float, sleep: Callable[[float], None]):
        self.left = seconds
        self.sleep = sleep

    def wait(self, seconds: float, why: str) -> None:
        if seconds > self.left:
            raise ZoteroError(f"{why}: a wait of {seconds:g} s is more than the {self.left:g} s left of "
                              "network.max_wait_seconds; try again later (or raise max_wait_seconds)")
        log.warning("%s: waiting %.1f s", why, seconds)
        self.left -= seconds
        self.sleep(seconds)


def _seconds(value: Any) -> float | None:
    """A Backoff or Retry-After header as seconds (``None`` unless a finite number above 0)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


class _Client(pyzotero.Zotero):
    """pyzotero's client whose own waits go through the sync's budget: pyzotero sleeps as long as a server's
    Backoff or Retry-After asks (an hour, a day) before its next request."""

    budget: _Budget | None = None

    def _set_backoff(self, duration: str | float) -> None:
        seconds = _seconds(duration)  # pyzotero's float() would raise on a header that is not a number
        self.backoff_until = time.time() + seconds if seconds else 0.0

    def _check_backoff(self) -> None:
        remainder = self.backoff_until - time.time()
        self.backoff_until = 0.0
        if remainder > 0:
            if self.budget is None:
                time.sleep(remainder)
            else:
                self.budget.wait(remainder, "Zotero asked to back off")


class Retry:
    """Bounded exponential backoff around one pyzotero call; pyzotero itself retries 429 three times. Every
    wait, ours or the server's, comes out of one budget."""

    RETRY_STATUS = {429, 500, 502, 503, 504}

    def __init__(self, zot: pyzotero.Zotero, network: dict[str, Any], sleep: Callable[[float], None] = time.sleep):
        self.zot = zot
        self.max_retries = int(network.get("max_retries", 5))
        self.base = float(network.get("backoff_seconds", 1.0))
        self.cap = float(network.get("max_backoff_seconds", 60.0))
        self.budget = _Budget(float(network.get("max_wait_seconds", 60.0)), sleep)
        if isinstance(zot, _Client):
            zot.budget = self.budget

    def _status(self) -> int | None:
        response = getattr(self.zot, "request", None)
        return getattr(response, "status_code", None)

    def _server_wait(self) -> float | None:
        response = getattr(self.zot, "request", None)
        headers = getattr(response, "headers", {}) or {}
        return _seconds(headers.get("backoff") or headers.get("retry-after"))

    def __call__(self, what: str, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            self.zot.request = None  # so a failure without a response does not read a stale one's headers
            try:
                result = fn()
                if isinstance(result, (bytes, str)):  # pyzotero hands back a body it could not read as JSON
                    raise ValueError("not JSON")
                return result
            except (httpx2.TimeoutException, httpx2.TransportError) as exc:  # timeouts, dropped connections
                reason = type(exc).__name__
            except (zerr.HTTPError, zerr.TooManyRetriesError, zerr.TooManyRequestsError) as exc:
                status = self._status()
                reason = f"HTTP {status}" if status else type(exc).__name__
                if status not in self.RETRY_STATUS and not isinstance(exc, zerr.TooManyRetriesError):
                    raise ZoteroError(f"Zotero answered {reason} to {what}") from exc
            except (zerr.UserNotAuthorisedError, zerr.ResourceNotFoundError) as exc:
                raise ZoteroError(_refusal(self._status(), what)) from exc
            except zerr.PyZoteroError as exc:
                raise ZoteroError(f"Zotero request for {what} failed: {type(exc).__name__}") from exc
            except ValueError:  # HTTP 200 with a body that is not JSON: a proxy's or login page, often passing
                reason = "an answer that is not JSON (a proxy or login page?)"
            attempt += 1
            if attempt > self.max_retries:
                raise ZoteroError(f"gave up on {what} after {self.max_retries} retries (last: {reason})")
            # Zotero's Backoff/Retry-After is honoured as asked, within the budget; our own exponential wait is capped
            wait = max(self._server_wait() or 0.0, min(self.cap, self.base * 2 ** (attempt - 1)))
            if isinstance(self.zot, _Client):
                self.zot.backoff_until = 0.0  # the wait below honours it: pyzotero must not wait again
            self.budget.wait(wait, f"{what}: {reason}; retry {attempt} of {self.max_retries}")


def _refusal(status: int | None, what: str) -> str:
    if status in (401, 403):
        return (f"Zotero refused access ({status}) to {what}: check that the API key has read access "
                "to this library and that library_id and library_type are right")
    if status == 404:
        return f"Zotero has no such library or collection ({what}): check library_id, library_type and collection"
    return f"Zotero refused {what} (HTTP {status})"


def make_client(settings: dict[str, Any], environ: Mapping[str, str] | None = None) -> pyzotero.Zotero:
    environ = os.environ if environ is None else environ
    local = bool(settings.get("local"))
    key_env = settings.get("api_key_env", "ZOTERO_API_KEY")
    api_key = environ.get(key_env, "").strip() or None
    if not local and not api_key:
        raise ZoteroError(
            f"no Zotero API key: set the environment variable {key_env} (create a read-only key at "
            "https://www.zotero.org/settings/keys), or use local: true with Zotero 7 running"
        )
    zot = _Client(str(settings["library_id"]), settings.get("library_type", "user"),
                  api_key=None if local else api_key, local=local)
    default_url = "https://api.zotero.org"
    api_url = settings.get("api_url") or default_url
    if local and api_url == default_url:
        api_url = LOCAL_API_URL
    zot.endpoint = api_url.rstrip("/")
    return zot
