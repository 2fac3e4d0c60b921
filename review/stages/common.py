"""What several stages read the same way: the stages' own CSV tables and the included studies.

Not a stage itself: stages import from here, never from each other.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..citations import citations, year_suffixes
from ..errors import ERROR, Problem, ReviewError
from ..extraction import Study
from ..fileio import frame_rows, read_frame, write_csv
from ..workbooks.base import WorkbookError, unreadable


def read_csv(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A table a stage wrote, every value as text (an empty frame if the file is not there); only ``columns``
    where given."""
    return read_frame(path, columns) if path.exists() else pd.DataFrame(columns=list(columns or ()))


def screening_on(config: dict[str, Any]) -> bool:
    """Whether screening decides which studies are included (otherwise every unique record is)."""
    return bool(config.get("screening", {}).get("enabled", True))


# what a study's citation is made from (with its id)
CITATION_COLUMNS = ("study_id", "creators", "authors", "year", "title")
# the columns of unique_records.csv no stage after screening reads: most of the file at 100,000 records
UNREAD_COLUMNS = ("abstract", "original")


def included_frame(unique_csv: Path, included_csv: Path | None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The unique records of the included studies, with ``study_id`` and ``citation``, by study id: the
    ``columns`` asked for (with what the citation needs), else every column but the abstract and the
    original values."""
    if columns is None:
        with open(unique_csv, encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        columns = [c for c in header if c not in UNREAD_COLUMNS]
    unique = read_frame(unique_csv, list(dict.fromkeys([*CITATION_COLUMNS, *columns])))
    # one citation per study, unambiguous among all the review's studies: the screening workbooks show every
    # study, and a study is cited with the same a/b letter there, in the sheets and in the report
    rows = frame_rows(unique[list(CITATION_COLUMNS)])
    cite, suffix = citations(rows), year_suffixes(rows)
    unique["citation"] = [cite[s] for s in unique["study_id"]]
    unique["year_suffix"] = [suffix[s] for s in unique["study_id"]]
    if included_csv is not None and included_csv.exists():
        keep = set(read_frame(included_csv)["study_id"])
        unique = unique[unique["study_id"].isin(keep)]
    return unique.sort_values("study_id").reset_index(drop=True)


def included_studies(unique_csv: Path, included_csv: Path | None) -> list[Study]:
    """The included studies as the extraction sheets list them."""
    table = included_frame(unique_csv, included_csv, ["doi", "url", "tags"])
    return [Study(study_id=row["study_id"], citation=row["citation"], title=row["title"], year=row["year"],
                  doi=row["doi"] or row["url"], tags=tuple(t for t in row["tags"].split("; ") if t))
            for row in frame_rows(table)]


def log_problems(log: logging.Logger, problems: Iterable[Problem]) -> None:
    for p in problems:
        (log.error if p.severity == ERROR else log.warning)("%s", p.describe())


def failed_run_issues(issues: Path) -> Path:
    """Where a failed stage's problems are kept: beside its issues file, under a name no rule outputs
    (Snakemake removes a failed job's outputs, the issues file with them, before anyone can read it)."""
    return issues.with_name(f"{issues.stem}-of-the-failed-run{issues.suffix}")


def keep_failed_run_issues(issues: Path, problems: Iterable[Problem]) -> Path:
    """Write the problems of a stage that is stopping to ``issues`` and to ``failed_run_issues(issues)``."""
    rows = [p.as_row() for p in problems]
    write_csv(issues, Problem.columns(), rows)
    write_csv(failed_run_issues(issues), Problem.columns(), rows)
    return failed_run_issues(issues)


def stop(issues: Path, problems: list[Problem], path: Path, exc: WorkbookError, what: str) -> ReviewError:
    """A reviewer's file could not be read safely: record it in the stage's issues and stop the stage.

    Going on without the file would silently change everything downstream (a reviewer's decisions gone,
    studies flipping to excluded), so the stage fails and Snakemake runs nothing after it."""
    problems = [*problems, unreadable(path, exc, f"the stage stopped: {what} cannot be used until it is fixed")]
    kept = keep_failed_run_issues(issues, problems)
    return ReviewError(f"{exc} The stage stopped so that nothing downstream changes without {what} "
                       f"(its problems are in {kept}).")
