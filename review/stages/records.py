"""Stage ``import_records``: every source of the protocol -> one canonical table of records.

* ``records``: one row per source record (``review.model.RECORD_COLUMNS``), in protocol source order
  and, within a source, in file order (Zotero: item-key order).
* ``issues``: every problem found while reading (``review.errors.Problem`` columns).
* ``sources``: per source: kind, database, where it came from, records imported, errors, warnings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ERROR, WARNING, Problem, ReviewError, SourceError
from ..fileio import read_json, write_csv
from ..model import RECORD_COLUMNS, Record
from ..protocol import Source, sources
from ..readers import read_file
from ..readers.base import Context, ReadResult, build_records
from ..readers.zotero_json import snapshot_entries
from ..zotero import snapshot_path

log = logging.getLogger(__name__)

CONFIG_KEYS = ("sources",)
INPUTS: dict[str, str] = {}  # the sources' files, named by the protocol
OUTPUTS = {"records": "results/records/records.csv", "issues": "results/records/issues.csv",
           "sources": "results/records/sources.csv"}
SOURCE_COLUMNS = ["source", "kind", "database", "location", "records", "errors", "warnings"]


@dataclass
class Outcome:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)
    failed_sources: list[str] = field(default_factory=list)


def read_source(source: Source, root: Path, results: Path) -> ReadResult:
    """Records and problems of one source (``SourceError`` if it cannot be read at all)."""
    if source.kind == "file":
        assert source.file is not None and source.format is not None
        path = Path(source.file) if Path(source.file).is_absolute() else root / source.file
        result = read_file(path, source.format, source=source.name, database=source.database,
                           encoding=source.encoding)
        _relativise(result, path, source.file)
        return result
    snap = snapshot_path(results, source.name)
    snapshot = read_json(snap)
    if snapshot is None:
        raise SourceError(f"{source.name}: no Zotero snapshot at {snap}; run snakemake (or review sync) to fetch it")
    settings = source.zotero or {}
    ctx = Context(source=source.name, file=f"zotero:{snapshot.get('library', '')}", format="zotero",
                  database=source.database or "Zotero")
    entries = snapshot_entries(snapshot, settings.get("collection"), settings.get("include_subcollections", True),
                               settings.get("tags", []))
    records, problems = build_records(entries, ctx)
    return ReadResult(records, problems)


def _relativise(result: ReadResult, path: Path, shown: str) -> None:
    """Report files as the protocol names them, so outputs do not depend on where the project lives."""
    for record in result.records:
        record.file = shown
    result.problems[:] = [
        Problem(**{**p.as_row(), "file": shown}) if p.file == str(path) else p for p in result.problems
    ]


def build(config: dict[str, Any], root: Path = Path("."), results: Path = Path("results")) -> Outcome:
    outcome = Outcome()
    for source in sources(config):
        location = source.file or f"zotero:{(source.zotero or {}).get('library_type', 'user')}s/" \
                                  f"{(source.zotero or {}).get('library_id', '')}"
        try:
            result = read_source(source, root, results)
        except SourceError as exc:
            outcome.failed_sources.append(source.name)
            outcome.problems.append(Problem(code="unreadable-source", severity=ERROR, file=source.file or location,
                                            value=str(exc), expected=f"a readable {source.format or 'Zotero'} source",
                                            hint="no record of this source was imported"))
            log.error("%s", exc)
            result = ReadResult()
        outcome.records.extend(result.records)
        outcome.problems.extend(result.problems)
        errors = sum(p.severity == ERROR for p in result.problems)
        warnings = sum(p.severity == WARNING for p in result.problems)
        outcome.summary.append({"source": source.name, "kind": source.format or source.kind,
                                "database": source.database, "location": location,
                                "records": len(result.records), "errors": errors, "warnings": warnings})
        log.info("%s: %d records, %d errors, %d warnings", source.name, len(result.records), errors, warnings)
    return outcome


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path], root: Path = Path("."),
        results: Path = Path("results")) -> Outcome:
    """Build the records table and write the three outputs; ``ReviewError`` if a source was unreadable."""
    outcome = build(config, root, results)
    write_csv(outputs["records"], RECORD_COLUMNS, (r.as_row() for r in outcome.records))
    write_csv(outputs["issues"], Problem.columns(), (p.as_row() for p in outcome.problems))
    write_csv(outputs["sources"], SOURCE_COLUMNS, outcome.summary)
    for problem in outcome.problems:
        (log.error if problem.severity == ERROR else log.warning)("%s", problem.describe())
    if outcome.failed_sources:
        raise ReviewError(
            f"could not read {', '.join(outcome.failed_sources)}; see {outputs['issues']}. "
            "Fix the source or set 'enabled: false' for it in the protocol"
        )
    return outcome
