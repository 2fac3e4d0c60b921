"""Extraction: what rows a study gets, how each cell is checked, and what the reviewers' rows add up to.

Pure logic over plain values (the workbooks are ``review.workbooks.extraction``; the stages
``review.stages.sheets`` and ``review.stages.evidence``). Problems are collected, never thrown: each is
a row (file, sheet, row as the spreadsheet shows it, study, column, value, expected, hint); an invalid
cell is left out of the evidence, never coerced. Checks across fields are declared in the codebook
(``checks:``), so nothing here knows one review's fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from . import agreement as agree
from .codebook import FALSE_WORDS, MULTI_SEPARATOR, TRUE_WORDS, Check, Codebook, Field
from .errors import ERROR, WARNING, Problem

# the column of every evidence table that holds the row's key code (the codebook's key field, e.g. a tier):
# one name whatever the key field is called, so that tables and templates read any codebook alike
KEY_COLUMN = "tier"
STUDY_COLUMNS = ["study_id", "citation", "title", "year", "doi", "status", "suggested"]
NOTES = "notes"
INCLUDED, DROPPED = "included", "no longer included"
CONSENSUS = "consensus"
TIDY_COLUMNS = ["study_id", "tier", "field", "value", "reviewer", "codebook_version"]
AGREEMENT_COLUMNS = ["field", "type", "items_compared", "agreement", "kappa"]
DISAGREEMENT_COLUMNS = ["study_id", "tier", "field", "reviewer_a", "value_a", "reviewer_b", "value_b", "resolved_by"]
EVIDENCE_COLUMNS = ["study_id", "tier", "field", "value", "basis", "codebook_version"]


@dataclass(frozen=True)
class Study:
    study_id: str
    citation: str
    title: str
    year: str
    doi: str
    tags: tuple[str, ...]


def suggested_keys(study: Study, key: Field) -> list[str]:
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
    codes = suggested_keys(study, key) or [""]
    return [{**base, key.name: code, "suggested": suggestion(key, code)} for code in codes]


def columns(codebook: Codebook) -> list[str]:
    return [*STUDY_COLUMNS, *codebook.names, NOTES]



# --- one cell ----------------------------------------------------------------------------------------


@dataclass
class Row:
    """One extraction row as read: where it is, and its valid values (lists for multiple choice)."""

    reviewer: str
    file: str
    row: int
    study_id: str
    values: dict[str, Any] = field(default_factory=dict)

    def key(self, codebook: Codebook) -> tuple[str, str]:
        key_field = codebook.key_fields[0].name if codebook.key_fields else ""
        return self.study_id, str(self.values.get(key_field, "") or "")


def did_you_mean(text: str, field: Field) -> str:
    options = list(field.codes) + [c.label for c in field.choices]
    match = process.extractOne(text, options, scorer=fuzz.WRatio, score_cutoff=70)
    if not match:
        return ""
    code = match[0] if match[0] in field.codes else field.codes[[c.label for c in field.choices].index(match[0])]
    return f"did you mean {code!r}?"


def _code(text: str, field: Field) -> str | None:
    """The code a reviewer meant, tolerant of case, spaces and the label instead of the code."""
    wanted = " ".join(text.split()).casefold()
    for choice in field.choices:
        if wanted in (choice.code.casefold(), choice.label.casefold()):
            return choice.code
    return None


def check_cell(value: Any, field: Field) -> tuple[Any, tuple[str, str, str] | None]:
    """(clean value or None, problem (code, expected, hint) or None) for one cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    text = str(value).strip()
    if field.type == "single":
        code = _code(text, field)
        if code is None:
            return None, ("not-in-codebook", field.describe_allowed(), did_you_mean(text, field))
        return code, None
    if field.type == "multiple":
        parts = [p for p in (x.strip() for x in text.replace("\n", ";").replace(",", ";").split(";")) if p]
        codes: list[str] = []
        bad: list[str] = []
        for part in parts:
            code = _code(part, field)
            (codes if code else bad).append(code or part)
        if bad:
            hint = "; ".join(h for h in (did_you_mean(b, field) for b in bad) if h)
            return None, ("not-in-codebook", field.describe_allowed(), f"not codes: {', '.join(bad)}. {hint}".strip())
        return sorted(set(codes), key=field.codes.index), None
    if field.type in ("integer", "year"):
        try:
            number = float(text)
        except ValueError:
            return None, ("wrong-type", field.describe_allowed(), "write the number only")
        if number != int(number):
            return None, ("wrong-type", field.describe_allowed(), "a whole number")
        number = int(number)
        if (field.min is not None and number < field.min) or (field.max is not None and number > field.max):
            return None, ("out-of-range", field.describe_allowed(), "")
        return number, None
    if field.type == "boolean":
        word = text.casefold()
        if word in TRUE_WORDS or value is True:
            return "yes", None
        if word in FALSE_WORDS or value is False:
            return "no", None
        return None, ("wrong-type", "yes or no", "")
    if field.max_length and len(text) > field.max_length:
        return None, ("too-long", field.describe_allowed(), f"{len(text)} characters")
    return text, None


# --- rows ------------------------------------------------------------------------------------------------

Report = Callable[..., None]


def check_rows(records: Iterable[tuple[int, Mapping[str, Any]]], reviewer: str, file: str, sheet: str,
               codebook: Codebook, included: set[str], require: bool = True) -> tuple[list[Row], list[Problem]]:
    """Rows a reviewer started (``(row number, {column: raw value})``), checked cell by cell and across
    fields; ``require=False`` for the consensus workbook, which holds only the values that settle a
    disagreement. A row nobody has started (only its study and key) is not checked yet."""
    rows: list[Row] = []
    problems: list[Problem] = []

    def problem(code, severity, row, column="", value="", expected="", hint="", study=""):
        problems.append(Problem(code=code, severity=severity, file=file, sheet=sheet, row=str(row), column=column,
                                value=str(value)[:200], expected=expected, hint=hint, record_id=study))

    key_names = {f.name for f in codebook.key_fields}
    seen: dict[tuple[str, str], int] = {}
    for number, raw in records:
        study = str(raw.get("study_id") or "").strip()
        typed = [name for name in codebook.names if name not in key_names
                 and raw.get(name) is not None and str(raw.get(name)).strip() != ""]
        if not study and typed:
            problem("row-without-study", ERROR, number, "study_id", "", "the study id of an included study",
                    f"values typed here ({', '.join(typed[:3])}) belong to no study: write the study id (and the "
                    "tier) to keep them; nothing in this row was used")
            continue
        if not study or not typed:
            continue  # an empty row, or one nobody has started: nothing to check yet
        row = Row(reviewer=reviewer, file=file, row=number, study_id=study)
        for f in codebook.fields:
            clean, issue = check_cell(raw.get(f.name), f)
            if issue:
                code, expected, hint = issue
                problem(code, ERROR, number, f.name, raw.get(f.name), expected, hint or "left out of the evidence",
                        study)
            elif clean is None and f.required and require:
                problem("missing-required", ERROR, number, f.name, "", f.describe_allowed(), "required field", study)
            elif clean is not None:
                row.values[f.name] = clean
        for check in codebook.checks:
            CHECKS[check.kind](row, codebook, check, problem)
        if study not in included:
            problem("unknown-study", WARNING, number, "study_id", study, "a study id of the current included studies",
                    "kept, but the study is no longer included (or the id was edited)", study)
        key = row.key(codebook)
        if key in seen:
            problem("duplicate-row", ERROR, number, codebook.key_fields[0].name if codebook.key_fields else "study_id",
                    key[1], "one row per study and tier", f"same as row {seen[key]}; this row was left out", study)
            continue
        seen[key] = number
        rows.append(row)
    return rows, problems


def _ordered(row: Row, codebook: Codebook, check: Check, problem: Report) -> None:
    """``first`` is not after ``last`` (e.g. the start and end of a period); both left out otherwise."""
    start, end = row.values.get(check.first), row.values.get(check.last)
    if start is not None and end is not None and start > end:
        problem("period-order", ERROR, row.row, check.last, end, f"a year not before {check.first} ({start})",
                "both years left out of the evidence", row.study_id)
        row.values.pop(check.first)
        row.values.pop(check.last)


def _within_key_period(row: Row, codebook: Codebook, check: Check, problem: Report) -> None:
    """The years ``first``-``last`` overlap the period of the row's key code (give or take ``slack`` years:
    a study may look at the years just before or after)."""
    start, end = row.values.get(check.first), row.values.get(check.last)
    key = codebook.key_fields[0] if codebook.key_fields else None
    if key is None or not row.values.get(key.name) or start is None or end is None:
        return
    choice = next((c for c in key.choices if c.code == row.values[key.name]), None)
    if choice and choice.period:
        first, last = choice.period
        if end < first - check.slack or start > last + check.slack:
            problem("period-outside-tier", WARNING, row.row, check.first, f"{start}-{end}",
                    f"years around {first}-{last}, when {choice.code} existed", "check the tier or the period",
                    row.study_id)


CHECKS: dict[str, Callable[[Row, Codebook, Check, Report], None]] = {
    "ordered": _ordered,
    "within_key_period": _within_key_period,
}


# --- agreement and evidence ------------------------------------------------------------------------------


def shown(value: Any) -> str:
    """A clean value as text (multiple choice joined)."""
    if value is None:
        return ""
    return MULTI_SEPARATOR.join(value) if isinstance(value, list) else str(value)


def agreement(codebook: Codebook, by_key: Mapping[tuple[str, str], Mapping[str, Row]]) -> tuple[list[dict], list[dict]]:
    """Per-field agreement over study x key rows extracted by two reviewers, and the disagreements."""
    stats, disagreements = [], []
    doubles = {key: rows for key, rows in by_key.items() if len(rows) >= 2}
    for f in codebook.fields:
        if f.key:
            continue
        pairs: list[tuple[Any, Any]] = []
        binary: list[tuple[int, int]] = []
        for key in sorted(doubles):
            (ra, a), (rb, b) = sorted(doubles[key].items())[:2]
            va, vb = a.values.get(f.name), b.values.get(f.name)
            if va is None or vb is None:
                continue  # not (validly) extracted by both: nothing to compare (validation lists invalid cells)
            pairs.append((shown(va), shown(vb)))
            if f.type == "multiple":  # kappa per code: each code chosen or not by each reviewer
                binary += [(int(c in (va or [])), int(c in (vb or []))) for c in f.codes]
            if shown(va) != shown(vb):
                disagreements.append({"study_id": key[0], "tier": key[1], "field": f.name, "reviewer_a": ra,
                                      "value_a": shown(va), "reviewer_b": rb, "value_b": shown(vb)})
        if not pairs:
            continue
        summary = agree.summary(pairs, binary if f.type == "multiple" else None)
        if f.type not in ("single", "boolean", "year", "integer", "multiple"):
            summary["kappa"] = ""  # free text: agreement of the wording only
        stats.append({"field": f.name, "type": f.type, **summary})
    order = {name: k for k, name in enumerate(codebook.names)}
    disagreements.sort(key=lambda d: (d["study_id"], d["tier"], order[d["field"]]))
    return stats, disagreements


@dataclass
class Combined:
    """Every reviewer's values (tidy), the values that stand (evidence), and what is still disputed."""

    tidy: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    agreement: list[dict[str, str]]
    disagreements: list[dict[str, str]]
    disputed: dict[tuple[str, str], list[dict[str, str]]]


def combine(codebook: Codebook, rows: Iterable[Row], consensus: Mapping[tuple[str, str], Row]) -> Combined:
    """Reviewers' rows -> evidence: consensus values win, agreed or single-reviewer values stand, and a
    disputed value is left out until the consensus workbook settles it."""
    by_key: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
    for row in rows:
        by_key[row.key(codebook)][row.reviewer] = row
    stats, disagreements = agreement(codebook, by_key)
    disputed: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for d in disagreements:
        key = (d["study_id"], d["tier"])
        resolved = key in consensus and d["field"] in consensus[key].values
        d["resolved_by"] = CONSENSUS if resolved else ""
        if not resolved:
            disputed[key].append(d)

    tidy, evidence = [], []
    for key in sorted(by_key):
        reviewers = by_key[key]
        for f in codebook.fields:
            if f.key:
                continue  # the key is part of the row's identity, not one of its values
            per_reviewer = {name: row.values.get(f.name) for name, row in sorted(reviewers.items())}
            for name, value in per_reviewer.items():
                for v in (value if isinstance(value, list) else [value] if value is not None else []):
                    tidy.append({"study_id": key[0], "tier": key[1], "field": f.name, "value": v,
                                 "reviewer": name, "codebook_version": codebook.version})
            consensus_value = consensus[key].values.get(f.name) if key in consensus else None
            given = {shown(v) for v in per_reviewer.values() if v is not None}
            if consensus_value is not None:
                value, basis = consensus_value, CONSENSUS
            elif len(given) == 1:
                value = next(v for v in per_reviewer.values() if v is not None)
                basis = "agreed" if sum(v is not None for v in per_reviewer.values()) > 1 else "single reviewer"
            else:
                continue  # disputed and not yet resolved: left out, listed in disagreements.csv
            for v in value if isinstance(value, list) else [value]:
                evidence.append({"study_id": key[0], "tier": key[1], "field": f.name, "value": v, "basis": basis,
                                 "codebook_version": codebook.version})
    return Combined(tidy, evidence, stats, disagreements, dict(disputed))


def dispute_text(disputed: Iterable[Mapping[str, str]]) -> str:
    """The disagreements of one study x key, as the consensus workbook shows them."""
    return "; ".join(f"{d['field']}: {d['reviewer_a']}={d['value_a'] or '-'} / {d['reviewer_b']}={d['value_b'] or '-'}"
                     for d in disputed)


def validation_markdown(problems: list[Problem], codebook: Codebook) -> str:
    lines = [f"# Extraction sheets: validation (codebook {codebook.version})", ""]
    if not problems:
        return "\n".join(lines + ["No problems found.", ""])
    errors = sum(p.severity == ERROR for p in problems)
    lines += [f"{errors} errors and {len(problems) - errors} warnings. Invalid cells are left out of the "
              "evidence until they are corrected in the sheet.", ""]
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        by_file[p.file].append(p)

    def esc(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    for file in sorted(by_file):
        lines += [f"## {file}", "", "| row | study | column | value | problem | expected | hint |",
                  "|---:|---|---|---|---|---|---|"]
        for p in sorted(by_file[file], key=lambda p: (int(p.row) if p.row.isdigit() else 0, p.column)):
            lines.append(f"| {p.row} | {esc(p.record_id)} | {esc(p.column)} | {esc(p.value)} | "
                         f"{p.severity}: {p.code} | {esc(p.expected)[:120]} | {esc(p.hint)} |")
        lines.append("")
    return "\n".join(lines)
