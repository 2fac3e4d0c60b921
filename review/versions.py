"""Which version of the tool last refreshed a review, kept with the review's state.

A team's files are never rewritten by an upgrade: the version is recorded in ``extracts/.state/tool.json``
(beside the state of the last refresh, committed with the reviewers' files), not in the protocol. A refresh
that succeeds records its version; a refresh by an older version than the one recorded stops before
anything runs (it would recompute the review with older code, and a teammate's upgrade would be undone
by whoever refreshes next). An upgrade is said once, when its first refresh starts: every stage reruns.
A change a newer version needs in the protocol or the codebook is named by their validation (the key or
field, what is allowed), and codebook changes upgrade the workbooks with a backup (workbooks/extraction.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from . import __version__
from .atomic import atomic_write_bytes
from .errors import ReviewError
from .fileio import json_bytes, read_json

FILE = "tool.json"


def state_file(config: dict[str, Any]) -> Path:
    """Where the version is kept; read from the protocol before it is validated (a protocol a newer version
    wrote may not pass this one's validation), so a malformed ``extraction`` means the default folder."""
    extraction = config.get("extraction")
    folder = extraction.get("folder") if isinstance(extraction, dict) else None
    return Path(folder if isinstance(folder, str) else "extracts") / ".state" / FILE


def recorded(config: dict[str, Any]) -> str | None:
    """The version that last refreshed the review (None before the first refresh)."""
    data = read_json(state_file(config))
    return str(data["version"]) if isinstance(data, dict) and data.get("version") else None


def check(config: dict[str, Any], installed: str = __version__) -> str | None:
    """Stop a refresh by an older version than the one that last refreshed the review; otherwise a line
    to show when this version is newer than that one (None when it is the same, or the first refresh)."""
    last = recorded(config)
    if last is None or last == installed:
        return None
    try:
        older = Version(installed) < Version(last)
    except InvalidVersion:
        older = False  # a version we cannot compare (a local build): nothing to say about it
    if older:
        raise ReviewError(f"{state_file(config)}: this review was last refreshed by review {last}, newer than the "
                          f"installed {installed}; upgrade the package (pip install --upgrade, the newer wheel or "
                          "clone) before refreshing, so that an older version does not recompute the review")
    return f"review {installed} refreshes a review last refreshed by review {last}: every stage reruns once"


def record(config: dict[str, Any], installed: str = __version__) -> None:
    """Record the version of a refresh that succeeded (written only when it changed)."""
    if recorded(config) == installed:
        return
    path = state_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json_bytes({"version": installed}))
