"""Which reviewers' files held typed work at the last refresh, so that none silently stops counting.

Kept beside the change state in ``extracts/.state/<kind>-workbooks.json`` (committed with the reviewers'
files, never a Snakemake output): for each reviewer, the file and how many typed rows were read from it.
A stage that finds such a file gone stops with a named error instead of creating a blank one in its place
(the reviewer's work would drop out of the evidence with exit 0); a spreadsheet of the same name in another
format (``.ods``, ``.xls``: a "save as") is named too, since the pipeline reads only its own format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..atomic import write_if_changed
from ..errors import WARNING, Problem
from ..fileio import json_bytes, read_json
from .base import WorkbookError

STATE = ".state"
KINDS = ("screening", "extraction")
# what a spreadsheet program saves a workbook as, besides the format the pipeline writes
OTHER_FORMATS = (".xlsx", ".ods", ".xls", ".xlsm", ".xlsb", ".numbers", ".csv", ".fods")


def state_path(folder: Path, kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"no registry of {kind} workbooks")
    return folder / STATE / f"{kind}-workbooks.json"


def read(folder: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Reviewer -> {"file", "typed"} as kept at the last refresh ({} before the first)."""
    data = read_json(state_path(folder, kind))
    return data if isinstance(data, dict) else {}


def write(folder: Path, kind: str, typed: Mapping[str, tuple[Path, int]]) -> None:
    """Keep what was read this refresh (rewritten only when it changed, so a refresh changes no file)."""
    data = {name: {"file": path.as_posix(), "typed": count} for name, (path, count) in sorted(typed.items())}
    path = state_path(folder, kind)
    if data or path.exists():
        write_if_changed(path, json_bytes(data))


def look_alikes(path: Path) -> list[Path]:
    """Files beside ``path`` with its name and another spreadsheet suffix (what "save as" leaves)."""
    return sorted(p for p in (path.with_suffix(s) for s in OTHER_FORMATS) if p != path and p.exists())


def missing(path: Path, name: str, known: Mapping[str, Mapping[str, Any]], what: str, kind: str
            ) -> WorkbookError | None:
    """The error for a reviewer's file that is gone although it held typed work, or was saved in another
    format (``None`` when it never held any: a new reviewer's file is then created as usual)."""
    if path.exists():
        return None
    others = look_alikes(path)
    typed = int((known.get(name) or {}).get("typed") or 0)
    if not typed and not others:
        return None
    was = f" ({typed} typed rows were read from it at the last refresh)" if typed else ""
    beside = (f"; {', '.join(str(p) for p in others)} is beside it, but only {path.suffix} is read: open it and "
              f"save it as {path.name}") if others else ""
    return WorkbookError(
        f"{path}: {name}'s {what} is missing{was}{beside}. A blank one is not made in its place, so that their "
        f"work does not silently stop counting: put the file back (git checkout -- {path}, or the newest copy "
        f"in {path.parent / '.backup'}/), or, if {name} left the team, move them to former_reviewers: in the "
        f"protocol with the file in place. To start {name}'s file again on purpose, leaving their typed work out, "
        f"remove the \"{name}\" entry from {state_path(path.parent, kind)} as well.")


def reviewers_files(folder: Path, prefix: str, suffix: str, shared: Iterable[str] = ()) -> dict[str, Path]:
    """Reviewer -> file for every file named ``<prefix><reviewer><suffix>`` in ``folder``, except the team's
    ``shared`` files (the consensus workbook, the ledger...)."""
    skip = {s.lower() for s in shared}
    out = {}
    for path in sorted(folder.glob(f"{prefix}*{suffix}")):
        name = path.name[len(prefix):len(path.name) - len(suffix)]
        if name and not name.startswith(("~$", ".")) and name.lower() not in skip:
            out[name] = path
    return out


def unlisted_with_work(files: Mapping[str, Path], listed: Iterable[str], typed: Callable[[str, Path], int],
                       what: str) -> tuple[str, Path, WorkbookError] | None:
    """The first reviewer's file (by name) whose reviewer is not ``listed`` and that holds typed work, with its
    error: ``typed(name, path)`` counts the rows (a file that cannot be read may hold some: it is named too)."""
    known = set(listed)
    for name, path in files.items():
        if name in known:
            continue
        try:
            count: int | None = typed(name, path)
        except WorkbookError:
            count = None
        if count != 0:
            return name, path, not_listed_error(name, path, count, what)
    return None


def not_listed_error(name: str, path: Path, typed: int | None, what: str) -> WorkbookError:
    """A reviewer's file with typed work (``None``: unreadable, so perhaps) whose reviewer the protocol
    no longer names."""
    count = f"{typed} typed rows of" if typed is not None else "perhaps (it cannot be read)"
    return WorkbookError(
        f"{path}: {count} {name}'s {what}, but {name} is neither in reviewers: nor in "
        f"former_reviewers: of the protocol. If {name} left the team, add `former_reviewers: [{{name: {name}, "
        f"left: YYYY-MM-DD}}]` so that their work keeps counting; if the file is not a reviewer's, move it out "
        f"of {path.parent}/.")


def beside(path: Path) -> Problem | None:
    """A warning for a spreadsheet of the same name in another format beside a reviewer's file: it is never
    read, so typing in it would be lost without a word."""
    others = look_alikes(path)
    if not path.exists() or not others:
        return None
    return Problem(code="other-format-beside", severity=WARNING, file=str(others[0]), value=others[0].suffix,
                   expected=f"typing in {path}",
                   hint=f"only {path.name} is read: copy anything typed in {others[0].name} into it, then delete it")
