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
    """A key x code heatmap as SVG text: every row and column the codebook has, labelled; a cell with no
    evidence is a grey gap; the scale counts whole studies (no date or random ids inside: same bytes)."""
    return _evidence_map(counts, title, "svg").decode("utf-8")


def evidence_map_png(counts: pd.DataFrame, title: str) -> bytes:
    """The same figure as PNG, for Word (which shows no SVG everywhere)."""
    return _evidence_map(counts, title, "png")


def _evidence_map(counts: pd.DataFrame, title: str, fmt: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap

    matplotlib.rcParams["svg.hashsalt"] = "review"
    if counts.empty:
        return b""
    values = counts.to_numpy(dtype=float)
    top = max(1, int(values.max()))
    # one shade per whole number of studies, the lightest still clearly apart from the grey of a gap
    cmap = ListedColormap(plt.get_cmap("Blues")(np.linspace(0.35, 0.95, top))).with_extremes(bad="#e8e8e8")
    norm = BoundaryNorm(np.arange(0.5, top + 1.5), cmap.N)
    fig, ax = plt.subplots(figsize=(max(7, 0.55 * len(counts.columns) + 4), max(3, 0.32 * len(counts.index) + 2.5)))
    image = ax.imshow(np.ma.masked_equal(values, 0), cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(range(len(counts.columns)), [str(c) for c in counts.columns], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(counts.index)), [str(i) for i in counts.index], fontsize=8)
    for (i, j), value in np.ndenumerate(values):
        if value:
            ax.text(j, i, str(int(value)), ha="center", va="center",
                    color="white" if value > top / 2 or top == 1 else "black", fontsize=8)
    ax.set_title(title, fontsize=11)
    colorbar = fig.colorbar(image, ax=ax, ticks=range(1, top + 1), label="studies")
    colorbar.ax.tick_params(labelsize=8)
    fig.text(0.01, 0.01, "Grey: no study extracted yet gives evidence for this cell.", fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    buffer = io.BytesIO()
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, metadata=metadata, dpi=150)
    plt.close(fig)
    return buffer.getvalue()


def timeline(periods: pd.DataFrame, fmt: str = "svg") -> bytes:
    """The tiers since 1948 as bars from their first to their last year (an arrow for a tier that still
    exists), blue where studies give evidence and grey where none is extracted yet, each with its count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "review"
    if periods.empty:
        return b""
    starts = [int(v) for v in periods["from"]]
    ends = [None if str(v) == "present" else int(v) for v in periods["to"]]
    # a tier that still exists runs to the year after the latest year the codebook names (never today's date)
    horizon = max([*starts, *(e for e in ends if e is not None)]) + 1
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(periods) + 1.4))
    for row, (start, end, studies) in enumerate(zip(starts, ends, periods["studies"])):
        has = str(studies).isdigit() and int(studies) > 0
        ax.barh(row, (end or horizon) - start, left=start, height=0.6, color="#2f5597" if has else "#d0d0d0",
                edgecolor="#2f5597" if has else "#9a9a9a")
        if end is None:
            ax.annotate("", xy=(horizon + 1.5, row), xytext=(horizon, row),
                        arrowprops={"arrowstyle": "->", "color": "#2f5597" if has else "#9a9a9a"})
        ax.text((end or horizon) + (2.2 if end is None else 0.6), row,
                f"{studies} {'study' if str(studies) == '1' else 'studies'}" if has else "none extracted yet",
                va="center", fontsize=7, color="#333333")
    ax.set_yticks(range(len(periods)), list(periods["label"]), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(min(starts) - 2, horizon + 24)  # room for the counts written after each bar
    ax.set_xticks(range(10 * -(-min(starts) // 10), horizon + 1, 10))  # no year after the codebook's last
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    ax.set_title("The intermediate tiers and the evidence behind each (arrow: the tier still exists)", fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Date": None, "Creator": None} if fmt == "svg" else {"Software": None},
                dpi=150)
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
    from docx.shared import Cm

    doc = Document()
    for section in doc.sections:  # A4, as reports in England are printed (python-docx starts in US Letter)
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.0)
        section.top_margin = section.bottom_margin = Cm(2.0)
    doc.core_properties.title = context["title"]
    doc.add_heading(context["title"], level=0)
    _synthesis_sections(doc, context)
    if context["cerqual"]:
        doc.add_heading("Summary of qualitative findings (GRADE-CERQual)", level=1)
        columns = ["finding", "studies", "methodological_limitations", "coherence", "adequacy", "relevance",
                   "overall_confidence", "explanation"]
        _table(doc, columns, [[f["finding"], "; ".join(s["citation"] for s in f["studies"])] + [f[c] for c in columns[2:]]
                              for f in context["cerqual"]])
    _closing_sections(doc, context)
    buffer = io.BytesIO()
    doc.save(buffer)
    return stable_zip(buffer.getvalue())


def _synthesis_sections(doc: Any, context: dict[str, Any]) -> None:
    """Key messages, the issue, methods, findings per question, recommendations, enablers and barriers, gaps:
    what the team wrote, and where nothing is written yet, saying so."""
    doc.add_heading("Key messages", level=1)
    for m in context["key_messages"]:
        paragraph = doc.add_paragraph(style="List Bullet")
        paragraph.add_run(m["key_message"]).bold = True
        if m["confidence"]:
            paragraph.add_run(f" (confidence: {m['confidence']})")
    if not context["key_messages"]:
        doc.add_paragraph("No key messages have been written yet (extracts/synthesis.xlsx, sheet key messages).")
    doc.add_heading("The issue and the questions", level=1)
    if context["scope"]:
        doc.add_paragraph(context["scope"])
    for question in context["questions"]:
        doc.add_paragraph(question, style="List Number")
    if context.get("timeline_png"):
        from docx.shared import Cm

        doc.add_picture(io.BytesIO(context["timeline_png"]), width=Cm(17.0))
    doc.add_heading("Methods", level=1)
    m, p = context["methods"], context["prisma"]
    doc.add_paragraph("Searches: " + "; ".join(
        f"{s['database']}" + (f" ({s['interface']})" if s["interface"] else "") + (f", {s['date']}" if s["date"] else "")
        + (f": {s['records']} records" if s["records"] != "" else "") + (f"; search: {s['search_string']}"
                                                                         if s["search_string"] else "")
        for s in m["sources"]) + ".")
    doc.add_paragraph(f"{context['identified']} records identified; {p['duplicates']} duplicates removed; "
                      f"{p['records_screened']} screened; {p['records_excluded']} excluded at title and abstract; "
                      f"{p['dbr_assessed']} full texts assessed; {p['new_studies']} studies included.")
    agreement = " ".join(f"Screening at {s['stage']}: {s['compared']} records compared, agreement {s['agreement']}, "
                         f"kappa {s['kappa']}." for s in m["screening"])
    doc.add_paragraph(f"{agreement} Data were extracted by {len(m['reviewers'])} reviewers"
                      + (f" (median kappa {m['extraction_kappa_median']} over {m['extraction_fields']} fields)"
                         if m["extraction_kappa_median"] else "") + "; disagreements were settled by consensus.")
    _findings_sections(doc, context)


def _findings_sections(doc: Any, context: dict[str, Any]) -> None:
    """Findings per question, recommendations by audience, enablers and barriers, evidence gaps."""
    from docx.shared import Cm

    doc.add_heading("Findings by review question", level=1)
    for q in context["by_question"]:
        doc.add_heading(f"{q['code']}. {q['question']}" if q["code"] else q["question"], level=2)
        for f in q["findings"]:
            paragraph = doc.add_paragraph(f["finding"], style="List Bullet")
            if f["overall_confidence"]:
                paragraph.add_run(f" Confidence: {f['overall_confidence']}.").italic = True
            if f["studies"]:
                paragraph.add_run(" (" + "; ".join(s["citation"] for s in f["studies"]) + ")")
            if f["quotes"]:
                doc.add_paragraph(f["quotes"], style="Quote")
        if not q["findings"]:
            doc.add_paragraph("No finding has been written for this question yet"
                              + (f"; {q['candidate_studies']} studies give candidate evidence (extracts/synthesis.xlsx, "
                                 "sheet evidence)" if q["candidate_studies"] else "") + ".")
    doc.add_heading("Recommendations", level=1)
    for group in context["recommendations"]:
        doc.add_heading(f"For {group['audience']}", level=2)
        for r in group["recommendations"]:
            doc.add_paragraph(r["recommendation"], style="List Bullet")
    if not context["recommendations"]:
        doc.add_paragraph("No recommendations have been written yet (extracts/synthesis.xlsx, sheet recommendations).")
    if context["enablers_barriers"]:
        doc.add_heading(context["enablers_barriers"]["caption"], level=1)
        if context["enablers_barriers"]["rows"]:
            _table(doc, context["enablers_barriers"]["columns"], context["enablers_barriers"]["rows"])
    gaps = context["gaps"]
    doc.add_heading("Evidence gaps", level=1)
    if gaps["cells"]:
        doc.add_paragraph(f"{gaps['empty_cells']} of {gaps['cells']} cells of the evidence map have no evidence yet."
                          + (f" Tiers with no evidence at all: {'; '.join(gaps['empty_rows'])}." if gaps["empty_rows"]
                             else ""))
    if gaps["not_extracted"]:
        doc.add_paragraph("Included studies not yet extracted (not evidence of absence): "
                          + "; ".join(gaps["not_extracted"]) + ".")
    if context.get("evidence_map_png"):
        doc.add_picture(io.BytesIO(context["evidence_map_png"]), width=Cm(17.0))


def _table(doc: Any, columns: list[str], rows: list[list[str]]) -> None:
    """A Word table whose columns share the page's width by how much text they hold, so that a short
    column is not squeezed into breaking words and a long one wraps."""
    from docx.shared import Cm

    word = doc.add_table(rows=1, cols=len(columns))
    word.style = "Table Grid"
    word.autofit = False
    longest = [max([len(str(c)), *(max((len(w) for w in str(r[k]).split()), default=0) * 2 for r in rows),
                    *(min(len(str(r[k])), 60) for r in rows)]) + 3 for k, c in enumerate(columns)]
    widths = [Cm(17.0 * n / sum(longest)) for n in longest]
    for column, width in zip(word.columns, widths):  # the grid (LibreOffice reads it) and each cell (Word does)
        column.width = width
    for row_values in [columns, *rows]:
        cells = word.rows[0].cells if row_values is columns else word.add_row().cells
        for cell, value, width in zip(cells, row_values, widths):
            cell.text = str(value)
            cell.width = width
    for cell in word.rows[0].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True


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
    for reference in context["reference_parts"]:
        paragraph = doc.add_paragraph()
        for part in reference:
            paragraph.add_run(part["text"]).italic = part["italic"]
    doc.add_heading("Appendix: evidence tables", level=1)
    for table in context["appendix"]:
        doc.add_heading(table["caption"], level=2)
        if table["rows"]:
            _table(doc, table["columns"], table["rows"])
        else:
            doc.add_paragraph("No evidence yet.")