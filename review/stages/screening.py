"""Stage ``screen_records``: decisions from Zotero tags and screening workbooks, resolved per study.

Reads the records' tags and every reviewer's screening workbook (and the consensus workbook), resolves
each study at title/abstract and full text, writes the decisions, outcomes, conflicts, agreement and the
included studies; then appends rows for new studies to the reviewers' workbooks and open conflicts to
the consensus workbook.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import screening, stopping
from ..citations import citations
from ..errors import ERROR, WARNING, Problem
from ..fileio import frame_rows, kept_arrays, read_frame, write_csv
from ..ranking import Model, Prioritisation, features_key, rank_studies
from ..screening import CONSENSUS, EXCLUDE, FT, INCLUDE, STAGES, STOPPED, TA, Decision, Outcome, Settings
from ..team import Team
from ..workbooks import changes as cell_changes
from ..workbooks import order as screening_order
from ..workbooks import registry
from ..workbooks import screening as sheets
from ..workbooks.base import WorkbookError, unreadable
from ..workbooks.screening_layout import SHEETS
from .common import CITATION_COLUMNS, stop

log = logging.getLogger(__name__)

CONFIG_KEYS = ("screening", "reviewers", "extraction", "former_reviewers")
INPUTS = {"records": "results/records/records.csv", "groups": "results/dedup/groups.csv",
          "unique": "results/dedup/unique_records.csv", "ids": "results/dedup/ids.csv"}
OUTPUTS = {"decisions": "results/screening/decisions.csv", "screening": "results/screening/screening.csv",
           "conflicts": "results/screening/conflicts.csv", "agreement": "results/screening/agreement.csv",
           "included": "results/screening/included.csv", "ranking": "results/screening/ranking.csv",
           "prioritisation": "results/screening/prioritisation.csv", "issues": "results/screening/issues.csv"}
# the last TF-IDF matrix, beside the ranking (not an output: a cache the stage may drop at any time)
FEATURES = ".features.npz"
DECISION_COLUMNS = ["study_id", "stage", "decision", "reason", "reviewer", "origin"]
SCREENING_COLUMNS = ["study_id", "ta_decision", "ta_reason", "ta_basis", "ft_decision", "ft_reason", "ft_basis",
                     "status"]
CONFLICT_COLUMNS = ["study_id", "stage", "decisions", "resolved_by"]
AGREEMENT_COLUMNS = ["stage", "reviewer_a", "reviewer_b", "items_compared", "agreement", "kappa", "screened_by_one"]
RANKING_COLUMNS = ["study_id", "rank", "score", "ta_decision"]
SUMMARY_COLUMNS = ["measure", "value"]


@dataclass
class Prioritised:
    """What prioritisation gives one refresh: the ranking, the stopping estimate, the lines for the workbooks."""

    ranking: dict[str, tuple[int, float]]
    estimate: stopping.Estimate | None
    summary: list[dict[str, Any]]
    guide: list[str]


def _features(model: Model, texts: list[str], cache: Path) -> Any:
    """The TF-IDF matrix of ``texts``: the one kept in ``cache`` when it was made from the same texts (a
    refresh where only decisions changed: 7 s saved at 50,000 studies), else computed and kept."""
    import numpy as np
    from scipy import sparse

    def compute() -> dict[str, Any]:
        matrix = model.features(texts).tocsr()
        return {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr,
                "shape": np.array(matrix.shape)}

    kept = kept_arrays(cache, features_key(texts, model), compute)
    return sparse.csr_matrix((kept["data"], kept["indices"], kept["indptr"]), shape=tuple(kept["shape"]))


def _prioritise(plan: Prioritisation, rows: dict[str, dict[str, str]], table: list[dict[str, str]],
                decisions: list[Decision], folder: Path, problems: list[Problem], cache: Path) -> Prioritised:
    """Rank the studies from the title/abstract decisions so far, log the order they were decided in, test
    whether it is safe to stop; mark the studies never screened when the team has stopped."""
    studies = [r["study_id"] for r in table]
    labels = {r["study_id"]: int(r["ta_decision"] == INCLUDE) for r in table if r["ta_decision"] in (INCLUDE, EXCLUDE)}
    path = screening_order.order_path(folder)
    logged = screening_order.read(path)  # WorkbookError if damaged: the caller stops the stage
    shown: dict[str, int] = {}
    for d in decisions:  # the rank a row showed when it was decided: the order it was most likely screened in
        if d.stage == TA and d.rank is not None:
            shown[d.study_id] = min(d.rank, shown.get(d.study_id, d.rank))
    new = stopping.extend_order(logged, labels, shown)
    screening_order.append(path, len(logged), new, shown)
    position = {s: k for k, s in enumerate(studies)}
    texts = [plan.model.document(rows[s]["title"], rows[s]["abstract"]) for s in studies]
    known = {position[s]: y for s, y in labels.items()}
    features = _features(plan.model, texts, cache) if len(set(known.values())) == 2 else None
    scored = rank_studies(texts, known, plan.model, features)
    ranking = {studies[i]: value for i, value in scored.items()}
    sequence = [labels[s] for s in [*logged, *new] if s in labels]
    estimate = stopping.estimate(sequence, len(studies), plan.target, plan.confidence) if studies else None
    touched = {d.study_id for d in decisions if d.stage == TA}
    not_screened = 0
    if plan.stopped:
        for row in table:
            if row["ta_decision"] == "" and row["study_id"] not in touched:
                row["status"], row["ta_basis"], not_screened = STOPPED, "stopping rule", not_screened + 1
        if estimate is not None and not estimate.safe_to_stop:
            problems.append(Problem(
                code="stopped-before-target", severity=WARNING, file="protocols/review.yaml",
                column="screening.prioritisation.stopped", value=plan.stopped,
                expected=f"p < {1 - plan.confidence:.2f} for recall of at least {plan.target:.0%}",
                hint=f"the stopping test gives p = {estimate.p:.3f}: the report says screening stopped before the "
                     "target was shown to be reached"))
    included = sum(labels.values())
    summary = [{"measure": k, "value": v} for k, v in (
        ("model", plan.model.describe()), ("trained_on_included", included if ranking else 0),
        ("trained_on_excluded", len(labels) - included if ranking else 0), ("studies", len(studies)),
        ("screened", len(labels)), ("found", included), ("target_recall", plan.target),
        ("confidence", plan.confidence), ("p_value", f"{estimate.p:.4f}" if estimate else ""),
        ("most_remaining", estimate.remaining if estimate else ""),
        ("safe_to_stop", "yes" if estimate and estimate.safe_to_stop else "no"),
        ("stopped_on", plan.stopped), ("stop_note", plan.note), ("not_screened", not_screened),
        ("sentence", estimate.sentence() if estimate else ""))]
    return Prioritised(ranking, estimate, summary, guide(plan, ranking, estimate, included, len(labels), not_screened))


def guide(plan: Prioritisation, ranking: dict[str, tuple[int, float]], estimate: stopping.Estimate | None,
          included: int, screened: int, not_screened: int) -> list[str]:
    """The screening workbooks' instructions sheet."""
    lines = ["Screening prioritisation", ""]
    if ranking:
        lines += ["The rows nobody has decided yet are sorted by rank: 1 is the study most likely to be included, as "
                  "learned from the title/abstract decisions made so far (both reviewers; consensus wins; maybe is "
                  "not a decision). Work from the top. A row you have typed in never moves.",
                  f"Model: {plan.model.describe()}; trained on {included} included and {screened - included} "
                  "excluded studies at the last refresh.",
                  "Score: the model's relevance score (higher is more likely to be included); it is not a probability."]
    else:
        lines += ["No ranking yet: the model needs at least one included and one excluded title/abstract decision. "
                  "Until then new rows are added at the end."]
    if estimate is not None:
        lines += ["", f"Progress: {estimate.screened} of {estimate.total} studies screened at title/abstract; "
                  f"{estimate.found} included so far.", f"When to stop: {estimate.sentence()}",
                  f"The test is Callaghan & Mueller-Hansen's (2020) hypergeometric test, for recall of at least "
                  f"{plan.target:.0%} with {plan.confidence:.0%} confidence (the protocol's "
                  "screening.prioritisation). It assumes the rows are screened from the top."]
    lines += ["", "The tool never stops screening on its own: to stop, the team records the date under "
              "screening.prioritisation.stopped in the protocol."]
    if plan.stopped:
        lines += [f"Screening stopped on {plan.stopped}{': ' + plan.note if plan.note else ''}. The {not_screened} "
                  "studies not screened are counted in PRISMA 2020 as marked ineligible by automation tools."]
    return lines


def _check_team(team: Team, settings: Settings, known: set[str], issues: Path, problems: list[Problem]) -> None:
    """A screening workbook with decisions whose reviewer is not on the team, past or present, stops the stage:
    dropping a name from ``reviewers:`` must not silently drop their decisions."""
    files = registry.reviewers_files(settings.folder, "screening-", ".xlsx", [CONSENSUS])
    found = registry.unlisted_with_work(files, team.readers, lambda name, path: len(
        sheets.read_decisions(path, name, settings, known)[0]), "screening decisions")
    if found is not None:
        name, path, error = found
        raise stop(issues, problems, path, error, f"{name}'s screening decisions")


def _study_rows(unique: pd.DataFrame) -> dict[str, dict[str, str]]:
    rows = frame_rows(unique)
    cite = citations(rows)
    return {row["study_id"]: {"study_id": row["study_id"], "citation": cite[row["study_id"]],
                           "year": row["year"], "title": row["title"], "abstract": row["abstract"][:5000],
                           "container": row["container"]}
            for row in rows}


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> Outcome:
    settings = Settings.from_config(config)
    records = read_frame(inputs["records"], ["record_id", "tags", "title"])
    groups = read_frame(inputs["groups"])
    unique = read_frame(inputs["unique"], [*CITATION_COLUMNS, "abstract", "container"])  # what a sheet shows
    group_of = dict(zip(groups["record_id"], groups["study_id"]))
    studies = sorted(unique["study_id"])
    known = set(studies)
    decisions, problems = screening.tag_decisions(zip(records["record_id"], records["tags"]), group_of, settings)
    ids = cell_changes.Ids.read(inputs.get("ids"))
    team = Team.from_config(config, "screening")
    # every title of a study's records, which a row of it may show; not for a study others were merged into (a
    # row followed to it shows the other's title, and the other's records may be gone)
    absorbed = ids.absorbing
    titles: dict[str, list[str]] = {s: [title] for s, title in zip(unique["study_id"], unique["title"])
                                    if s not in absorbed}
    for record, title in zip(records["record_id"], records["title"]):
        if group_of.get(record) in titles:
            titles[group_of[record]].append(title)
    _check_team(team, settings, known, outputs["issues"], problems)
    kept = registry.read(settings.folder, "screening")
    typed: dict[str, tuple[Path, int]] = {}
    for reviewer in [*team.readers, CONSENSUS]:
        path = sheets.workbook_path(settings.folder, reviewer)
        gone = registry.missing(path, reviewer, kept, "screening workbook", "screening")
        if gone is not None:
            raise stop(outputs["issues"], problems, path, gone, f"{reviewer}'s screening decisions")
        problems += [p for p in [registry.beside(path)] if p]
        try:
            # decisions follow their study when it was merged into another (or typed as a record id)
            followed = cell_changes.follow_ids(path, list(SHEETS.values()), ["study_id"], ids)
            cell_changes.record(settings.folder, followed)
            if followed:
                log.info("%s: %d study ids followed to the study they are now (see %s)", path, len(followed),
                         cell_changes.log_path(settings.folder))
            found, issues = sheets.read_decisions(path, reviewer, settings, known, titles)
        except WorkbookError as exc:
            raise stop(outputs["issues"], problems, path, exc, f"{reviewer}'s screening decisions") from exc
        decisions += found
        problems += issues
        if path.exists():
            typed[reviewer] = (path, len(found) + sum(p.code in sheets.HELD_BACK for p in issues))
    registry.write(settings.folder, "screening", typed)
    decisions.sort(key=lambda d: (d.study_id, STAGES.index(d.stage), d.reviewer, d.origin))
    table, conflicts = screening.screen(studies, decisions)
    outcome = Outcome(table, decisions, conflicts, screening.agreement(decisions, table), problems)

    rows = _study_rows(unique)
    plan = Prioritisation.from_config(config.get("screening", {}))
    try:
        prioritised = (_prioritise(plan, rows, table, decisions, settings.folder, problems,
                                   outputs["ranking"].parent / FEATURES) if plan.enabled else None)
    except WorkbookError as exc:
        raise stop(outputs["issues"], problems, screening_order.order_path(settings.folder), exc,
                   "the order of the screening decisions") from exc
    ta_included = [r["study_id"] for r in table if r["ta_decision"] == INCLUDE]
    for reviewer in team.current:  # those who left get no new rows
        path = sheets.workbook_path(settings.folder, reviewer)
        try:
            added = sheets.append_studies(path, settings, {TA: [rows[s] for s in studies],
                                                           FT: [rows[s] for s in ta_included]},
                                          prioritised.ranking if prioritised else None,
                                          prioritised.guide if prioritised else ())
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
    ranking = prioritised.ranking if prioritised else {}
    decided = {r["study_id"]: r["ta_decision"] for r in table}
    write_csv(outputs["ranking"], RANKING_COLUMNS, sorted(
        ({"study_id": s, "rank": rank, "score": score, "ta_decision": decided[s]} for s, (rank, score) in ranking.items()),
        key=lambda r: r["rank"]))
    write_csv(outputs["prioritisation"], SUMMARY_COLUMNS, prioritised.summary if prioritised else [])
    write_csv(outputs["issues"], Problem.columns(), (p.as_row() for p in problems))
    for p in problems:
        (log.error if p.severity == ERROR else log.warning)("%s", p.describe())
    return outcome
