"""Stage: screening. Decisions from Zotero tags and screening workbooks, resolved per dedup group.

Two stages, title/abstract then full text. A decision on any copy of a study counts for the study
(its dedup group); contradictory decisions (on copies, or by two reviewers) are conflicts, listed for
the team and settled in ``extracts/screening-consensus.xlsx``, whose decisions win. ``maybe`` counts
as not yet decided. Studies included after full text are the ones the extraction sheets get.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from rapidfuzz import process

from .errors import ERROR, WARNING, Problem
from .evidence import cohen_kappa
from .fileio import write_csv
from .sheets import citation
from .workbook import WorkbookBusy, neutralise, open_for_update, read_only, save

log = logging.getLogger(__name__)

TA, FT = "title_abstract", "full_text"
STAGES = (TA, FT)
SHEETS = {TA: "title-abstract", FT: "full-text"}
INCLUDE, EXCLUDE, MAYBE, NOT_RETRIEVED = "include", "exclude", "maybe", "not-retrieved"
ALLOWED = {TA: (INCLUDE, EXCLUDE, MAYBE), FT: (INCLUDE, EXCLUDE, MAYBE, NOT_RETRIEVED)}
CONSENSUS = "consensus"
STUDY_COLUMNS = ["study_id", "citation", "year", "title", "abstract", "container"]
INPUT_COLUMNS = ["decision", "reason", "notes"]
DECISION_COLUMNS = ["study_id", "stage", "decision", "reason", "reviewer", "origin"]
SCREENING_COLUMNS = ["study_id", "ta_decision", "ta_reason", "ta_basis", "ft_decision", "ft_reason", "ft_basis",
                     "status"]
CONFLICT_COLUMNS = ["study_id", "stage", "decisions", "resolved_by"]
AGREEMENT_COLUMNS = ["stage", "reviewer_a", "reviewer_b", "items_compared", "agreement", "kappa"]


@dataclass(frozen=True)
class Decision:
    study_id: str
    stage: str
    decision: str
    reason: str
    reviewer: str
    origin: str  # "zotero tag on <record id>" or "<file> row <n>"


@dataclass(frozen=True)
class Settings:
    reviewers: tuple[str, ...]
    reasons: dict[str, str]
    criteria: tuple[str, ...]
    key_terms: tuple[str, ...]
    prefixes: dict[str, str]
    folder: Path

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        screening = config.get("screening", {})
        reviewers = screening.get("reviewers")
        tags = screening.get("tags", {})
        return cls(
            reviewers=tuple(config.get("reviewers", []) if reviewers is None else reviewers),
            reasons={r["code"]: r["label"] for r in screening.get("exclusion_reasons", [])},
            criteria=tuple(screening.get("inclusion_criteria", [])),
            key_terms=tuple(screening.get("key_terms", [])),
            prefixes={TA: tags.get("title_abstract", "screen:"), FT: tags.get("full_text", "fulltext:")},
            folder=Path(config.get("extraction", {}).get("folder", "extracts")),
        )


# --- decisions from tags ---------------------------------------------------------------------------


def _reason_problem(reason: str, settings: Settings) -> str:
    match = process.extractOne(reason, list(settings.reasons), score_cutoff=60)
    return f"did you mean {match[0]!r}?" if match else ""


def parse_tag(tag: str, settings: Settings) -> tuple[str, str, str] | tuple[str, None, str] | None:
    """``screen:exclude:not-tier`` -> (stage, decision, reason); ``None`` if not a screening tag;
    (stage, None, why) for a screening tag that cannot be read."""
    text = tag.strip()
    for stage, prefix in settings.prefixes.items():
        if not text.lower().startswith(prefix.lower()):
            continue
        decision, _, reason = text[len(prefix):].strip().partition(":")
        decision, reason = decision.strip().lower(), reason.strip().lower()
        if decision not in ALLOWED[stage]:
            return stage, None, f"{decision!r} is not one of {', '.join(ALLOWED[stage])}"
        if decision == EXCLUDE:
            if not reason:
                return stage, None, "an exclusion needs a reason code: " + ", ".join(settings.reasons)
            if settings.reasons and reason not in settings.reasons:
                return stage, None, f"unknown reason {reason!r}; {_reason_problem(reason, settings)}".strip("; ")
        return stage, decision, reason
    return None


def tag_decisions(records: pd.DataFrame, group_of: dict[str, str], settings: Settings
                  ) -> tuple[list[Decision], list[Problem]]:
    decisions, problems = [], []
    for row in records[["record_id", "tags"]].itertuples(index=False):
        for tag in (t for t in row.tags.split("; ") if t):
            parsed = parse_tag(tag, settings)
            if parsed is None:
                continue
            stage, decision, reason = parsed
            if decision is None:
                problems.append(Problem(code="bad-screening-tag", severity=ERROR, file="zotero tags", row=row.record_id,
                                        column="tags", value=tag, expected=f"{settings.prefixes[stage]}include, "
                                        f"{settings.prefixes[stage]}exclude:<reason>, {settings.prefixes[stage]}maybe",
                                        hint=reason, record_id=row.record_id))
                continue
            decisions.append(Decision(group_of.get(row.record_id, row.record_id), stage, decision, reason, "zotero",
                                      f"tag on {row.record_id}"))
    return decisions, problems


# --- workbooks -----------------------------------------------------------------------------------------


def workbook_path(folder: Path, reviewer: str) -> Path:
    return folder / f"screening-{reviewer}.xlsx"


def _new_workbook(settings: Settings) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    for r, code in enumerate(settings.reasons, start=1):
        lists.cell(row=r, column=1, value=code)
    for stage in STAGES:
        ws = wb.create_sheet(SHEETS[stage])
        ws.append(STUDY_COLUMNS + INPUT_COLUMNS)
        for k, name in enumerate(STUDY_COLUMNS + INPUT_COLUMNS, start=1):
            cell = ws.cell(row=1, column=k)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E2EFDA" if name in INPUT_COLUMNS else "D9D9D9")
            ws.column_dimensions[get_column_letter(k)].width = {"title": 60, "abstract": 90, "notes": 30,
                                                               "study_id": 20, "citation": 22}.get(name, 12)
        decision_col = get_column_letter(len(STUDY_COLUMNS) + 1)
        reason_col = get_column_letter(len(STUDY_COLUMNS) + 2)
        choices = ",".join(ALLOWED[stage])
        dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=True,
                            promptTitle="Decision", prompt=f"{choices}. maybe = not yet decided.")
        dv.add(f"{decision_col}2:{decision_col}20000")
        ws.add_data_validation(dv)
        if settings.reasons:
            reasons = DataValidation(type="list", allow_blank=True, showErrorMessage=True,
                                     formula1=f"{quote_sheetname('lists')}!$A$1:$A${len(settings.reasons)}",
                                     promptTitle="Exclusion reason", prompt="Required when the decision is exclude.")
            reasons.add(f"{reason_col}2:{reason_col}20000")
            ws.add_data_validation(reasons)
        highlight = PatternFill("solid", fgColor="FFF2CC")
        for term in settings.key_terms:
            safe = term.replace('"', '""')
            ws.conditional_formatting.add("D2:E20000", FormulaRule(
                formula=[f'ISNUMBER(SEARCH("{safe}",D2))'], fill=highlight))
        ws.freeze_panes = "B2"
        ws.protection.sheet = True
        for option in ("formatColumns", "formatRows", "sort", "autoFilter", "formatCells"):
            setattr(ws.protection, option, False)
    criteria = wb.create_sheet("criteria")
    criteria.append(["Inclusion criteria"])
    for text in settings.criteria:
        criteria.append([text])
    criteria.append([])
    criteria.append(["Exclusion reason code", "Reason"])
    for code, label in settings.reasons.items():
        criteria.append([code, label])
    criteria.column_dimensions["A"].width = 40
    criteria.column_dimensions["B"].width = 80
    return wb


def _append(ws, rows: list[dict[str, str]]) -> None:
    number = max([1] + [c.row for c in ws["A"] if c.value not in (None, "")]) + 1
    for row in rows:
        for k, name in enumerate(STUDY_COLUMNS + INPUT_COLUMNS, start=1):
            value = row.get(name, "")
            cell = ws.cell(row=number, column=k, value=neutralise(value) if value else None)
            if isinstance(cell.value, str):
                cell.data_type = "s"
            locked = name in STUDY_COLUMNS
            cell.protection = Protection(locked=locked)
            if locked:
                cell.alignment = Alignment(wrap_text=name in ("title", "abstract"), vertical="top")
        number += 1


def update_workbook(path: Path, settings: Settings, wanted: dict[str, list[dict[str, str]]]) -> int:
    """Append rows for studies not yet on each stage's sheet; returns rows appended. Never edits a row."""
    workbook = open_for_update(path)
    if workbook is None:
        workbook = _new_workbook(settings)
    appended = 0
    for stage, rows in wanted.items():
        ws = workbook[SHEETS[stage]]
        present = {str(c.value) for c in ws["A"][1:] if c.value not in (None, "")}
        new = [r for r in rows if r["study_id"] not in present]
        _append(ws, new)
        appended += len(new)
    if appended or not path.exists():
        save(workbook, path)
    return appended


def _stage_rows(workbook) -> Any:
    """(stage, header index, row number as the spreadsheet shows it, values) for each sheet's rows."""
    for stage in STAGES:
        if SHEETS[stage] not in workbook.sheetnames:
            continue
        rows = workbook[SHEETS[stage]].iter_rows(values_only=True)
        index = {str(h or ""): k for k, h in enumerate(next(rows, ()))}
        for number, values in enumerate(rows, start=2):
            yield stage, index, number, values


def _cell(values: tuple, index: dict[str, int], name: str) -> str:
    k = index.get(name)
    return str(values[k]).strip() if k is not None and k < len(values) and values[k] is not None else ""


def _workbook_problem(problems: list[Problem], path: Path, sheet: str, number: int, study: str, code: str,
                      column: str, value: str, expected: str, hint: str = "") -> None:
    problems.append(Problem(code=code, severity=ERROR, file=str(path), sheet=sheet, row=str(number), column=column,
                            value=value, expected=expected, hint=hint or "the decision was not used", record_id=study))


def read_workbook(path: Path, reviewer: str, settings: Settings, known: set[str]
                  ) -> tuple[list[Decision], list[Problem]]:
    decisions, problems = [], []
    try:
        workbook = read_only(path)
    except WorkbookBusy as exc:
        return [], [Problem(code="unreadable-workbook", severity=ERROR, file=str(path), value=str(exc),
                            expected="a readable .xlsx workbook", hint="its decisions were not used")]
    if workbook is None:
        return [], []
    try:
        for stage, index, number, values in _stage_rows(workbook):
            study, raw = _cell(values, index, "study_id"), _cell(values, index, "decision").lower()
            if not study or not raw:
                continue
            reason = _cell(values, index, "reason").lower()
            problem = partial(_workbook_problem, problems, path, SHEETS[stage], number, study)

            if raw not in ALLOWED[stage]:
                problem("not-a-decision", "decision", raw, " or ".join(ALLOWED[stage]))
                continue
            if raw == EXCLUDE and not reason:
                problem("missing-reason", "reason", "", "an exclusion reason code: " + ", ".join(settings.reasons))
                continue
            if raw == EXCLUDE and settings.reasons and reason not in settings.reasons:
                problem("unknown-reason", "reason", reason, ", ".join(settings.reasons),
                        _reason_problem(reason, settings))
                continue
            if study not in known:
                problems.append(Problem(code="unknown-study", severity=WARNING, file=str(path),
                                        sheet=SHEETS[stage], row=str(number), column="study_id", value=study,
                                        expected="a study id of the current unique records",
                                        hint="the decision applies to no current study", record_id=study))
                continue
            decisions.append(Decision(study, stage, raw, reason if raw == EXCLUDE else "", reviewer,
                                      f"{path} row {number}"))
    finally:
        workbook.close()
    return decisions, problems


# --- resolution ------------------------------------------------------------------------------------


@dataclass
class Resolved:
    decision: str  # include / exclude / not-retrieved / "" (awaiting) / "conflict"
    reason: str
    basis: str  # consensus, agreed, single, awaiting, conflict


def resolve(decisions: list[Decision]) -> Resolved:
    """One study's decisions at one stage -> the outcome. Consensus wins; maybe is no decision."""
    consensus = [d for d in decisions if d.reviewer == CONSENSUS and d.decision != MAYBE]
    if consensus:
        return Resolved(consensus[-1].decision, consensus[-1].reason, CONSENSUS)
    definite = [d for d in decisions if d.decision != MAYBE]
    if not definite:
        return Resolved("", "", "awaiting")
    kinds = {d.decision for d in definite}
    if len(kinds) > 1:
        return Resolved("conflict", "", "conflict")
    decision = kinds.pop()
    reasons = Counter(d.reason for d in definite if d.reason)
    reason = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[0][0] if reasons else ""
    return Resolved(decision, reason, "agreed" if len({d.reviewer for d in definite}) > 1 else "single")


@dataclass
class Outcome:
    table: list[dict[str, str]]
    decisions: list[Decision]
    conflicts: list[dict[str, str]]
    agreement: list[dict[str, str]]
    problems: list[Problem]

    def included(self) -> list[str]:
        return [r["study_id"] for r in self.table if r["status"] == "included"]


def status_of(ta: Resolved, ft: Resolved) -> str:
    if ta.decision in ("", "conflict"):
        return "awaiting screening"
    if ta.decision == EXCLUDE:
        return "excluded at title/abstract"
    if ft.decision in ("", "conflict"):
        return "awaiting full text"
    if ft.decision == NOT_RETRIEVED:
        return "not retrieved"
    if ft.decision == EXCLUDE:
        return "excluded at full text"
    return "included"


def agreement(decisions: list[Decision]) -> list[dict[str, str]]:
    rows = []
    for stage in STAGES:
        by_reviewer: dict[str, dict[str, str]] = defaultdict(dict)
        for d in decisions:
            if d.stage == stage and d.reviewer not in ("zotero", CONSENSUS) and d.decision != MAYBE:
                by_reviewer[d.reviewer][d.study_id] = d.decision
        for a, b in combinations(sorted(by_reviewer), 2):
            common = sorted(set(by_reviewer[a]) & set(by_reviewer[b]))
            if not common:
                continue
            pairs = [(by_reviewer[a][s], by_reviewer[b][s]) for s in common]
            kappa = cohen_kappa(pairs)
            rows.append({"stage": stage, "reviewer_a": a, "reviewer_b": b, "items_compared": len(pairs),
                         "agreement": f"{sum(x == y for x, y in pairs) / len(pairs):.3f}",
                         "kappa": "" if kappa is None else f"{kappa:.3f}"})
    return rows


def screen(studies: list[str], decisions: list[Decision]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Resolve every study at both stages; full-text decisions count only for title/abstract inclusions."""
    by: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for d in decisions:
        by[(d.study_id, d.stage)].append(d)
    table, conflicts = [], []
    for study in studies:
        ta = resolve(by[(study, TA)])
        ft = resolve(by[(study, FT)]) if ta.decision == INCLUDE else Resolved("", "", "")
        for stage, outcome in ((TA, ta), (FT, ft)) if ta.decision == INCLUDE else ((TA, ta),):
            clashing = [d for d in by[(study, stage)] if d.decision != MAYBE and d.reviewer != CONSENSUS]
            if len({d.decision for d in clashing}) > 1:
                conflicts.append({"study_id": study, "stage": stage,
                                  "decisions": "; ".join(sorted(f"{d.reviewer}: {d.decision}"
                                                                + (f" ({d.reason})" if d.reason else "")
                                                                for d in clashing)),
                                  "resolved_by": CONSENSUS if outcome.basis == CONSENSUS else ""})
        table.append({"study_id": study, "ta_decision": ta.decision, "ta_reason": ta.reason, "ta_basis": ta.basis,
                      "ft_decision": ft.decision, "ft_reason": ft.reason, "ft_basis": ft.basis,
                      "status": status_of(ta, ft)})
    return table, conflicts


def _study_rows(unique: pd.DataFrame) -> dict[str, dict[str, str]]:
    return {row["group"]: {"study_id": row["group"], "citation": citation(row["authors"], row["year"]),
                           "year": row["year"], "title": row["title"], "abstract": row["abstract"][:5000],
                           "container": row["container"]}
            for row in unique.to_dict("records")}


def run_stage(config: dict[str, Any], records_csv: Path, groups_csv: Path, unique_csv: Path, out_dir: Path) -> Outcome:
    settings = Settings.from_config(config)
    records = pd.read_csv(records_csv, dtype=str, keep_default_na=False)
    groups = pd.read_csv(groups_csv, dtype=str, keep_default_na=False)
    unique = pd.read_csv(unique_csv, dtype=str, keep_default_na=False)
    group_of = dict(zip(groups["record_id"], groups["group"]))
    studies = sorted(unique["group"])
    known = set(studies)
    decisions, problems = tag_decisions(records, group_of, settings)
    for reviewer in [*settings.reviewers, CONSENSUS]:
        path = workbook_path(settings.folder, reviewer)
        found, issues = read_workbook(path, reviewer, settings, known)
        decisions += found
        problems += issues
    decisions.sort(key=lambda d: (d.study_id, STAGES.index(d.stage), d.reviewer, d.origin))
    table, conflicts = screen(studies, decisions)
    outcome = Outcome(table, decisions, conflicts, agreement(decisions), problems)

    rows = _study_rows(unique)
    ta_included = [r["study_id"] for r in table if r["ta_decision"] == INCLUDE]
    for reviewer in settings.reviewers:
        path = workbook_path(settings.folder, reviewer)
        try:
            added = update_workbook(path, settings, {TA: [rows[s] for s in studies],
                                                     FT: [rows[s] for s in ta_included]})
            if added:
                log.info("%s: %d rows appended", path, added)
        except WorkbookBusy as exc:
            problems.append(Problem(code="unreadable-workbook", severity=WARNING, file=str(path), value=str(exc),
                                    expected="a closed, readable workbook", hint="new rows will be added next time"))
    open_conflicts = [c for c in conflicts if not c["resolved_by"]]
    if open_conflicts:
        wanted = {stage: [rows[c["study_id"]] | {"notes": c["decisions"]} for c in open_conflicts
                          if c["stage"] == stage] for stage in STAGES}
        try:
            update_workbook(workbook_path(settings.folder, CONSENSUS), settings, wanted)
        except WorkbookBusy as exc:
            problems.append(Problem(code="unreadable-workbook", severity=WARNING, file=str(exc), value=str(exc),
                                    expected="a closed, readable workbook", hint="conflicts not added this time"))

    write_csv(out_dir / "decisions.csv", DECISION_COLUMNS, (d.__dict__ for d in decisions))
    write_csv(out_dir / "screening.csv", SCREENING_COLUMNS, table)
    write_csv(out_dir / "conflicts.csv", CONFLICT_COLUMNS, conflicts)
    write_csv(out_dir / "agreement.csv", AGREEMENT_COLUMNS, outcome.agreement)
    write_csv(out_dir / "included.csv", ["study_id"], ({"study_id": s} for s in outcome.included()))
    write_csv(out_dir / "issues.csv", Problem.columns(), (p.as_row() for p in problems))
    for p in problems:
        (log.error if p.severity == ERROR else log.warning)("%s", p.describe())
    return outcome


def read_included(path: Path) -> set[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["study_id"] for row in csv.DictReader(handle)}


def decisions_digest(config: dict[str, Any]) -> str:
    """A digest of the decisions typed in the screening workbooks (not of rows the pipeline appends):
    a parameter of the screening rule, so a decision reruns it and appended rows do not."""
    import hashlib

    settings = Settings.from_config(config)
    digest = hashlib.sha256()
    for reviewer in [*settings.reviewers, CONSENSUS]:
        path = workbook_path(settings.folder, reviewer)
        if not path.exists():
            continue
        try:
            workbook = read_only(path)
        except WorkbookBusy:
            digest.update(f"{reviewer}:unreadable".encode())
            continue
        try:
            for stage, index, _, values in _stage_rows(workbook):
                picked = [_cell(values, index, name) for name in ("study_id", "decision", "reason")]
                if picked[1] or picked[2]:
                    digest.update(repr((reviewer, stage, picked)).encode())
        finally:
            workbook.close()
    return digest.hexdigest()[:16]
