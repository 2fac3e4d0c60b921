"""Extraction: what rows a study gets and how each cell and row is checked (what the rows add up to is
``review.resolve``).

Pure logic over plain values (the workbooks are ``review.workbooks.extraction``; the stages
``review.stages.sheets`` and ``review.stages.evidence``). Problems are collected, never thrown: each is
a row (file, sheet, row as the spreadsheet shows it, study, column, value, expected, hint); an invalid
cell is left out of the evidence, never coerced. Checks across fields are declared in the codebook
(``checks:``), so nothing here knows one review's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from .codebook import MULTI_SEPARATOR, TICK_SEPARATOR, Check, Codebook, Field, truth
from .errors import ERROR, WARNING, Problem
from .identity import row_is_about
from .model import Formula

# the column of every evidence table that holds the row's key code (the codebook's key field, e.g. a tier):
# one name whatever the key field is called, so that tables and templates read any codebook alike
KEY_COLUMN = "tier"
STUDY_COLUMNS = ["study_id", "citation", "title", "year", "doi", "status", "suggested"]
NOTES = "notes"
# a reviewer's "yes" here takes the codebook's suggested values (the defaults of the row's key code) for
# every field the row leaves blank: accepting a suggestion is one step, and the values stay the codebook's
ACCEPT = "accept_suggested"
TYPED, SUGGESTED = "typed", "suggestion accepted"
INCLUDED, DROPPED = "included", "no longer included"
CONSENSUS = "consensus"
# two reviewers' free text for one study x key is rarely worded alike, and that is no disagreement: both
# wordings stand in the evidence (unless the consensus workbook gives one), and nothing waits for a meeting
OWN_WORDS = "each reviewer's words"
# ``item``: which item of a repeatable sub-record (a study x key's first, second... lesson); "" for the row's own fields
TIDY_COLUMNS = ["study_id", "tier", "field", "value", "reviewer", "entry", "codebook_version", "item"]
AGREEMENT_COLUMNS = ["field", "type", "items_compared", "agreement", "kappa"]
DISAGREEMENT_COLUMNS = ["study_id", "tier", "field", "reviewer_a", "value_a", "reviewer_b", "value_b", "resolved_by",
                        "item"]
EVIDENCE_COLUMNS = ["study_id", "tier", "field", "value", "basis", "codebook_version", "item"]


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


def suggestion(codebook: Codebook, key: Field, code: str) -> str:
    """The codebook's defaults for a key code, as a reviewer reads them in the ``suggested`` column (labels)."""
    choice = next((c for c in key.choices if c.code == code), None)
    if choice is None:
        return ""
    parts = []
    for name, value in choice.defaults.items():
        target = codebook[name]
        values = value if isinstance(value, list) else [value]
        parts.append(f"{target.label}: " + MULTI_SEPARATOR.join(target.label_of(str(v)) for v in values))
    return " | ".join(parts)


def defaults(codebook: Codebook, key_code: str) -> dict[str, Any]:
    """The clean values the codebook suggests for a row of ``key_code`` (lists for multiple choice)."""
    key = codebook.key_fields[0] if codebook.key_fields else None
    choice = next((c for c in key.choices if c.code == key_code), None) if key else None
    if choice is None:
        return {}
    out: dict[str, Any] = {}
    for name, value in choice.defaults.items():
        target = codebook[name]
        if target.type == "multiple":
            values = value if isinstance(value, list) else [value]
            out[name] = sorted(set(map(str, values)), key=target.codes.index)
        else:
            out[name] = value
    return out


def study_rows(study: Study, codebook: Codebook) -> list[dict[str, str]]:
    """The rows a new study gets: one per suggested key value (tier), or one with the key left empty."""
    key = codebook.key_fields[0] if codebook.key_fields else None
    base = {"study_id": study.study_id, "citation": study.citation, "title": study.title, "year": study.year,
            "doi": study.doi, "status": INCLUDED}
    if key is None:
        return [base]
    codes = suggested_keys(study, key) or [""]
    return [{**base, key.name: code, "suggested": suggestion(codebook, key, code)} for code in codes]



# --- one cell ----------------------------------------------------------------------------------------


@dataclass
class Row:
    """One extraction row as read: where it is, and its valid values (lists for multiple choice)."""

    reviewer: str
    file: str
    row: int
    study_id: str
    values: dict[str, Any] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)  # fields whose value is the codebook's suggestion, accepted
    # fields held back because two rows of one reviewer for this study and key differ: {field: [values]}
    conflicts: dict[str, list[Any]] = field(default_factory=dict)
    rows: tuple[int, ...] = ()  # the sheet rows folded into this one (two studies merged into one)

    def key(self, codebook: Codebook) -> tuple[str, str]:
        key_field = codebook.key_fields[0].name if codebook.key_fields else ""
        return self.study_id, str(self.values.get(key_field, "") or "")


def did_you_mean(text: str, field: Field) -> str:
    options = list(field.codes) + list(field.labels)
    match = process.extractOne(text, options, scorer=fuzz.WRatio, score_cutoff=70)
    if not match:
        return ""
    code = field.code_for(match[0])
    return f"did you mean {code!r}?"


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# what a reviewer writes in a code's column to say "not this one", besides blank and the no words
NOT_TICKED = frozenset({"-", "\u2013", "\u2014", "."})


def ticks(raw: Mapping[str, Any], field: Field) -> tuple[list[str], list[tuple[str, Any]]]:
    """The codes ticked in a multiple choice field's columns (one per code), and the columns holding
    something that is neither a tick nor a no."""
    chosen: list[str] = []
    bad: list[tuple[str, Any]] = []
    for code, column in zip(field.codes, field.tick_columns(), strict=True):
        value = raw.get(column)
        tick = "" if isinstance(value, str) and value.strip() in NOT_TICKED else truth(value)
        if tick == "yes":
            chosen.append(code)
        elif tick is None:
            bad.append((column, value))
    return chosen, bad


def entered(raw: Mapping[str, Any], field: Field) -> bool:
    """Whether anything was typed for ``field`` (its column, or any of its code columns)."""
    return any(not blank(raw.get(name)) for name in (field.name, *field.tick_columns()))


def started(raw: Mapping[str, Any], codebook: Codebook) -> list[str]:
    """What a reviewer typed in a row beyond its study and key: the row is started when this is not empty."""
    typed = [f.name for f in codebook.fields if not f.key and entered(raw, f)]
    return typed + ([ACCEPT] if not blank(raw.get(ACCEPT)) else [])


def check_cell(value: Any, field: Field) -> tuple[Any, tuple[str, str, str] | None]:
    """(clean value or None, problem (code, expected, hint) or None) for one cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, Formula):  # sheets are read as typed, formulas as their text; typed "=..." is text
        return None, ("formula", field.describe_allowed(),
                      "a formula, not a value: type the value itself (what a formula computes is not read)")
    text = str(value).strip()
    if field.type == "single":
        code = field.code_for(text)
        if code is None and field.retired(text):
            return None, ("retired-code", field.describe_allowed(),
                          f"{field.retired(text)}: the value is kept in the sheet and not used; choose the code that "
                          "applies now")
        if code is None:
            return None, ("not-in-codebook", field.describe_allowed(), did_you_mean(text, field))
        return code, None
    if field.type == "multiple":
        parts = [p for p in (x.strip() for x in text.replace("\n", ";").replace(",", ";").split(";")) if p]
        codes: list[str] = []
        bad: list[str] = []
        for part in parts:
            code = field.code_for(part)
            (codes if code else bad).append(code or part)
        if bad:
            hint = "; ".join(h for h in (field.retired(b) or did_you_mean(b, field) for b in bad) if h)
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
        answer = truth(value)
        return (answer, None) if answer else (None, ("wrong-type", "yes or no", ""))
    if field.max_length and len(text) > field.max_length:
        return None, ("too-long", field.describe_allowed(), f"{len(text)} characters")
    return text, None


# --- rows ------------------------------------------------------------------------------------------------

Report = Callable[..., None]


# problems whose row holds a reviewer's typed work that does not count until it is mended (how much typed work a
# sheet holds counts these rows too)
HELD_BACK_ROWS = frozenset({"row-without-study", "study-id-mismatch"})


def check_rows(records: Iterable[tuple[int, Mapping[str, Any]]], reviewer: str, file: str, sheet: str,
               codebook: Codebook, included: set[str], require: bool = True,
               titles: Mapping[str, Sequence[str]] | None = None, fold: bool = True
               ) -> tuple[list[Row], list[Problem]]:
    """Rows a reviewer started (``(row number, {column: raw value})``), checked cell by cell and across
    fields; ``require=False`` for the consensus workbook, which holds only the values that settle a
    disagreement. A row nobody has started (only its study and key) is not checked yet. With ``titles``
    (study -> the titles its rows may show), a row showing another study's title (its study id overtyped)
    is held back whole: its values never move to the study whose id it now holds. ``fold=False`` for a repeat's
    sheet, where several rows of one study x key are several items, not one row typed twice."""
    rows: list[Row] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Row] = {}

    def problem(code, severity, row, column="", value="", expected="", hint="", study=""):
        problems.append(Problem(code=code, severity=severity, file=file, sheet=sheet, row=str(row), column=column,
                                value=str(value)[:200], expected=expected, hint=hint, record_id=study))

    for number, raw in records:
        study = str(raw.get("study_id") or "").strip()
        typed = started(raw, codebook)
        if not study and typed:
            problem("row-without-study", ERROR, number, "study_id", "", "the study id of an included study",
                    f"values typed here ({', '.join(typed[:3])}) belong to no study: write the study id (and the "
                    "tier) to keep them; nothing in this row was used")
            continue
        if not study or not typed:
            continue  # an empty row, or one nobody has started: nothing to check yet
        if titles is not None and study in titles and not row_is_about(str(raw.get("title") or ""), titles[study]):
            problem("study-id-mismatch", ERROR, number, "study_id", study,
                    f"the id of the study titled {str(raw.get('title'))[:80]!r}",
                    f"the row shows another study's title than {study}'s ({titles[study][0][:80]!r}): its study id "
                    "was overtyped? Nothing in this row was used, and nothing moved to the other study: write the "
                    "row's own study id back", study)
            continue
        row = Row(reviewer=reviewer, file=file, row=number, study_id=study)
        invalid = _read_values(raw, codebook, row, problem)
        _accept_suggestion(raw, codebook, row, invalid, problem)
        for f in codebook.fields:
            if f.required and require and f.name not in row.values and f.name not in invalid:
                problem("missing-required", ERROR, number, f.name, "", f.describe_allowed(), "required field", study)
        for check in codebook.checks:
            CHECKS[check.kind](row, codebook, check, problem)
        if study not in included:
            problem("unknown-study", WARNING, number, "study_id", study, "a study id of the current included studies",
                    "kept, but the study is no longer included (or the id was edited)", study)
        key = row.key(codebook)
        if key in seen and fold:
            _fold(seen[key], row, codebook, problem)
            continue
        seen[key] = row
        rows.append(row)
    return rows, problems


def _fold(first: Row, other: Row, codebook: Codebook, problem: Report) -> None:
    """A second row of one reviewer for the same study and key (typically two studies merged into one):
    its values join the first row's; a field where the two rows differ is held back from both and goes to
    the consensus workbook, so that neither value is silently dropped."""
    column = codebook.key_fields[0].name if codebook.key_fields else "study_id"
    first.rows = (*(first.rows or (first.row,)), other.row)
    differ = []
    for name, value in other.values.items():
        if name in first.conflicts:
            first.conflicts[name].append(value)
        elif name not in first.values:
            first.values[name] = value
            if name in other.accepted:
                first.accepted.add(name)
        elif shown(first.values[name]) != shown(value):
            first.conflicts[name] = [first.values.pop(name), value]
            first.accepted.discard(name)
            differ.append(name)
    if differ:
        problem("duplicate-row-differs", ERROR, other.row, column, first.key(codebook)[1],
                "one row per study and tier",
                f"rows {first.row} and {other.row} are both about {first.study_id} (two studies merged into one, or a "
                f"row copied): they differ in {', '.join(differ)}, which is held back and sent to the consensus "
                "workbook; keep one row, or settle it there", first.study_id)
    else:
        problem("duplicate-row", WARNING, other.row, column, first.key(codebook)[1], "one row per study and tier",
                f"rows {first.row} and {other.row} are both about {first.study_id} and agree: read as one row; "
                "delete one of them when convenient", first.study_id)


def _read_values(raw: Mapping[str, Any], codebook: Codebook, row: Row, problem: Report) -> set[str]:
    """Check each field's cell (and code columns) into ``row.values``; the names of the invalid fields."""
    invalid = set()
    for f in codebook.fields:
        value = raw.get(f.name)
        if f.type == "multiple":
            chosen, bad = ticks(raw, f)
            for column, mark in bad:
                problem("not-a-tick", ERROR, row.row, column, mark, "x to choose this code, or blank",
                        f"{f.name} is left out of the evidence until this cell is x or blank", row.study_id)
            for code, why in f.retired_codes:
                column = f"{f.name}{TICK_SEPARATOR}{code}"
                if truth(raw.get(column)) == "yes":
                    problem("retired-code", WARNING, row.row, column, raw.get(column), f.describe_allowed(),
                            f"{why}: the tick is kept aside and not used; tick the code that applies now",
                            row.study_id)
            if bad:  # which codes were meant is unknown: the field is left out, as any invalid cell
                invalid.add(f.name)
                continue
            if chosen:  # ticked codes and codes typed in the field's own column (older sheets, CSV) together
                value = MULTI_SEPARATOR.join([*([str(value)] if not blank(value) else []), *chosen])
        clean, issue = check_cell(value, f)
        if issue:
            code, expected, hint = issue
            problem(code, ERROR, row.row, f.name, value, expected, hint or "left out of the evidence", row.study_id)
            invalid.add(f.name)
        elif clean is not None:
            row.values[f.name] = clean
    return invalid


def _accept_suggestion(raw: Mapping[str, Any], codebook: Codebook, row: Row, invalid: set[str],
                       problem: Report) -> None:
    """``accept_suggested`` = yes: the key code's suggested values fill the fields the row leaves blank
    (never one the reviewer typed, valid or not)."""
    value = raw.get(ACCEPT)
    answer = truth(value)
    if answer is None:
        problem("wrong-type", ERROR, row.row, ACCEPT, value, "yes or blank", "no suggestion was taken", row.study_id)
    if answer != "yes":
        return
    key = row.values.get(codebook.key_fields[0].name) if codebook.key_fields else None
    suggested = defaults(codebook, str(key)) if key else {}
    if not suggested:
        problem("no-suggestion", WARNING, row.row, ACCEPT, value, "a row whose tier has suggested values",
                f"the codebook suggests nothing for {key or 'a row without a tier'}; fill the fields by hand",
                row.study_id)
    for name, default in suggested.items():
        if name not in row.values and name not in invalid:
            row.values[name] = default
            row.accepted.add(name)


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
        if end < first - check.slack or (last is not None and start > last + check.slack):
            span = f"{first}-{last}" if last is not None else f"{first} onwards"
            problem("period-outside-tier", WARNING, row.row, check.first, f"{start}-{end}",
                    f"years around {span}, when {choice.code} existed", "check the tier or the period",
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

