"""The screening workbooks refreshed in their sheets' XML (``xlsxml``): a 100,000-row sheet in seconds where
openpyxl takes most of a minute. Used by ``review.workbooks.screening.append_studies`` when it ranks the rows of
a workbook that exists; anything it cannot do as openpyxl would, it leaves to openpyxl (``None``).
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from lxml import etree

from ..screening import FT, TA
from . import xlsxml
from .base import lock_files, neutralise, save_bytes, text
from .screening_layout import GUIDE, INPUT_COLUMNS, OWNED, RANK_COLUMNS, REQUIRED, SHEETS, Arrangement, plan


def _mode(values: Iterable[int | None]) -> int | None:
    counts = Counter(v for v in values if v is not None)
    return max(sorted(counts), key=counts.__getitem__) if counts else None


def append_in_xml(path: Path, wanted: Mapping[str, Iterable[Mapping[str, str]]],
                   ranking: Mapping[str, tuple[int, float]], guide: Sequence[str]) -> int | None:
    """``append_studies`` with a ranking for a workbook that exists, done in the sheets' XML (``xlsxml``: a
    100,000-row sheet in seconds where openpyxl takes most of a minute), the rank columns added if missing.
    ``None`` where it does not apply, and the openpyxl path does everything: a lock file, a sheet or column
    missing, locked input cells to open, styled rows below the last, a value read differently, no row to take
    new rows' style from, cells where the rank columns would go."""
    if lock_files(path):
        return None
    try:
        book = xlsxml.Workbook.open(path)
        if GUIDE not in book.sheetnames or any(SHEETS[stage] not in book.sheetnames for stage in wanted):
            return None
        appended, styles = 0, dict[str, int]()  # a column's style, the title/abstract sheet's first
        for stage in [TA, FT]:
            if stage not in wanted:
                continue
            added = _stage_in_xml(book.sheet(SHEETS[stage]), stage, list(wanted[stage]), ranking, styles)
            if added is None:
                return None
            appended += added
        ws = book.sheet(GUIDE)
        numbers = ws.numbers()
        shown = [text(ws.row_values(n).get(1)) for n in range(1, max(numbers, default=0) + 1)]
        if guide and _trimmed(shown) != _trimmed([neutralise(x) for x in guide]):
            ws.replace_text_rows([neutralise(x) for x in guide])
        if appended or any(book.sheet(name).changed for name in (*SHEETS.values(), GUIDE) if name in book.sheetnames):
            save_bytes(book.to_bytes(), path)
        return appended
    except (xlsxml.NotPlain, etree.LxmlError, KeyError, ValueError, IndexError, TypeError, zipfile.BadZipFile):
        return None


def _trimmed(lines: list[str]) -> list[str]:
    """Without the empty lines at the end (a spreadsheet keeps no empty row below the last)."""
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def _stage_in_xml(ws: xlsxml.Sheet, stage: str, rows: list[Mapping[str, str]],
                  ranking: Mapping[str, tuple[int, float]], styles: dict[str, int]) -> int | None:
    """One stage's sheet in ``append_in_xml``: the rows appended, or ``None`` to leave it all to openpyxl."""
    header: dict[str, int] = {}
    for column, value in sorted(ws.row_values(1).items()):
        header.setdefault(text(value), column)
    header.pop("", None)
    if any(name not in header for name in REQUIRED):
        return None
    added = _rank_columns_in_xml(ws, header) if stage == TA else []
    if added is None:
        return None
    scanned = {n: ws.row_values(n) for n in ws.numbers() if n >= 2}
    last = max((n for n, values in scanned.items() if any(v not in (None, "") for v in values.values())), default=1)
    if any(n > last for n in ws.numbers()):
        return None  # rows styled below the last: openpyxl's path decides how new rows take them
    inputs = [header[name] for name in INPUT_COLUMNS if name in header]
    if last >= 2 and any(ws.locked(last, column) for column in inputs):
        return None  # locked input cells to open (openpyxl's path opens them)
    owned = {header[name] for name in OWNED if name in header}
    untyped = [n for n, values in scanned.items() if not any(v not in (None, "") for k, v in values.items()
                                                             if k not in owned)]
    for name, column in header.items():  # the style most of the last untyped rows of a column have: what
        found = _mode(ws.style(n, column) for n in untyped[-500:])  # layout's style gave them (a highlight is rare)
        if found is not None:
            styles.setdefault(name, found)
    for name in added:  # dressed as style dresses them: locked and top-aligned, as a study id
        if styles.get("study_id") is not None:
            styles.setdefault(name, styles["study_id"])
    if stage == TA:
        arrangement = plan(((n, scanned.get(n, {})) for n in range(2, last + 1)), header, rows, ranking, last)
        return _arranged_in_xml(ws, header, arrangement, styles)
    present = {text(values.get(header["study_id"])) for values in scanned.values()}
    new = [dict.fromkeys(INPUT_COLUMNS, "") | dict(r) for r in rows if r["study_id"] not in present]
    if any(styles.get(name) is None for row in new for name in row if name in header):
        return None
    for number, row in enumerate(new, start=last + 1):
        for name, column in header.items():
            if name in row:
                value = row[name]
                ws.set(number, column, neutralise(value) if value not in ("", None) else None, styles[name])
    return len(new)


def _rank_columns_in_xml(ws: xlsxml.Sheet, header: dict[str, int]) -> list[str] | None:
    """The rank columns a sheet from before prioritisation lacks, added in its XML as openpyxl's path adds them:
    to ``header`` and the sheet at the header's end, their header cells styled as the study id's (bold on
    grey, as openpyxl's path dresses them). Returns the names added; ``None`` (openpyxl's path, which
    writes there all the same) where a cell of any row already stands in those columns. (A first ranking of
    100,000 rows took 47-50 s through openpyxl, 36 s here.)"""
    missing = [name for name in RANK_COLUMNS if name not in header]
    if not missing:
        return []
    first = max(header.values()) + 1
    places = range(first, first + len(missing))
    if any(ws.style(n, column) is not None for n in ws.numbers() for column in places):
        return None
    style = ws.style(1, header["study_id"])  # a header name is a cell's value, so the cell is there
    for name, column in zip(missing, places):
        ws.set(1, column, name, style)
        header[name] = column
    return missing


def _arranged_in_xml(ws: xlsxml.Sheet, header: dict[str, int], arrangement: Arrangement,
                     styles: dict[str, int]) -> int | None:
    """``plan`` applied to a sheet's XML, as ``screening.append_studies`` applies it with openpyxl."""
    dressed = {name: styles.get(name if name in OWNED else "decision") for name in header}
    if arrangement.new_rows and None in dressed.values():
        return None
    for number, values in arrangement.values.items():
        for name, value in values.items():
            ws.set(number, header[name], value)
    for number in arrangement.new_rows:  # dressed as style dresses them: the same styles as the rows above
        for name, column in header.items():
            ws.set(number, column, ws.row_values(number).get(column), dressed[name])
    return arrangement.added
