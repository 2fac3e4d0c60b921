"""The screening workbooks' layout: their sheets and columns, a new workbook with its dropdowns, highlighting
and protection, how each cell is dressed, and the order of the title/abstract sheet's rows (``plan``).

``review.workbooks.screening`` refreshes and reads the workbooks with openpyxl, ``review.workbooks.screening_xml``
refreshes a large one in its XML; both lay the rows out by ``plan``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from ..screening import ALLOWED, FT, STAGES, TA, Settings
from .base import neutralise, text

SHEETS = {TA: "title-abstract", FT: "full-text"}
STUDY_COLUMNS = ["study_id", "citation", "year", "title", "abstract", "container"]
INPUT_COLUMNS = ["decision", "reason", "notes"]
RANK_COLUMNS = ["rank", "score"]  # the pipeline's, on the title/abstract sheet when prioritisation is on
OWNED = frozenset(STUDY_COLUMNS + RANK_COLUMNS)  # a row with a value in any other column has been typed in
GUIDE = "instructions"
REQUIRED = ("study_id", "decision", "reason")
LAST_ROW = 1048576  # dropdowns and highlighting reach every row a sheet can have
WIDTHS = {"title": 60, "abstract": 90, "notes": 30, "study_id": 20, "citation": 22}


def new_workbook(settings: Settings) -> Workbook:
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    for r, label in enumerate(settings.reasons.values(), start=1):  # the dropdown shows labels; read back as codes
        lists.cell(row=r, column=1, value=label).data_type = "s"
    for stage in STAGES:
        ws = wb.create_sheet(SHEETS[stage])
        ws.append(STUDY_COLUMNS + INPUT_COLUMNS)
        for k, name in enumerate(STUDY_COLUMNS + INPUT_COLUMNS, start=1):
            cell = ws.cell(row=1, column=k)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E2EFDA" if name in INPUT_COLUMNS else "D9D9D9")
            ws.column_dimensions[get_column_letter(k)].width = WIDTHS.get(name, 12)
        decision_col = get_column_letter(len(STUDY_COLUMNS) + 1)
        reason_col = get_column_letter(len(STUDY_COLUMNS) + 2)
        choices = ",".join(ALLOWED[stage])
        dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=True,
                            promptTitle="Decision", prompt=f"{choices}. maybe = not yet decided.")
        dv.add(f"{decision_col}2:{decision_col}{LAST_ROW}")
        ws.add_data_validation(dv)
        if settings.reasons:
            reasons = DataValidation(type="list", allow_blank=True, showErrorMessage=True,
                                     formula1=f"{quote_sheetname('lists')}!$A$1:$A${len(settings.reasons)}",
                                     promptTitle="Exclusion reason", prompt="Required when the decision is exclude.")
            reasons.add(f"{reason_col}2:{reason_col}{LAST_ROW}")
            ws.add_data_validation(reasons)
        highlight = PatternFill("solid", fgColor="FFF2CC")
        for term in settings.key_terms:
            safe = term.replace('"', '""')
            ws.conditional_formatting.add(f"D2:E{LAST_ROW}", FormulaRule(
                formula=[f'ISNUMBER(SEARCH("{safe}",D2))'], fill=highlight))
        ws.freeze_panes = "B2"
        ws.protection.sheet = True
        for option in ("formatColumns", "formatRows", "sort", "autoFilter", "formatCells"):
            setattr(ws.protection, option, False)
    criteria = wb.create_sheet("criteria")
    criteria.append(["Inclusion criteria"])
    for line in settings.criteria:
        criteria.append([line])
    criteria.append([])
    criteria.append(["Exclusion reason code", "Reason"])
    for code, label in settings.reasons.items():
        criteria.append([code, label])
    criteria.column_dimensions["A"].width = 40
    criteria.column_dimensions["B"].width = 80
    return wb



# one Protection and Alignment per kind of cell: openpyxl shares style objects, and a new one per cell is slow
LOCKED, UNLOCKED = Protection(locked=True), Protection(locked=False)
WRAP, TOP = Alignment(wrap_text=True, vertical="top"), Alignment(wrap_text=False, vertical="top")


def style(cell: Any, name: str) -> None:
    """A cell of column ``name`` as a new row has it: the pipeline's own locked (title and abstract wrapped), the
    reviewer's open."""
    locked = name in OWNED
    cell.protection = LOCKED if locked else UNLOCKED
    if locked:
        cell.alignment = WRAP if name in ("title", "abstract") else TOP


@dataclass
class Arrangement:
    """Where the untyped rows' studies go: the owned cells' values of every slot (rows below the last
    included), the rows added below the last, and how many new studies."""

    values: dict[int, dict[str, Any]]  # row number -> {owned column name: value}
    new_rows: range
    added: int


def plan(rows: Iterable[tuple[int, Mapping[int, Any]]], header: Mapping[str, int], wanted: Sequence[Mapping[str, str]],
         ranking: Mapping[str, tuple[int, float]], last: int) -> Arrangement:
    """Sort the untyped rows by rank, new studies among them (pure: the two ways of writing a workbook share it).

    ``rows``: (row number, {column number: value}) of rows 2..``last``. Typed rows stay where they are. The
    slots the untyped rows held, and new rows below the last, are refilled in rank order; what a slot shows
    moves with its study (its own citation, title and abstract, never a fresh copy), so a sort moves text and
    changes no study's row. Slots left over (a study listed twice) are emptied, not left stale."""
    owned = {header[name]: name for name in OWNED if name in header}
    slots: list[int] = []
    shown: dict[str, dict[str, Any]] = {}  # study id -> what its untyped row shows, by column name
    order: list[str] = []
    present: set[str] = set()  # every study on the sheet, typed in or not
    for number, cells in rows:
        study = text(cells.get(header["study_id"]))
        present.add(study)
        if any(v not in (None, "") for k, v in cells.items() if k not in owned):
            continue  # typed in: never moved
        slots.append(number)
        if study and study not in shown:
            shown[study] = {name: cells.get(k) for k, name in owned.items()}
            order.append(study)
    new = [r for r in wanted if r["study_id"] not in present]
    for r in new:
        shown[r["study_id"]] = {name: neutralise(r[name]) if r.get(name) not in ("", None) else None
                                for name in STUDY_COLUMNS if name in header}
        order.append(r["study_id"])
    slots += range(last + 1, last + 1 + len(new))
    position = {s: k for k, s in enumerate(order)}
    order.sort(key=lambda s: (ranking[s][0] if s in ranking else math.inf, position[s]))
    blank = dict.fromkeys(owned.values())
    values: dict[int, dict[str, Any]] = {}
    for number, study in zip(slots, order):
        values[number] = {**blank, **shown[study]}
        if study in ranking:
            values[number]["rank"], values[number]["score"] = ranking[study]
    for number in slots[len(order):]:
        values[number] = dict(blank)
    return Arrangement(values, range(last + 1, last + 1 + len(new)), len(new))
