"""``extracts/synthesis.xlsx``: where the team writes what the evidence says.

Three sheets are the team's, created once and never overwritten, read by header:
``key messages`` (each with its confidence and the findings it rests on), ``findings`` (per review question:
the finding statement, its contributing studies by study id, the quotes that support it, and its
GRADE-CERQual assessment) and ``recommendations`` (each with its audience). A fourth sheet, ``evidence``,
is the pipeline's: at every refresh it is rewritten with the candidate evidence for each question (the
studies, their summaries, quotes and page locators, by field, value and tier), so that writing starts from
the data. A team that wrote GRADE-CERQual findings in the older ``extracts/findings.xlsx`` finds them
copied into the findings sheet when the synthesis workbook is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import ERROR, WARNING, Problem
from .base import WorkbookError, append_rows, digest, neutralise, open_for_update, save, text
from .findings import COLUMNS as OLD_FINDING_COLUMNS
from .findings import CONCERNS, CONFIDENCE
from .findings import SHEET as OLD_FINDINGS_SHEET
from .reading import read_table, read_tables

MESSAGES, FINDINGS, RECOMMENDATIONS, EVIDENCE, HOW = "key messages", "findings", "recommendations", "evidence", "how to"
MESSAGE_COLUMNS = ["message_id", "key_message", "confidence", "finding_ids"]
FINDING_COLUMNS = ["question", "finding_id", "finding", "contributing_studies", "quotes",
                   "methodological_limitations", "coherence", "adequacy", "relevance", "overall_confidence",
                   "explanation"]
RECOMMENDATION_COLUMNS = ["recommendation_id", "recommendation", "audience", "finding_ids"]
EVIDENCE_COLUMNS = ["question", "field", "value", "tier", "study_id", "citation", "summary", "locator"]
RATED = {**{name: CONCERNS for name in FINDING_COLUMNS[5:9]}, "overall_confidence": CONFIDENCE}
TEAM_SHEETS = {MESSAGES: MESSAGE_COLUMNS, FINDINGS: FINDING_COLUMNS, RECOMMENDATIONS: RECOMMENDATION_COLUMNS}
LAST_ROW = 1000
_WIDTHS = {"key_message": 70, "finding": 60, "recommendation": 70, "quotes": 50, "explanation": 40,
           "contributing_studies": 28, "finding_ids": 16, "audience": 18, "summary": 80, "citation": 26,
           "value": 30, "field": 22, "tier": 26, "study_id": 18, "locator": 18, "question": 9}
_WRAP = Alignment(vertical="top", wrap_text=True)


def question_codes(questions: Sequence[str]) -> list[str]:
    return [f"Q{k}" for k in range(1, len(questions) + 1)]


def _sheet(wb: Workbook, name: str, columns: Sequence[str], fill: str) -> Any:
    ws = wb.create_sheet(name)
    ws.append(list(columns))
    for k, cell in enumerate(ws[1], start=1):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=fill)
        ws.column_dimensions[get_column_letter(k)].width = _WIDTHS.get(str(cell.value), 20)
    ws.freeze_panes = "A2"
    return ws


def _dropdown(ws: Any, column: str, values: Sequence[str], columns: Sequence[str]) -> None:
    letter = get_column_letter(list(columns).index(column) + 1)
    validation = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                                showErrorMessage=True, errorStyle="stop", error=f"Choose one of: {', '.join(values)}")
    validation.add(f"{letter}2:{letter}{LAST_ROW}")
    ws.add_data_validation(validation)


def ensure(path: Path, questions: Sequence[str], legacy: Path | None = None, audiences: Sequence[str] = ()) -> bool:
    """Create the workbook when there is none (an existing one is never touched); GRADE-CERQual findings
    written in the older findings workbook are copied into its findings sheet. ``audiences``: the review's
    (a dropdown when it declares them, free text otherwise)."""
    if path.exists():
        return False
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    codes = question_codes(questions)
    messages = _sheet(wb, MESSAGES, MESSAGE_COLUMNS, "DDEBF7")
    _dropdown(messages, "confidence", CONFIDENCE, MESSAGE_COLUMNS)
    findings = _sheet(wb, FINDINGS, FINDING_COLUMNS, "E2EFDA")
    if codes:
        _dropdown(findings, "question", codes, FINDING_COLUMNS)
    for name in RATED:
        _dropdown(findings, name, RATED[name], FINDING_COLUMNS)
    recommendations = _sheet(wb, RECOMMENDATIONS, RECOMMENDATION_COLUMNS, "FFF2CC")
    if audiences:
        _dropdown(recommendations, "audience", list(audiences), RECOMMENDATION_COLUMNS)
    _sheet(wb, EVIDENCE, EVIDENCE_COLUMNS, "D9D9D9")
    how = wb.create_sheet(HOW)
    how.column_dimensions["A"].width = 12
    how.column_dimensions["B"].width = 110
    for row in [["", "Write what the evidence says. The evidence sheet lists, for each review question, the "
                     "studies and what the reviewers extracted (it is rewritten at every refresh; the other sheets "
                     "are yours and never overwritten)."],
                ["findings", "One finding per row: its question (Q1...), a statement in your words, the study ids "
                             "that support it (separated by ;), quotes with page numbers, and its GRADE-CERQual "
                             "assessment."],
                ["key messages", "The few messages a reader should take away, each with its confidence and the "
                                 "finding ids it rests on."],
                ["recommendations", f"Each with its audience ({', '.join(audiences) or 'who it is for'}) and the "
                                    "finding ids."],
                *([code, question] for code, question in zip(codes, questions))]:
        how.append(row)
    for cells in how.iter_rows():
        for cell in cells:
            cell.alignment = _WRAP
    if legacy is not None and legacy.exists():
        old = read_table(legacy, OLD_FINDINGS_SHEET, required=("finding",))
        rows = [{name: raw.get(name) for name in OLD_FINDING_COLUMNS}
                for _, raw in old.records(OLD_FINDING_COLUMNS) if text(raw["finding"])]
        append_rows(findings, rows)
    save(wb, path)
    return True


def refresh_evidence(path: Path, rows: Iterable[Mapping[str, Any]]) -> bool:
    """Rewrite the pipeline's evidence sheet (the team's sheets untouched); ``False`` when it was already so."""
    workbook = open_for_update(path)
    if workbook is None:
        raise WorkbookError(f"{path} does not exist")
    wanted = [[neutralise(str(r.get(c, ""))) or None for c in EVIDENCE_COLUMNS] for r in rows]
    if EVIDENCE in workbook.sheetnames:
        present = [list(r) for r in workbook[EVIDENCE].iter_rows(min_row=2, values_only=True)]
        if present == wanted:
            return False
        index = workbook.sheetnames.index(EVIDENCE)
        del workbook[EVIDENCE]
    else:
        index = len(workbook.sheetnames)
    ws = _sheet(workbook, EVIDENCE, EVIDENCE_COLUMNS, "D9D9D9")
    workbook.move_sheet(ws, offset=index - workbook.sheetnames.index(EVIDENCE))
    for values in wanted:
        ws.append(values)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = _WRAP
            if isinstance(cell.value, str):
                cell.data_type = "s"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EVIDENCE_COLUMNS))}{max(1, len(wanted) + 1)}"
    save(workbook, path)
    return True


def _ids(value: str) -> list[str]:
    return [s.strip() for s in value.replace(",", ";").split(";") if s.strip()]


def read(path: Path, citations: Mapping[str, str], questions: Sequence[str], audiences: Sequence[str] = ()
         ) -> tuple[dict[str, list[dict[str, Any]]], list[Problem]]:
    """What the team wrote (rows with text), each study cited, and a problem row for each cell outside its
    list and each study id that is not an included study (left out, never guessed)."""
    out: dict[str, list[dict[str, Any]]] = {MESSAGES: [], FINDINGS: [], RECOMMENDATIONS: []}
    problems: list[Problem] = []
    if not path.exists():
        return out, problems
    tables = read_tables(path, list(TEAM_SHEETS))
    codes = question_codes(questions)

    def problem(code: str, sheet: str, number: int, column: str, value: str, expected: str, hint: str = "",
                severity: str = ERROR) -> None:
        problems.append(Problem(code=code, severity=severity, file=str(path), sheet=sheet, row=str(number),
                                column=column, value=value, expected=expected, hint=hint))

    text_column = {MESSAGES: "key_message", FINDINGS: "finding", RECOMMENDATIONS: "recommendation"}
    declared: dict[str, Sequence[str]] = {"audience": [a.lower() for a in audiences]} if audiences else {}
    lists: dict[str, Mapping[str, Sequence[str]]] = {MESSAGES: {"confidence": CONFIDENCE}, FINDINGS: RATED,
                                                     RECOMMENDATIONS: declared}  # no audiences declared: free text
    for sheet, columns in TEAM_SHEETS.items():
        for number, raw in tables[sheet].records(columns):
            row: dict[str, Any] = {name: text(raw[name]) for name in columns}
            if not row[text_column[sheet]]:
                continue
            for name, allowed in lists[sheet].items():
                if row[name] and row[name].lower() not in allowed:
                    problem("not-in-list", sheet, number, name, row[name], ", ".join(allowed), "left blank")
                    row[name] = ""
                row[name] = row[name].lower()
            if sheet == FINDINGS:
                question = row["question"].upper().removeprefix("Q")
                row["question"] = f"Q{question}" if f"Q{question}" in codes else ""
                if not row["question"]:
                    problem("unknown-question", sheet, number, "question", raw["question"] or "",
                            ", ".join(codes), "the finding is shown under 'other findings'", WARNING)
                ids = _ids(row["contributing_studies"])
                for study in (s for s in ids if s not in citations):
                    problem("unknown-study", sheet, number, "contributing_studies", study,
                            "a study id of an included study", "left out of the finding")
                row["studies"] = [{"id": s, "citation": citations[s]} for s in ids if s in citations]
            else:
                row["finding_ids"] = _ids(row["finding_ids"])
            out[sheet].append(row)
    known = {f["finding_id"] for f in out[FINDINGS] if f["finding_id"]}
    for sheet in (MESSAGES, RECOMMENDATIONS):
        for row in out[sheet]:
            for missing in (f for f in row["finding_ids"] if f not in known):
                problem("unknown-finding", sheet, 0, "finding_ids", missing, "a finding_id of the findings sheet",
                        "", WARNING)
    return out, problems


def typed_digest(path: Path) -> str:
    """A digest of what the team wrote (the three team sheets), not of the evidence the pipeline writes."""
    if not path.exists():
        return digest([])
    try:
        tables = read_tables(path, list(TEAM_SHEETS))
    except WorkbookError as exc:
        return digest(["unreadable", str(exc)])
    return digest((sheet, number, raw) for sheet, columns in TEAM_SHEETS.items()
                  for number, raw in tables[sheet].records(columns))


def contributions(path: Path) -> list[dict[str, Any]]:
    """Each written finding's id, text and the study ids it names (as typed, known or not)."""
    if not path.exists():
        return []
    out = []
    for number, raw in read_table(path, FINDINGS, required=("finding",)).records(FINDING_COLUMNS):
        finding = text(raw["finding"])
        if finding:
            out.append({"finding_id": text(raw["finding_id"]) or f"row {number}", "finding": finding,
                        "study_ids": _ids(text(raw["contributing_studies"]))})
    return out
