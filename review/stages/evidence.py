"""Stage ``read_extractions``: read the reviewers' sheets back, check every cell, build the evidence.

Writes every reviewer's values (``extractions.csv``), the values that stand (``evidence.csv`` and its
wide form), agreement and disagreements between reviewers, and every validation problem (CSV and a
Markdown page); appends the disputed study x key rows to the consensus workbook.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import codebook as codebooks
from .. import repeats
from ..atomic import write_if_changed
from ..codebook import MULTI_SEPARATOR
from ..errors import ERROR, WARNING, Problem, ReviewError
from ..extraction import (
    AGREEMENT_COLUMNS,
    CONSENSUS,
    DISAGREEMENT_COLUMNS,
    EVIDENCE_COLUMNS,
    HELD_BACK_ROWS,
    KEY_COLUMN,
    TIDY_COLUMNS,
    Row,
    check_rows,
)
from ..fileio import write_csv
from ..protocol import RESERVED_NAMES
from ..resolve import combine, validation_markdown
from ..team import Team
from ..workbooks import changes as cell_changes
from ..workbooks import consensus as consensus_sheet
from ..workbooks import extraction as sheets
from ..workbooks import extraction_repeats as item_sheets
from ..workbooks import registry
from ..workbooks.base import WorkbookError
from ..workbooks.reading import duplicate_columns
from .common import included_studies, log_problems, screening_on, stop

log = logging.getLogger(__name__)

CONFIG_KEYS = ("reviewers", "extraction", "screening", "former_reviewers")
INPUTS = {"sheets": "results/sheets/sheets.csv", "unique": "results/dedup/unique_records.csv",
          "included": "results/screening/included.csv", "ids": "results/dedup/ids.csv"}
OUTPUTS = {"evidence": "results/evidence/evidence.csv", "tidy": "results/evidence/extractions.csv",
           "wide": "results/evidence/extractions_wide.csv", "agreement": "results/evidence/agreement.csv",
           "disagreements": "results/evidence/disagreements.csv", "validation": "results/evidence/validation.csv",
           "report": "results/evidence/validation.md"}


@dataclass
class Outcome:
    rows: int
    problems: list[Problem]
    evidence: int
    disputed: int
    consensus_added: int


def read_sheet(path: Path, reviewer: str, codebook: codebooks.Codebook, included: set[str],
               require: bool = True, titles: Mapping[str, Sequence[str]] | None = None
               ) -> tuple[list[Row], list[Problem]]:
    """One reviewer's rows, checked (``WorkbookError`` if the sheet cannot be read safely)."""
    table = sheets.read(path)
    problems = []
    made_with = sheets.codebook_version(path)
    if made_with and made_with != codebook.version:
        problems.append(Problem(code="codebook-version-changed", severity=WARNING, file=str(path), sheet=table.sheet,
                                column="codebook_version", value=made_with, expected=codebook.version,
                                hint="the sheet was made with another codebook version: check its codes against "
                                     "the codebook sheet"))
    problems += duplicate_columns(table)
    for name in sheets.missing_columns(table, codebook):
        problems.append(Problem(code="missing-column", severity=WARNING, file=str(path), sheet=table.sheet,
                                row="1", column=name,
                                expected=f"a column for every codebook field and code ({codebook.version})",
                                hint="read as empty: nothing typed for it can be used"))
    rows, found = check_rows(sheets.records(table, codebook), reviewer, str(path), table.sheet, codebook, included,
                             require, titles)
    return rows, problems + found


def split_warnings(rows: list[Row], splits: dict[str, list[str]], file: str) -> list[Problem]:
    """A row of a study that was split at the last refresh may be about the part that left it: flagged."""
    return [Problem(code="study-split", severity=WARNING, file=file, sheet=sheets.SHEET, row=str(r.row),
                    column="study_id", value=r.study_id, expected=f"{r.study_id}, or {' or '.join(splits[r.study_id])}",
                    hint=f"{r.study_id} was split: {', '.join(splits[r.study_id])} now holds some of its records. "
                         f"Check the row is about {r.study_id} (its title); if not, write the other id",
                    record_id=r.study_id)
            for r in rows if r.study_id in splits]


def check_team(team: Team, folder: Path, fmt: str, codebook: codebooks.Codebook, included: set[str]
               ) -> tuple[str, Path, WorkbookError] | None:
    """An extraction sheet with typed rows whose reviewer is not on the team, past or present (the caller stops
    the stage: dropping a name from ``reviewers:`` must not silently drop their values)."""
    files = {name: path for name, path in registry.reviewers_files(folder, "", f".{fmt}",
                                                                  [*RESERVED_NAMES, CONSENSUS]).items()
             if name not in team.readers and not name.lower().startswith("screening-") and sheets.is_sheet(path)}
    return registry.unlisted_with_work(files, team.readers, lambda name, path: len(
        read_sheet(path, name, codebook, included)[0]), "extraction values")


@dataclass
class Items:
    """Every repeat's items as they stand (by repeat), and how many typed item rows each reviewer's workbook holds."""

    combined: dict[str, repeats.Combined]
    typed: dict[str, int]


def read_items(codebook: codebooks.Codebook, readers: Sequence[str], folder: Path, fmt: str, included: set[str],
               titles: Mapping[str, Sequence[str]], problems: list[Problem], validation: Path) -> Items:
    """Each repeat's sheet of every reviewer's workbook (and the consensus workbook's), checked row by row (one
    item a row) and combined; a sheet that cannot be read stops the stage naming it."""
    out = Items({}, {})
    for repeat in codebook.repeats if fmt == "xlsx" else ():
        form = codebook.repeat_form(repeat)
        rows: list[Row] = []
        settled: list[Row] = []
        for name in [*readers, CONSENSUS]:
            path = sheets.sheet_path(folder, name, fmt)
            if not path.exists():
                continue
            try:
                table = item_sheets.read(path, repeat)
            except WorkbookError as exc:
                raise stop(validation, problems, path, exc, f"the {repeat.name} of {name}") from exc
            problems.extend(duplicate_columns(table))
            found_rows, found = check_rows(sheets.records(table, form), name, str(path), table.sheet, form, included,
                                           titles=titles if name != CONSENSUS else None, fold=False)
            problems.extend(found)
            if name == CONSENSUS:
                settled += found_rows
            else:
                rows += found_rows
                out.typed[name] = out.typed.get(name, 0) + len(found_rows) + sum(p.code in HELD_BACK_ROWS
                                                                                 for p in found)
        out.combined[repeat.name] = repeats.combine(codebook, repeat, rows, settled)
    return out


def append_consensus(path: Path, codebook: codebooks.Codebook, disputed: Mapping[tuple[str, str], Any], items: Items,
                     info: Mapping[str, Mapping[str, str]]) -> int:
    """The disputed study x key rows, and each repeat's disputed items, appended to the consensus workbook (rows
    added); a workbook that cannot be written is logged, the evidence still written."""
    added = 0
    for sheet, found in [(sheets.SHEET, disputed), *((name, r.disputed) for name, r in items.combined.items())]:
        if not found:
            continue
        try:
            added += consensus_sheet.append_disputes(path, codebook, found, info, sheet)
        except WorkbookError as exc:
            log.error("%s", exc)
    return added


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> Outcome:
    settings = config["extraction"]
    codebook = codebooks.load(settings["codebook"])
    folder, fmt = Path(settings.get("folder", "extracts")), settings.get("format", "xlsx")
    studies = included_studies(inputs["unique"], inputs["included"] if screening_on(config) else None)
    included_ids = {s.study_id for s in studies}
    info = {s.study_id: {"citation": s.citation, "title": s.title, "year": s.year, "doi": s.doi} for s in studies}
    all_rows: list[Row] = []
    problems: list[Problem] = []
    ids = cell_changes.Ids.read(inputs.get("ids"))
    splits = ids.splits
    # the title each study's rows show; not checked for a study others were merged into (a row followed to it
    # shows the other's title)
    absorbed = ids.absorbing
    titles = {s: [i["title"]] for s, i in info.items() if s not in absorbed}
    team = Team.from_config(config)
    unlisted = check_team(team, folder, fmt, codebook, included_ids)
    if unlisted is not None:
        name, path, error = unlisted
        raise stop(outputs["validation"], problems, path, error, f"{name}'s extraction values")
    kept = registry.read(folder, "extraction")
    typed: dict[str, tuple[Path, int]] = {}
    for reviewer in team.readers:
        path = sheets.sheet_path(folder, reviewer, fmt)
        gone = registry.missing(path, reviewer, kept, "extraction sheet", "extraction")
        if gone is not None:
            raise stop(outputs["validation"], problems, path, gone, f"{reviewer}'s extraction sheet")
        problems += [p for p in [registry.beside(path)] if p]
        if not path.exists():
            problems.append(Problem(code="missing-workbook", severity=WARNING, file=str(path),
                                    expected="the reviewer's sheet", hint="run the sheets stage to create it"))
            continue
        try:
            rows, found = read_sheet(path, reviewer, codebook, included_ids, titles=titles)
        except WorkbookError as exc:
            raise stop(outputs["validation"], problems, path, exc, f"{reviewer}'s extraction sheet") from exc
        all_rows += rows
        problems += found + split_warnings(rows, splits, str(path))
        typed[reviewer] = (path, len(rows) + sum(p.code in HELD_BACK_ROWS for p in found))
    consensus_path = sheets.sheet_path(folder, CONSENSUS, fmt)
    consensus_rows: dict[tuple[str, str], Row] = {}
    if consensus_path.exists():
        try:
            rows, found = read_sheet(consensus_path, CONSENSUS, codebook, included_ids, require=False)
        except WorkbookError as exc:
            raise stop(outputs["validation"], problems, consensus_path, exc, "the consensus values") from exc
        problems += found
        consensus_rows = {r.key(codebook): r for r in rows}
    combined = combine(codebook, all_rows, consensus_rows)
    items = read_items(codebook, team.readers, folder, fmt, included_ids, titles, problems, outputs["validation"])
    for reviewer, count in items.typed.items():  # a workbook's typed items count as its typed work too
        if reviewer in typed:
            typed[reviewer] = (typed[reviewer][0], typed[reviewer][1] + count)
    registry.write(folder, "extraction", typed)
    for result in items.combined.values():
        combined.tidy += result.tidy
        combined.evidence += result.evidence
        combined.disagreements += result.disagreements

    write_csv(outputs["tidy"], TIDY_COLUMNS, combined.tidy)
    write_csv(outputs["evidence"], EVIDENCE_COLUMNS, combined.evidence)
    write_if_changed(outputs["wide"], wide_csv(combined.evidence, codebook))
    write_csv(outputs["agreement"], AGREEMENT_COLUMNS, combined.agreement)
    write_csv(outputs["disagreements"], DISAGREEMENT_COLUMNS, combined.disagreements)
    write_csv(outputs["validation"], Problem.columns(), (p.as_row() for p in problems))
    write_if_changed(outputs["report"], validation_markdown(problems, codebook).encode("utf-8"))

    added = append_consensus(consensus_path, codebook, combined.disputed, items, info) if fmt == "xlsx" else 0
    log_problems(log, problems)
    errors = sum(p.severity == ERROR for p in problems)
    if settings.get("strict") and errors:
        raise ReviewError(f"{errors} validation errors in the extraction sheets; see {outputs['report']}")
    disputed = len(combined.disputed) + sum(len(r.disputed) for r in items.combined.values())
    return Outcome(len(all_rows), problems, len(combined.evidence), disputed, added)


def wide_csv(evidence: list[dict[str, Any]], codebook: codebooks.Codebook) -> bytes:
    """The evidence one row per study x key, one column per field (multiple values joined)."""
    # a repeat's items (several per study x key) are not a row's columns: evidence.csv has them with their item
    wide = pd.DataFrame([e for e in evidence if not e.get("item")])
    if not len(wide):
        return f"study_id,{KEY_COLUMN}\n".encode()
    wide = (wide.groupby(["study_id", KEY_COLUMN, "field"], sort=True)["value"]
            .agg(lambda s: MULTI_SEPARATOR.join(map(str, s))).unstack("field").reset_index())
    keys = {f.name for f in codebook.key_fields}
    wide = wide.reindex(columns=["study_id", KEY_COLUMN, *[n for n in codebook.names if n not in keys]])
    return wide.to_csv(index=False, lineterminator="\n").encode("utf-8")
