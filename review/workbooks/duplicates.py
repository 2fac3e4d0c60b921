"""``extracts/duplicates.xlsx``: the pairs the dedup could not decide, side by side, for reviewers.

One row per pair; the reviewer writes ``same`` or ``different`` in the ``decision`` column (a
dropdown). Decisions are keyed by the two record ids, read back on every refresh and applied as
forced matches or vetoes; a decided pair is never asked again. A refresh only appends new pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import ERROR, Problem
from .base import WorkbookError, append_rows, digest, new_workbook, open_for_update, save, sheet_for_update, text
from .reading import read_table, sheet_names

SHEET = "pairs to check"
FIELDS = ("title", "authors", "year", "container", "volume", "issue", "pages", "doi")
COLUMNS = ["decision", "notes", "record_id_a", "record_id_b", "title_similarity", "author_similarity", "rule"] + [
    f"{field}_{side}" for field in FIELDS for side in ("a", "b")]
REQUIRED = ("decision", "record_id_a", "record_id_b")
WIDTHS = {"decision": 12, "notes": 24, "record_id_a": 22, "record_id_b": 22, "title_a": 60, "title_b": 60,
          "authors_a": 30, "authors_b": 30, "container_a": 28, "container_b": 28}
WRAPPED = ("title_a", "title_b")


@dataclass(frozen=True)
class Decision:
    a: str
    b: str
    same: bool


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The two record ids of a pair in one order, whichever way round they were given."""
    return (a, b) if a <= b else (b, a)


def normalise_decision(value: object) -> str | None:
    """``same``/``different`` (case and space tolerant, ``duplicate``/``yes`` and ``distinct``/``no`` too);
    ``""`` for blank; ``None`` for anything else."""
    word = str(value or "").strip().lower()
    if not word:
        return ""
    if word in ("same", "duplicate", "duplicates", "yes", "y", "s"):
        return "same"
    if word in ("different", "distinct", "not duplicate", "no", "n", "d"):
        return "different"
    return None


def read_decisions(path: Path) -> tuple[list[Decision], list[Problem]]:
    """Reviewers' decisions in the workbook, and a problem row for each cell that is not a decision.

    ``WorkbookError`` when the sheet or one of its key columns is missing: the decisions cannot be
    read safely, and going on without them would merge or split studies behind the reviewers' backs."""
    if not path.exists():
        return [], []
    table = read_table(path, SHEET, required=REQUIRED)
    decisions: dict[tuple[str, str], Decision] = {}
    problems: list[Problem] = []
    for number, row in table.records(REQUIRED):
        a, b = text(row["record_id_a"]), text(row["record_id_b"])
        if not a or not b:
            continue
        value = normalise_decision(row["decision"])
        if value is None:
            problems.append(Problem(code="not-a-decision", severity=ERROR, file=str(path), sheet=table.sheet,
                                    row=str(number), column="decision", value=str(row["decision"]),
                                    expected="same or different (or blank while undecided)",
                                    hint="this pair stays undecided", record_id=f"{a} / {b}"))
            continue
        if value:
            decisions[pair_key(a, b)] = Decision(*pair_key(a, b), same=value == "same")
    return [decisions[k] for k in sorted(decisions)], problems


# --- reports of one study, linked by study id -----------------------------------------------------------
LINKS = "reports of one study"
LINK_COLUMNS = ["decision", "study_id", "report_of", "notes"]
LINK_REQUIRED = ("decision", "study_id", "report_of")


@dataclass(frozen=True)
class Link:
    """A reviewer's word that ``study`` is another report of ``of`` (``linked``), or no longer is."""

    study: str
    of: str
    linked: bool
    row: int


def read_links(path: Path) -> tuple[list[Link], list[Problem]]:
    """The links typed in the workbook's reports sheet (none when the workbook or the sheet is not there)."""
    if not path.exists() or LINKS not in sheet_names(path):
        return [], []
    table = read_table(path, LINKS, required=LINK_REQUIRED)
    links: dict[tuple[str, str], Link] = {}
    problems: list[Problem] = []
    for number, row in table.records(LINK_REQUIRED):
        study, of, word = text(row["study_id"]), text(row["report_of"]), text(row["decision"]).lower()
        if not study and not of:
            continue
        if word not in ("link", "unlink") or not study or not of or study == of:
            problems.append(Problem(code="not-a-link", severity=ERROR, file=str(path), sheet=LINKS, row=str(number),
                                    column="decision" if study and of and study != of else "study_id",
                                    value=f"{word} {study} / {of}",
                                    expected="link or unlink, with two different study ids",
                                    hint="nothing was linked or unlinked for this row", record_id=study))
            continue
        links[(study, of)] = Link(study, of, word == "link", number)  # the last row about a pair wins
    return sorted(links.values(), key=lambda k: k.row), problems


def add_links_sheet(workbook: Workbook) -> bool:
    """The reports sheet, with its dropdown, in a workbook that lacks it (``False`` when it has it)."""
    if LINKS in workbook.sheetnames:
        return False
    sheet = workbook.create_sheet(LINKS)
    sheet.append(LINK_COLUMNS)
    for k, name in enumerate(LINK_COLUMNS, start=1):
        sheet.cell(row=1, column=k).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(k)].width = 60 if name == "notes" else 20
    sheet.freeze_panes = "A2"
    validation = DataValidation(type="list", formula1='"link,unlink"', allow_blank=True, showErrorMessage=True,
                                errorTitle="link or unlink", error="Write link or unlink.",
                                promptTitle="Two reports of one study?",
                                prompt="link: study_id is another report of report_of (its data stays its own). "
                                       "unlink: they are separate studies again.")
    validation.add("A2:A1048576")
    sheet.add_data_validation(validation)
    return True


def ensure_links_sheet(path: Path) -> Path | None:
    """Add the reports sheet to an existing workbook that lacks it (after a backup); returns the backup."""
    if not path.exists() or LINKS in sheet_names(path):  # read first: a workbook open elsewhere is not touched
        return None
    workbook = open_for_update(path)
    if workbook is None or not add_links_sheet(workbook):
        return None
    return save(workbook, path)


def typed_digest(path: Path) -> str:
    """A digest of the decisions and links in the workbook (not of its layout or undecided rows)."""
    try:
        decisions, _ = read_decisions(path)
        links, _ = read_links(path)
    except WorkbookError as exc:  # the stage reports it; the digest only has to change with it
        return digest(["unreadable", str(exc)])
    return digest([*((d.a, d.b, d.same) for d in decisions), *((k.study, k.of, k.linked) for k in links)])


def _new_workbook() -> Workbook:
    workbook, sheet = new_workbook(SHEET)
    sheet.append(COLUMNS)
    for k, name in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=k)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7" if name.endswith("_a") else
                                "FCE4D6" if name.endswith("_b") else "E2EFDA")
        sheet.column_dimensions[get_column_letter(k)].width = WIDTHS.get(name, 14)
    sheet.freeze_panes = "C2"
    validation = DataValidation(type="list", formula1='"same,different"', allow_blank=True,
                                showErrorMessage=True, errorTitle="same or different",
                                error="Write same (the two records are one work) or different.",
                                promptTitle="Are these the same work?",
                                prompt="same: one work, the records are merged. different: two works, kept apart.")
    validation.add("A2:A1048576")
    sheet.add_data_validation(validation)
    add_links_sheet(workbook)
    about = workbook.create_sheet("how to use")
    for line in (
        ["Each row of 'pairs to check' is a pair of records the deduplication could not decide."],
        ["Write same or different in the decision column; leave it blank while undecided."],
        ["Decisions are applied on every refresh (snakemake) and a decided pair is never asked again."],
        ["New pairs are appended at the bottom; nothing you type is ever changed by the pipeline."],
        ["title_similarity and author_similarity run from 0 (nothing alike) to 1 (identical)."],
        [""],
        [f"'{LINKS}': two documents about one study (an article and the report it came from). Add a row: "
         "decision link, study_id the one that is another report, report_of the study it belongs to, both as the "
         "screening workbooks show them (e.g. Checkland2017, Checkland2016). Each report keeps its own title, "
         "year and DOI; the study is cited by the report the review knew first, the other is listed with it. "
         "Change link to unlink to make them two studies again."],
    ):
        about.append(line)
    about.column_dimensions["A"].width = 100
    return workbook


def pair_row(a: str, b: str, title: float, authors: float, rule: str,
             fields_a: Mapping[str, Any], fields_b: Mapping[str, Any]) -> dict[str, Any]:
    """The row of one pair: the two records' fields side by side."""
    row: dict[str, Any] = {"decision": "", "notes": "", "record_id_a": a, "record_id_b": b, "title_similarity": round(title, 3),
                           "author_similarity": round(authors, 3), "rule": rule}
    for name in FIELDS:
        row[f"{name}_a"], row[f"{name}_b"] = fields_a.get(name, ""), fields_b.get(name, "")
    return row


def _style(cell: Any, name: str) -> None:
    cell.alignment = Alignment(wrap_text=name in WRAPPED, vertical="top")


def append_pairs(path: Path, rows: list[dict[str, Any]]) -> tuple[int, Path | None]:
    """Append the pair ``rows`` not yet in the workbook. Returns (rows appended, backup made)."""
    workbook = open_for_update(path) or _new_workbook()
    sheet, header = sheet_for_update(workbook, path, SHEET, REQUIRED)
    known = {pair_key(text(a), text(b)) for a, b in _pairs(sheet, header) if a and b}
    new = [r for r in rows if pair_key(r["record_id_a"], r["record_id_b"]) not in known]
    if not new:
        return 0, None
    append_rows(sheet, new, _style)
    return len(new), save(workbook, path)


def _pairs(sheet: Any, header: dict[str, int]) -> list[tuple[Any, Any]]:
    ia, ib = header["record_id_a"] - 1, header["record_id_b"] - 1
    out = []
    for values in sheet.iter_rows(min_row=2, values_only=True):
        out.append((values[ia] if ia < len(values) else None, values[ib] if ib < len(values) else None))
    return out
