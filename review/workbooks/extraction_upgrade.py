"""Codebook upgrades of the extraction sheets: renamed fields and codes (found by code, or by the label the
workbook's own dropdown offered), retired ones set aside, new fields added; every changed cell logged."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from ..codebook import TICK_SEPARATOR, Codebook, Field, fold
from . import extraction_repeats as repeats
from .base import (
    WorkbookError,
    header_of,
    last_used_row,
    open_for_update,
    save,
    sheet_for_update,
    text,
)
from .extraction_layout import (
    HEAD_ALIGN,
    HEADER_FILL,
    LOCKED_FILL,
    OPEN,
    SHEET,
    TICK,
    TICK_ALIGN,
    TOP_ALIGN,
    WRAP_ALIGN,
    about_sheet,
    codebook_sheet,
    field_columns,
    name_lists,
    represented,
)


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
            cell.alignment = HEAD_ALIGN
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL["field"])
            for (row_cell,) in ws.iter_rows(min_row=2, max_row=last_row, min_col=column, max_col=column):
                row_cell.protection = OPEN
                row_cell.alignment = TICK_ALIGN if f.type == "multiple" else WRAP_ALIGN if f.type in ("text", "single") else TOP_ALIGN
            changes.append(_change(path, ws.title, cell.coordinate, "", name, "", name, _why(codebook, "add_field",
                                                                                              f.name)))
        field_columns(ws, f, header_of(ws), last_row)
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


def _absent(ws: Worksheet, form: Codebook) -> list[Field]:
    """The form's fields a sheet has no column for (under its name now or an older one)."""
    header = header_of(ws)
    return [f for f in form.fields if not represented(f, header)
            and not any(old in header for old, new in form.renamed_headers().items() if new in (f.name, *f.tick_columns()))]


def _up_to_date(workbook: Workbook, ws: Worksheet, codebook: Codebook) -> bool:
    header = set(header_of(ws))
    sheets = [(workbook[r.name], codebook.repeat_form(r)) for r in codebook.repeats if r.name in workbook.sheetnames]
    return (about_version(workbook) == codebook.version and len(sheets) == len(codebook.repeats)
            and not _absent(ws, codebook) and not (set(_header_changes(codebook)) | set(codebook.moved_headers())) & header
            and not any(_absent(sheet, form) or set(_header_changes(form)) & set(header_of(sheet))
                        for sheet, form in sheets))


def upgrade(workbook: Workbook, ws: Worksheet, path: Path, codebook: Codebook, reviewer: str
            ) -> tuple[list[dict[str, str]], str]:
    """Bring a workbook made with an older codebook version to this one: renamed fields' and codes' columns
    take their new names, cells holding a renamed code the new one, a retired field's column is renamed
    aside with its values (and no dropdown), each new field gets its column(s) with dropdown and help, a repeat's
    sheet is added and the values of fields moved into it copied there; the same on every repeat's sheet; the
    lists, codebook and about sheets are rewritten for this version. Returns the cells changed and the
    version upgraded from ("" when the workbook was already up to date)."""
    was = about_version(workbook)
    if was and _version_key(was) > _version_key(codebook.version):
        raise WorkbookError(
            f"{path} was made with codebook version {was}, newer than the codebook's {codebook.version}: a codebook "
            "going back a version would drop the columns and codes added since. Restore the codebook of version "
            f"{was} (or newer), or give it a higher version that says under changes: what is retired")
    if _up_to_date(workbook, ws, codebook):
        return [], ""
    changes: list[dict[str, str]] = []
    # a repeat's sheet first, so that the values of fields moved into it are copied there before their columns
    # on this sheet are set aside
    repeats.ensure(workbook, codebook, _rules_last_row(ws))
    changes += repeats.move_values(workbook, ws, codebook, path)
    aside = repeats.set_aside(ws, codebook)
    for column in sorted(aside):
        cell = ws.cell(row=1, column=column)
        name = text(cell.value).split(" (moved to ")[0]
        changes.append(_change(path, ws.title, cell.coordinate, "", text(cell.value), name, text(cell.value),
                               _why(codebook, "move_field", name.split(TICK_SEPARATOR)[0])))
    _drop_rules(ws, aside)
    former = _former_labels(workbook)
    changes += _upgrade_sheet(ws, path, codebook, former)
    for repeat in codebook.repeats:
        changes += _upgrade_sheet(workbook[repeat.name], path, codebook.repeat_form(repeat), former)
    for name in ("lists", "codebook", "about"):
        if name in workbook.sheetnames:
            del workbook[name]
    for name in [n for n in workbook.defined_names if n.startswith(("labels_", "codes_"))]:
        del workbook.defined_names[name]
    name_lists(workbook, codebook)
    codebook_sheet(workbook, codebook)
    about_sheet(workbook, codebook, reviewer, upgraded_from=was)
    return changes, was or "(none recorded)"


def _upgrade_sheet(ws: Worksheet, path: Path, form: Codebook, former: Mapping[str, Mapping[str, str]]
                   ) -> list[dict[str, str]]:
    """One sheet (the extraction sheet, or a repeat's) brought to the form: renamed and retired columns, renamed
    codes in the cells, new fields' columns."""
    header = header_of(ws)
    absent = _absent(ws, form)
    changes: list[dict[str, str]] = []
    study_column = header.get("study_id")

    def study_of(number: int) -> str:
        return text(ws.cell(row=number, column=study_column).value) if study_column else ""

    retired_columns = set()
    moved = _header_changes(form)
    for name, column in header.items():
        if name not in moved or moved[name][0] in header:
            continue
        new, kind = moved[name]
        cell = ws.cell(row=1, column=column, value=new)
        if kind == "retire_field":
            retired_columns.add(column)
            cell.fill = LOCKED_FILL
        changes.append(_change(path, ws.title, cell.coordinate, "", new, name, new, _why(form, kind, name)))
    _drop_rules(ws, retired_columns)
    header = header_of(ws)
    for f in form.fields:
        if f.name not in header or not (f.renamed_codes or f.retired_codes):
            continue
        column = header[f.name]
        for number in range(2, ws.max_row + 1):
            target = ws.cell(row=number, column=column)
            recoded = _recode(target.value, f, former.get(f.name))
            if recoded is not None:
                changes.append(_change(path, ws.title, target.coordinate, study_of(number), f.name, target.value,
                                       recoded, "; ".join(c.describe() for c in form.changes
                                                      if c.kind in ("rename_code", "retire_code")
                                                      and c.field == f.name)))
                target.value = recoded
    return changes + _add_columns(ws, form, absent, _rules_last_row(ws), path)


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


def upgrade_csv(path: Path, fieldnames: list[str], rows: list[dict[str, str]], codebook: Codebook
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


def about_version(workbook: Workbook) -> str:
    if "about" not in workbook.sheetnames:
        return ""
    return next((str(v) for k, v, *_ in workbook["about"].iter_rows(max_col=2, values_only=True)
                 if k == "codebook_version"), "")

