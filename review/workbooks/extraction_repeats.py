"""The sheets of a codebook's repeatable sub-records (``repeat:`` groups, e.g. ``lessons``) in every extraction
workbook: one row per item (a lesson), several per study x key, each with its own values.

Laid out as the extraction sheet is (the study's columns grey and protected, dropdowns of labels, one narrow
column per code of a multiple choice, the same checks and red marks), with the study id, citation, key and
title first. Each included study gets one row when it is new; a reviewer adds another item of the same study
in a spare row below (its study id and key are theirs to type), as a second tier is added on the extraction
sheet. A refresh appends rows for new studies only and never changes a typed cell. A workbook made before the
codebook declared the repeat gets its sheet at the next refresh, and the values of fields moved into it
(``move_field``) are copied there, one item per row that held them, every copied cell logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..codebook import Codebook, Repeat
from ..extraction import NOTES, STUDY_COLUMNS, Study, study_rows
from .base import append_rows, header_of, text
from .extraction_layout import (
    HEAD_ALIGN,
    HEADER_FILL,
    LOCKED_FILL,
    WRAP_ALIGN,
    extend_rules,
    field_columns,
    fit_heights,
    note,
    style_cell,
    unlock,
)
from .reading import Table, read_table

STUDY = ("study_id", "citation")


def columns(codebook: Codebook, repeat: Repeat) -> list[str]:
    """A repeat sheet's header: the study and key first (frozen), the title, the repeat's fields, notes."""
    keys = [f.name for f in codebook.key_fields]
    names = [*STUDY, *keys, "title"]
    for f in repeat.fields:
        names += list(f.tick_columns()) or [f.name]
    return [*names, NOTES]


def _shown(row: dict[str, Any], codebook: Codebook) -> dict[str, Any]:
    out = dict(row)
    for f in codebook.key_fields:  # the key as its dropdown shows it: the label
        if out.get(f.name):
            out[f.name] = f.label_of(str(out[f.name]))
    return out


def add_sheet(workbook: Workbook, codebook: Codebook, repeat: Repeat, last_row: int) -> Worksheet:
    """The repeat's sheet, after the extraction sheet: header, dropdowns, checks and marks down to ``last_row``."""
    ws = workbook.create_sheet(repeat.name, index=1)
    names = columns(codebook, repeat)
    ws.append(names)
    header = {name: k for k, name in enumerate(names, start=1)}
    keys = {f.name for f in codebook.key_fields}
    widths = {"study_id": 16, "citation": 18, "title": 34, NOTES: 30}
    for name, k in header.items():
        cell = ws.cell(row=1, column=k)
        cell.font = Font(bold=True)
        cell.alignment = HEAD_ALIGN
        kind = "study" if name in STUDY_COLUMNS else "key" if name in keys else "reviewer" if name == NOTES else "field"
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL[kind])
        ws.column_dimensions[get_column_letter(k)].width = widths.get(name, 14)
    form = codebook.repeat_form(repeat)
    for f in form.fields:
        field_columns(ws, f, header, last_row)
    if repeat.help:  # the repeat's instructions on its first column's header
        ws.cell(row=1, column=1).comment = note(f"{repeat.label}\n{repeat.help}")
    frozen = max(header[name] for name in (*STUDY, *keys))
    ws.freeze_panes = f"{get_column_letter(frozen + 1)}2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_title_rows = "1:1"
    ws.protection.sheet = True
    for option in ("insertRows", "formatColumns", "formatRows", "sort", "autoFilter", "formatCells"):
        setattr(ws.protection, option, False)
    unlock(ws, form, 2, last_row, spare_from=2)
    return ws


def append_studies(ws: Worksheet, codebook: Codebook, studies: Iterable[Study], spare_rows: int) -> int:
    """A row for each study the sheet does not show yet (one per suggested key, as on the extraction sheet);
    their spare rows unlocked. Returns the rows added."""
    header = header_of(ws)
    column = header["study_id"]
    present = {text(v) for (v,) in ws.iter_rows(min_row=2, min_col=column, max_col=column, values_only=True) if v}
    new = [_shown(r, codebook) for s in studies if s.study_id not in present for r in study_rows(s, codebook)]
    if not new:
        return 0
    start = append_rows(ws, ({n: r[n] for n in header if n in r} for r in new), style_cell)
    last = start + len(new) + spare_rows
    unlock(ws, _form_of(ws, codebook), start, last, spare_from=start + len(new))
    fit_heights(ws, start, start + len(new) - 1)
    extend_rules(ws, last)
    return len(new)


def _form_of(ws: Worksheet, codebook: Codebook) -> Codebook:
    repeat = next(r for r in codebook.repeats if r.name == ws.title)
    return codebook.repeat_form(repeat)


def ensure(workbook: Workbook, codebook: Codebook, last_row: int) -> list[Worksheet]:
    """Every repeat's sheet, created when the workbook lacks it; returns the sheets created."""
    return [add_sheet(workbook, codebook, r, last_row) for r in codebook.repeats if r.name not in workbook.sheetnames]


def move_values(workbook: Workbook, ws: Worksheet, codebook: Codebook, path: Path) -> list[dict[str, str]]:
    """Copy the values of fields moved into a repeat (``move_field``) from each extraction row that holds them to a
    new row of the repeat's sheet (one item per row, with its study, citation, key and title); the cells copied,
    for the cell log. The extraction sheet's columns are set aside by the caller."""
    moved = codebook.moved_headers()
    header = header_of(ws)
    present = [h for h in header if h in moved]
    if not present:
        return []
    changes: list[dict[str, str]] = []
    keys = [f.name for f in codebook.key_fields]
    for repeat in codebook.repeats:
        columns_here = [h for h in present if moved[h][1] == repeat.name]
        if not columns_here or repeat.name not in workbook.sheetnames:
            continue
        target = workbook[repeat.name]
        rows = []
        for number in range(2, ws.max_row + 1):
            values = {h: ws.cell(row=number, column=header[h]).value for h in columns_here}
            if all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in values.values()):
                continue
            carried = {n: ws.cell(row=number, column=header[n]).value for n in (*STUDY, *keys, "title") if n in header}
            rows.append((number, {**carried, **values}))
        if not rows:
            continue
        first = append_rows(target, (r for _, r in rows), style_cell)
        fit_heights(target, first, first + len(rows) - 1)
        target_header = header_of(target)
        why = "; ".join(c.describe() for c in codebook.changes if c.kind == "move_field" and c.new == repeat.name)
        for offset, (number, row) in enumerate(rows):
            for name in columns_here:
                if row[name] in (None, ""):
                    continue
                cell = target.cell(row=first + offset, column=target_header[name])
                changes.append({"file": str(path), "sheet": repeat.name, "cell": cell.coordinate,
                                "study_id": text(row.get("study_id")), "column": name,
                                "old": f"extraction!{get_column_letter(header[name])}{number}",
                                "new": text(row[name]), "why": why})
    return changes


def set_aside(ws: Worksheet, codebook: Codebook) -> set[int]:
    """Rename the extraction sheet's columns of moved fields aside (their values stay, no longer read); the
    columns renamed, whose dropdowns the caller drops."""
    moved = codebook.moved_headers()
    out = set()
    for name, column in header_of(ws).items():
        if name in moved:
            cell = ws.cell(row=1, column=column, value=moved[name][0])
            cell.fill = LOCKED_FILL
            cell.alignment = WRAP_ALIGN
            out.add(column)
    return out


def read(path: Path, repeat: Repeat) -> Table:
    """A repeat's sheet by header (``WorkbookError`` without it or its study_id column)."""
    return read_table(path, repeat.name, required=("study_id",))

