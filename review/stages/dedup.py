"""Stage ``find_duplicates``: records -> duplicate groups; undecided pairs -> ``extracts/duplicates.xlsx``.

Reads the reviewers' decisions first (they enter the dedup as forced matches and vetoes), writes the
groups, the surviving record of each group, every scored pair with its outcome, and the counts the
PRISMA flow needs; then appends the pairs still undecided to the reviewers' workbook.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import dedup, identity
from ..dedup_candidates import Settings
from ..dedup_rules import DISTINCT, MATCH, MAYBE, PairDecision
from ..errors import ERROR, WARNING, Problem, ReviewError
from ..fileio import frame_rows, read_frame, write_csv
from ..merge import main_report, merge_group, report_row, reports
from ..model import RECORD_COLUMNS, Record
from ..readers import read_file
from ..survivors import best
from ..workbooks import duplicates as sheet
from ..workbooks import ledger as ledger_sheet
from ..workbooks.base import WorkbookError, unreadable
from .common import stop

log = logging.getLogger(__name__)

CONFIG_KEYS = ("dedup",)
INPUTS = {"records": "results/records/records.csv"}
OUTPUTS = {"groups": "results/dedup/groups.csv", "unique": "results/dedup/unique_records.csv",
           "pairs": "results/dedup/pairs.csv", "counts": "results/dedup/counts.csv",
           "ids": "results/dedup/ids.csv", "issues": "results/dedup/issues.csv"}
GROUP_COLUMNS = ["record_id", "source", "source_key", "study_id", "survivor", "is_survivor", "group_size", "rule",
                 "scores"]
PAIR_COLUMNS = ["record_id_a", "record_id_b", "decision", "rule", "outcome", "title_similarity",
                "author_similarity"]
COUNT_COLUMNS = ["measure", "source", "value"]
# n_reports: the documents among a study's records (PRISMA 2020's reports); reports: the other reports than the
# one the study is cited by, each with its own bibliographic data (JSON)
UNIQUE_COLUMNS = [*RECORD_COLUMNS, "study_id", "record_ids", "n_records", "n_reports", "reports"]
# every name a study has gone by -> its id now: its records' ids, ids merged into it; and the splits
ID_COLUMNS = ["id", "study_id", "how"]
RECORD, MERGED, SPLIT = "record", "merged", "split"


def read_records(path: Path) -> tuple[list[Record], list[str]]:
    """The records of ``records.csv``, and apart from them each one's original values as the JSON text the
    table holds: the dedup reads none of them and writes the survivors' back as they were (parsed, they
    doubled the abstracts in memory and took a tenth of the stage's time at 100,000 records)."""
    try:
        table = read_frame(path)
    except FileNotFoundError as exc:
        raise ReviewError(f"{path}: no records table; run the records stage first") from exc
    rows = frame_rows(table)
    del table
    originals = [row.pop("original", "") for row in rows]
    return [Record.from_row(row) for row in rows], originals


@dataclass
class Outcome:
    records: int
    unique: int
    for_review: int
    appended: int
    problems: list[Problem]


def _reviewer_decisions(path: Path | None, known: set[str]) -> tuple[list[sheet.Decision], list[Problem]]:
    if path is None:
        return [], []
    decided, problems = sheet.read_decisions(path)
    for d in decided:
        if d.a not in known or d.b not in known:
            problems.append(Problem(code="unknown-record", severity=WARNING, file=str(path), sheet=sheet.SHEET,
                                    value=f"{d.a} / {d.b}", expected="record ids of the current records table",
                                    hint="the decision is kept in the workbook but applies to no current record"))
    return decided, problems


def _outcome(d: PairDecision, result: dedup.Result, refused: set[tuple[int, int]],
             decided: dict[tuple[str, str], str], key: tuple[str, str]) -> str:
    if (d.i, d.j) in refused:
        return "kept apart (a veto in the group)"
    if d.label == MATCH:
        return "merged"
    if d.label == MAYBE:
        if key in decided:
            return "decided by reviewer: " + decided[key]
        return "merged through other members" if result.group[d.i] == result.group[d.j] else "for review"
    return "kept apart"


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> Outcome:
    """Deduplicate the records; reviewers' pairs go to (and come from) the protocol's ``dedup.sheet``."""
    settings = Settings.from_config(config.get("dedup"))
    workbook = Path(config["dedup"]["sheet"]) if config.get("dedup", {}).get("sheet") else None
    records, originals = read_records(inputs["records"])
    ids = [r.record_id for r in records]
    try:
        decided, problems = _reviewer_decisions(workbook, set(ids))
    except WorkbookError as exc:
        assert workbook is not None
        raise stop(outputs["issues"], [], workbook, exc, "the reviewers' duplicate decisions") from exc
    same = [(d.a, d.b) for d in decided if d.same]
    different = [(d.a, d.b) for d in decided if not d.same]
    ledger = _ledger(config, outputs, problems)
    linked, unlinked = _links(workbook, ledger, set(ids), problems, outputs)
    result = dedup.run(records, settings, same=same + linked, different=different + unlinked)
    several = _reports(records, result, ledger)  # before the ids: a new study is named after its main report

    assignment = _identify(config, records, result, ledger, outputs, problems)
    study_of_group = dict(zip(sorted(set(result.group)), assignment.ids))  # groups are numbered in that order
    labels = [study_of_group[g] for g in result.group]
    sizes = Counter(result.group)
    survivor_of = {result.group[k]: ids[k] for k in range(len(ids)) if result.survivor[k]}
    group_rows = [{
        "record_id": r.record_id, "source": r.source, "source_key": r.source_key, "study_id": labels[k],
        "survivor": survivor_of[result.group[k]], "is_survivor": "yes" if result.survivor[k] else "no",
        "group_size": sizes[result.group[k]], "rule": result.rule[k], "scores": result.score[k],
    } for k, r in enumerate(records)]

    decided_keys = {sheet.pair_key(a, b): "same" for a, b in same}
    decided_keys.update({sheet.pair_key(a, b): "different" for a, b in different})
    refused = {(d.i, d.j) for d in result.refused}
    pair_rows = []
    for d in result.decisions:
        if d.label == DISTINCT and d.rule == "dissimilar":
            continue  # a candidate pair with nothing in common: not worth a line
        a, b = sheet.pair_key(ids[d.i], ids[d.j])
        pair_rows.append({"record_id_a": a, "record_id_b": b, "decision": d.label, "rule": d.rule,
                          "outcome": _outcome(d, result, refused, decided_keys, (a, b)),
                          "title_similarity": f"{d.title:.3f}",
                          "author_similarity": f"{d.authors:.3f}" if d.authors >= 0 else ""})
    pair_rows.sort(key=lambda row: (row["record_id_a"], row["record_id_b"]))

    members = {g: [records[k] for k in ks] for g, ks in result.members().items()}
    unique_rows = []
    for k, r in enumerate(records):
        if not result.survivor[k]:
            continue
        group = members[result.group[k]]
        docs, main = several.get(result.group[k], ([group], 0))
        cited = _first_known(docs[main], ledger) if len(group) > 1 else None
        row = merge_group(sorted(group, key=lambda m: -m.filled()) if len(group) > 1 else group, r, cited)
        row["original"] = originals[k]
        row["study_id"] = labels[k]
        row["record_ids"] = "; ".join(sorted(m.record_id for m in group))
        row["n_records"] = str(len(group))
        row["n_reports"] = str(len(docs))
        others = [report_row(d) for i, d in enumerate(docs) if i != main]
        row["reports"] = json.dumps(others, ensure_ascii=False, sort_keys=True) if others else ""
        unique_rows.append(row)

    to_review = [d for d in dedup.review_pairs(result) if sheet.pair_key(ids[d.i], ids[d.j]) not in decided_keys]
    counts: list[dict[str, Any]] = [
        {"measure": "records", "source": "", "value": len(records)},
        {"measure": "duplicates_removed", "source": "", "value": len(records) - len(unique_rows)},
        {"measure": "unique_records", "source": "", "value": len(unique_rows)},
        {"measure": "groups_with_duplicates", "source": "", "value": sum(1 for n in sizes.values() if n > 1)},
        {"measure": "pairs_for_review", "source": "", "value": len(to_review)},
        {"measure": "reviewer_decisions", "source": "", "value": len(decided)}]
    by_source = Counter(r.source for r in records)
    removed_by_source = Counter(r.source for k, r in enumerate(records) if not result.survivor[k])
    for source in sorted(by_source):
        counts.append({"measure": "records", "source": source, "value": by_source[source]})
        counts.append({"measure": "duplicates_removed", "source": source, "value": removed_by_source[source]})

    id_rows = [{"id": r.record_id, "study_id": labels[k], "how": RECORD} for k, r in enumerate(records)]
    id_rows += [{"id": old, "study_id": new, "how": MERGED} for old, new in assignment.renamed.items()]
    id_rows += [{"id": parent, "study_id": new, "how": SPLIT} for new, parent in assignment.split.items()]
    write_csv(outputs["ids"], ID_COLUMNS, sorted(id_rows, key=lambda r: (r["how"], r["id"], r["study_id"])))
    write_csv(outputs["groups"], GROUP_COLUMNS, group_rows)
    write_csv(outputs["pairs"], PAIR_COLUMNS, pair_rows)
    write_csv(outputs["unique"], UNIQUE_COLUMNS, unique_rows)
    write_csv(outputs["counts"], COUNT_COLUMNS, counts)

    appended = _update_workbook(workbook, to_review, records, ids, problems)
    write_csv(outputs["issues"], Problem.columns(), (p.as_row() for p in problems))
    for problem in problems:
        (log.error if problem.severity == ERROR else log.warning)("%s", problem.describe())
    return Outcome(len(records), len(unique_rows), len(to_review), appended, problems)


def _update_workbook(workbook: Path | None, to_review: list[PairDecision], records: list[Record],
                     ids: list[str], problems: list[Problem]) -> int:
    """Append the pairs still undecided to the reviewers' workbook (and the reports sheet it lacks)."""
    appended = 0
    if workbook is not None and workbook.exists():
        try:  # where reviewers link two reports of one study, in a workbook made before it had the sheet
            if sheet.ensure_links_sheet(workbook):
                log.info("%s: sheet %r added", workbook, sheet.LINKS)
        except WorkbookError as exc:
            problems.append(unreadable(workbook, exc, f"the sheet {sheet.LINKS!r} will be added next time", WARNING,
                                       "a workbook that is closed and readable"))
    if workbook is not None and to_review:
        wanted = {i for d in to_review for i in (ids[d.i], ids[d.j])}
        by_id = {r.record_id: r.as_row() for r in records if r.record_id in wanted}
        rows = []
        for d in to_review:
            a, b = sheet.pair_key(ids[d.i], ids[d.j])
            rows.append(sheet.pair_row(a, b, d.title, d.authors, d.rule, by_id[a], by_id[b]))
        rows.sort(key=lambda row: (row["record_id_a"], row["record_id_b"]))
        try:
            appended, backup = sheet.append_pairs(workbook, rows)
            if appended:
                log.info("%d new pairs for review appended to %s%s", appended, workbook,
                         f" (previous version kept as {backup})" if backup else "")
        except WorkbookError as exc:
            problems.append(unreadable(workbook, exc, "new pairs were not added this time; they will be on the "
                                       "next run", WARNING, "a workbook that is closed and readable"))
    return appended


def _ledger_path(config: dict[str, Any]) -> Path | None:
    return Path(config["dedup"]["ledger"]) if config.get("dedup", {}).get("ledger") else None


def _ledger(config: dict[str, Any], outputs: dict[str, Path], problems: list[Problem]) -> identity.Ledger:
    """The study ledger as the last refresh left it (empty when the protocol keeps none)."""
    path = _ledger_path(config)
    if path is None:
        return identity.Ledger(())
    try:
        return identity.Ledger(ledger_sheet.read(path))
    except WorkbookError as exc:
        raise stop(outputs["issues"], problems, path, exc, "the study ledger") from exc


def _links(workbook: Path | None, ledger: identity.Ledger, known: set[str], problems: list[Problem],
           outputs: dict[str, Path]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The reports reviewers linked (or unlinked) by study id, as pairs of records to keep together (apart):
    the first record the ledger gave each study, so that a study merged by a link can be unlinked again."""
    if workbook is None:
        return [], []
    try:
        links, found = sheet.read_links(workbook)
    except WorkbookError as exc:
        raise stop(outputs["issues"], problems, workbook, exc, "the reports reviewers linked") from exc
    problems += found
    if not links:
        return [], []
    own: dict[str, list[str]] = defaultdict(list)
    for record, study in sorted(ledger.study_of.items(), key=lambda item: ledger.since[item[0]]):
        if record in known:
            own[study].append(record)
    linked: list[tuple[str, str]] = []
    unlinked: list[tuple[str, str]] = []
    for link in links:
        missing = [s for s in (link.study, link.of) if not own.get(s)]
        if missing:
            problems.append(Problem(code="unknown-study", severity=WARNING, file=str(workbook), sheet=sheet.LINKS,
                                    row=str(link.row), column="study_id" if link.study in missing else "report_of",
                                    value=", ".join(missing), expected="a study id the screening workbooks show",
                                    hint="no record of the review is of this study: nothing was linked"))
            continue
        (linked if link.linked else unlinked).append((own[link.study][0], own[link.of][0]))
    return linked, unlinked


def _first_known(records: list[Record], ledger: identity.Ledger) -> Record | None:
    """The record of a report the ledger had first (``None`` when all are new): the study's citation."""
    known = [r for r in records if r.record_id in ledger.since]
    return min(known, key=lambda r: ledger.since[r.record_id]) if known else None


def _reports(records: list[Record], result: dedup.Result, ledger: identity.Ledger
             ) -> dict[int, tuple[list[list[Record]], int]]:
    """The groups holding more than one report (two documents of one study, put together by a reviewer's
    decision): their reports and which one the study is cited by. Such a group's survivor is moved into that
    report, so that its row never pairs one report's title with another's DOI."""
    members = result.members()
    multi = {g: docs for g, ks in members.items() if len(ks) > 1
             and len(docs := reports([records[k] for k in ks])) > 1}
    if not multi:
        return {}
    known = ledger.since
    position = {r.record_id: k for k, r in enumerate(records)}
    out = {}
    for g, docs in multi.items():
        main = main_report(docs, known)
        if not any(result.survivor[position[r.record_id]] for r in docs[main]):
            for k in members[g]:
                result.survivor[k] = False
            result.survivor[position[best(docs[main]).record_id]] = True
        out[g] = (docs, main)
    return out


def _identify(config: dict[str, Any], records: list[Record], result: dedup.Result, ledger: identity.Ledger,
              outputs: dict[str, Path], problems: list[Problem]) -> identity.Assignment:
    """The study id of each group, from the ledger (``dedup.ledger``), which gets the rows of what changed."""
    path = _ledger_path(config)
    try:
        assignment = identity.assign(_groups(records, result), ledger)
        if path is not None and assignment.events:
            ledger_sheet.append(path, assignment.events)
            log.info("%s: %d rows appended (%d new studies, %d merged, %d split)", path, len(assignment.events),
                     sum(e["event"] == identity.NEW for e in assignment.events), len(assignment.merged),
                     len(assignment.split))
    except WorkbookError as exc:
        assert path is not None
        raise stop(outputs["issues"], problems, path, exc, "the study ledger") from exc
    return assignment


def _groups(records: list[Record], result: dedup.Result) -> list[identity.Group]:
    """The dedup groups as identity sees them, in order of first member; named after the survivor."""
    members = result.members()
    groups = []
    for g in sorted(members, key=lambda g: members[g][0]):
        survivor = next((k for k in members[g] if result.survivor[k]), members[g][0])
        r = records[survivor]
        groups.append(identity.Group(
            tuple(identity.Member(records[k].record_id, identity.fingerprint(records[k].doi, records[k].title,
                                                                             records[k].year))
                  for k in members[g]),
            authors=r.names("author"), year=r.year, title=r.title, named_after=r.record_id))
    return groups


def groups_for_file(path: Path, fmt: str) -> list[dict[str, str]]:
    """``review dedup FILE``: one row per input record, ``ID`` (its own id in the file) and ``group``."""
    records = read_file(path, fmt, source=path.stem).records
    result = dedup.run(records)
    labels = dedup.group_labels([r.source_key or r.record_id for r in records], result.group)
    return [{"ID": r.source_key or r.record_id, "group": labels[k]} for k, r in enumerate(records)]
