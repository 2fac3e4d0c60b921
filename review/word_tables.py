"""Word tables sized from their text: each column at least as wide as its longest word at the table's font.

Widths are measured with the font the document's text uses (its Normal style, else its theme's body font),
through the metric-compatible stand-in a reader without Office fonts has (Carlito for Calibri, Caladea for
Cambria, Liberation for Arial and Times New Roman); a font found nowhere is measured as DejaVu Sans, which
is wider than all of them, so a column is never too narrow for its words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

TABLE_PT = 9.0  # table text: smaller than the body's 11 pt, still read without effort in print
SMALLEST_PT = 8.0  # a table too wide for a landscape page at 9 pt tries this before it breaks words
CELL_PADDING_PT = 5.4 * 2 + 1.5  # the Table Grid style's left and right cell margins (0.19 cm each), a border
SAFETY = 1.04  # kerning and rounding between this measure and the renderer's
# Office fonts and their metric-compatible stand-ins (same advance widths)
STAND_INS = {"calibri": ["Carlito"], "cambria": ["Caladea"], "arial": ["Liberation Sans", "Arimo"],
             "helvetica": ["Liberation Sans"], "times new roman": ["Liberation Serif", "Tinos"],
             "courier new": ["Liberation Mono", "Cousine"]}


@functools.lru_cache(maxsize=16)
def _font(family: str, bold: bool) -> Any:
    """The font file for ``family`` (or its stand-in), else DejaVu Sans (matplotlib ships it)."""
    from matplotlib import font_manager
    from PIL import ImageFont

    weight = "bold" if bold else "normal"
    for name in [family, *STAND_INS.get(family.lower(), [])]:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name, weight=weight),
                                         fallback_to_default=False, rebuild_if_missing=False)
        except ValueError:
            continue
        font = ImageFont.truetype(path, 1000)
        if str(font.getname()[0]).lower() == name.lower():
            return font
    return ImageFont.truetype(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans",
                                                                                weight=weight)), 1000)


def text_width_pt(text: str, family: str, size: float, bold: bool = False) -> float:
    """How wide ``text`` is on one line, in points."""
    return float(_font(family, bold).getlength(text)) * size / 1000


@dataclass
class Layout:
    widths_pt: list[float]
    landscape: bool
    size: float


def _measures(columns: list[str], rows: list[list[str]], family: str, size: float
              ) -> tuple[list[float], list[float]]:
    """Per column, the width of its longest word (the least it may be) and of its longest cell on one
    line (the most it needs), in points with the cell's padding."""
    least, most = [], []
    for k, name in enumerate(columns):
        cells = [(str(name), True)] + [(str(r[k]), False) for r in rows]
        words = [text_width_pt(w, family, size, bold) for text, bold in cells for w in re.split(r"\s+", text) if w]
        lines = [text_width_pt(text, family, size, bold) for text, bold in cells if text]
        least.append(max(words, default=0) * SAFETY + CELL_PADDING_PT)
        most.append(max(lines, default=0) * SAFETY + CELL_PADDING_PT)
    return least, most


def layout(columns: list[str], rows: list[list[str]], family: str, portrait_pt: float, landscape_pt: float
           ) -> Layout:
    """Column widths that fill the text width: every column gets its longest word, the rest of the width
    goes to the columns whose text would wrap, in proportion to how much more they would need. A table whose
    words do not fit across a portrait page, or that would wrap into a tall thin column of many lines there,
    is laid out across a landscape page."""
    for width, landscape, size in ((portrait_pt, False, TABLE_PT), (landscape_pt, True, TABLE_PT),
                                   (landscape_pt, True, SMALLEST_PT)):
        least, most = _measures(columns, rows, family, size)
        crowded = not landscape and sum(most) > 3 * width and len(columns) > 5
        if sum(least) <= width and not crowded:
            break
    if sum(most) <= width:  # everything on one line: the spare width shared as the text is
        widths = [m + (width - sum(most)) * m / sum(most) for m in most]
    elif sum(least) <= width:
        spare = [m - n for m, n in zip(most, least)]
        widths = [n + (width - sum(least)) * s / (sum(spare) or 1) for n, s in zip(least, spare)]
    else:  # wider than a landscape page even at 8 pt: shared by the longest words
        widths = [n * width / sum(least) for n in least]
    return Layout(widths, landscape, size)


def document_font(doc: Any) -> str:
    """The font family of the document's body text: its Normal style's, else its theme's minor (body) font,
    else Calibri (Word's default since 2007)."""
    name = doc.styles["Normal"].font.name if "Normal" in {s.name for s in doc.styles} else None
    if name:
        return str(name)
    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/theme"):
            found = re.search(rb"<a:minorFont>\s*<a:latin typeface=\"([^\"]+)\"", rel.target_part.blob)
            if found:
                return found.group(1).decode("utf-8")
    return "Calibri"


def write(doc: Any, columns: list[str], rows: list[list[str]], plan: Layout, styles: set[str]) -> Any:
    """The table in the document at ``plan``'s widths and size: header row in bold, repeated on every page;
    no row split across pages."""
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=len(columns))
    if "Table Grid" in styles:
        table.style = "Table Grid"
    table.autofit = False
    widths = [Pt(w) for w in plan.widths_pt]
    for column, width in zip(table.columns, widths):  # the grid (LibreOffice reads it) and each cell (Word does)
        column.width = width
    for row_values in [columns, *rows]:
        cells = table.rows[0].cells if row_values is columns else table.add_row().cells
        for cell, value, width in zip(cells, row_values, widths):
            cell.width = width
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            run = paragraph.add_run(str(value))
            run.font.size = Pt(plan.size)
            run.bold = True if row_values is columns else None
    for number, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if number == 0:
            properties.append(OxmlElement("w:tblHeader"))
    return table
