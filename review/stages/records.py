"""Stage ``import_records``: every source of the protocol -> one canonical table of records.

* ``records``: one row per source record (``review.model.RECORD_COLUMNS``), in protocol source order
  and, within a source, in file order (Zotero: item-key order).
* ``issues``: every problem found while reading (``review.errors.Problem`` columns).
* ``sources``: per source: kind, database, where it came from, records imported, errors, warnings.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .. import progress
from ..atomic import write_stream
from ..errors import ERROR, WARNING, Problem, ReviewError, SourceError
from ..fileio import csv_bytes, read_json, write_csv
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
    records: list[Record] = field(default_factory=list)  # kept by ``build``; ``run`` writes them, keeps none
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
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("items"), dict) \
            or not isinstance(snapshot.get("collections", {}), dict):
        raise SourceError(f"{source.name}: {snap} is not a Zotero snapshot written by the sync; delete it and run "
                          "snakemake (or review sync --full) to fetch the library again")
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


@dataclass
class SourceRows:
    """One source read and written as its rows of the records table (UTF-8 CSV without the header): what a
    worker process hands back, one string of bytes rather than thousands of records to unpickle."""

    rows: bytes
    records: int
    problems: list[Problem]


def read_rows(source: Source, root: Path, results: Path) -> SourceRows:
    result = read_source(source, root, results)
    return SourceRows(csv_bytes(RECORD_COLUMNS, (r.as_row() for r in result.records), header=False),
                      len(result.records), result.problems)


def _account(outcome: Outcome, source: Source, count: int, problems: list[Problem],
             error: SourceError | None = None) -> None:
    """One source's problems and its line of sources.csv; an unreadable source: a problem row, no records."""
    location = source.file or f"zotero:{(source.zotero or {}).get('library_type', 'user')}s/" \
                              f"{(source.zotero or {}).get('library_id', '')}"
    if error is not None:
        outcome.failed_sources.append(source.name)
        outcome.problems.append(Problem(code="unreadable-source", severity=ERROR, file=source.file or location,
                                        value=str(error), expected=f"a readable {source.format or 'Zotero'} source",
                                        hint="no record of this source was imported"))
        log.error("%s", error)
    outcome.problems.extend(problems)
    errors = sum(p.severity == ERROR for p in problems)
    warnings = sum(p.severity == WARNING for p in problems)
    outcome.summary.append({"source": source.name, "kind": source.format or source.kind,
                            "database": source.database, "location": location,
                            "records": count, "errors": errors, "warnings": warnings})
    log.info("%s: %d records, %d errors, %d warnings", source.name, count, errors, warnings)


def build(config: dict[str, Any], root: Path = Path("."), results: Path = Path("results")) -> Outcome:
    """Every source's records, read one after the other and kept (``run`` writes them without keeping them)."""
    outcome = Outcome()
    for source in sources(config):
        try:
            result = read_source(source, root, results)
        except SourceError as exc:
            _account(outcome, source, 0, [], exc)
            continue
        outcome.records.extend(result.records)
        _account(outcome, source, len(result.records), result.problems)
    return outcome


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path], root: Path = Path("."),
        results: Path = Path("results"), jobs: int = 1) -> Outcome:
    """Write the records table and the two other outputs; ``ReviewError`` if a source was unreadable.

    With ``jobs`` above one, that many sources are read at once, each in a process of its own that hands back
    its rows of the table; they are written in protocol order, so the table is the same bytes either way.
    The records are not kept (``Outcome.records`` stays empty: ``build`` keeps them)."""
    outcome = Outcome()
    chosen = sources(config)

    def write(handle: BinaryIO) -> None:
        handle.write(csv_bytes(RECORD_COLUMNS, ()))
        with _submitter(jobs, len(chosen)) as submit:
            pending = [submit(read_rows, source, root, results) for source in chosen]
            for source, future in zip(chosen, pending):
                try:
                    part = future.result()
                except SourceError as exc:
                    _account(outcome, source, 0, [], exc)
                    continue
                handle.write(part.rows)
                _account(outcome, source, part.records, part.problems)

    write_stream(outputs["records"], write)
    write_csv(outputs["sources"], SOURCE_COLUMNS, outcome.summary)
    for problem in outcome.problems:
        (log.error if problem.severity == ERROR else log.warning)("%s", problem.describe())
    from .common import failed_run_issues, keep_failed_run_issues

    if outcome.failed_sources:
        kept = keep_failed_run_issues(outputs["issues"], outcome.problems)
        raise ReviewError(
            f"could not read {', '.join(outcome.failed_sources)}; the problems are listed above and kept in {kept}. "
            "Fix the source or set 'enabled: false' for it in the protocol"
        )
    write_csv(outputs["issues"], Problem.columns(), (p.as_row() for p in outcome.problems))
    failed_run_issues(outputs["issues"]).unlink(missing_ok=True)  # a failure fixed since: its list is stale
    return outcome


@contextlib.contextmanager
def _submitter(jobs: int, tasks: int) -> Iterator[Callable[..., Future[Any]]]:
    """``submit(fn, *args)`` giving a future: run in a pool of worker processes (their progress bars off),
    or here and now for one job or one task. A worker's ``SourceError`` comes back through its future."""
    if jobs > 1 and tasks > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, tasks), initializer=progress.quiet) as pool:
            yield pool.submit
        return

    def now(fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args))
        except SourceError as exc:
            future.set_exception(exc)
        return future

    yield now
