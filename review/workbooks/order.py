"""``extracts/screening-order.csv``: the order in which studies got their title/abstract decision, as the
stopping test reads it (``review.stopping``).

A decision's place in the order cannot be recovered later from the workbooks (a refresh re-sorts the rows
nobody has decided), so each refresh appends the studies decided since the last one, in the order their rows
were shown. The pipeline only appends to it and it is committed with the reviewers' files; a damaged file
stops the stage rather than start a new order that would mislead the stopping test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..fileio import restore
from .backups import append_kept_csv
from .base import WorkbookError, text
from .reading import read_table

COLUMNS = ["position", "study_id", "rank_shown"]


def order_path(folder: Path) -> Path:
    return folder / "screening-order.csv"


def read(path: Path) -> list[str]:
    """The study ids in the order they were decided (none if the file does not exist yet)."""
    if not path.exists():
        return []
    table = read_table(path, None, required=COLUMNS)
    order: list[str] = []
    for number, raw in table.records(COLUMNS):
        position, study = text(raw["position"]), restore(text(raw["study_id"]))
        if not position and not study:
            continue
        if not study or position != str(len(order) + 1):
            raise WorkbookError(
                f"{path}, line {number}: position {position!r}, study {study!r} does not continue the order "
                f"(expected position {len(order) + 1} and a study id). The file is written by the pipeline only: "
                "take it back from version control, or from the .backup folder beside it.")
        order.append(study)
    return order


def append(path: Path, start: int, studies: Sequence[str], shown: Mapping[str, int]) -> None:
    """Log ``studies`` after the ``start`` already there, with the rank each row showed, atomically (the
    previous file backed up first)."""
    append_kept_csv(path, COLUMNS, ({"position": start + k, "study_id": s, "rank_shown": shown.get(s, "")}
                                    for k, s in enumerate(studies, start=1)))
