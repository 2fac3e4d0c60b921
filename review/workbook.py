"""Reviewer workbooks: written so that a reviewer's typing is never lost.

Rules every reviewer file follows (duplicates sheet now; screening and extraction sheets later):

* A workbook is only ever appended to: existing rows and every cell a reviewer typed stay as they are.
* Before any write the previous file is copied to ``<folder>/.backup/<name>.<content hash>.xlsx``
  (content-addressed, so no timestamps and no duplicates), then the new file replaces it atomically.
* A workbook that is open in Excel or LibreOffice (lock file beside it) or cannot be read is left
  alone, with a clear message.
* Text from references that a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR at the
  start) is neutralised with a leading apostrophe.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .errors import ReviewError
from .fileio import atomic_write_bytes

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class WorkbookBusy(ReviewError):
    """The workbook is open in a spreadsheet program or cannot be read; it was left alone."""


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def lock_files(path: Path) -> list[Path]:
    """Lock files Excel (``~$name``) and LibreOffice (``.~lock.name#``) leave while a file is open."""
    candidates = [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]
    return [c for c in candidates if c.exists()]


def open_for_update(path: Path) -> Workbook | None:
    """The existing workbook, ``None`` if there is none; ``WorkbookBusy`` if it must be left alone."""
    if not path.exists():
        return None
    locks = lock_files(path)
    if locks:
        raise WorkbookBusy(f"{path} is open in a spreadsheet program ({locks[0].name} exists); "
                           "close it and run again. The file was left as it is.")
    try:
        return load_workbook(path)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise WorkbookBusy(f"{path} cannot be read as an .xlsx workbook ({type(exc).__name__}); "
                           "it was left as it is. Restore it from extracts/.backup/ if it was damaged.") from exc


def read_only(path: Path) -> Workbook | None:
    """Open a workbook for reading values (``None`` if missing); ``WorkbookBusy`` if unreadable."""
    if not path.exists():
        return None
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise WorkbookBusy(f"{path} cannot be read as an .xlsx workbook ({type(exc).__name__})") from exc


def save(workbook: Workbook, path: Path) -> Path | None:
    """Back up the current file (if any), then write ``workbook`` atomically. Returns the backup path."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    backup = None
    if path.exists():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        backup = path.parent / ".backup" / f"{path.stem}.{digest}{path.suffix}"
        if not backup.exists():
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, backup)
    atomic_write_bytes(path, buffer.getvalue())
    return backup
