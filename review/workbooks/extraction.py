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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..codebook import TICK_SEPARATOR, Codebook
from ..extraction import DROPPED, INCLUDED, Study, started, study_rows
from . import extraction_repeats as repeats
from .base import (
    WorkbookError,
    append_rows,
    digest,
    header_of,
    neutralise,
    open_for_update,
    open_read_only,
    refresh_locked,
    save,
    save_bytes,
    sheet_for_update,
    text,
)
from .extraction_layout import (
    REQUIRED,
    SHEET,
    columns,
    csv_columns,
    extend_rules,
    fit_heights,
    new_workbook,
    read_columns,
    style_cell,
    unlock,
)
from .extraction_layout import (
    sheet_path as sheet_path,  # where a reviewer's sheet is, for the stages
)
from .extraction_upgrade import about_version, upgrade, upgrade_csv
from .extraction_upgrade import upgrade_file as upgrade_file  # the consensus workbook's upgrade, for the stages
from .reading import Table, read_table, sheet_names


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


def update_xlsx(path: Path, reviewer: str, codebook: Codebook, studies: list[Study], spare_rows: int = 200
                ) -> SheetOutcome:
    workbook = open_for_update(path)
    if workbook is None:
        names = columns(codebook)
        rows = [_as_shown(r, codebook) for s in studies for r in study_rows(s, codebook)]
        workbook = new_workbook(codebook, reviewer, len(rows), spare_rows)
        ws, _ = sheet_for_update(workbook, path, SHEET)
        append_rows(ws, ({n: r[n] for n in names if n in r} for r in rows), style_cell)  # relocks their study ids
        fit_heights(ws, 2, len(rows) + 1)
        for sheet in repeats.ensure(workbook, codebook, len(rows) + spare_rows + 1):
            repeats.append_studies(sheet, codebook, studies, spare_rows)
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
        start = append_rows(ws, ({n: r[n] for n in header if n in r} for r in new_rows), style_cell)
        last = start + len(new_rows) + spare_rows
        unlock(ws, codebook, start, last, spare_from=start + len(new_rows))
        fit_heights(ws, start, start + len(new_rows) - 1)
        extend_rules(ws, last)
    cite = {s.study_id: s.citation for s in studies}
    for repeat in codebook.repeats:  # a new study's first item row on each repeat's sheet
        changed |= repeats.append_studies(workbook[repeat.name], codebook, studies, spare_rows) > 0
        changed |= refresh_locked(workbook[repeat.name], "citation", cite)
    changed |= refresh_locked(ws, "citation", cite)
    if changed:
        save(workbook, path)
    total = sum(len(v) for v in present.values()) + len(new_rows)
    outcome = f"upgraded from codebook {upgraded_from}" if upgraded_from else "updated" if changed else "unchanged"
    return SheetOutcome(reviewer, path, total, len(new_rows), dropped, outcome, changes, upgraded_from)




def update_csv(path: Path, reviewer: str, codebook: Codebook, studies: list[Study]) -> SheetOutcome:
    """The CSV alternative: same fields, same append-only rule (codes typed; validated on reading)."""
    if codebook.repeats:  # one file per reviewer has no room for a second table: said, not silently left out
        raise WorkbookError(f"{path}: the codebook declares repeatable sub-records "
                            f"({', '.join(r.name for r in codebook.repeats)}), which need a workbook with a sheet for "
                            "each: set extraction.format to xlsx")
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
    changes = upgrade_csv(path, fieldnames, existing, codebook) if path.exists() else []
    present = {r["study_id"] for r in existing}
    wanted = {s.study_id for s in studies}
    new_rows = [r for s in studies if s.study_id not in present for r in study_rows(s, codebook)]
    dropped = 0
    cite = {s.study_id: s.citation for s in studies}
    for row in existing:  # the pipeline's columns: the study's status and its citation as the report gives it
        row["status"] = INCLUDED if row["study_id"] in wanted else DROPPED
        if "citation" in row and row["study_id"] in cite:
            row["citation"] = neutralise(cite[row["study_id"]])
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
        return about_version(workbook)
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
        for repeat in codebook.repeats:  # a lesson typed on its own sheet reruns the evidence stage too
            form = codebook.repeat_form(repeat)
            try:
                items = repeats.read(path, repeat)
            except WorkbookError as exc:
                parts.append((name, repeat.name, "unreadable", str(exc)))
                continue
            columns = read_columns(form)
            for number, raw in records(items, form):
                if started(raw, form):
                    parts.append((name, repeat.name, number, text(raw["study_id"]), [raw[n] for n in columns]))
    return digest(parts)
