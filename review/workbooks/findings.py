"""``extracts/findings.xlsx``: the GRADE-CERQual Summary of Qualitative Findings the team writes.

Created once with its dropdowns and never overwritten; read by header name. Each row is a review
finding, the studies that contribute to it (study ids separated by ``;``) and its assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import ERROR, Problem
from .base import WorkbookError, digest, new_workbook, save, text
from .reading import read_table

SHEET = "findings"
CONCERNS = ("no or very minor concerns", "minor concerns", "moderate concerns", "serious concerns")
CONFIDENCE = ("high", "moderate", "low", "very low")
COLUMNS = ["finding_id", "finding", "contributing_studies", "methodological_limitations", "coherence",
           "adequacy", "relevance", "overall_confidence", "explanation"]
RATED = {**{name: CONCERNS for name in COLUMNS[3:7]}, "overall_confidence": CONFIDENCE}


def ensure(path: Path) -> bool:
    """Create the findings workbook when there is none (an existing one is never touched)."""
    if path.exists():
        return False
    wb, ws = new_workbook(SHEET)
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHI", (10, 60, 30, 22, 22, 22, 22, 18, 50)):
        ws.column_dimensions[letter].width = width
    concerns = DataValidation(type="list", formula1='"' + ",".join(CONCERNS) + '"', allow_blank=True)
    concerns.add("D2:G500")
    confidence = DataValidation(type="list", formula1='"' + ",".join(CONFIDENCE) + '"', allow_blank=True)
    confidence.add("H2:H500")
    for dv in (concerns, confidence):
        ws.add_data_validation(dv)
    help_sheet = wb.create_sheet("how to")
    help_sheet.append(["One review finding per row; contributing_studies are study ids (see the extraction "
                       "sheets) separated by ';'. Rate each GRADE-CERQual component and the overall confidence."])
    save(wb, path)
    return True


def read(path: Path, citations: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The findings written so far (rows with a finding), each with its contributing studies cited, and a
    problem row for each study id that is not an included study and each rating outside the scale."""
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    if not path.exists():
        return rows, problems
    table = read_table(path, SHEET, required=("finding", "contributing_studies"))
    for number, raw in table.records(COLUMNS):
        row: dict[str, Any] = {name: text(raw[name]) for name in COLUMNS}
        if not row["finding"]:
            continue
        ids = [s.strip() for s in row["contributing_studies"].split(";") if s.strip()]
        for study in (s for s in ids if s not in citations):
            problems.append(Problem(code="unknown-study", severity=ERROR, file=str(path), sheet=table.sheet,
                                    row=str(number), column="contributing_studies", value=study,
                                    expected="a study id of an included study", hint="left out of the finding"))
        for name, allowed in RATED.items():
            if row[name] and row[name].lower() not in allowed:
                problems.append(Problem(code="not-in-codebook", severity=ERROR, file=str(path), sheet=table.sheet,
                                        row=str(number), column=name, value=row[name], expected=", ".join(allowed)))
        row["studies"] = [{"id": s, "citation": citations[s]} for s in ids if s in citations]
        rows.append(row)
    return rows, problems


def typed_digest(path: Path) -> str:
    """A digest of the findings reviewers wrote (rows with a finding)."""
    if not path.exists():
        return digest([])
    try:
        table = read_table(path, SHEET, required=("finding",))
    except WorkbookError as exc:
        return digest(["unreadable", str(exc)])
    return digest(raw for _, raw in table.records(COLUMNS) if text(raw["finding"]))

