"""Stage 3: extraction sheets, one workbook per reviewer (``extracts/<reviewer>.xlsx``).

One row per included study x tier (tiers suggested from the study's tags, e.g. ``tier-sha``);
bibliographic columns pre-filled and protected; codebook columns with dropdowns (single choice, yes/no),
number checks, and input messages carrying the definitions; a ``codebook`` sheet lists every code.
A refresh only appends rows for new studies and marks studies that dropped out in ``status``; it never
changes a cell a reviewer typed (``review.workbook`` backs up and writes atomically). CSV sheets are
the alternative for teams without Excel.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from .codebook import MULTI_SEPARATOR, Codebook, Field
from .errors import ReviewError
from .fileio import atomic_write_bytes, write_csv
from .workbook import WorkbookBusy, neutralise, open_for_update, save

log = logging.getLogger(__name__)

SHEET = "extraction"
STUDY_COLUMNS = ["study_id", "citation", "title", "year", "doi", "status", "suggested"]
NOTES = "notes"
INCLUDED, DROPPED = "included", "no longer included"
SUMMARY_COLUMNS = ["reviewer", "file", "rows", "appended", "dropped", "codebook_version", "outcome"]


@dataclass(frozen=True)
class Study:
    study_id: str
    citation: str
    title: str
    year: str
    doi: str
    tags: tuple[str, ...]


def citation(authors: str, year: str) -> str:
    """``Lorne et al. 2019`` from a ``; ``-joined author list (first author's family name)."""
    names = [a for a in (authors or "").split("; ") if a]
    if not names:
        return year or "n.d."
    first = names[0].split(",")[0].strip()
    rest = "" if len(names) == 1 else f" and {names[1].split(',')[0].strip()}" if len(names) == 2 else " et al."
    return f"{first}{rest} {year or 'n.d.'}"


def studies_from(unique_records: Path, included: Path | None = None) -> list[Study]:
    """Included studies: the unique records that screening included after full text (all of them when
    screening is switched off)."""
    table = pd.read_csv(unique_records, dtype=str, keep_default_na=False)
    if included is not None:
        keep = set(pd.read_csv(included, dtype=str, keep_default_na=False)["study_id"])
        table = table[table["group"].isin(keep)]
    out = [Study(study_id=row["group"], citation=citation(row["authors"], row["year"]), title=row["title"],
                 year=row["year"], doi=row["doi"] or row["url"], tags=tuple(t for t in row["tags"].split("; ") if t))
           for row in table.to_dict("records")]
    return sorted(out, key=lambda s: s.study_id)


def suggested_tiers(study: Study, key: Field) -> list[str]:
    """Key codes (tiers) whose tags the study carries, in codebook order."""
    tags = {t.lower() for t in study.tags}
    return [c.code for c in key.choices if tags.intersection(t.lower() for t in c.tags)]


def suggestion(key: Field, code: str) -> str:
    """The codebook's defaults for a key code, as text for the ``suggested`` column."""
    for choice in key.choices:
        if choice.code == code and choice.defaults:
            parts = []
            for name, value in choice.defaults.items():
                shown = MULTI_SEPARATOR.join(value) if isinstance(value, list) else str(value)
                parts.append(f"{name}={shown}")
            return " | ".join(parts)
    return ""


def study_rows(study: Study, codebook: Codebook) -> list[dict[str, str]]:
    """The rows a new study gets: one per suggested key value (tier), or one with the key left empty."""
    key = codebook.key_fields[0] if codebook.key_fields else None
    base = {"study_id": study.study_id, "citation": study.citation, "title": study.title, "year": study.year,
            "doi": study.doi, "status": INCLUDED}
    if key is None:
        return [base]
    codes = suggested_tiers(study, key) or [""]
    return [{**base, key.name: code, "suggested": suggestion(key, code)} for code in codes]


def columns(codebook: Codebook) -> list[str]:
    return [*STUDY_COLUMNS, *codebook.names, NOTES]


# --- xlsx ------------------------------------------------------------------------------------------

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


def _new_workbook(codebook: Codebook, reviewer: str, n_rows: int, spare_rows: int) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
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
    ws.freeze_panes = ws.cell(row=2, column=len(STUDY_COLUMNS) + 1)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}1"
    ws.protection.sheet = True
    # reviewers may add rows (a second tier of a study), sort, filter and resize; not edit study columns
    for option in ("insertRows", "formatColumns", "formatRows", "sort", "autoFilter", "formatCells"):
        setattr(ws.protection, option, False)
    _unlock(ws, codebook, 2, last_row)
    _codebook_sheet(wb, codebook)
    about = wb.create_sheet("about")
    for row in (["reviewer", reviewer], ["codebook", codebook.title], ["codebook_version", codebook.version],
                ["row unit", codebook.row_unit],
                ["how to", "Fill the green columns; grey ones come from the references and are protected. "
                           "Copy a row to add another tier of a study. Multiple choices: codes separated by ';'."]):
        about.append(row)
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    return wb


def _unlock(ws, codebook: Codebook, first: int, last: int) -> None:
    start = len(STUDY_COLUMNS) + 1
    for row in ws.iter_rows(min_row=first, max_row=last, min_col=start, max_col=start + len(codebook.names)):
        for cell in row:
            cell.protection = Protection(locked=False)


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


def _append_rows(ws, names: list[str], rows: list[dict[str, str]]) -> None:
    index = _next_row(ws)
    for row in rows:
        for k, name in enumerate(names, start=1):
            value = row.get(name, "")
            cell = ws.cell(row=index, column=k, value=neutralise(value) if value != "" else None)
            if isinstance(cell.value, str):
                cell.data_type = "s"
            if name in STUDY_COLUMNS:
                cell.fill = _LOCKED_FILL
                cell.protection = Protection(locked=True)
                cell.alignment = Alignment(vertical="top", wrap_text=name == "title")
            else:
                cell.protection = Protection(locked=False)
        index += 1


def _extend_validations(ws, last_row: int) -> None:
    """Dropdowns and checks reach the appended rows (and their spare rows) too."""
    for validation in ws.data_validations.dataValidation:
        for cell_range in list(validation.sqref.ranges):
            if cell_range.max_row < last_row:
                letter = get_column_letter(cell_range.min_col)
                validation.add(f"{letter}{cell_range.max_row + 1}:{letter}{last_row}")


def _next_row(ws) -> int:
    """First row below the last one with a study id (spare rows carry only styles)."""
    last = 1
    for row in ws.iter_rows(min_row=2, max_col=1):
        if row[0].value not in (None, ""):
            last = row[0].row
    return last + 1


def _header(ws) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value}


@dataclass
class SheetOutcome:
    reviewer: str
    path: Path
    rows: int
    appended: int
    dropped: int
    outcome: str


def update_xlsx(path: Path, reviewer: str, codebook: Codebook, studies: list[Study], spare_rows: int = 200) -> SheetOutcome:
    workbook = open_for_update(path)
    names = columns(codebook)
    if workbook is None:
        rows = [r for s in studies for r in study_rows(s, codebook)]
        workbook = _new_workbook(codebook, reviewer, len(rows), spare_rows)
        _append_rows(workbook[SHEET], names, rows)
        save(workbook, path)
        return SheetOutcome(reviewer, path, len(rows), len(rows), 0, "created")
    if SHEET not in workbook.sheetnames:
        raise WorkbookBusy(f"{path} has no '{SHEET}' sheet; it was left as it is")
    ws = workbook[SHEET]
    header = _header(ws)
    missing = [n for n in ("study_id", "status") if n not in header]
    if missing:
        raise WorkbookBusy(f"{path}: the '{SHEET}' sheet has no {missing[0]!r} column; it was left as it is")
    present: dict[str, list[int]] = {}
    for row in ws.iter_rows(min_row=2):
        sid = row[header["study_id"] - 1].value
        if sid not in (None, ""):
            present.setdefault(str(sid), []).append(row[0].row)
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
            raise WorkbookBusy(f"{path} lacks the columns {', '.join(extra)} of codebook {codebook.version}; "
                               "it was left as it is (a codebook change needs a new workbook)")
        ordered = [name for name, _ in sorted(header.items(), key=lambda item: item[1])]
        _append_rows(ws, ordered, new_rows)
        start = _next_row(ws) - len(new_rows)
        _unlock(ws, codebook, start, start + len(new_rows) + spare_rows)
        _extend_validations(ws, start + len(new_rows) + spare_rows)
    if changed:
        save(workbook, path)
    rows = sum(len(v) for v in present.values()) + len(new_rows)
    return SheetOutcome(reviewer, path, rows, len(new_rows), dropped, "updated" if changed else "unchanged")


# --- csv ---------------------------------------------------------------------------------------------


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
            raise WorkbookBusy(f"{path} has no study_id or status column; it was left as it is")
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
        if path.exists():
            import hashlib
            import shutil

            backup = path.parent / ".backup" / f"{path.stem}.{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}.csv"
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, backup)
        atomic_write_bytes(path, data)
        outcome = "updated" if existing else "created"
    return SheetOutcome(reviewer, path, len(existing) + len(new_rows), len(new_rows), dropped, outcome)


def sheet_path(folder: Path, reviewer: str, fmt: str) -> Path:
    return folder / f"{reviewer}.{fmt}"


def run_stage(config: dict[str, Any], unique_records: Path, summary: Path, codebook: Codebook,
              included: Path | None = None) -> list[SheetOutcome]:
    """Create or refresh every reviewer's sheet; write a summary; a busy workbook is skipped and reported."""
    settings = config.get("extraction", {})
    folder = Path(settings.get("folder", "extracts"))
    fmt = settings.get("format", "xlsx")
    studies = studies_from(unique_records, included)
    outcomes = []
    for reviewer in config.get("reviewers", []):
        path = sheet_path(folder, reviewer, fmt)
        try:
            if fmt == "csv":
                outcome = update_csv(path, reviewer, codebook, studies)
            else:
                outcome = update_xlsx(path, reviewer, codebook, studies, settings.get("spare_rows", 200))
        except WorkbookBusy as exc:
            log.error("%s", exc)
            outcome = SheetOutcome(reviewer, path, 0, 0, 0, f"left alone: {exc}")
        outcomes.append(outcome)
        log.info("%s: %s (%d rows, %d new, %d no longer included)", path, outcome.outcome, outcome.rows,
                 outcome.appended, outcome.dropped)
    if not config.get("reviewers"):
        log.warning("no reviewers in the protocol: no extraction sheets written")
    write_csv(summary, SUMMARY_COLUMNS, [{
        "reviewer": o.reviewer, "file": str(o.path), "rows": o.rows, "appended": o.appended, "dropped": o.dropped,
        "codebook_version": codebook.version, "outcome": o.outcome.split(":")[0]} for o in outcomes])
    busy = [o for o in outcomes if o.outcome.startswith("left alone")]
    if busy:
        raise ReviewError("; ".join(o.outcome.removeprefix("left alone: ") for o in busy))
    return outcomes
