"""What every reviewer file shares: written so that a reviewer's typing is never lost or misfiled.

* Open read-only for reading values; open for update only to append. A workbook that is open in Excel
  or LibreOffice (a lock file beside it) or cannot be read is never written: ``WorkbookError``.
* Rows are read **by header name** (``review.workbooks.reading``), never by position, so a reviewer may insert,
  move or add columns; extra columns and sheets are kept and ignored.
* Rows are appended by header name below the last row that holds any value (``append_rows``), so an
  inserted column or a typed spare row is never overwritten.
* Before any write the previous file is copied to ``<folder>/.backup/<name>.<content hash><suffix>``
  (content-addressed: no timestamps, no duplicates; checked before it takes that name), then the new file
  replaces it atomically (``atomic.writing``): through a link, never over a read-only file, and a write the
  disk refuses is a ``WorkbookError`` naming the file and the cause.
* Text from references that a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR at the
  start) is neutralised with a leading apostrophe and stored as text.
* ``digest`` is the one way a rule parameter summarises what reviewers typed (Snakemake reruns a rule
  when it changes); ``unreadable`` is the one problem row for a file that could not be used.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from ..atomic import atomic_write_bytes
from ..errors import ERROR, Problem, ReviewError, WriteError
from ..fileio import neutralise as neutralise_csv
from . import xlsxml
from .backups import backup

# what openpyxl raises on a file that is not a sound .xlsx: a bad zip, a missing part, damaged XML inside a
# valid zip (ElementTree's and lxml's parse errors are SyntaxErrors), values it cannot map
DAMAGE = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError,
           IndexError, EOFError, SyntaxError)


class WorkbookError(ReviewError):
    """A reviewer's file is open elsewhere, damaged, or lacks what the pipeline needs; it was left alone."""


def neutralise(value: Any) -> Any:
    """A cell's value as every workbook writer here writes it: neutralised as the CSVs are, and without the
    control characters (NUL and the like) a workbook cannot hold: openpyxl refuses them and XML cannot carry
    them. The readers report and drop them first; this is what keeps any other text from stopping a write."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise_csv(value)


def new_workbook(title: str) -> tuple[Workbook, Worksheet]:
    """A new workbook and its first sheet, named ``title``."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook always has one worksheet
    sheet.title = title
    return workbook, sheet


def lock_files(path: Path) -> list[Path]:
    """Lock files Excel (``~$name``) and LibreOffice (``.~lock.name#``) leave while a file is open: beside it
    and, for a link (a workbook kept in a synced folder), beside the file it links to, where they are made."""
    places = dict.fromkeys([path, Path(os.path.realpath(path))])
    candidates = [p.with_name(lock) for p in places for lock in ("~$" + p.name, f".~lock.{p.name}#")]
    return [c for c in candidates if c.exists()]


def damaged(path: Path, exc: BaseException) -> WorkbookError:
    return WorkbookError(f"{path} cannot be read as an .xlsx workbook ({type(exc).__name__}); it was left as it is. "
                         f"Restore it from {path.parent / '.backup'}/ if it was damaged.")


def check_parts(path: Path) -> None:
    """``WorkbookError`` for a workbook with a part that would inflate to gigabytes, before openpyxl or calamine
    inflates anything (a 4 MB file held a 4 GB sheet part that no sheet refers to)."""
    try:
        with zipfile.ZipFile(path) as archive:
            xlsxml.check_parts(archive)
    except xlsxml.PartTooLarge as exc:
        raise WorkbookError(f"{path} was not opened: {exc}; it was left as it is") from exc
    except (zipfile.BadZipFile, OSError):
        pass  # not a zip, or unreadable: the reader that follows names the damage


def open_for_update(path: Path) -> Workbook | None:
    """The existing workbook, ``None`` if there is none; ``WorkbookError`` if it must be left alone."""
    if not path.exists():
        return None
    check_parts(path)
    locks = lock_files(path)
    if locks:
        raise WorkbookError(f"{path} is open in a spreadsheet program ({locks[0].name} exists); "
                            "close it and run again. The file was left as it is.")
    try:
        return load_workbook(path)
    except DAMAGE as exc:
        raise damaged(path, exc) from exc


def open_read_only(path: Path) -> Workbook | None:
    """A workbook opened for reading values (``None`` if missing); ``WorkbookError`` if unreadable."""
    if not path.exists():
        return None
    check_parts(path)
    try:
        # formulas as their text (=B2*2), not their cached result: a formula in a reviewer's cell is reported
        # as one rather than read as empty (openpyxl writes no cached results) or as a number it may change
        return load_workbook(path, read_only=True, data_only=False)
    except DAMAGE as exc:
        raise damaged(path, exc) from exc


def save(workbook: Workbook, path: Path) -> Path | None:
    """Back up the current file (if any), then write ``workbook`` atomically. Returns the backup path."""
    buffer = io.BytesIO()
    # openpyxl's save_workbook at xlsxml's deflate level: a new 20,000-row screening workbook is compressed
    # in 0.1 s where openpyxl's level 6 takes 0.5 s
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                         compresslevel=xlsxml.DEFLATE_LEVEL) as archive:
        workbook.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
        ExcelWriter(workbook, archive).save()
    return save_bytes(buffer.getvalue(), path)


def save_bytes(data: bytes, path: Path) -> Path | None:
    """The same for a file whose bytes are ready (the CSV alternative to a workbook). A file that cannot be
    written (read-only, immutable, a full or read-only disk) is a ``WorkbookError``: the stage goes on with
    the other reviewers' files where it can, and this one is as it was."""
    try:
        made = backup(path)
        atomic_write_bytes(path, data)
    except WriteError as exc:
        raise WorkbookError(str(exc)) from exc
    return made


def text(value: Any) -> str:
    """A cell as stripped text (``""`` for empty)."""
    return "" if value is None else str(value).strip()


def header_of(ws: Worksheet) -> dict[str, int]:
    """Column number (1-based) of each header name of a sheet opened for update."""
    out: dict[str, int] = {}
    for number, cell in enumerate(ws[1], start=1):
        name = text(cell.value)
        if name and name not in out:
            out[name] = number
    return out


def no_sheet(path: Path, sheet: str, present: Sequence[str]) -> WorkbookError:
    return WorkbookError(f"{path} has no '{sheet}' sheet (it has: {', '.join(present)}); it was left as it is. "
                         f"Rename the sheet back to '{sheet}'.")


def no_columns(path: Path, sheet: str, missing: Sequence[str]) -> WorkbookError:
    return WorkbookError(f"the '{sheet}' sheet of {path} has no {', '.join(repr(m) for m in missing)} column in its "
                         f"header row (row 1); it was left as it is. Restore the column (or the header row) or take "
                         f"the file from {path.parent / '.backup'}/.")


def sheet_for_update(workbook: Workbook, path: Path, sheet: str, required: Sequence[str] = ()
                     ) -> tuple[Worksheet, dict[str, int]]:
    """The sheet to append to and its header; ``WorkbookError`` if the sheet or a ``required`` column is gone."""
    if sheet not in workbook.sheetnames:
        raise no_sheet(path, sheet, workbook.sheetnames)
    ws = workbook[sheet]
    assert isinstance(ws, Worksheet)
    header = header_of(ws)
    missing = [name for name in required if name not in header]
    if missing:
        raise no_columns(path, sheet, missing)
    return ws, header


def last_used_row(ws: Worksheet) -> int:
    """The last row holding any value in any column (1 for a sheet with only its header).

    Styles, dropdowns and protection reach far below the data (spare rows), so ``ws.max_row`` is not it."""
    last = 1
    for number, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if any(v not in (None, "") for v in values):
            last = number
    return last


class Dresser:
    """``style(cell, name)`` applied to cells, its effect remembered per column name and style before.

    openpyxl looks every style object up by its hash on each assignment: dressing the 100,000 cells of
    20,000 new rows that way took two thirds of the screening stage's first run. A style that depends on
    the column's name only (as every ``style`` here does) turns a cell's style (openpyxl's array of style
    indices) into the same style each time, so later cells take a copy of the result, as openpyxl's own
    sheet copier copies styles. A cell styled otherwise before (a spare row a reviewer coloured) has a
    different style before, so its own result: nothing it had is lost that ``style`` would have kept."""

    def __init__(self, style: Callable[[Any, str], None]) -> None:
        self.style = style
        self.done: dict[tuple[str, tuple[int, ...]], Any] = {}

    def __call__(self, cell: Any, name: str) -> None:
        key = (name, tuple(cell._style or ()))  # None: a cell openpyxl has not styled yet
        after = self.done.get(key)
        if after is None:
            self.style(cell, name)
            self.done[key] = copy(cell._style)
        else:
            cell._style = copy(after)


def append_rows(ws: Worksheet, rows: Iterable[Mapping[str, Any]],
                style: Callable[[Any, str], None] | None = None) -> int:
    """Append ``rows`` ({header name: value}) below the last used row, each value in the column of its name.

    Values are neutralised and stored as text when they are text; ``style(cell, name)``, which must depend
    on the column's name only, dresses each cell of a known column (see ``Dresser``). Names the header lacks
    are an error: the caller checks the header first. Returns the first row written."""
    header = header_of(ws)
    dress = Dresser(style) if style is not None else None
    first = number = last_used_row(ws) + 1
    for row in rows:
        for name, column in header.items():
            if name not in row:
                continue
            value = row[name]
            cell = ws.cell(row=number, column=column, value=neutralise(value) if value not in ("", None) else None)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
            if dress is not None:
                dress(cell, name)
        number += 1
    return first


# --- digests and problems -----------------------------------------------------------------------------


def refresh_locked(ws: Worksheet, column: str, values: Mapping[str, Any]) -> bool:
    """Bring the pipeline's own cells of ``column`` up to date for the studies ``values`` maps (a study's
    citation gains a letter when a later study shares its authors and year: the sheet then cites it as the
    report does). Only a locked cell the pipeline wrote is changed: never a cell a reviewer may type in (a
    spare row), nor an empty one (a reviewer's added row, which would otherwise be saved again on every run,
    open or not). True when a cell changed."""
    header = header_of(ws)
    if column not in header or "study_id" not in header:
        return False
    changed = False
    ids = ws.iter_rows(min_row=2, min_col=header["study_id"], max_col=header["study_id"], values_only=True)
    for number, (sid,) in enumerate(ids, start=2):
        want = values.get(text(sid)) if sid not in (None, "") else None
        cell = ws.cell(row=number, column=header[column])
        if want is None or not cell.protection.locked or cell.value in (None, "") or cell.value == neutralise(want):
            continue
        cell.value = neutralise(want)
        changed = True
    return changed


def digest(parts: Iterable[Any]) -> str:
    """A short, stable digest of ``parts`` (each taken by its ``repr``)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(repr(part).encode("utf-8"))
        hasher.update(b"\x00")
    return hasher.hexdigest()[:16]


def unreadable(path: Path, exc: BaseException | str, hint: str, severity: str = ERROR,
               expected: str = "a readable .xlsx workbook") -> Problem:
    """The problem row for a reviewer's file the stage could not use."""
    return Problem(code="unreadable-workbook", severity=severity, file=str(path), value=str(exc), expected=expected,
                   hint=hint)
