"""``extracts/consensus.xlsx``: one row per disputed study x key, whose values settle the disagreement.

The same layout as a reviewer's sheet plus a ``disputed`` column that shows what the reviewers gave.
Rows are appended once per disputed study x key (found by header name and identity, never by
position) and never overwritten; the values typed here win over the reviewers'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl.styles import Font, PatternFill, Protection

from ..codebook import Codebook
from ..extraction import CONSENSUS, INCLUDED, STUDY_COLUMNS
from ..resolve import dispute_text
from . import extraction_repeats as repeats
from .base import append_rows, header_of, open_for_update, refresh_locked, save, sheet_for_update, text
from .extraction import SHEET, new_workbook

DISPUTED = "disputed"
_FILL = PatternFill("solid", fgColor="F2F2F2")
_LOCKED, _OPEN = Protection(locked=True), Protection(locked=False)


def _style(cell: Any, name: str) -> None:
    if name in STUDY_COLUMNS or name == DISPUTED:
        cell.fill = _FILL
        cell.protection = _OPEN if name == DISPUTED else _LOCKED


def append_disputes(path: Path, codebook: Codebook, disputed: Mapping[tuple[str, str], Sequence[Mapping[str, str]]],
                    studies: Mapping[str, Mapping[str, str]], sheet: str = SHEET) -> int:
    """Append a row for each disputed study x key not yet in the consensus workbook's ``sheet`` (the extraction
    sheet, or a repeat's: its items written there replace the reviewers'), and show a new dispute in the row of
    a study x key already there; returns rows added."""
    workbook = open_for_update(path) or new_workbook(codebook, CONSENSUS, len(disputed), 50)
    repeats.ensure(workbook, codebook, len(disputed) + 51)
    ws, header = sheet_for_update(workbook, path, sheet, required=("study_id",))
    if DISPUTED not in header:
        ws.cell(row=1, column=ws.max_column + 1, value=DISPUTED).font = Font(bold=True)
        header = header_of(ws)
    key_field = codebook.key_fields[0] if codebook.key_fields else None
    key_name = key_field.name if key_field else ""
    present: dict[tuple[str, str], int] = {}
    for number, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        sid = values[header["study_id"] - 1] if header["study_id"] <= len(values) else None
        if sid:
            key = text(values[header[key_name] - 1]) if key_name in header and header[key_name] <= len(values) else ""
            present.setdefault((text(sid), (key_field.code_for(key) or key) if key_field and key else key), number)
    # a study x key already here may have a new dispute (two rows of one reviewer merged into it, a field
    # disputed since): it is added to what the row shows, never replacing anything there
    shown = 0
    for both in sorted(set(disputed) & set(present)):
        cell = ws.cell(row=present[both], column=header[DISPUTED])
        parts = [p.strip() for p in text(cell.value).split(";") if p.strip()]
        missing = [p for p in (q.strip() for q in dispute_text(disputed[both]).split(";")) if p and p not in parts]
        if missing:
            cell.value = "; ".join([*parts, *missing])
            shown += 1
    shown += refresh_locked(ws, "citation", {sid: info["citation"] for sid, info in studies.items()
                                             if info.get("citation")})
    new = [key for key in sorted(disputed) if key not in present]
    if not new:
        if shown:
            save(workbook, path)
        return 0
    rows = []
    for study_id, key in new:
        info = studies.get(study_id, {})
        rows.append({"study_id": study_id, "citation": info.get("citation", ""), "title": info.get("title", ""),
                     "year": info.get("year", ""), "doi": info.get("doi", ""), "status": INCLUDED,
                     **({key_name: key_field.label_of(key)} if key_field else {}),  # as its dropdown shows it
                     DISPUTED: dispute_text(disputed[(study_id, key)])})
    append_rows(ws, ({k: v for k, v in row.items() if v not in ("", None)} for row in rows), _style)
    save(workbook, path)
    return len(new)
