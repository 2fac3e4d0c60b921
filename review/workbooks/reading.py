"""Reading a reviewer's file by header name (``Table``): never by position, so a reviewer may insert, move or add
columns; extra columns and sheets are kept and ignored. Plain workbooks are read with python-calamine, others (and
any that calamine cannot read) with openpyxl; a CSV file reads the same way."""

from __future__ import annotations

import csv
import hashlib
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ..errors import WARNING, Problem
from ..model import Formula
from . import xlsxml
from .base import DAMAGE, WorkbookError, check_parts, damaged, no_columns, no_sheet, open_read_only, text


@dataclass
class Table:
    """The rows of one sheet (or CSV file) with the numbers a spreadsheet shows, read by header name."""

    path: Path
    sheet: str  # "" for a CSV file
    header: list[str]
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)

    @cached_property
    def index(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for k, name in enumerate(self.header):
            if name and name not in out:  # a duplicated header: the first one is read
                out[name] = k
        return out

    def has(self, name: str) -> bool:
        return name in self.index

    @cached_property
    def repeated(self) -> dict[str, list[int]]:
        """Header names given to more than one column, with their columns (0-based): a column a reviewer
        inserted and headed like a field's."""
        columns: dict[str, list[int]] = {}
        for k, name in enumerate(self.header):
            if name:
                columns.setdefault(name, []).append(k)
        return {name: ks for name, ks in columns.items() if len(ks) > 1}

    def records(self, names: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row number, {name: raw value}) for each row; a column the sheet lacks reads as ``None``. Under a
        header given to several columns the first value that is not blank is read (an inserted column of a
        field's name does not hide what was typed in the field's own); ``repeated`` names them for a report."""
        index, repeated = self.index, self.repeated
        where = [(name, index.get(name)) for name in names if name not in repeated]
        twice = [(name, repeated[name]) for name in names if name in repeated]
        for number, values in self.rows:
            row = {name: values[k] if k is not None and k < len(values) else None for name, k in where}
            for name, ks in twice:
                found = [values[k] for k in ks if k < len(values) and values[k] not in (None, "")]
                row[name] = found[0] if found else None
            yield number, row


def read_table(path: Path, sheet: str | None, required: Sequence[str] = ()) -> Table:
    """Read ``sheet`` of an .xlsx workbook (``sheet=None`` for a CSV file) by header.

    ``WorkbookError`` names the file, the sheet and what is missing when the sheet or a ``required``
    column is not there: reading on would silently drop the reviewer's work."""
    if sheet is not None:
        return read_tables(path, [sheet], required)[sheet]
    table = _read_csv(path)
    missing = [name for name in required if not table.has(name)]
    if missing:
        raise WorkbookError(f"{path} has no {', '.join(repr(m) for m in missing)} column in its header row; it was "
                            f"left as it is. Restore the column or take the file from {path.parent / '.backup'}/.")
    return table


_LAST_READ: dict[tuple[Any, ...], dict[str, Table]] = {}


def read_tables(path: Path, sheets: Sequence[str], required: Sequence[str] = ()) -> dict[str, Table]:
    """Several sheets of one workbook, opened once, each read by header and holding the ``required`` columns.

    The last workbook read is kept while its file holds the same bytes (a hash, a twentieth of a read): a
    stage that first follows merged study ids in a workbook and then reads its decisions reads it once."""
    try:
        key: tuple[Any, ...] = (str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest(), tuple(sheets))
    except OSError:
        key = ()
    tables = _LAST_READ.get(key) if key else None
    if tables is None:
        tables = _read_tables(path, sheets)
        _LAST_READ.clear()
        if key:
            _LAST_READ[key] = tables
    for sheet, table in tables.items():
        missing = [name for name in required if not table.has(name)]
        if missing:
            raise no_columns(path, sheet, missing)
    return tables


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook, in order (``WorkbookError`` if it cannot be read)."""
    check_parts(path)
    try:
        from python_calamine import CalamineWorkbook

        with CalamineWorkbook.from_path(str(path)) as workbook:
            return list(workbook.sheet_names)
    except Exception:  # noqa: BLE001 (openpyxl names the damage)
        workbook_ = open_read_only(path)
        if workbook_ is None:
            raise WorkbookError(f"{path} does not exist") from None
        try:
            return list(workbook_.sheetnames)
        finally:
            workbook_.close()


def _read_tables(path: Path, sheets: Sequence[str]) -> dict[str, Table]:
    tables = _calamine_tables(path, sheets)
    if tables is None:
        workbook = open_read_only(path)
        if workbook is None:
            raise WorkbookError(f"{path} does not exist")
        try:
            tables = {sheet: _read_sheet(workbook, path, sheet) for sheet in sheets}
        except DAMAGE as exc:
            raise damaged(path, exc) from exc
        finally:
            workbook.close()
    return tables


def _read_csv(path: Path) -> Table:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            return Table(path, "", header, [(k, tuple(r)) for k, r in enumerate(reader, start=2)])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise WorkbookError(f"{path} cannot be read as CSV ({exc}); it was left as it is") from exc


def _read_sheet(workbook: Workbook, path: Path, sheet: str) -> Table:
    if sheet not in workbook.sheetnames:
        raise no_sheet(path, sheet, workbook.sheetnames)
    # a formula cell as ``Formula``, its text (=B2*2); text a reviewer typed starting with = is a plain str
    rows = ([Formula(c.value) if c.data_type == "f" and isinstance(c.value, str) else c.value for c in row]
            for row in workbook[sheet].iter_rows())
    return _table(path, sheet, rows)


def _table(path: Path, sheet: str, rows: Iterable[Sequence[Any]]) -> Table:
    """Row 1 as the header, the rest numbered as the spreadsheet shows them; empty rows after the last row
    that holds a value are dropped (openpyxl reports styled empty rows, calamine does not)."""
    rows = iter(rows)
    header = [text(h) for h in next(rows, ())]
    numbered = [(k, tuple(r)) for k, r in enumerate(rows, start=2)]
    while numbered and all(v is None for v in numbered[-1][1]):
        numbered.pop()
    return Table(path, sheet, header, numbered)


# Reading values through python-calamine (Rust) is about ten times faster than openpyxl's read-only mode:
# 100,000 screening rows read in about a second instead of twelve. It is used where it reads exactly what
# openpyxl reads: not where a cell holds a formula (calamine gives its cached result, and the formula is
# reported as one), an error value (calamine gives ""), an _xHHHH_ escape (openpyxl leaves it as written)
# or a date or time (calamine gives a date where openpyxl gives a datetime). Those workbooks, and any that
# calamine cannot read, go through openpyxl, which also names the damage. A test compares the two readers.
_PLAIN_TYPES = (str, float, int, bool)


class _NotPlain(Exception):
    """A value calamine and openpyxl would read differently: read the workbook with openpyxl."""


def _plain(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                data = archive.read(name)
                if xlsxml.unlike_openpyxl(data, dates=False):  # a date cell is told apart by its value below
                    return False
            elif name == "xl/sharedStrings.xml" and xlsxml.unlike_openpyxl(archive.read(name), dates=False):
                return False
    return True


def _cell(value: Any) -> Any:
    """A calamine value as openpyxl gives it: None for empty, a whole number below 1e16 as an int (openpyxl
    writes 2.0 as "2" and reads "2" as 2; Excel writes whole numbers so)."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 1e16 else value
    if kind in _PLAIN_TYPES:
        return value
    raise _NotPlain(kind.__name__)


def _calamine_tables(path: Path, sheets: Sequence[str]) -> dict[str, Table] | None:
    """The sheets read through calamine, or ``None`` to read them with openpyxl (see above)."""
    if not path.exists() or path.suffix.lower() != ".xlsx":
        return None
    check_parts(path)
    try:
        from python_calamine import CalamineWorkbook

        if not _plain(path):
            return None
        with CalamineWorkbook.from_path(str(path)) as workbook:
            if any(sheet not in workbook.sheet_names for sheet in sheets):
                return None  # openpyxl's path names what is missing
            return {sheet: _table(path, sheet, ([_cell(v) for v in row] for row in
                                                workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)))
                    for sheet in sheets}
    except Exception:  # noqa: BLE001 (damage or a value read differently: openpyxl reads it, or names the damage)
        return None



def duplicate_columns(table: Table) -> list[Problem]:
    """A problem row per header the table gives to more than one column (``Table.records`` reads them)."""
    return [Problem(code="duplicate-column", severity=WARNING, file=str(table.path), sheet=table.sheet, row="1",
                    column=name, value="columns " + ", ".join(get_column_letter(k + 1) for k in ks),
                    expected="each header once", hint="the first value that is not blank in these columns is read "
                                                      "for each row; rename the column that is not the pipeline's")
            for name, ks in table.repeated.items()]


