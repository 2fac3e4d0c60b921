"""Documents and figures of the report, as bytes: the Word file, the tables workbook, the evidence map.

Same content, same bytes: Office files go through ``stable_zip`` (fixed entry times and document
dates), the SVG is written without dates or random ids.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from .fileio import stable_zip


def evidence_map_svg(counts: pd.DataFrame, title: str) -> str:
    """A tier x function heatmap as SVG text (no date or random ids inside: same data, same bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "review"
    if counts.empty:
        return ""
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(counts.columns) + 2), max(3, 0.45 * len(counts.index) + 1.5)))
    image = ax.imshow(counts.values, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(counts.columns)), [c.split("_", 1)[0] for c in counts.columns])
    ax.set_yticks(range(len(counts.index)), list(counts.index))
    for (i, j), value in pd.DataFrame(counts.values).stack().items():  # type: ignore[misc]  # (row, column) pairs
        if value:
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > counts.values.max() / 2 else "black", fontsize=9)
    ax.set_title(title, fontsize=11)
    fig.colorbar(image, ax=ax, label="studies")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue()

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
            ws.append([("'" + v) if v.startswith(("=", "+", "-", "@")) else v for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return stable_zip(buffer.getvalue())


def docx(context: dict[str, Any]) -> bytes:
    """The same content as Word, with real Word tables (for teams that edit in Word)."""
    from docx import Document

    doc = Document()
    doc.core_properties.title = context["title"]
    doc.add_heading(context["title"], level=0)
    doc.add_heading("Review questions", level=1)
    for question in context["questions"]:
        doc.add_paragraph(question, style="List Number")
    if context["scope"]:
        doc.add_paragraph(context["scope"])
    doc.add_heading("Studies and flow", level=1)
    p = context["prisma"]
    doc.add_paragraph(f"{context['identified']} records identified; {p['duplicates']} duplicates removed; "
                      f"{p['records_screened']} screened; {p['records_excluded']} excluded at title and abstract; "
                      f"{p['dbr_assessed']} full texts assessed; {p['new_studies']} studies included.")
    doc.add_heading(context["findings_heading"], level=1)
    for finding in context["findings"]:
        doc.add_paragraph(f"{finding['label']}: {finding['studies']} studies ({', '.join(finding['key_codes'])}): "
                          f"{'; '.join(finding['citations'])}.", style="List Bullet")
    for table in context["tables"]:
        doc.add_heading(table["caption"], level=2)
        if not table["rows"]:
            doc.add_paragraph("No evidence yet.")
            continue
        word = doc.add_table(rows=1, cols=len(table["columns"]))
        word.style = "Table Grid"
        for cell, name in zip(word.rows[0].cells, table["columns"]):
            cell.text = name
        for row in table["rows"]:
            for cell, value in zip(word.add_row().cells, row):
                cell.text = value
    if context["cerqual"]:
        doc.add_heading("Summary of qualitative findings (GRADE-CERQual)", level=1)
        columns = ["finding", "studies", "methodological_limitations", "coherence", "adequacy", "relevance",
                   "overall_confidence", "explanation"]
        word = doc.add_table(rows=1, cols=len(columns))
        word.style = "Table Grid"
        for cell, name in zip(word.rows[0].cells, columns):
            cell.text = name
        for finding in context["cerqual"]:
            values = [finding["finding"], "; ".join(s["citation"] for s in finding["studies"])] + [
                finding[c] for c in columns[2:]]
            for cell, value in zip(word.add_row().cells, values):
                cell.text = value
    _closing_sections(doc, context)
    buffer = io.BytesIO()
    doc.save(buffer)
    return stable_zip(buffer.getvalue())


def _closing_sections(doc: Any, context: dict[str, Any]) -> None:
    """Limitations, what the last refresh changed, references."""
    limits = context["limitations"]
    doc.add_heading("Limitations", level=1)
    doc.add_paragraph(f"{limits['studies_extracted']} of {limits['studies_included']} included studies extracted; "
                      f"{limits['open_disagreements']} unresolved disagreements; {limits['validation_errors']} "
                      "validation errors outstanding.")
    doc.add_heading("What changed since the last refresh", level=1)
    for change in context["changes"]:
        doc.add_paragraph(f"{change['title']} ({change['count']}): {change['detail']}", style="List Bullet")
    if not context["changes"]:
        doc.add_paragraph("Nothing changed in the evidence since the last refresh.")
    doc.add_heading("References", level=1)
    for reference in context["references"]:
        doc.add_paragraph(reference)