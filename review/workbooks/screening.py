"""``extracts/screening-<reviewer>.xlsx`` (and ``screening-consensus.xlsx``): title/abstract and full-text sheets.

Each stage has a sheet with the study's citation, title and abstract (protected, key terms highlighted)
and the reviewer's ``decision``, ``reason`` and ``notes`` (dropdowns; the reason dropdown shows the labels and a
label or a code reads as the code). Rows are read by header name and
study id; a refresh only appends rows for studies not yet on a sheet.

With prioritisation on, the title/abstract sheet also has ``rank`` and ``score`` (the model's, at the last
refresh) and the rows nobody has typed in are kept sorted by rank: a row with anything typed in any column
the pipeline does not own never moves, and its rank stays the one it showed when it was decided (the
order the stopping test reads). The ``instructions`` sheet says how the rows are ordered and whether it is
safe to stop, rewritten at each refresh.

This module refreshes the workbooks with openpyxl and reads them; their columns, new sheets and row order are
``screening_layout``; a large workbook is refreshed in its XML by ``screening_xml``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ..errors import ERROR, WARNING, Problem
from ..identity import row_is_about
from ..screening import ALLOWED, EXCLUDE, STAGES, TA, Decision, Settings, reason_hint
from .base import (
    Dresser,
    WorkbookError,
    append_rows,
    digest,
    header_of,
    last_used_row,
    neutralise,
    open_for_update,
    save,
    sheet_for_update,
    text,
)
from .reading import duplicate_columns, read_tables
from .screening_layout import (
    GUIDE,
    INPUT_COLUMNS,
    RANK_COLUMNS,
    REQUIRED,
    SHEETS,
    UNLOCKED,
    new_workbook,
    plan,
    style,
)
from .screening_xml import append_in_xml


def workbook_path(folder: Path, reviewer: str) -> Path:
    return folder / f"screening-{reviewer}.xlsx"


def append_studies(path: Path, settings: Settings, wanted: Mapping[str, Iterable[Mapping[str, str]]],
                   ranking: Mapping[str, tuple[int, float]] | None = None, guide: Sequence[str] = ()) -> int:
    """Append rows for studies not yet on each stage's sheet; returns rows appended. Never edits a typed row.

    With a ``ranking`` ({study id: (rank, score)}), the title/abstract sheet's untyped rows are sorted by rank
    (see the module's note); with ``guide`` lines, the instructions sheet is rewritten with them."""
    if ranking and path.exists():
        fast = append_in_xml(path, wanted, ranking, guide)
        if fast is not None:
            return fast
    workbook = open_for_update(path)
    if workbook is None:
        workbook = new_workbook(settings)
    appended, changed = 0, False
    for stage, rows in wanted.items():
        ws, header = sheet_for_update(workbook, path, SHEETS[stage], REQUIRED)
        last = last_used_row(ws)  # one scan of the rows (100,000 in a large review) for both steps
        changed = _open_input_cells(ws, header, last) or changed
        if stage == TA and ranking:
            added, moved = _arrange(ws, header, list(rows), ranking, last)
            appended, changed = appended + added, changed or moved
            continue
        column = header["study_id"]
        present = {text(v) for (v,) in ws.iter_rows(min_row=2, min_col=column, max_col=column, values_only=True)}
        # the reviewer's columns named too, empty: append_rows dresses only the columns a row names, and a
        # cell left locked on the protected sheet cannot be typed in
        new = [dict.fromkeys(INPUT_COLUMNS, "") | dict(r) for r in rows if r["study_id"] not in present]
        if new:
            append_rows(ws, new, style)
        appended += len(new)
    if guide:
        changed = _write_guide(workbook, guide) or changed
    if appended or changed or not path.exists():
        save(workbook, path)
    return appended


def _open_input_cells(ws: Any, header: dict[str, int], last: int) -> bool:
    """Unlock the reviewer's cells of every row when the last row's are locked: rows appended before version
    0.3.0 left them locked on the protected sheet, so nobody could type a decision there. Checked on the last
    row only, so a repaired sheet costs nothing the next time."""
    columns = [header[name] for name in INPUT_COLUMNS if name in header]
    if last < 2 or not any(ws.cell(row=last, column=c).protection.locked for c in columns):
        return False
    for number in range(2, last + 1):
        for column in columns:
            ws.cell(row=number, column=column).protection = UNLOCKED
    return True


def _rank_columns(ws: Any, header: dict[str, int]) -> tuple[dict[str, int], bool]:
    """The header with ``rank`` and ``score``, added at its end to a sheet from before prioritisation."""
    missing = [name for name in RANK_COLUMNS if name not in header]
    for name in missing:
        cell = ws.cell(row=1, column=max(header.values()) + 1, value=name)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="D9D9D9")
        header = header_of(ws)
    return header, bool(missing)


def _arrange(ws: Any, header: dict[str, int], rows: list[Mapping[str, str]],
             ranking: Mapping[str, tuple[int, float]], last: int) -> tuple[int, bool]:
    """``plan`` applied to a sheet opened with openpyxl; returns (rows added, whether a cell changed)."""
    header, changed = _rank_columns(ws, header)
    scanned = ((number, dict(enumerate(values, start=1)))
               for number, values in enumerate(ws.iter_rows(min_row=2, max_row=last, values_only=True), start=2))
    arrangement = plan(scanned, header, rows, ranking, last)
    for number, values in arrangement.values.items():
        for name, value in values.items():
            cell = ws.cell(row=number, column=header[name])
            if cell.value != value:
                cell.value, changed = value, True
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
    dress = Dresser(style)
    for number in arrangement.new_rows:  # new rows dressed as the others: the reviewer's cells open, the study's
        for name, column in header.items():  # locked (the sheet's slots keep their style)
            dress(ws.cell(row=number, column=column), name)
    return arrangement.added, changed


def _write_guide(workbook: Workbook, lines: Sequence[str]) -> bool:
    """The instructions sheet holds ``lines`` (one a row); returns whether it changed."""
    if GUIDE in workbook.sheetnames:
        ws = workbook[GUIDE]
        if [text(v) for (v,) in ws.iter_rows(min_col=1, max_col=1, values_only=True)] == [neutralise(x) for x in lines]:
            return False
        workbook.remove(ws)
    ws = workbook.create_sheet(GUIDE)
    for line in lines:
        ws.append([neutralise(line)])
    ws.column_dimensions["A"].width = 120
    ws["A1"].font = Font(bold=True)
    return True


def _problem(path: Path, sheet: str, number: int, study: str, code: str, column: str, value: str, expected: str,
             hint: str = "", severity: str = ERROR) -> Problem:
    return Problem(code=code, severity=severity, file=str(path), sheet=sheet, row=str(number), column=column,
                   value=value, expected=expected, hint=hint or "the decision was not used", record_id=study)


# problems whose row holds a decision that does not count (a reviewer's typed work, all the same)
HELD_BACK = frozenset({"not-a-decision", "missing-reason", "unknown-reason", "study-id-mismatch"})


def read_decisions(path: Path, reviewer: str, settings: Settings, known: set[str],
                   titles: Mapping[str, Sequence[str]] | None = None) -> tuple[list[Decision], list[Problem]]:
    """A reviewer's decisions (``[]`` if the workbook does not exist) and a problem row per unusable cell.
    With ``titles`` (study -> the titles of its records), a row whose study id was overtyped with another study's (the title it
    shows is not that study's) is held back, never moved to the other study.

    ``WorkbookError`` if a stage's sheet or its study_id, decision or reason column is missing."""
    decisions: list[Decision] = []
    problems: list[Problem] = []
    if not path.exists():
        return decisions, problems
    tables = read_tables(path, [SHEETS[stage] for stage in STAGES], REQUIRED)
    for stage in STAGES:
        table = tables[SHEETS[stage]]
        problems += duplicate_columns(table)
        for number, row in table.records((*REQUIRED, "rank", "title")):
            study, raw = text(row["study_id"]), text(row["decision"]).lower()
            if not study or not raw:
                continue
            reason = settings.reason_code(text(row["reason"]))
            where = (path, table.sheet, number, study)
            if raw not in ALLOWED[stage]:
                problems.append(_problem(*where, "not-a-decision", "decision", raw, " or ".join(ALLOWED[stage])))
            elif raw == EXCLUDE and not reason:
                problems.append(_problem(*where, "missing-reason", "reason", "",
                                         "an exclusion reason code: " + ", ".join(settings.reasons)))
            elif raw == EXCLUDE and settings.reasons and reason not in settings.reasons:
                problems.append(_problem(*where, "unknown-reason", "reason", reason, ", ".join(settings.reasons),
                                         reason_hint(reason, settings)))
            elif study not in known:
                problems.append(_problem(*where, "unknown-study", "study_id", study,
                                         "a study id of the current unique records",
                                         "the decision applies to no current study", WARNING))
            elif titles is not None and not row_is_about(text(row["title"]), titles.get(study, ())):
                problems.append(_problem(*where, "study-id-mismatch", "study_id", study,
                                         f"the id of the study titled {text(row['title'])[:80]!r}",
                                         f"the row shows another study's title than {study}'s "
                                         f"({(titles.get(study) or [''])[0][:80]!r}): its study id was overtyped? The "
                                         "decision is held back, not given to the other study: write the row's "
                                         "own study id back"))
            else:
                rank = row["rank"] if isinstance(row["rank"], int) and not isinstance(row["rank"], bool) else None
                decisions.append(Decision(study, stage, raw, reason if raw == EXCLUDE else "", reviewer,
                                          f"{path} row {number}", rank))
    return decisions, problems


def typed_digest(paths: Iterable[tuple[str, Path]]) -> str:
    """A digest of the decisions typed in the screening workbooks (not of rows the pipeline appends)."""
    parts: list[Any] = []
    for reviewer, path in paths:
        if not path.exists():
            continue
        try:
            tables = read_tables(path, [SHEETS[stage] for stage in STAGES])
        except WorkbookError as exc:
            parts.append((reviewer, "unreadable", str(exc)))
            continue
        for stage in STAGES:
            for _, row in tables[SHEETS[stage]].records(REQUIRED):
                picked = [text(row[name]) for name in REQUIRED]
                if picked[1] or picked[2]:
                    parts.append((reviewer, stage, picked))
    return digest(parts)
