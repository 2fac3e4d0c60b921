"""``extracts/duplicates.xlsx``: the pairs the dedup could not decide, side by side, for reviewers.

One row per pair; the reviewer writes ``same`` or ``different`` in the ``decision`` column (a
dropdown). Decisions are keyed by the two record ids, read back on every refresh and applied as
forced matches or vetoes; a decided pair is never asked again. A refresh only appends new pairs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import ERROR, Problem
from .model import Record
from .workbook import neutralise, open_for_update, read_only, save

SHEET = "pairs to check"
DECISIONS = ("same", "different")
FIELDS = ("title", "authors", "year", "container", "volume", "issue", "pages", "doi")
COLUMNS = ["decision", "notes", "record_id_a", "record_id_b", "title_similarity", "author_similarity", "rule"] + [
    f"{field}_{side}" for field in FIELDS for side in ("a", "b")]
WIDTHS = {"decision": 12, "notes": 24, "record_id_a": 22, "record_id_b": 22, "title_a": 60, "title_b": 60,
          "authors_a": 30, "authors_b": 30, "container_a": 28, "container_b": 28}


@dataclass(frozen=True)
class Decision:
    a: str
    b: str
    same: bool


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _normalise_decision(value: object) -> str | None:
    """``same``/``different`` (case and space tolerant, ``duplicate``/``yes`` and ``distinct``/``no`` too);
    ``""`` for blank; ``None`` for anything else."""
    text = str(value or "").strip().lower()
    if not text:
        return ""
    if text in ("same", "duplicate", "duplicates", "yes", "y", "s"):
        return "same"
    if text in ("different", "distinct", "not duplicate", "no", "n", "d"):
        return "different"
    return None


def read_decisions(path: Path) -> tuple[list[Decision], list[Problem]]:
    """Reviewers' decisions in the workbook, and a problem row for each cell that is not a decision."""
    workbook = read_only(path)
    if workbook is None:
        return [], []
    decisions: dict[tuple[str, str], Decision] = {}
    problems: list[Problem] = []
    if SHEET not in workbook.sheetnames:
        workbook.close()
        return [], [Problem(code="missing-sheet", severity=ERROR, file=str(path), sheet=SHEET,
                            expected=f"a sheet named '{SHEET}'", hint="the workbook's decisions were not read")]
    rows = workbook[SHEET].iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    index = {name: k for k, name in enumerate(header)}
    def cell(row: tuple, name: str) -> object:
        k = index.get(name)
        return row[k] if k is not None and k < len(row) else None

    for number, row in enumerate(rows, start=2):
        a, b = str(cell(row, "record_id_a") or "").strip(), str(cell(row, "record_id_b") or "").strip()
        if not a or not b:
            continue
        value = _normalise_decision(cell(row, "decision"))
        if value is None:
            problems.append(Problem(code="not-a-decision", severity=ERROR, file=str(path), sheet=SHEET,
                                    row=str(number), column="decision", value=str(cell(row, "decision")),
                                    expected="same or different (or blank while undecided)",
                                    hint="this pair stays undecided", record_id=f"{a} / {b}"))
            continue
        if value:
            decisions[pair_key(a, b)] = Decision(*pair_key(a, b), same=value == "same")
    workbook.close()
    return [decisions[k] for k in sorted(decisions)], problems


def fingerprint(path: Path) -> str:
    """A digest of the decisions in the workbook (not of its layout or undecided rows), so that Snakemake
    reruns the dedup when, and only when, a reviewer decided something."""
    try:
        decisions, _ = read_decisions(path)
    except Exception:  # an unreadable workbook is reported by the stage itself
        return "unreadable"
    text = "\n".join(f"{d.a}\t{d.b}\t{'same' if d.same else 'different'}" for d in decisions)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _row(pair: dict, records: dict[str, Record]) -> list:
    a, b = records[pair["a"]], records[pair["b"]]

    def value(record: Record, field: str) -> str:
        row = record.as_row()
        return row.get(field, "")

    cells = ["", "", pair["a"], pair["b"], round(pair["title"], 3), round(pair["authors"], 3), pair["rule"]]
    for field in FIELDS:
        cells += [value(a, field), value(b, field)]
    return [neutralise(c) for c in cells]


def _new_workbook() -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(COLUMNS)
    for k, name in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=k)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7" if name.endswith("_a") else
                                "FCE4D6" if name.endswith("_b") else "E2EFDA")
        sheet.column_dimensions[cell.column_letter].width = WIDTHS.get(name, 14)
    sheet.freeze_panes = "C2"
    validation = DataValidation(type="list", formula1='"same,different"', allow_blank=True,
                                showErrorMessage=True, errorTitle="same or different",
                                error="Write same (the two records are one work) or different.",
                                promptTitle="Are these the same work?",
                                prompt="same: one work, the records are merged. different: two works, kept apart.")
    validation.add("A2:A1048576")
    sheet.add_data_validation(validation)
    about = workbook.create_sheet("how to use")
    for line in (
        ["Each row of 'pairs to check' is a pair of records the deduplication could not decide."],
        ["Write same or different in the decision column; leave it blank while undecided."],
        ["Decisions are applied on every refresh (snakemake) and a decided pair is never asked again."],
        ["New pairs are appended at the bottom; nothing you type is ever changed by the pipeline."],
        ["title_similarity and author_similarity run from 0 (nothing alike) to 1 (identical)."],
    ):
        about.append(line)
    about.column_dimensions["A"].width = 100
    return workbook


def update(path: Path, pairs: list[dict], records: dict[str, Record]) -> tuple[int, Path | None]:
    """Append the undecided ``pairs`` not yet in the workbook. Returns (rows appended, backup made)."""
    workbook = open_for_update(path)
    known: set[tuple[str, str]] = set()
    if workbook is None:
        workbook = _new_workbook()
    elif SHEET not in workbook.sheetnames:
        workbook.create_sheet(SHEET).append(COLUMNS)
    sheet = workbook[SHEET]
    header = [str(c.value or "") for c in sheet[1]]
    ia, ib = header.index("record_id_a"), header.index("record_id_b")
    for row in sheet.iter_rows(min_row=2, values_only=True):
        if len(row) > max(ia, ib) and row[ia] and row[ib]:
            known.add(pair_key(str(row[ia]).strip(), str(row[ib]).strip()))
    new = [p for p in pairs if pair_key(p["a"], p["b"]) not in known]
    if not new:
        return 0, None
    for pair in new:
        sheet.append(_row(pair, records))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
            cell.alignment = Alignment(wrap_text=cell.column_letter in ("H", "I"), vertical="top")
    backup = save(workbook, path)
    return len(new), backup
