"""Cells the pipeline changes in reviewers' files, and the log of every such change.

The pipeline writes into a reviewer's cell only for two reasons, both declared elsewhere: a study id
that changed (two studies merged, or an internal record id such as ``hmic:HMIC277340`` in a study id
column, results/dedup/ids.csv), and a codebook migration (``changes:`` in the codebook). Every such
cell is logged in ``extracts/cell-changes.csv`` (file, sheet, cell, study, column, old, new, why), which
the pipeline appends to and never rewrites; the file itself is backed up before it is saved.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from ..fileio import restore
from .backups import append_kept_csv
from .base import WorkbookError, header_of, open_for_update, save, save_bytes, text
from .reading import read_tables, sheet_names

LOG_NAME = "cell-changes.csv"
CHANGE_COLUMNS = ["file", "sheet", "cell", "study_id", "column", "old", "new", "why"]
ID_SEPARATOR = ";"


@dataclass
class Ids:
    """What results/dedup/ids.csv says: every name a study has had -> its id now; and the splits."""

    follow: dict[str, str] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    splits: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # kept id -> ids split off

    @classmethod
    def read(cls, path: Path | None) -> Ids:
        ids = cls()
        if path is None or not path.exists():
            return ids
        with open(path, encoding="utf-8", newline="") as handle:
            for raw in csv.DictReader(handle):
                row = {k: restore(v or "") for k, v in raw.items()}
                if row["how"] == "split":
                    ids.splits[row["id"]].append(row["study_id"])
                elif row["id"] != row["study_id"]:
                    ids.follow[row["id"]] = row["study_id"]
                    ids.why[row["id"]] = ("an internal record id, replaced by its study id" if row["how"] == "record"
                                          else f"study {row['id']} merged into {row['study_id']}")
        return ids

    @property
    def absorbing(self) -> set[str]:
        """The studies others were merged into (not those record ids were replaced by)."""
        return {new for old, new in self.follow.items() if self.why[old].startswith("study ")}

    def new_value(self, value: str, many: bool) -> str | None:
        """The cell's text with every old id followed (``None`` when nothing changes)."""
        parts = [p.strip() for p in value.split(ID_SEPARATOR)] if many else [value.strip()]
        if not any(p in self.follow for p in parts):
            return None
        new = list(dict.fromkeys(self.follow.get(p, p) for p in parts if p))
        return f"{ID_SEPARATOR} ".join(new)


def log_path(folder: Path) -> Path:
    return folder / LOG_NAME


def record(folder: Path, changes: Iterable[Mapping[str, str]]) -> None:
    """Append changes to the log (created with its header the first time), atomically, after a backup."""
    append_kept_csv(log_path(folder), CHANGE_COLUMNS, changes)


def follow_ids(path: Path, sheets: Sequence[str | None], columns: Sequence[str], ids: Ids,
               many: Sequence[str] = ()) -> list[dict[str, str]]:
    """Rewrite the old study ids in ``columns`` of ``sheets`` (``None``: a CSV file) to the ids they are now.

    Read first without writing: a file with nothing to follow is not touched. ``many``: columns holding
    several ids separated by ``;``. ``WorkbookError`` when the file needs changes but cannot be written
    (open in a spreadsheet program): reading it with the old ids would misfile the reviewer's work.
    Returns the changes made (also to be logged by the caller with ``record``)."""
    if not ids.follow or not path.exists():
        return []
    if sheets == [None] or path.suffix == ".csv":
        return _follow_csv(path, columns, ids, many)
    present = [s for s in sheets if s is not None]
    tables = read_tables(path, [s for s in present if s in sheet_names(path)])
    if not any(ids.new_value(text(raw[c]), c in many) is not None
               for table in tables.values() for _, raw in table.records(columns) for c in columns):
        return []
    workbook = open_for_update(path)
    assert workbook is not None
    changes = []
    for sheet in tables:
        ws = workbook[sheet]
        header = header_of(ws)
        study_column = header.get("study_id")
        for name in (c for c in columns if c in header):
            column = header[name]
            for number in range(2, ws.max_row + 1):
                cell = ws.cell(row=number, column=column)
                new = ids.new_value(text(cell.value), name in many)
                if new is None:
                    continue
                old = text(cell.value)
                cell.value = new
                cell.data_type = "s"
                study = text(ws.cell(row=number, column=study_column).value) if study_column else new
                changes.append({"file": str(path), "sheet": sheet, "cell": f"{get_column_letter(column)}{number}",
                                "study_id": study, "column": name, "old": old, "new": new,
                                "why": "; ".join(ids.why[p.strip()] for p in old.split(ID_SEPARATOR)
                                                 if p.strip() in ids.why)})
    save(workbook, path)
    return changes


def _follow_csv(path: Path, columns: Sequence[str], ids: Ids, many: Sequence[str]) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise WorkbookError(f"{path} cannot be read as CSV ({exc}); it was left as it is") from exc
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    changes = []
    for name in (c for c in columns if c in header):
        k = header.index(name)
        for number, row in enumerate(rows[1:], start=2):
            if k >= len(row):
                continue
            new = ids.new_value(row[k], name in many)
            if new is None:
                continue
            changes.append({"file": str(path), "sheet": "", "cell": f"{get_column_letter(k + 1)}{number}",
                            "study_id": new, "column": name, "old": row[k], "new": new,
                            "why": "; ".join(ids.why[p.strip()] for p in row[k].split(ID_SEPARATOR)
                                             if p.strip() in ids.why)})
            row[k] = new
    if changes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        save_bytes(buffer.getvalue().encode("utf-8"), path)
    return changes
