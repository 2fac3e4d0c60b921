"""``extracts/synthesis.xlsx``: where the team writes what the evidence says.

Three sheets are the team's, created once and never overwritten, read by header:
``key messages`` (each with its confidence or certainty and the findings it rests on), ``findings`` (per
review question: the finding statement, its contributing studies by study id, the quotes that support it,
and its rating in the certainty framework the codebook declares, ``review.certainty``) and
``recommendations`` (each with its audience). A fourth sheet, ``evidence``, is the pipeline's: at every
refresh it is rewritten with the candidate evidence for each question (the studies, their summaries, quotes
and page locators, by field, value and tier), so that writing starts from the data. A team that wrote
GRADE-CERQual findings in the older ``extracts/findings.xlsx`` finds them copied into the findings sheet
when the synthesis workbook is created.

The rating columns are those of the framework declared when the workbook was created: a workbook is never
restructured. One whose findings sheet holds another framework's columns (the codebook changed framework
later) is read in the framework its columns are, with an error saying so (``certainty-framework-changed``),
and a rating typed in a column the framework read does not have is reported (``certainty-not-read``): typed
ratings are never dropped without a word.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..certainty import FRAMEWORKS, GRADE_CERQUAL, LEVELS, Framework
from ..citations import unresolved
from ..errors import ERROR, WARNING, Problem
from .base import WorkbookError, append_rows, digest, neutralise, open_for_update, save, text
from .findings import COLUMNS as OLD_FINDING_COLUMNS
from .findings import SHEET as OLD_FINDINGS_SHEET
from .reading import read_table, read_tables

MESSAGES, FINDINGS, RECOMMENDATIONS, EVIDENCE, HOW = "key messages", "findings", "recommendations", "evidence", "how to"
FINDING_BASE = ["question", "finding_id", "finding", "contributing_studies", "quotes"]
RECOMMENDATION_COLUMNS = ["recommendation_id", "recommendation", "audience", "finding_ids"]
EVIDENCE_COLUMNS = ["question", "field", "value", "tier", "study_id", "citation", "summary", "locator"]
# every rating column any framework has: what the team may have typed, whichever framework is read
ALL_RATED = list(dict.fromkeys(c for f in FRAMEWORKS.values() for c in f.columns))
MESSAGE_RATINGS = list(dict.fromkeys(f.word for f in FRAMEWORKS.values() if f.word))  # confidence, certainty
TEAM_SHEETS = {MESSAGES: ["message_id", "key_message", *MESSAGE_RATINGS, "finding_ids"],
               FINDINGS: FINDING_BASE + ALL_RATED, RECOMMENDATIONS: RECOMMENDATION_COLUMNS}
# the text the report prints as typed, whose bracketed citations must be found in its references
CITING_COLUMNS = {MESSAGES: ["key_message"], FINDINGS: ["finding", "quotes", "explanation"],
                  RECOMMENDATIONS: ["recommendation"]}


def message_columns(framework: Framework) -> list[str]:
    """The key messages sheet's columns: a message's rating is called what the framework calls it."""
    return ["message_id", "key_message", *([framework.word] if framework.word else []), "finding_ids"]


def finding_columns(framework: Framework) -> list[str]:
    return FINDING_BASE + framework.columns


# the columns of the GRADE-CERQual workbook every team had before frameworks were declared
MESSAGE_COLUMNS, FINDING_COLUMNS = message_columns(GRADE_CERQUAL), finding_columns(GRADE_CERQUAL)
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


def ensure(path: Path, questions: Sequence[str], legacy: Path | None = None, audiences: Sequence[str] = (),
           certainty: Framework = GRADE_CERQUAL) -> bool:
    """Create the workbook when there is none (an existing one is never touched); GRADE-CERQual findings
    written in the older findings workbook are copied into its findings sheet. ``audiences``: the review's
    (a dropdown when it declares them, free text otherwise); ``certainty``: the framework the codebook
    declares, whose rating columns and dropdowns the findings sheet gets."""
    if path.exists():
        return False
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    codes = question_codes(questions)
    old = _legacy_rows(legacy)
    # a rating the older workbook holds in a column the declared framework lacks keeps a column of its own
    kept = [c for c in GRADE_CERQUAL.columns if c not in certainty.columns and any(r.get(c) for r in old)]
    columns = finding_columns(certainty) + kept
    messages = _sheet(wb, MESSAGES, message_columns(certainty), "DDEBF7")
    if certainty.word:
        _dropdown(messages, certainty.word, LEVELS, message_columns(certainty))
    findings = _sheet(wb, FINDINGS, columns, "E2EFDA")
    if codes:
        _dropdown(findings, "question", codes, columns)
    for name, scale in {**certainty.rated, **{c: GRADE_CERQUAL.rated[c] for c in kept if c in GRADE_CERQUAL.rated}}.items():
        _dropdown(findings, name, scale, columns)
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
                             "that support it (separated by ;), quotes with page numbers" + _rating_guide(certainty)],
                ["key messages", "The few messages a reader should take away, each with "
                                 + (f"its {certainty.word} and " if certainty.word else "") + "the finding ids it "
                                 "rests on."],
                ["recommendations", f"Each with its audience ({', '.join(audiences) or 'who it is for'}) and the "
                                    "finding ids."],
                *([code, question] for code, question in zip(codes, questions))]:
        how.append(row)
    for cells in how.iter_rows():
        for cell in cells:
            cell.alignment = _WRAP
    append_rows(findings, old)
    save(wb, path)
    return True


def _legacy_rows(legacy: Path | None) -> list[dict[str, Any]]:
    """The findings written in the older GRADE-CERQual workbook (rows with a finding)."""
    if legacy is None or not legacy.exists():
        return []
    old = read_table(legacy, OLD_FINDINGS_SHEET, required=("finding",))
    return [{name: raw.get(name) for name in OLD_FINDING_COLUMNS}
            for _, raw in old.records(OLD_FINDING_COLUMNS) if text(raw["finding"])]


def _rating_guide(certainty: Framework) -> str:
    """The how-to sheet's words on rating a finding, in the declared framework's terms."""
    if not certainty.rated:
        return " (this review rates no finding: its codebook declares no certainty framework)."
    scales = "; ".join(f"{c.header.lower()}: {', '.join(c.scale)}" for c in certainty.components)
    return (f", and its {certainty.title} assessment ({scales}), the overall {certainty.word} "
            f"({', '.join(LEVELS)}) and an explanation of it.")


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


def rated_in(header: Sequence[str], declared: Framework) -> Framework:
    """The framework a findings sheet is rated in: the declared one when the sheet has its columns, else the
    one whose columns it has (the codebook changed framework after the workbook was made), else the
    declared one (its missing columns read as blank)."""
    have = set(header)
    if set(declared.rated) <= have:
        return declared
    return next((f for f in FRAMEWORKS.values() if f.rated and set(f.rated) <= have), declared)


def framework(path: Path, declared: Framework) -> Framework:
    """The framework the workbook at ``path`` is read in (``rated_in``); the declared one when there is none."""
    if not path.exists():
        return declared
    return rated_in(read_tables(path, list(TEAM_SHEETS))[FINDINGS].header, declared)


def _message_rating(header: Sequence[str], used: Framework) -> str:
    """The key messages sheet's rating column: the one the framework names, else the other framework's (both
    rate high to very low) when the team kept it; "" when the framework rates nothing."""
    if not used.word:
        return ""
    return next((c for c in [used.word, *MESSAGE_RATINGS] if c in header), used.word)


def _framework_problems(path: Path, tables: Mapping[str, Any], declared: Framework, used: Framework,
                        message_rating: str) -> list[Problem]:
    """What the team should know of the ratings: the workbook rated in another framework than the declared
    one, the declared framework's columns missing, and each column of typed ratings that is not read."""
    out = []

    def add(code: str, severity: str, sheet: str, row: int, column: str, value: str, expected: str, hint: str) -> None:
        out.append(Problem(code=code, severity=severity, file=str(path), sheet=sheet, row=str(row), column=column,
                           value=value, expected=expected, hint=hint))

    header = tables[FINDINGS].header
    named = declared.title or "no certainty framework"
    if used != declared:
        add("certainty-framework-changed", ERROR, FINDINGS, 1, ", ".join(c for c in declared.rated if c not in header),
            f"the {used.title} columns", f"the {declared.title} columns: {', '.join(declared.columns)}",
            f"the codebook declares {named} but this workbook was made for {used.title}: the report shows its "
            f"{used.title} ratings until the findings sheet has the {declared.title} columns (add them to the header "
            f"row, rate each finding, then delete the {used.title} columns), or declare {used.name} again")
    else:
        missing = [c for c in declared.columns if c not in header]
        if missing:
            add("certainty-columns-missing", WARNING, FINDINGS, 1, ", ".join(missing), "", ", ".join(declared.columns),
                f"add these columns to the header row to rate the findings in {declared.title}; until then they are "
                "read as blank")
    text_column = {MESSAGES: "key_message", FINDINGS: "finding"}
    unread = {FINDINGS: [c for c in ALL_RATED if c not in used.columns],
              MESSAGES: [c for c in MESSAGE_RATINGS if c != message_rating]}
    for sheet, columns in unread.items():
        for column in (c for c in columns if c in tables[sheet].header):
            typed = next(((number, text(raw[column])) for number, raw in tables[sheet].records([text_column[sheet], column])
                          if text(raw[text_column[sheet]]) and text(raw[column])), None)
            if typed:
                add("certainty-not-read", WARNING, sheet, typed[0], column, typed[1],
                    f"the {used.title} columns" if used.rated else "no rating",
                    f"ratings typed in this column are not in the report: the codebook declares {named}; move them "
                    "to the declared framework's columns, or delete the column")
    return out


def read(path: Path, citations: Mapping[str, str], questions: Sequence[str], audiences: Sequence[str] = (),
         certainty: Framework = GRADE_CERQUAL) -> tuple[dict[str, list[dict[str, Any]]], list[Problem]]:
    """What the team wrote (rows with text), each study cited, and a problem row for each cell outside its
    list and each study id that is not an included study (left out, never guessed). Ratings are read in the
    framework the workbook is rated in (``rated_in``, normally the declared ``certainty``); each row's overall
    rating is also under the name the templates read whatever the framework calls it: a message's
    ``confidence``, a finding's ``overall_confidence`` (both "" when nothing is rated)."""
    out: dict[str, list[dict[str, Any]]] = {MESSAGES: [], FINDINGS: [], RECOMMENDATIONS: []}
    problems: list[Problem] = []
    if not path.exists():
        return out, problems
    tables = read_tables(path, list(TEAM_SHEETS))
    codes = question_codes(questions)
    used = rated_in(tables[FINDINGS].header, certainty)
    message_rating = _message_rating(tables[MESSAGES].header, used)
    problems += _framework_problems(path, tables, certainty, used, message_rating)

    def problem(code: str, sheet: str, number: int, column: str, value: str, expected: str, hint: str = "",
                severity: str = ERROR) -> None:
        problems.append(Problem(code=code, severity=severity, file=str(path), sheet=sheet, row=str(number),
                                column=column, value=value, expected=expected, hint=hint))

    text_column = {MESSAGES: "key_message", FINDINGS: "finding", RECOMMENDATIONS: "recommendation"}
    declared: dict[str, Sequence[str]] = {"audience": [a.lower() for a in audiences]} if audiences else {}
    lists: dict[str, Mapping[str, Sequence[str]]] = {MESSAGES: {message_rating: LEVELS} if message_rating else {},
                                                     FINDINGS: used.rated,
                                                     RECOMMENDATIONS: declared}  # no audiences declared: free text
    read_columns = {MESSAGES: ["message_id", "key_message", *([message_rating] if message_rating else []),
                               "finding_ids"],
                    FINDINGS: finding_columns(used), RECOMMENDATIONS: RECOMMENDATION_COLUMNS}
    references = set(citations.values())
    numbers: dict[str, list[int]] = {sheet: [] for sheet in read_columns}
    for sheet, columns in read_columns.items():
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
                row["overall_confidence"] = row[used.overall] if used.overall else ""
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
                if sheet == MESSAGES:
                    row["confidence"] = row[message_rating] if message_rating else ""
            problems += _citation_problems(path, sheet, number, row, references)
            row["row"] = number  # as the spreadsheet shows it, for the checks made once findings are linked
            out[sheet].append(row)
            numbers[sheet].append(number)
    known = {f["finding_id"] for f in out[FINDINGS] if f["finding_id"]}
    for sheet in (MESSAGES, RECOMMENDATIONS):
        for row, number in zip(out[sheet], numbers[sheet]):
            for missing in (f for f in row["finding_ids"] if f not in known):
                problem("unknown-finding", sheet, number, "finding_ids", missing, "a finding_id of the findings sheet",
                        "", WARNING)
    return out, problems


def _citation_problems(path: Path, sheet: str, number: int, row: Mapping[str, str], references: Collection[str]
                       ) -> list[Problem]:
    """A warning for each bracketed citation in the row's printed text that its references do not carry."""
    return [Problem(code="citation-not-in-references", severity=WARNING, file=str(path), sheet=sheet, row=str(number),
                    column=name, value=citation,
                    expected=f"{near}, as the references list it" if near else "a citation of an included study",
                    hint="write the citation as the reference list gives it (the a/b after the year included), or "
                         "include the study it names; the report prints the text as typed")
            for name in CITING_COLUMNS[sheet] for citation, near in unresolved(row.get(name, ""), references)]


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
