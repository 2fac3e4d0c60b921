"""``extracts/<reviewer>.xlsx`` (or ``.csv``): one extraction sheet per reviewer.

One row per included study x key (e.g. tier; keys suggested from the study's tags). Laid out to be
filled in Excel or LibreOffice Calc on a laptop:

* the study id, citation and key columns stay in view (frozen, about 450 pixels); bibliographic columns
  are pre-filled and protected (grey);
* a single choice field is a dropdown of **labels** ("Strategic Health Authority"); the reader maps a
  label (or a code, from older sheets and CSV) to its code;
* a multiple choice field is one narrow column per code, headed ``<field>:<code>`` and grouped under
  the field (collapsible): typing ``x`` chooses the code, so no reviewer types codes;
* every entry column has a dropdown or a check that refuses a wrong value as it is typed, and a
  conditional format that marks in red a wrong value that got in anyway (pasted, or typed in another
  program); the header's note and the input message carry the help, the ``codebook`` sheet every
  definition;
* ``suggested`` shows the codebook's values for the row's tier, and ``accept_suggested`` = yes takes
  them for every field the row leaves blank (one step, and still the reviewer's decision).

A refresh only appends rows for new studies (by header name, below the last used row) and marks
studies that dropped out in ``status``; it never changes a cell a reviewer typed. CSV sheets are the
alternative for teams without Excel (codes typed, ``;`` between several, validated on reading).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..codebook import FALSE_WORDS, TICK_SEPARATOR, TRUE_WORDS, Codebook, Field, fold
from ..extraction import ACCEPT, DROPPED, INCLUDED, NOTES, STUDY_COLUMNS, Study, started, study_rows
from .base import (
    Table,
    WorkbookError,
    append_rows,
    digest,
    header_of,
    last_used_row,
    neutralise,
    open_for_update,
    open_read_only,
    read_table,
    save,
    save_bytes,
    sheet_for_update,
    sheet_names,
    text,
)
from .base import (
    new_workbook as new_workbook_with,
)

SHEET = "extraction"
REQUIRED = ("study_id", "status")
TICK = "x"  # what the dropdown of a code column offers; the reader also takes yes, y, 1, true and ticks


def columns(codebook: Codebook) -> list[str]:
    """A new workbook's header: what identifies the row first (frozen), then the references, then the form."""
    keys = [f.name for f in codebook.key_fields]
    names = ["study_id", "citation", *keys, "status", "title", "year", "doi", "suggested", ACCEPT]
    for f in codebook.fields:
        if not f.key:
            names += list(f.tick_columns()) or [f.name]
    return [*names, NOTES]


def csv_columns(codebook: Codebook) -> list[str]:
    return [*STUDY_COLUMNS, ACCEPT, *codebook.names, NOTES]


def read_columns(codebook: Codebook) -> list[str]:
    """Every column the reader takes, in either layout (one column per field, or per code)."""
    return ["study_id", ACCEPT, *codebook.names, *(c for f in codebook.fields for c in f.tick_columns())]


def sheet_path(folder: Path, reviewer: str, fmt: str) -> Path:
    return folder / f"{reviewer}.{fmt}"


_HEADER_FILL = {"study": "D9D9D9", "key": "FFF2CC", "field": "E2EFDA", "code": "EEF6E9", "reviewer": "DDEBF7"}
_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_WIDTHS = {"study_id": 16, "citation": 18, "title": 40, "year": 6, "doi": 18, "status": 11, "suggested": 42,
           ACCEPT: 10, NOTES: 40}
_WRAPPED = {"title", "suggested", NOTES}
_TOP = Alignment(vertical="top")
_WRAP = Alignment(vertical="top", wrap_text=True)
_HEAD = Alignment(vertical="bottom", wrap_text=True)
_TICK = Alignment(vertical="top", horizontal="center")
_TURNED = Alignment(text_rotation=90, vertical="bottom", horizontal="center")
# a wrong value that got past the dropdown is marked the way spreadsheets mark "bad": pale red, dark red text
_BAD_FILL = PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid")
_BAD_FONT = Font(color="9C0006")
_CODE_WIDTH = 3.6
_HEADER_HEIGHT = 160  # points
_LINE = 15  # points per line of wrapped text


def _width(field: Field) -> float:
    if field.key:  # frozen with the study id and citation: kept narrow, its labels wrap
        return 24
    if field.type == "single":
        return min(max(max(len(label) for label in field.labels) * 0.9, 12), 28)
    return {"text": 40, "boolean": 8, "integer": 9, "year": 9}.get(field.type, 14)


def _prompt(field: Field, extra: str = "") -> str:
    """Input message (Excel allows 255 characters); the codebook sheet has the rest."""
    message = " ".join(p for p in (field.help or field.label, extra) if p)
    return message if len(message) <= 250 else message[:200].rsplit(" ", 1)[0] + "... (see the codebook sheet)"


def _note(text_: str) -> Comment:
    """A header note sized to its text, so that nothing is cut off."""
    lines = sum(max(1, -(-len(line) // 48)) for line in text_.splitlines() or [""])
    return Comment(text_[:2000], "codebook", height=min(22 * lines + 20, 400), width=330)


def _lists(wb: Workbook, codebook: Codebook) -> None:
    """A hidden sheet holding each single choice field's labels (the dropdown) and codes (also accepted),
    named ``labels_<field>`` and ``codes_<field>`` so that dropdowns and marks refer to them by name."""
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    renamed = codebook.renamed_headers()
    column = 0
    for f in codebook.fields:
        if f.type != "single":
            continue
        for kind, values in (("labels", f.labels), ("codes", f.codes)):
            column += 1
            letter = get_column_letter(column)
            lists.cell(row=1, column=column, value=f"{kind}_{f.name}")
            for r, value in enumerate(values, start=2):
                lists.cell(row=r, column=column, value=value).data_type = "s"
            ref = f"{quote_sheetname('lists')}!${letter}$2:${letter}${len(values) + 1}"
            wb.defined_names[f"{kind}_{f.name}"] = DefinedName(f"{kind}_{f.name}", attr_text=ref)
            # a column renamed by a codebook upgrade keeps the dropdown it had, which names the old field
            for old in (o for o, n in renamed.items() if n == f.name):
                wb.defined_names[f"{kind}_{old}"] = DefinedName(f"{kind}_{old}", attr_text=ref)


def _words(cell: str, words: Iterable[str]) -> str:
    return "OR(" + ",".join(f'LOWER(TRIM({cell}))="{w}"' for w in sorted(words)) + ")"


def _rules(field: Field) -> tuple[DataValidation, str]:
    """The dropdown or check that refuses a wrong value as it is typed, and the mark (a formula on the
    range's top-left cell, written ``{c}``) for a wrong value that got in anyway."""
    c = "{c}"
    nonblank = f"LEN(TRIM({c}))>0"

    def stop(kind: Any, formula: str, error: str, extra: str = "", **more: Any) -> DataValidation:
        return DataValidation(type=kind, formula1=formula, allow_blank=True, showErrorMessage=True, errorStyle="stop",
                              showInputMessage=True, errorTitle=field.label[:32], promptTitle=field.label[:32],
                              error=error,
                              prompt=_prompt(field, extra), **more)

    if field.type == "single":
        return (stop("list", f"labels_{field.name}", "Choose a value from the list (the codebook sheet defines each).",
                     "Choose from the list; the codebook sheet defines each."),
                f"AND({nonblank},COUNTIF(labels_{field.name},{c})+COUNTIF(codes_{field.name},{c})=0)")
    if field.type == "multiple":
        return (stop("list", f'"{TICK}"', f"Type {TICK} to choose this code, or leave it blank.",
                     f"Type {TICK} in the column of each code that applies."),
                f"AND({nonblank},NOT({_words(c, TRUE_WORDS | FALSE_WORDS)}))")
    if field.type == "boolean":
        return stop("list", '"yes,no"', "yes or no"), f"AND({nonblank},NOT({_words(c, ('yes', 'no'))}))"
    if field.type in ("integer", "year"):
        low = int(field.min) if field.min is not None else -(10**9)
        high = int(field.max) if field.max is not None else 10**9
        return (stop("whole", str(low), field.describe_allowed(), operator="between", formula2=str(high)),
                f"IF({nonblank},IF(ISNUMBER({c}),OR({c}<>INT({c}),{c}<{low},{c}>{high}),TRUE),FALSE)")
    if field.max_length:
        return (stop("textLength", str(field.max_length), field.describe_allowed(), operator="lessThanOrEqual"),
                f"LEN({c})>{field.max_length}")
    # free text: nothing to refuse; the validation carries the input message only
    return DataValidation(type="custom", formula1="TRUE", allow_blank=True, prompt=_prompt(field),
                          promptTitle=field.label[:32], showInputMessage=True), ""


def _guard(ws: Worksheet, validation: DataValidation, mark: str, first: int, last: int, last_row: int
           ) -> None:
    """Attach a field's dropdown/check and mark to its columns ``first``-``last`` (rows 2 to ``last_row``)."""
    top_left = f"{get_column_letter(first)}2"
    cells = f"{top_left}:{get_column_letter(last)}{last_row}"
    validation.add(cells)
    ws.add_data_validation(validation)
    if mark:
        ws.conditional_formatting.add(cells, FormulaRule(formula=[mark.format(c=top_left)], fill=_BAD_FILL,
                                                         font=_BAD_FONT))


def new_workbook(codebook: Codebook, reviewer: str, n_rows: int, spare_rows: int) -> Workbook:
    wb, ws = new_workbook_with(SHEET)
    names = columns(codebook)
    ws.append(names)
    header = {name: k for k, name in enumerate(names, start=1)}
    last_row = n_rows + spare_rows + 1
    _lists(wb, codebook)
    keys = {f.name for f in codebook.key_fields}
    for name, k in header.items():
        cell = ws.cell(row=1, column=k)
        cell.font = Font(bold=True)
        cell.alignment = _HEAD
        kind = ("study" if name in STUDY_COLUMNS else "key" if name in keys else "reviewer"
                if name in (ACCEPT, NOTES) else "field")
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL[kind])
        ws.column_dimensions[get_column_letter(k)].width = _WIDTHS.get(name, 14)
    for f in codebook.fields:
        _field_columns(ws, f, header, last_row)
    _guard(ws, DataValidation(type="list", formula1='"yes"', allow_blank=True, showErrorMessage=True,
                              errorStyle="stop", errorTitle="accept_suggested", promptTitle="accept_suggested",
                              showInputMessage=True,
                              error="Choose yes, or leave it blank.",
                              prompt="yes: take the suggested values (the suggested column) for every field you "
                                     "leave blank in this row; what you type always wins."),
           f"AND(LEN(TRIM({{c}}))>0,NOT({_words('{c}', TRUE_WORDS | FALSE_WORDS)}))",
           header[ACCEPT], header[ACCEPT], last_row)
    ws.cell(row=1, column=header[ACCEPT]).comment = _note(
        "Choose yes to take the codebook's suggested values for this row's tier (shown in 'suggested') for "
        "every field you leave blank. Values you type always win.")
    frozen = max(header[name] for name in ("study_id", "citation", *keys))
    ws.freeze_panes = f"{get_column_letter(frozen + 1)}2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}1"
    _print_setup(ws, frozen)
    ws.protection.sheet = True
    # reviewers may add rows (a second tier of a study), sort, filter and resize; not edit study columns
    for option in ("insertRows", "formatColumns", "formatRows", "sort", "autoFilter", "formatCells"):
        setattr(ws.protection, option, False)
    _unlock(ws, codebook, 2, last_row, spare_from=2)  # data rows' study ids are locked again as rows are written
    _codebook_sheet(wb, codebook)
    _about_sheet(wb, codebook, reviewer)
    return wb


def _field_columns(ws: Worksheet, field: Field, header: dict[str, int], last_row: int) -> None:
    """A field's column(s): width, header note, dropdown or check, mark; code columns grouped and turned."""
    validation, mark = _rules(field)
    if field.type == "multiple" and field.tick_columns()[0] in header:
        numbers = [header[c] for c in field.tick_columns()]
        for choice, number in zip(field.choices, numbers, strict=True):
            cell = ws.cell(row=1, column=number)
            cell.alignment = _TURNED
            cell.font = Font(bold=False, size=8)
            cell.fill = PatternFill("solid", fgColor=_HEADER_FILL["code"])
            cell.comment = _note("\n".join(line for line in (f"{field.label}: {choice.label}", choice.definition,
                                                               field.help, f"Type {TICK} if it applies.") if line))
        first, last = get_column_letter(numbers[0]), get_column_letter(numbers[-1])
        ws.column_dimensions.group(first, last, outline_level=1, hidden=False)
        ws.column_dimensions[first].width = _CODE_WIDTH
        # tall enough for the turned code headers, yet leaving most of a laptop screen to the rows
        longest = max(len(c) for c in field.tick_columns())
        ws.row_dimensions[1].height = max(ws.row_dimensions[1].height or 30, min(4.2 * longest + 10, _HEADER_HEIGHT))
        _guard(ws, validation, mark, numbers[0], numbers[-1], last_row)
        return
    if field.name not in header:
        return
    cell = ws.cell(row=1, column=header[field.name])
    cell.comment = _note(f"{field.label}\n{field.help}".strip())
    # wide enough for the header name on one line (a name broken mid-word is hard to read)
    ws.column_dimensions[get_column_letter(header[field.name])].width = max(_width(field), len(field.name) * 1.1 + 1)
    _guard(ws, validation, mark, header[field.name], header[field.name], last_row)


def _print_setup(ws: Worksheet, frozen: int) -> None:
    """Printed (or exported to PDF) in landscape, the header row and the identifying columns on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_title_rows = "1:1"
    ws.print_title_cols = f"A:{get_column_letter(frozen)}"
    ws.page_setup.scale = 60


_OPEN = Protection(locked=False)


def _unlock(ws: Worksheet, codebook: Codebook, first: int, last: int, spare_from: int) -> None:
    """Let reviewers type in the form's columns (found by header) of rows ``first``-``last``, and in the study
    id of the spare rows from ``spare_from``; text columns wrap."""
    header = header_of(ws)
    wrapped = {f.name for f in codebook.fields if f.type in ("text", "single")} | _WRAPPED
    ticks = {c for f in codebook.fields for c in f.tick_columns()}
    names = [ACCEPT, NOTES, *(c for f in codebook.fields for c in (f.tick_columns() or (f.name,)))]
    for name in [*names, *SPARE_COLUMNS]:
        column = header.get(name)
        if column is None:
            continue
        top = spare_from if name in SPARE_COLUMNS else first
        alignment = _WRAP if name in wrapped else _TICK if name in ticks else _TOP
        for (cell,) in ws.iter_rows(min_row=top, max_row=last, min_col=column, max_col=column):
            cell.protection = _OPEN
            cell.alignment = alignment


# a spare row's study id is the reviewer's to fill: a second tier of a study, checked against the included studies
SPARE_COLUMNS = ("study_id",)


def _codebook_sheet(wb: Workbook, codebook: Codebook) -> None:
    """Every field and code with its label, definition and help, and the column where it is entered."""
    sheet = wb.create_sheet("codebook")
    sheet.append(["group", "field", "label", "type", "required", "enter in column", "code", "choose",
                  "definition", "help"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for f in codebook.fields:
        required = "yes" if f.required else ""
        if f.choices:
            for choice, column in zip(f.choices, f.tick_columns() or [f.name] * len(f.choices), strict=True):
                entry = f"{choice.label} (type {TICK})" if f.type == "multiple" else choice.label
                sheet.append([f.group, f.name, f.label, f.type, required, column, choice.code, entry,
                              choice.definition, f.help])
        else:
            sheet.append([f.group, f.name, f.label, f.type, required, f.name, "", "", f.describe_allowed(), f.help])
    widths = (16, 18, 20, 8, 8, 26, 20, 26, 44, 40)
    for k, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = _WRAP
    _fit_heights(sheet, 2, sheet.max_row)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{sheet.max_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # every column on the page's width, as many pages down
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = "1:1"


def _about_sheet(wb: Workbook, codebook: Codebook, reviewer: str, upgraded_from: str = "") -> None:
    about = wb.create_sheet("about")
    how_to = (
        "Grey columns come from the references and are protected. Choose values from the dropdowns: they show "
        "labels, and the codebook sheet defines each one. A field with several answers (themes, functions) has "
        f"one narrow column per code, grouped under the field (click + or - above the columns to show or hide "
        f"them): type {TICK} in each that applies. A value the sheet cannot accept turns red. To take the "
        "codebook's suggestion for a row's tier, choose yes in accept_suggested: it fills the fields you leave "
        "blank, and what you type always wins. To add another tier of a study, write its study id and choose "
        "the tier in a spare row below the studies.")
    for row in (["reviewer", reviewer], ["codebook", codebook.title], ["codebook_version", codebook.version],
                ["row unit", codebook.row_unit], ["how to", how_to]):
        about.append(row)
    if upgraded_from:
        about.append(["upgraded_from", upgraded_from])
        about.append(["changes", "; ".join(c.describe() for c in codebook.changes) or "(none declared)"])
        about["B7"].alignment = _WRAP
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    about["B5"].alignment = _WRAP


def _style(cell: Any, name: str) -> None:
    if name in STUDY_COLUMNS:
        cell.fill = _LOCKED_FILL
        cell.protection = Protection(locked=True)
        cell.alignment = _WRAP if name in _WRAPPED else _TOP
    else:
        cell.protection = _OPEN
        cell.alignment = _WRAP


def _fit_heights(ws: Worksheet, first: int, last: int) -> None:
    """Rows tall enough for their wrapped text (neither Excel nor Calc grows a row written by another program)."""
    header = header_of(ws)
    widths = {column: ws.column_dimensions[get_column_letter(column)].width or 13 for column in header.values()}
    for number in range(first, last + 1):
        lines = 1
        for column, width in widths.items():
            cell = ws.cell(row=number, column=column)
            if isinstance(cell.value, str) and cell.alignment.wrap_text:
                lines = max(lines, -(-len(cell.value) // max(int(width * 1.1) - 1, 1)))
        if lines > 1:
            ws.row_dimensions[number].height = min(lines, 4) * _LINE  # the rest shows in the cell when selected


def _extend_rules(ws: Worksheet, last_row: int) -> None:
    """Dropdowns, checks and marks reach the appended rows (and their spare rows) too; each range keeps its
    top-left cell, so the marks' relative formulas stay right."""
    for validation in ws.data_validations.dataValidation:
        for cell_range in list(validation.sqref.ranges):
            if cell_range.max_row < last_row:
                letter = get_column_letter(cell_range.min_col)
                validation.add(f"{letter}{cell_range.max_row + 1}:{letter}{last_row}")
    marks = list(ws.conditional_formatting)
    if not marks:
        return
    ws.conditional_formatting = ConditionalFormattingList()
    for mark in marks:
        ranges = []
        for cell_range in mark.sqref.ranges:
            if cell_range.max_row < last_row:
                cell_range.expand(down=last_row - cell_range.max_row)
            ranges.append(cell_range.coord)
        for rule in mark.rules:
            ws.conditional_formatting.add(" ".join(ranges), rule)


def _as_shown(row: dict[str, Any], codebook: Codebook) -> dict[str, Any]:
    """A row as the workbook shows it: the key's label, not its code (the dropdown offers labels)."""
    out = dict(row)
    for f in codebook.key_fields:
        if out.get(f.name):
            out[f.name] = f.label_of(str(out[f.name]))
    return out


@dataclass
class SheetOutcome:
    reviewer: str
    path: Path
    rows: int
    appended: int
    dropped: int
    outcome: str
    changes: list[dict[str, str]] = field(default_factory=list)  # cells changed by a codebook upgrade
    upgraded_from: str = ""


# --- codebook upgrades ----------------------------------------------------------------------------------


def _change(path: Path, sheet: str, cell: str, study: str, column: str, old: Any, new: Any, why: str
            ) -> dict[str, str]:
    return {"file": str(path), "sheet": sheet, "cell": cell, "study_id": study, "column": column,
            "old": "" if old is None else str(old), "new": "" if new is None else str(new), "why": why}


def _why(codebook: Codebook, kind: str, name: str) -> str:
    """The declared change behind an upgrade step (its note included), else a plain description."""
    for c in codebook.changes:
        if c.kind == kind and name in (c.field, c.old, f"{c.field}{TICK_SEPARATOR}{c.old}", c.new):
            return c.describe()
    return f"{name} added in version {codebook.version}" if kind == "add_field" else kind


def _recode(value: Any, field: Field, former: Mapping[str, str] | None = None) -> str | None:
    """A cell's text with codes renamed since an older version written as they are now (``None``: as it is).
    ``former`` (folded label -> code, from the workbook's own codebook sheet) reads the labels its dropdown
    offered: a code renamed together with its label is still found; a retired code's old label is written as
    the code, so that it is read as retired (``retired-code``) rather than as an unknown value."""
    if value in (None, "") or not (field.renamed_codes or field.retired_codes):
        return None
    current = {fold(c) for c in (*field.codes, *field.labels)}

    def now(part: str) -> str | None:
        if fold(part) in current:
            return None
        code = field.code_for(part)
        if code is None and former and fold(part) in former:
            old = former[fold(part)]
            code = field.code_for(old)
            if code is None:
                return old if field.retired(old) and old != part else None
        return field.label_of(code) if code else None

    if field.type == "single":
        return now(str(value).strip())
    parts = [p.strip() for p in str(value).replace("\n", ";").split(";") if p.strip()]
    new = [now(p) or p for p in parts]
    return "; ".join(new) if new != parts else None


def _former_labels(workbook: Workbook) -> dict[str, dict[str, str]]:
    """Field -> {folded label: code} as the workbook's codebook sheet gave them (the version it was made with):
    what its dropdowns wrote into the cells."""
    if "codebook" not in workbook.sheetnames:
        return {}
    rows = workbook["codebook"].iter_rows(values_only=True)
    header = [str(h or "") for h in next(rows, ())]
    if not {"field", "code", "choose"} <= set(header):
        return {}
    at = {name: header.index(name) for name in ("field", "code", "choose")}
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        name, code, label = (str(row[at[k]] or "") if at[k] < len(row) else "" for k in ("field", "code", "choose"))
        if name and code and label:
            out.setdefault(name, {})[fold(label.split(f" (type {TICK})")[0])] = code
    return out


def _version_key(version: str) -> tuple[Any, ...]:
    """A codebook version as compared ("1.10" after "1.9"; text parts as text)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in version.split("."))


def _drop_rules(ws: Worksheet, columns: set[int]) -> None:
    """No dropdown, check or mark on ``columns`` any more (a retired field's column keeps only its values)."""
    for validation in list(ws.data_validations.dataValidation):
        kept = [r for r in validation.sqref.ranges if r.min_col not in columns]
        if len(kept) != len(validation.sqref.ranges):
            validation.sqref = MultiCellRange(" ".join(r.coord for r in kept))
            if not kept:
                ws.data_validations.dataValidation.remove(validation)
    marks = list(ws.conditional_formatting)
    ws.conditional_formatting = ConditionalFormattingList()
    for mark in marks:
        ranges = [r.coord for r in mark.sqref.ranges if r.min_col not in columns]
        for rule in mark.rules if ranges else ():
            ws.conditional_formatting.add(" ".join(ranges), rule)


def _add_columns(ws: Worksheet, codebook: Codebook, fields: list[Field], last_row: int, path: Path
                 ) -> list[dict[str, str]]:
    """Columns for fields the workbook lacks, after its last column, with their dropdowns, marks and notes."""
    changes = []
    for f in fields:
        for name in f.tick_columns() or (f.name,):
            column = ws.max_column + 1
            cell = ws.cell(row=1, column=column, value=name)
            cell.font = Font(bold=True)
            cell.alignment = _HEAD
            cell.fill = PatternFill("solid", fgColor=_HEADER_FILL["field"])
            for (row_cell,) in ws.iter_rows(min_row=2, max_row=last_row, min_col=column, max_col=column):
                row_cell.protection = _OPEN
                row_cell.alignment = _TICK if f.type == "multiple" else _WRAP if f.type in ("text", "single") else _TOP
            changes.append(_change(path, ws.title, cell.coordinate, "", name, "", name, _why(codebook, "add_field",
                                                                                              f.name)))
        _field_columns(ws, f, header_of(ws), last_row)
    return changes


def _rules_last_row(ws: Worksheet) -> int:
    """How far down the existing dropdowns reach (the rows the pipeline wrote and their spare rows)."""
    ends = [r.max_row for v in ws.data_validations.dataValidation for r in v.sqref.ranges]
    return max([*ends, last_used_row(ws)])


def _header_changes(codebook: Codebook) -> dict[str, tuple[str, str]]:
    """Each header of an older version -> (its header now, the kind of change): a retired field or code
    column set aside, a renamed field's column (or code column), a renamed code's column."""
    fields = {c.old for c in codebook.changes if c.kind == "rename_field"}
    out = {old: (new, "rename_field" if old.split(TICK_SEPARATOR)[0] in fields else "rename_code")
           for old, new in codebook.renamed_headers().items()}
    out.update((old, (new, "retire_field")) for old, new in codebook.retired_headers().items())
    return out


def upgrade(workbook: Workbook, ws: Worksheet, path: Path, codebook: Codebook, reviewer: str
            ) -> tuple[list[dict[str, str]], str]:
    """Bring a workbook made with an older codebook version to this one: renamed fields' and codes' columns
    take their new names, cells holding a renamed code the new one, a retired field's column is renamed
    aside with its values (and no dropdown), each new field gets its column(s) with dropdown and help; the
    lists, codebook and about sheets are rewritten for this version. Returns the cells changed and the
    version upgraded from ("" when the workbook was already up to date)."""
    was = _about_version(workbook)
    if was and _version_key(was) > _version_key(codebook.version):
        raise WorkbookError(
            f"{path} was made with codebook version {was}, newer than the codebook's {codebook.version}: a codebook "
            "going back a version would drop the columns and codes added since. Restore the codebook of version "
            f"{was} (or newer), or give it a higher version that says under changes: what is retired")
    header = header_of(ws)
    absent = [f for f in codebook.fields if not _represented(f, header)
              and not any(old in header for old, new in codebook.renamed_headers().items()
                          if new in (f.name, *f.tick_columns()))]
    if was == codebook.version and not absent and not set(_header_changes(codebook)) & set(header):
        return [], ""
    changes: list[dict[str, str]] = []
    study_column = header.get("study_id")

    def study_of(number: int) -> str:
        return text(ws.cell(row=number, column=study_column).value) if study_column else ""

    retired_columns = set()
    moved = _header_changes(codebook)
    for name, column in header.items():
        if name not in moved or moved[name][0] in header:
            continue
        new, kind = moved[name]
        cell = ws.cell(row=1, column=column, value=new)
        if kind == "retire_field":
            retired_columns.add(column)
            cell.fill = _LOCKED_FILL
        changes.append(_change(path, ws.title, cell.coordinate, "", new, name, new, _why(codebook, kind, name)))
    _drop_rules(ws, retired_columns)
    header = header_of(ws)
    former = _former_labels(workbook)
    for f in codebook.fields:
        if f.name not in header or not (f.renamed_codes or f.retired_codes):
            continue
        column = header[f.name]
        for number in range(2, ws.max_row + 1):
            target = ws.cell(row=number, column=column)
            recoded = _recode(target.value, f, former.get(f.name))
            if recoded is not None:
                changes.append(_change(path, ws.title, target.coordinate, study_of(number), f.name, target.value,
                                       recoded, "; ".join(c.describe() for c in codebook.changes
                                                      if c.kind in ("rename_code", "retire_code")
                                                      and c.field == f.name)))
                target.value = recoded
    last_row = _rules_last_row(ws)
    changes += _add_columns(ws, codebook, absent, last_row, path)
    for name in ("lists", "codebook", "about"):
        if name in workbook.sheetnames:
            del workbook[name]
    for name in [n for n in workbook.defined_names if n.startswith(("labels_", "codes_"))]:
        del workbook.defined_names[name]
    _lists(workbook, codebook)
    _codebook_sheet(workbook, codebook)
    _about_sheet(workbook, codebook, reviewer, upgraded_from=was)
    return changes, was or "(none recorded)"


def upgrade_file(path: Path, codebook: Codebook, reviewer: str) -> list[dict[str, str]]:
    """Upgrade a workbook in this layout that the pipeline does not otherwise append to (the consensus
    workbook) to the codebook's version; saved (after a backup) only when something changed."""
    workbook = open_for_update(path)
    if workbook is None:
        return []
    ws, _ = sheet_for_update(workbook, path, SHEET, ("study_id",))
    changes, was = upgrade(workbook, ws, path, codebook, reviewer)
    if was:
        save(workbook, path)
    return changes


def _upgrade_csv(path: Path, fieldnames: list[str], rows: list[dict[str, str]], codebook: Codebook
                 ) -> list[dict[str, str]]:
    """The CSV sheet's header and cells brought to the codebook's version, in place (see ``upgrade``)."""
    changes = []
    moved = _header_changes(codebook)
    for k, name in enumerate(list(fieldnames)):
        if name not in moved or moved[name][0] in fieldnames:
            continue
        new, kind = moved[name]
        fieldnames[k] = new
        for row in rows:
            row[new] = row.pop(name, "")
        changes.append(_change(path, "", f"{get_column_letter(k + 1)}1", "", new, name, new, _why(codebook, kind, name)))
    for f in codebook.fields:
        if f.name not in fieldnames:
            fieldnames.append(f.name)
            changes.append(_change(path, "", f"{get_column_letter(len(fieldnames))}1", "", f.name, "", f.name,
                                   _why(codebook, "add_field", f.name)))
            continue
        column = get_column_letter(fieldnames.index(f.name) + 1)
        for number, row in enumerate(rows, start=2):
            recoded = _recode(row.get(f.name), f)
            if recoded is not None:
                # a CSV holds codes, not labels
                code = f.code_for(recoded) or recoded if f.type == "single" else recoded
                changes.append(_change(path, "", f"{column}{number}", row.get("study_id", ""), f.name,
                                       row.get(f.name), code, _why(codebook, "rename_code", f.name)))
                row[f.name] = code
    return changes


def _about_version(workbook: Workbook) -> str:
    if "about" not in workbook.sheetnames:
        return ""
    return next((str(v) for k, v, *_ in workbook["about"].iter_rows(max_col=2, values_only=True)
                 if k == "codebook_version"), "")


def update_xlsx(path: Path, reviewer: str, codebook: Codebook, studies: list[Study], spare_rows: int = 200
                ) -> SheetOutcome:
    workbook = open_for_update(path)
    if workbook is None:
        names = columns(codebook)
        rows = [_as_shown(r, codebook) for s in studies for r in study_rows(s, codebook)]
        workbook = new_workbook(codebook, reviewer, len(rows), spare_rows)
        ws, _ = sheet_for_update(workbook, path, SHEET)
        append_rows(ws, ({n: r[n] for n in names if n in r} for r in rows), _style)  # relocks their study ids
        _fit_heights(ws, 2, len(rows) + 1)
        save(workbook, path)
        return SheetOutcome(reviewer, path, len(rows), len(rows), 0, "created")
    ws, header = sheet_for_update(workbook, path, SHEET, REQUIRED)
    changes, upgraded_from = upgrade(workbook, ws, path, codebook, reviewer)
    header = header_of(ws)
    present: dict[str, list[int]] = {}
    column = header["study_id"]
    for number, (sid,) in enumerate(ws.iter_rows(min_row=2, min_col=column, max_col=column, values_only=True),
                                    start=2):
        if sid not in (None, ""):
            present.setdefault(str(sid), []).append(number)
    wanted = {s.study_id for s in studies}
    new_rows = [_as_shown(r, codebook) for s in studies if s.study_id not in present for r in study_rows(s, codebook)]
    dropped = 0
    changed = bool(new_rows or upgraded_from)
    for sid, row_numbers in present.items():
        status = INCLUDED if sid in wanted else DROPPED
        for number in row_numbers:
            cell = ws.cell(row=number, column=header["status"])
            if cell.value != status:  # the status column is the pipeline's, not a reviewer's
                cell.value = status
                changed = True
            dropped += status == DROPPED
    if new_rows:
        start = append_rows(ws, ({n: r[n] for n in header if n in r} for r in new_rows), _style)
        last = start + len(new_rows) + spare_rows
        _unlock(ws, codebook, start, last, spare_from=start + len(new_rows))
        _fit_heights(ws, start, start + len(new_rows) - 1)
        _extend_rules(ws, last)
    if changed:
        save(workbook, path)
    total = sum(len(v) for v in present.values()) + len(new_rows)
    outcome = f"upgraded from codebook {upgraded_from}" if upgraded_from else "updated" if changed else "unchanged"
    return SheetOutcome(reviewer, path, total, len(new_rows), dropped, outcome, changes, upgraded_from)


def _represented(field: Field, header: Iterable[str]) -> bool:
    """A field has its column, or (multiple choice) its code columns."""
    names = set(header)
    return field.name in names or bool(field.tick_columns() and set(field.tick_columns()) & names)


def update_csv(path: Path, reviewer: str, codebook: Codebook, studies: list[Study]) -> SheetOutcome:
    """The CSV alternative: same fields, same append-only rule (codes typed; validated on reading)."""
    names = csv_columns(codebook)
    existing: list[dict[str, str]] = []
    fieldnames = names
    if path.exists():
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fieldnames = list(reader.fieldnames or names)
            existing = list(reader)
        if "study_id" not in fieldnames or "status" not in fieldnames:
            raise WorkbookError(f"{path} has no study_id or status column; it was left as it is")
    changes = _upgrade_csv(path, fieldnames, existing, codebook) if path.exists() else []
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
    return SheetOutcome(reviewer, path, len(existing) + len(new_rows), len(new_rows), dropped, outcome, changes)


def update(path: Path, reviewer: str, codebook: Codebook, studies: list[Study], spare_rows: int = 200
           ) -> SheetOutcome:
    """Create or refresh one reviewer's sheet, in the format its file name says."""
    if path.suffix == ".csv":
        return update_csv(path, reviewer, codebook, studies)
    return update_xlsx(path, reviewer, codebook, studies, spare_rows)


# --- reading ---------------------------------------------------------------------------------------------


def is_sheet(path: Path) -> bool:
    """Whether ``path`` looks like an extraction sheet (its sheet, or a CSV whose header has a study_id)."""
    try:
        if path.suffix == ".csv":
            with open(path, encoding="utf-8-sig", errors="replace") as handle:
                return "study_id" in handle.readline()
        return SHEET in sheet_names(path)
    except (OSError, WorkbookError):
        return True  # unreadable: it may be one, and is named rather than passed over


def read(path: Path) -> Table:
    """The extraction sheet (xlsx) or file (csv) by header; ``WorkbookError`` without a study_id column."""
    return read_table(path, None if path.suffix == ".csv" else SHEET, required=("study_id",))


def _sources(table: Table, codebook: Codebook) -> list[tuple[str, str]]:
    """(name now, header in this sheet) for each column the reader takes: a sheet not yet upgraded keeps
    the headers of an older codebook version (a renamed field or code), read as their names now."""
    old_for: dict[str, str] = {}
    for old, new in codebook.renamed_headers().items():
        if table.has(old):
            old_for.setdefault(new, old)
    for column, aside in codebook.retired_headers().items():  # ticks under a retired code: reported, not used
        if TICK_SEPARATOR in column:
            old_for[column] = column if table.has(column) else aside
    names = [*read_columns(codebook), *(c for c in codebook.retired_headers() if TICK_SEPARATOR in c)]
    return [(name, name if table.has(name) or name not in old_for else old_for[name]) for name in names]


def records(table: Table, codebook: Codebook) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {column: raw value}) of each row: the study id, accept_suggested and every field's
    column or code columns (a column the sheet lacks reads as ``None``)."""
    sources = _sources(table, codebook)
    for number, raw in table.records([header for _, header in sources]):
        yield number, {name: raw[header] for name, header in sources}


def missing_columns(table: Table, codebook: Codebook) -> list[str]:
    """Columns of the codebook the sheet lacks: a field with neither its column nor its code columns, or
    a code column gone from a field entered by code."""
    shown = {name for name, header in _sources(table, codebook) if table.has(header)}
    missing = []
    for f in codebook.fields:
        ticks = f.tick_columns()
        present = [c for c in ticks if c in shown]
        if f.name not in shown and not present:
            missing.append(f.name)
        elif present:
            missing += [c for c in ticks if c not in shown]
    return missing


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
        return _about_version(workbook)
    finally:
        workbook.close()


def typed_digest(paths: Iterable[tuple[str, Path]], codebook: Codebook) -> str:
    """A digest of what reviewers typed in the sheets (started rows' form cells), not of the rows and
    styles the pipeline writes."""
    names = read_columns(codebook)
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
            if started(raw, codebook):
                parts.append((name, number, text(raw["study_id"]), [raw[n] for n in names]))
    return digest(parts)
