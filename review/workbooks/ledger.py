"""``extracts/studies.csv``: the study ledger (see ``review.identity``), kept with the reviewers' files.

The pipeline appends to it and never rewrites a row; it is committed with the workbooks, because the
study ids in every reviewer's file mean what the ledger says. A damaged ledger stops the dedup stage:
going on would give studies new ids and orphan the reviewers' rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ..fileio import restore
from ..identity import EVENTS, LEDGER_COLUMNS
from .backups import append_kept_csv
from .base import WorkbookError, text
from .reading import read_table


def read(path: Path) -> list[dict[str, str]]:
    """The ledger's rows, in order (none if it does not exist yet)."""
    if not path.exists():
        return []
    table = read_table(path, None, required=LEDGER_COLUMNS)
    rows = []
    for number, raw in table.records(LEDGER_COLUMNS):
        row = {name: restore(text(raw[name])) for name in LEDGER_COLUMNS}
        if not any(row.values()):
            continue
        if row["event"] not in EVENTS or not row["study_id"]:
            raise WorkbookError(
                f"{path}, line {number}: {row['event']!r} for study {row['study_id']!r} is not a ledger row (expected "
                f"a study id and one of: {', '.join(EVENTS)}). The ledger is written by the pipeline only: take it "
                "back from version control, or from the .backup folder beside it.")
        rows.append(row)
    return rows


def append(path: Path, rows: Iterable[Mapping[str, str]]) -> None:
    """Add rows at the end, atomically: the old rows stay byte for byte (the previous file backed up first)."""
    append_kept_csv(path, LEDGER_COLUMNS, rows)
