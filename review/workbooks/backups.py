"""Backups of reviewers' files: ``<folder>/.backup/<name>.<content hash><suffix>``, one per content, each
checked before it takes its name, so that every backup is what its name says (the file error messages
send users to restore from)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes
from ..errors import WriteError
from ..fileio import append_csv


def backup(path: Path) -> Path | None:
    """Copy ``path`` to ``.backup/`` beside it, named by its content hash (once per content).

    A backup is the file users are told to restore from, so it is written as every file is (a temporary
    name, then a rename) and read back and compared before it takes its name: a disk that fills during a
    backup leaves no file under that name. A file already under the name that does not hold that content
    (damaged, or left by an older version's plain copy) is written again, never trusted."""
    if not path.exists():
        return None
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    target = path.parent / ".backup" / f"{path.stem}.{sha[:12]}{path.suffix}"
    if not _holds(target, sha):
        try:
            atomic_write_bytes(target, data, verify=True)
        except WriteError as exc:
            raise WriteError(f"{exc} {path} was not written either: a file is written only once it is backed "
                             "up.") from exc
        with contextlib.suppress(OSError):  # the time it was last saved, as a plain copy keeps it; only a help
            stat = path.stat()
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return target


def _holds(path: Path, sha: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha
    except OSError:
        return False


def append_kept_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """``append_csv`` for a file the pipeline keeps with the reviewers' files (the study ledger, the order of
    the screening decisions, the log of changed cells), backed up first as a workbook is: its errors send
    users to ``.backup/``."""
    rows = list(rows)
    if rows:
        backup(path)
        append_csv(path, columns, rows)
