"""Stage ``screen_records``: decisions from Zotero tags and screening workbooks, resolved per study.

Reads the records' tags and every reviewer's screening workbook (and the consensus workbook), resolves
each study at title/abstract and full text, writes the decisions, outcomes, conflicts, agreement and the
included studies; then appends rows for new studies to the reviewers' workbooks and open conflicts to
the consensus workbook.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from .. import screening
from ..citations import citations
from ..errors import ERROR, WARNING, Problem
from ..fileio import read_frame, write_csv
from ..screening import CONSENSUS, FT, INCLUDE, STAGES, TA, Outcome, Settings
from ..workbooks import changes as cell_changes
from ..workbooks import screening as sheets
from ..workbooks.base import WorkbookError, unreadable
from .common import stop

log = logging.getLogger(__name__)

CONFIG_KEYS = ("screening", "reviewers", "extraction")
INPUTS = {"records": "results/records/records.csv", "groups": "results/dedup/groups.csv",
          "unique": "results/dedup/unique_records.csv", "ids": "results/dedup/ids.csv"}
OUTPUTS = {"decisions": "results/screening/decisions.csv", "screening": "results/screening/screening.csv",
           "conflicts": "results/screening/conflicts.csv", "agreement": "results/screening/agreement.csv",
           "included": "results/screening/included.csv", "issues": "results/screening/issues.csv"}
DECISION_COLUMNS = ["study_id", "stage", "decision", "reason", "reviewer", "origin"]
SCREENING_COLUMNS = ["study_id", "ta_decision", "ta_reason", "ta_basis", "ft_decision", "ft_reason", "ft_basis",
                     "status"]
CONFLICT_COLUMNS = ["study_id", "stage", "decisions", "resolved_by"]
AGREEMENT_COLUMNS = ["stage", "reviewer_a", "reviewer_b", "items_compared", "agreement", "kappa"]


def _study_rows(unique: pd.DataFrame) -> dict[str, dict[str, str]]:
    cite = citations(unique.to_dict("records"))  # type: ignore[arg-type]  # str columns
    return {row["study_id"]: {"study_id": row["study_id"], "citation": cite[row["study_id"]],
                           "year": row["year"], "title": row["title"], "abstract": row["abstract"][:5000],
                           "container": row["container"]}
            for row in unique.to_dict("records")}


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> Outcome:
    settings = Settings.from_config(config)
    records = read_frame(inputs["records"])
    groups = read_frame(inputs["groups"])
    unique = read_frame(inputs["unique"])
    group_of = dict(zip(groups["record_id"], groups["study_id"]))
    studies = sorted(unique["study_id"])
    known = set(studies)
    decisions, problems = screening.tag_decisions(zip(records["record_id"], records["tags"]), group_of, settings)
    ids = cell_changes.Ids.read(inputs.get("ids"))
    for reviewer in [*settings.reviewers, CONSENSUS]:
        path = sheets.workbook_path(settings.folder, reviewer)
        try:
            # decisions follow their study when it was merged into another (or typed as a record id)
            followed = cell_changes.follow_ids(path, list(sheets.SHEETS.values()), ["study_id"], ids)
            cell_changes.record(settings.folder, followed)
            if followed:
                log.info("%s: %d study ids followed to the study they are now (see %s)", path, len(followed),
                         cell_changes.log_path(settings.folder))
            found, issues = sheets.read_decisions(path, reviewer, settings, known)
        except WorkbookError as exc:
            raise stop(outputs["issues"], problems, path, exc, f"{reviewer}'s screening decisions") from exc
        decisions += found
        problems += issues
    decisions.sort(key=lambda d: (d.study_id, STAGES.index(d.stage), d.reviewer, d.origin))
    table, conflicts = screening.screen(studies, decisions)
    outcome = Outcome(table, decisions, conflicts, screening.agreement(decisions), problems)

    rows = _study_rows(unique)
    ta_included = [r["study_id"] for r in table if r["ta_decision"] == INCLUDE]
    for reviewer in settings.reviewers:
        path = sheets.workbook_path(settings.folder, reviewer)
        try:
            added = sheets.append_studies(path, settings, {TA: [rows[s] for s in studies],
                                                           FT: [rows[s] for s in ta_included]})
            if added:
                log.info("%s: %d rows appended", path, added)
        except WorkbookError as exc:
            problems.append(unreadable(path, exc, "new rows will be added next time", WARNING,
                                       "a closed, readable workbook"))
    open_conflicts = [c for c in conflicts if not c["resolved_by"]]
    if open_conflicts:
        wanted = {stage: [rows[c["study_id"]] | {"notes": c["decisions"]} for c in open_conflicts
                          if c["stage"] == stage] for stage in STAGES}
        path = sheets.workbook_path(settings.folder, CONSENSUS)
        try:
            sheets.append_studies(path, settings, wanted)
        except WorkbookError as exc:
            problems.append(unreadable(path, exc, "conflicts not added this time", WARNING,
                                       "a closed, readable workbook"))

    write_csv(outputs["decisions"], DECISION_COLUMNS, (d.__dict__ for d in decisions))
    write_csv(outputs["screening"], SCREENING_COLUMNS, table)
    write_csv(outputs["conflicts"], CONFLICT_COLUMNS, conflicts)
    write_csv(outputs["agreement"], AGREEMENT_COLUMNS, outcome.agreement)
    write_csv(outputs["included"], ["study_id"], ({"study_id": s} for s in outcome.included()))
    write_csv(outputs["issues"], Problem.columns(), (p.as_row() for p in problems))
    for p in problems:
        (log.error if p.severity == ERROR else log.warning)("%s", p.describe())
    return outcome
