"""``extracts/<reviewer>.xlsx`` (or ``.csv``): one extraction sheet per reviewer.

One row per included study x key (e.g. tier; keys suggested from the study's tags); bibliographic
columns pre-filled and protected; codebook columns with dropdowns (single choice, yes/no), number
checks and input messages carrying the definitions; a ``codebook`` sheet lists every code. A refresh
only appends rows for new studies (by header name, below the last used row) and marks studies that
dropped out in ``status``; it never changes a cell a reviewer typed. CSV sheets are the alternative
for teams without Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from ..codebook import Codebook, Field
from ..extraction import DROPPED, INCLUDED, NOTES, STUDY_COLUMNS, Study, study_rows
from .base import (
    Table,
    WorkbookError,
    append_rows,
    digest,
    header_of,
    neutralise,
    open_for_update,
    open_read_only,
    read_table,
    save,
    save_bytes,
    sheet_for_update,
    text,
)
from .base import (
    new_workbook as new_workbook_with,
)

SHEET = "extraction"
REQUIRED = ("study_id", "status")


def columns(codebook: Codebook) -> list[str]:
    return [*STUDY_COLUMNS, *codebook.names, NOTES]


def sheet_path(folder: Path, reviewer: str, fmt: str) -> Path:
    return folder / f"{reviewer}.{fmt}"


_HEADER_FILL = {"study": "D9D9D9", "key": "FFF2CC", "field": "E2EFDA"}
_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_WIDTHS = {"study_id": 20, "citation": 22, "title": 50, "year": 6, "doi": 22, "status": 12, "suggested": 36,
           NOTES: 40}


def _prompt(field: Field) -> str:
    """Input message (Excel allows 255 characters)."""
    text = field.help or field.label
    if field.type in ("single", "multiple"):
        text += " Codes: " + ", ".join(field.codes)
    return text if len(text) <= 250 else text[:247] + "..."


def new_workbook(codebook: Codebook, reviewer: str, n_rows: int, spare_rows: int) -> Workbook:
    wb, ws = new_workbook_with(SHEET)
    names = columns(codebook)
    ws.append(names)
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    list_column = 0
    last_row = n_rows + spare_rows + 1
    for k, name in enumerate(names, start=1):
        letter = get_column_letter(k)
        cell = ws.cell(row=1, column=k)
        cell.font = Font(bold=True)
        kind = "study" if name in STUDY_COLUMNS else "key" if name in {f.name for f in codebook.key_fields} else "field"
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL[kind])
        ws.column_dimensions[letter].width = _WIDTHS.get(name, 18)
        if name not in codebook.names:
            continue
        field = codebook[name]
        cell.comment = Comment(f"{field.label}\n{field.help}".strip()[:1000], "codebook")
        validation = None
        if field.type == "single":
            list_column += 1
            list_letter = get_column_letter(list_column)
            for r, code in enumerate(field.codes, start=1):
                lists.cell(row=r, column=list_column, value=code)
            validation = DataValidation(
                type="list", formula1=f"{quote_sheetname('lists')}!${list_letter}$1:${list_letter}${len(field.codes)}",
                allow_blank=True, showErrorMessage=True, errorStyle="warning",
                error=f"Not a code of {field.name}; see the codebook sheet.")
        elif field.type == "boolean":
            validation = DataValidation(type="list", formula1='"yes,no"', allow_blank=True, showErrorMessage=True)
        elif field.type in ("integer", "year"):
            low = int(field.min) if field.min is not None else -(10**9)
            high = int(field.max) if field.max is not None else 10**9
            validation = DataValidation(type="whole", operator="between", formula1=str(low), formula2=str(high),
                                        allow_blank=True, showErrorMessage=True, errorStyle="warning",
                                        error=field.describe_allowed())
        else:
            validation = DataValidation(type="custom", formula1="TRUE", allow_blank=True)  # carries the prompt only
        validation.promptTitle = field.label[:32]
        validation.prompt = _prompt(field)
        validation.showInputMessage = True
        validation.add(f"{letter}2:{letter}{last_row}")
        ws.add_data_validation(validation)
    ws.freeze_panes = f"{get_column_letter(len(STUDY_COLUMNS) + 1)}2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}1"
    ws.protection.sheet = True
    # reviewers may add rows (a second tier of a study), sort, filter and resize; not edit study columns
    for option in ("insertRows", "formatColumns", "formatRows", "sort", "autoFilter", "formatCells"):
        setattr(ws.protection, option, False)
    _unlock(ws, [*_typing_columns(codebook), *SPARE_COLUMNS], 2, last_row)  # data rows' study ids are locked again
    _codebook_sheet(wb, codebook)
    about = wb.create_sheet("about")
    for row in (["reviewer", reviewer], ["codebook", codebook.title], ["codebook_version", codebook.version],
                ["row unit", codebook.row_unit],
                ["how to", "Fill the green columns; grey ones come from the references and are protected. "
                           "To add another tier of a study, write its study id and the tier in a spare row below "
                           "the studies. Multiple choices: codes separated by ';'."]):
        about.append(row)
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    return wb


_OPEN = Protection(locked=False)


def _unlock(ws, names: Iterable[str], first: int, last: int) -> None:
    """Let reviewers type in the columns ``names`` (found by header) of rows ``first``-``last``."""
    header = header_of(ws)
    for name in names:
        column = header.get(name)
        if column is None:
            continue
        for (cell,) in ws.iter_rows(min_row=first, max_row=last, min_col=column, max_col=column):
            cell.protection = _OPEN


def _typing_columns(codebook: Codebook) -> list[str]:
    return [*codebook.names, NOTES]


# a spare row's study id is the reviewer's to fill: a second tier of a study, checked against the included studies
SPARE_COLUMNS = ("study_id",)


def _codebook_sheet(wb: Workbook, codebook: Codebook) -> None:
    sheet = wb.create_sheet("codebook")
    sheet.append(["group", "field", "label", "type", "required", "code", "code label", "definition", "help"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for field in codebook.fields:
        if field.choices:
            for choice in field.choices:
                sheet.append([field.group, field.name, field.label, field.type, "yes" if field.required else "",
                              choice.code, choice.label, choice.definition, field.help])
        else:
            sheet.append([field.group, field.name, field.label, field.type, "yes" if field.required else "",
                          "", "", field.describe_allowed(), field.help])
    for letter, width in zip("ABCDEFGHI", (22, 24, 28, 9, 9, 34, 40, 60, 60)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C2"


def _style(cell: Any, name: str) -> None:
    if name in STUDY_COLUMNS:
        cell.fill = _LOCKED_FILL
        cell.protection = Protection(locked=True)
        cell.alignment = Alignment(vertical="top", wrap_text=name == "title")
    else:
        cell.protection = Protection(locked=False)


def _extend_validations(ws, last_row: int) -> None:
    """Dropdowns and checks reach the appended rows (and their spare rows) too."""
    for validation in ws.data_validations.dataValidation:
        for cell_range in list(validation.sqref.ranges):
            if cell_range.max_row < last_row:
                letter = get_column_letter(cell_range.min_col)
                validation.add(f"{letter}{cell_range.max_row + 1}:{letter}{last_row}")


@dataclass
class SheetOutcome:
    reviewer: str
    path: Path
    rows: int
    appended: int
    dropped: int
    outcome: str


def update_xlsx(path: Path, reviewer: str, codebook: Codebook, studies: list[Study], spare_rows: int = 200
                ) -> SheetOutcome:
    workbook = open_for_update(path)
    names = columns(codebook)
    if workbook is None:
        rows = [{n: r.get(n, "") for n in names} for s in studies for r in study_rows(s, codebook)]
        workbook = new_workbook(codebook, reviewer, len(rows), spare_rows)
        append_rows(workbook[SHEET], rows, _style)
        save(workbook, path)
        return SheetOutcome(reviewer, path, len(rows), len(rows), 0, "created")
    ws, header = sheet_for_update(workbook, path, SHEET, REQUIRED)
    present: dict[str, list[int]] = {}
    column = header["study_id"]
    for number, (sid,) in enumerate(ws.iter_rows(min_row=2, min_col=column, max_col=column, values_only=True),
                                    start=2):
        if sid not in (None, ""):
            present.setdefault(str(sid), []).append(number)
    wanted = {s.study_id for s in studies}
    new_rows = [r for s in studies if s.study_id not in present for r in study_rows(s, codebook)]
    dropped = 0
    changed = bool(new_rows)
    for sid, row_numbers in present.items():
        status = INCLUDED if sid in wanted else DROPPED
        for number in row_numbers:
            cell = ws.cell(row=number, column=header["status"])
            if cell.value != status:  # the status column is the pipeline's, not a reviewer's
                cell.value = status
                changed = True
            dropped += status == DROPPED
    if new_rows:
        extra = [n for n in names if n not in header]
        if extra:
            raise WorkbookError(f"{path} lacks the columns {', '.join(extra)} of codebook {codebook.version}; "
                                "it was left as it is (a codebook change needs a new workbook)")
        start = append_rows(ws, ({n: r.get(n, "") for n in names} for r in new_rows), _style)
        last = start + len(new_rows) + spare_rows
        _unlock(ws, _typing_columns(codebook), start, last)
        _unlock(ws, SPARE_COLUMNS, start + len(new_rows), last)
        _extend_validations(ws, last)
    if changed:
        save(workbook, path)
    total = sum(len(v) for v in present.values()) + len(new_rows)
    return SheetOutcome(reviewer, path, total, len(new_rows), dropped, "updated" if changed else "unchanged")


def update_csv(path: Path, reviewer: str, codebook: Codebook, studies: list[Study]) -> SheetOutcome:
    """The CSV alternative: same columns, same append-only rule (no dropdowns, validated on reading)."""
    names = columns(codebook)
    existing: list[dict[str, str]] = []
    fieldnames = names
    if path.exists():
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fieldnames = list(reader.fieldnames or names)
            existing = list(reader)
        if "study_id" not in fieldnames or "status" not in fieldnames:
            raise WorkbookError(f"{path} has no study_id or status column; it was left as it is")
    present = {r["study_id"] for r in existing}
    wanted = {s.study_id for s in studies}
    new_rows = [r for s in studies if s.study_id not in present for r in study_rows(s, codebook)]
    dropped = 0
    for row in existing:
        row["status"] = INCLUDED if row["study_id"] in wanted else DROPPED
        dropped += row["status"] == DROPPED
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(existing)
    writer.writerows({k: neutralise(v) for k, v in r.items()} for r in new_rows)
    data = buffer.getvalue().encode("utf-8")
    outcome = "unchanged"
    if not path.exists() or path.read_bytes() != data:
        outcome = "updated" if existing else "created"
        save_bytes(data, path)
    return SheetOutcome(reviewer, path, len(existing) + len(new_rows), len(new_rows), dropped, outcome)


def update(path: Path, reviewer: str, codebook: Codebook, studies: list[Study], spare_rows: int = 200
           ) -> SheetOutcome:
    """Create or refresh one reviewer's sheet, in the format its file name says."""
    if path.suffix == ".csv":
        return update_csv(path, reviewer, codebook, studies)
    return update_xlsx(path, reviewer, codebook, studies, spare_rows)


# --- reading ---------------------------------------------------------------------------------------------


def read(path: Path) -> Table:
    """The extraction sheet (xlsx) or file (csv) by header; ``WorkbookError`` without a study_id column."""
    return read_table(path, None if path.suffix == ".csv" else SHEET, required=("study_id",))


def records(table: Table, codebook: Codebook) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {study_id and codebook field: raw value}) of each row."""
    return table.records(["study_id", *codebook.names])


def codebook_version(path: Path) -> str:
    """The codebook version recorded in a workbook's ``about`` sheet ("" for CSV or when absent)."""
    if path.suffix != ".xlsx":
        return ""
    try:
        workbook = open_read_only(path)
    except WorkbookError:
        return ""
    if workbook is None:
        return ""
    try:
        if "about" not in workbook.sheetnames:
            return ""
        return next((str(v) for k, v, *_ in workbook["about"].iter_rows(max_col=2, values_only=True)
                     if k == "codebook_version"), "")
    finally:
        workbook.close()


def typed_digest(paths: Iterable[tuple[str, Path]], codebook: Codebook) -> str:
    """A digest of what reviewers typed in the sheets (started rows' codebook cells), not of the rows and
    styles the pipeline writes."""
    key_names = {f.name for f in codebook.key_fields}
    parts: list[Any] = [codebook.version]
    for name, path in paths:
        if not path.exists():
            continue
        try:
            table = read(path)
        except WorkbookError as exc:
            parts.append((name, "unreadable", str(exc)))
            continue
        for number, raw in records(table, codebook):
            cells = [raw[n] for n in codebook.names]
            if any(c not in (None, "") for n, c in zip(codebook.names, cells) if n not in key_names):
                parts.append((name, number, text(raw["study_id"]), cells))
    return digest(parts)
