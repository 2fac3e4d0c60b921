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
"""

from __future__ import annotations

import math
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import ERROR, WARNING, Problem
from ..identity import row_is_about
from ..screening import ALLOWED, EXCLUDE, FT, STAGES, TA, Decision, Settings, reason_hint
from . import xlsxml
from .base import (
    Dresser,
    WorkbookError,
    append_rows,
    digest,
    duplicate_columns,
    header_of,
    last_used_row,
    lock_files,
    neutralise,
    open_for_update,
    read_tables,
    save,
    save_bytes,
    sheet_for_update,
    text,
)

SHEETS = {TA: "title-abstract", FT: "full-text"}
STUDY_COLUMNS = ["study_id", "citation", "year", "title", "abstract", "container"]
INPUT_COLUMNS = ["decision", "reason", "notes"]
RANK_COLUMNS = ["rank", "score"]  # the pipeline's, on the title/abstract sheet when prioritisation is on
OWNED = frozenset(STUDY_COLUMNS + RANK_COLUMNS)  # a row with a value in any other column has been typed in
GUIDE = "instructions"
REQUIRED = ("study_id", "decision", "reason")
LAST_ROW = 1048576  # dropdowns and highlighting reach every row a sheet can have
WIDTHS = {"title": 60, "abstract": 90, "notes": 30, "study_id": 20, "citation": 22}


def workbook_path(folder: Path, reviewer: str) -> Path:
    return folder / f"screening-{reviewer}.xlsx"


def _new_workbook(settings: Settings) -> Workbook:
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
_LOCKED, _OPEN = Protection(locked=True), Protection(locked=False)
_WRAP, _TOP = Alignment(wrap_text=True, vertical="top"), Alignment(wrap_text=False, vertical="top")


def _style(cell: Any, name: str) -> None:
    locked = name in OWNED
    cell.protection = _LOCKED if locked else _OPEN
    if locked:
        cell.alignment = _WRAP if name in ("title", "abstract") else _TOP


def append_studies(path: Path, settings: Settings, wanted: Mapping[str, Iterable[Mapping[str, str]]],
                   ranking: Mapping[str, tuple[int, float]] | None = None, guide: Sequence[str] = ()) -> int:
    """Append rows for studies not yet on each stage's sheet; returns rows appended. Never edits a typed row.

    With a ``ranking`` ({study id: (rank, score)}), the title/abstract sheet's untyped rows are sorted by rank
    (see the module's note); with ``guide`` lines, the instructions sheet is rewritten with them."""
    if ranking and path.exists():
        fast = _append_in_xml(path, wanted, ranking, guide)
        if fast is not None:
            return fast
    workbook = open_for_update(path)
    if workbook is None:
        workbook = _new_workbook(settings)
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
            append_rows(ws, new, _style)
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
            ws.cell(row=number, column=column).protection = _OPEN
    return True


def _rank_columns(ws: Any, header: dict[str, int]) -> tuple[dict[str, int], bool]:
    """The header with ``rank`` and ``score``, added at its end to a sheet from before prioritisation."""
    missing = [name for name in RANK_COLUMNS if name not in header]
    for name in missing:
        cell = ws.cell(row=1, column=max(header.values()) + 1, value=name)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="D9D9D9")
        header = header_of(ws)
    return header, bool(missing)


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
    dress = Dresser(_style)
    for number in arrangement.new_rows:  # new rows dressed as the others: the reviewer's cells open, the study's
        for name, column in header.items():  # locked (the sheet's slots keep their style)
            dress(ws.cell(row=number, column=column), name)
    return arrangement.added, changed


def _mode(values: Iterable[int | None]) -> int | None:
    counts = Counter(v for v in values if v is not None)
    return max(sorted(counts), key=counts.__getitem__) if counts else None


def _append_in_xml(path: Path, wanted: Mapping[str, Iterable[Mapping[str, str]]],
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
    """One stage's sheet in ``_append_in_xml``: the rows appended, or ``None`` to leave it all to openpyxl."""
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
        return None  # locked input cells to open (_open_input_cells)
    owned = {header[name] for name in OWNED if name in header}
    untyped = [n for n, values in scanned.items() if not any(v not in (None, "") for k, v in values.items()
                                                             if k not in owned)]
    for name, column in header.items():  # the style most of the last untyped rows of a column have: what
        found = _mode(ws.style(n, column) for n in untyped[-500:])  # _style gave them (a highlight is rare)
        if found is not None:
            styles.setdefault(name, found)
    for name in added:  # dressed as _style dresses them: locked and top-aligned, as a study id
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
    """``_rank_columns`` in a sheet's XML: the rank columns a sheet from before prioritisation lacks, added
    to ``header`` and the sheet at the header's end, their header cells styled as the study id's (bold on
    grey, as ``_rank_columns`` dresses them). Returns the names added; ``None`` (openpyxl's path, which
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
    """``plan`` applied to a sheet's XML, as ``_arrange`` applies it with openpyxl."""
    dressed = {name: styles.get(name if name in OWNED else "decision") for name in header}
    if arrangement.new_rows and None in dressed.values():
        return None
    for number, values in arrangement.values.items():
        for name, value in values.items():
            ws.set(number, header[name], value)
    for number in arrangement.new_rows:  # dressed as _style dresses them: the same styles as the rows above
        for name, column in header.items():
            ws.set(number, column, ws.row_values(number).get(column), dressed[name])
    return arrangement.added


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
