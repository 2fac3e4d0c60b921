"""Documents and figures of the report, as bytes: the tables workbook, the PRISMA flow as PNG, and (from
``review.word`` and ``review.figures``) the Word file, the evidence map and the timeline.

Same content, same bytes: Office files go through ``stable_zip`` (fixed entry times and document
dates), the SVG is written without dates or random ids.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from .figures import evidence_map, evidence_map_png, evidence_map_svg, timeline, timelines
from .fileio import neutralise, stable_zip
from .word import REFERENCE_DOCX, docx

__all__ = ["REFERENCE_DOCX", "docx", "evidence_map", "evidence_map_png", "evidence_map_svg", "svg_png",
           "tables_workbook", "timeline", "timelines"]


def tables_workbook(tables: list[dict[str, Any]]) -> bytes:
    """Every evidence table as a sheet of one workbook (text a spreadsheet would run is neutralised)."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    for table in tables:
        ws = wb.create_sheet(table["name"][:31])
        ws.append(table["columns"])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in table["rows"]:
            ws.append([neutralise(v) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return stable_zip(buffer.getvalue())


def svg_png(svg: str, width: int = 1600) -> bytes | None:
    """An SVG drawing (the PRISMA flow) as PNG for Word, through cairosvg; ``None`` where the cairo
    library is not installed (the report then points to the SVG instead)."""
    try:
        import cairosvg
    except (ImportError, OSError):  # cairosvg loads libcairo when imported
        return None
    return bytes(cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width))
