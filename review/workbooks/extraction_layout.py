"""The extraction sheet's layout: its columns, styles, dropdowns, checks and marks, and its codebook, lists and
about sheets (``new_workbook``), shared by the refresh (``review.workbooks.extraction``) and the codebook upgrades
(``review.workbooks.extraction_upgrade``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..codebook import FALSE_WORDS, TRUE_WORDS, Codebook, Field
from ..extraction import ACCEPT, NOTES, STUDY_COLUMNS
from .base import (
    header_of,
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


HEADER_FILL = {"study": "D9D9D9", "key": "FFF2CC", "field": "E2EFDA", "code": "EEF6E9", "reviewer": "DDEBF7"}
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_WIDTHS = {"study_id": 16, "citation": 18, "title": 40, "year": 6, "doi": 18, "status": 11, "suggested": 42,
           ACCEPT: 10, NOTES: 40}
_WRAPPED = {"title", "suggested", NOTES}
TOP_ALIGN = Alignment(vertical="top")
WRAP_ALIGN = Alignment(vertical="top", wrap_text=True)
HEAD_ALIGN = Alignment(vertical="bottom", wrap_text=True)
TICK_ALIGN = Alignment(vertical="top", horizontal="center")
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


def note(text_: str) -> Comment:
    """A header note sized to its text, so that nothing is cut off."""
    lines = sum(max(1, -(-len(line) // 48)) for line in text_.splitlines() or [""])
    return Comment(text_[:2000], "codebook", height=min(22 * lines + 20, 400), width=330)


def name_lists(wb: Workbook, codebook: Codebook) -> None:
    """A hidden sheet holding each single choice field's labels (the dropdown) and codes (also accepted),
    named ``labels_<field>`` and ``codes_<field>`` so that dropdowns and marks refer to them by name."""
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    renamed = codebook.renamed_headers()
    column = 0
    for f in codebook.all_fields:  # a repeat's dropdowns too (its sheet is in the same workbook)
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
    name_lists(wb, codebook)
    keys = {f.name for f in codebook.key_fields}
    for name, k in header.items():
        cell = ws.cell(row=1, column=k)
        cell.font = Font(bold=True)
        cell.alignment = HEAD_ALIGN
        kind = ("study" if name in STUDY_COLUMNS else "key" if name in keys else "reviewer"
                if name in (ACCEPT, NOTES) else "field")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL[kind])
        ws.column_dimensions[get_column_letter(k)].width = _WIDTHS.get(name, 14)
    for f in codebook.fields:
        field_columns(ws, f, header, last_row)
    _guard(ws, DataValidation(type="list", formula1='"yes"', allow_blank=True, showErrorMessage=True,
                              errorStyle="stop", errorTitle="accept_suggested", promptTitle="accept_suggested",
                              showInputMessage=True,
                              error="Choose yes, or leave it blank.",
                              prompt="yes: take the suggested values (the suggested column) for every field you "
                                     "leave blank in this row; what you type always wins."),
           f"AND(LEN(TRIM({{c}}))>0,NOT({_words('{c}', TRUE_WORDS | FALSE_WORDS)}))",
           header[ACCEPT], header[ACCEPT], last_row)
    ws.cell(row=1, column=header[ACCEPT]).comment = note(
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
    unlock(ws, codebook, 2, last_row, spare_from=2)  # data rows' study ids are locked again as rows are written
    codebook_sheet(wb, codebook)
    about_sheet(wb, codebook, reviewer)
    return wb


def field_columns(ws: Worksheet, field: Field, header: dict[str, int], last_row: int) -> None:
    """A field's column(s): width, header note, dropdown or check, mark; code columns grouped and turned."""
    validation, mark = _rules(field)
    if field.type == "multiple" and field.tick_columns()[0] in header:
        numbers = [header[c] for c in field.tick_columns()]
        for choice, number in zip(field.choices, numbers, strict=True):
            cell = ws.cell(row=1, column=number)
            cell.alignment = _TURNED
            cell.font = Font(bold=False, size=8)
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL["code"])
            cell.comment = note("\n".join(line for line in (f"{field.label}: {choice.label}", choice.definition,
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
    cell.comment = note(f"{field.label}\n{field.help}".strip())
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


OPEN = Protection(locked=False)


def unlock(ws: Worksheet, codebook: Codebook, first: int, last: int, spare_from: int) -> None:
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
        alignment = WRAP_ALIGN if name in wrapped else TICK_ALIGN if name in ticks else TOP_ALIGN
        for (cell,) in ws.iter_rows(min_row=top, max_row=last, min_col=column, max_col=column):
            cell.protection = OPEN
            cell.alignment = alignment


# a spare row's study id is the reviewer's to fill: a second tier of a study, checked against the included studies
SPARE_COLUMNS = ("study_id",)


def codebook_sheet(wb: Workbook, codebook: Codebook) -> None:
    """Every field and code with its label, definition and help, and the column where it is entered."""
    sheet = wb.create_sheet("codebook")
    sheet.append(["group", "field", "label", "type", "required", "enter in column", "code", "choose",
                  "definition", "help"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for f in codebook.all_fields:
        required = "yes" if f.required else ""
        where = f"{f.repeat} sheet: " if f.repeat else ""  # a repeat's field is entered on its own sheet
        if f.choices:
            for choice, column in zip(f.choices, [where + c for c in f.tick_columns()] or [where + f.name] * len(f.choices),
                                      strict=True):
                entry = f"{choice.label} (type {TICK})" if f.type == "multiple" else choice.label
                sheet.append([f.group, f.name, f.label, f.type, required, column, choice.code, entry,
                              choice.definition, f.help])
        else:
            sheet.append([f.group, f.name, f.label, f.type, required, where + f.name, "", "", f.describe_allowed(),
                          f.help])
    widths = (16, 18, 20, 8, 8, 26, 20, 26, 44, 40)
    for k, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP_ALIGN
    fit_heights(sheet, 2, sheet.max_row)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{sheet.max_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # every column on the page's width, as many pages down
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = "1:1"


def about_sheet(wb: Workbook, codebook: Codebook, reviewer: str, upgraded_from: str = "") -> None:
    about = wb.create_sheet("about")
    how_to = (
        "Grey columns come from the references and are protected. Choose values from the dropdowns: they show "
        "labels, and the codebook sheet defines each one. A field with several answers (themes, functions) has "
        f"one narrow column per code, grouped under the field (click + or - above the columns to show or hide "
        f"them): type {TICK} in each that applies. A value the sheet cannot accept turns red. To take the "
        "codebook's suggestion for a row's tier, choose yes in accept_suggested: it fills the fields you leave "
        "blank, and what you type always wins. To add another tier of a study, write its study id and choose "
        "the tier in a spare row below the studies." + "".join(
            f" The {r.name} sheet holds {r.label}: one row each, several per study and tier if need be (another one goes "
            "in a spare row below, with its study id and tier), each with its own values." for r in codebook.repeats))
    for row in (["reviewer", reviewer], ["codebook", codebook.title], ["codebook_version", codebook.version],
                ["row unit", codebook.row_unit], ["how to", how_to]):
        about.append(row)
    if upgraded_from:
        about.append(["upgraded_from", upgraded_from])
        about.append(["changes", "; ".join(c.describe() for c in codebook.changes) or "(none declared)"])
        about["B7"].alignment = WRAP_ALIGN
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    about["B5"].alignment = WRAP_ALIGN


def style_cell(cell: Any, name: str) -> None:
    if name in STUDY_COLUMNS:
        cell.fill = LOCKED_FILL
        cell.protection = Protection(locked=True)
        cell.alignment = WRAP_ALIGN if name in _WRAPPED else TOP_ALIGN
    else:
        cell.protection = OPEN
        cell.alignment = WRAP_ALIGN


def fit_heights(ws: Worksheet, first: int, last: int) -> None:
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


def extend_rules(ws: Worksheet, last_row: int) -> None:
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

def represented(field: Field, header: Iterable[str]) -> bool:
    """A field has its column, or (multiple choice) its code columns."""
    names = set(header)
    return field.name in names or bool(field.tick_columns() and set(field.tick_columns()) & names)
