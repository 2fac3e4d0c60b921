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

from .fileio import neutralise, stable_zip


def evidence_map_svg(counts: pd.DataFrame, title: str) -> str:
    """A key x code heatmap as SVG text: every row and column the codebook has, labelled; a cell with no
    evidence is a grey gap; the scale counts whole studies (no date or random ids inside: same bytes)."""
    return _evidence_map(counts, title, ("svg",))["svg"].decode("utf-8")


def evidence_map_png(counts: pd.DataFrame, title: str) -> bytes:
    """The same figure as PNG, for Word (which shows no SVG everywhere)."""
    return _evidence_map(counts, title, ("png",))["png"]


def evidence_map(counts: pd.DataFrame, title: str) -> tuple[str, bytes]:
    """Both at once (the figure drawn once: matplotlib's layout is most of the time)."""
    drawn = _evidence_map(counts, title, ("svg", "png"))
    return drawn["svg"].decode("utf-8"), drawn["png"]


def _saved(fig: Any, fmts: tuple[str, ...]) -> dict[str, bytes]:
    """A figure in each format, without a date or the software's name inside (same figure, same bytes)."""
    out = {}
    for fmt in fmts:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata={"Date": None, "Creator": None} if fmt == "svg" else {"Software": None},
                    dpi=150)
        out[fmt] = buffer.getvalue()
    return out


def _evidence_map(counts: pd.DataFrame, title: str, fmts: tuple[str, ...]) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap

    matplotlib.rcParams["svg.hashsalt"] = "review"
    if counts.empty:
        return dict.fromkeys(fmts, b"")
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
    drawn = _saved(fig, fmts)
    plt.close(fig)
    return drawn


def timeline(periods: pd.DataFrame, fmt: str = "svg") -> bytes:
    """The tiers since 1948 as bars from their first to their last year (an arrow for a tier that still
    exists), blue where studies give evidence and grey where none is extracted yet, each with its count."""
    return _timeline(periods, (fmt,))[fmt]


def timelines(periods: pd.DataFrame) -> tuple[str, bytes]:
    """The timeline as SVG text and as PNG, drawn once."""
    drawn = _timeline(periods, ("svg", "png"))
    return drawn["svg"].decode("utf-8"), drawn["png"]


def _timeline(periods: pd.DataFrame, fmts: tuple[str, ...]) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "review"
    if periods.empty:
        return dict.fromkeys(fmts, b"")
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
    drawn = _saved(fig, fmts)
    plt.close(fig)
    return drawn


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


REFERENCE_DOCX = "reference.docx"  # the team's house style, in its templates folder (see templates/README.md)


def docx(context: dict[str, Any], reference: bytes | None = None) -> bytes:
    """The same content as Word, with real Word tables (for teams that edit in Word). ``reference`` is the
    team's house template (a .docx): its styles, page size and margins are used and its text is dropped;
    a style it lacks falls back to plain formatting. Without one the page is A4."""
    from docx import Document
    from docx.shared import Cm

    if reference is not None:
        doc = Document(io.BytesIO(reference))
        body = doc.element.body
        for child in list(body):
            if not child.tag.endswith("}sectPr"):  # the house template's own text; its page setup stays
                body.remove(child)
    else:
        doc = Document()
        for section in doc.sections:  # A4, as reports in England are printed (python-docx starts in US Letter)
            section.page_width, section.page_height = Cm(21.0), Cm(29.7)
            section.left_margin = section.right_margin = Cm(2.0)
            section.top_margin = section.bottom_margin = Cm(2.0)
    doc.core_properties.title = context["title"]
    w = _Writer(doc)
    w.heading(context["title"], 0)
    contents = w.heading("Contents", 1)
    _synthesis_sections(w, context)
    if context["cerqual"]:
        w.heading("Summary of qualitative findings (GRADE-CERQual)", 1)
        columns = ["finding", "studies", "methodological_limitations", "coherence", "adequacy", "relevance",
                   "overall_confidence", "explanation"]
        w.table(columns, [[f["finding"], "; ".join(s["citation"] for s in f["studies"])] + [f[c] for c in columns[2:]]
                          for f in context["cerqual"]])
    _closing_sections(w, context)
    w.contents_after(contents)
    buffer = io.BytesIO()
    doc.save(buffer)
    return stable_zip(buffer.getvalue())


class _Writer:
    """Adds headings, paragraphs, figures and tables to a Word document, in the document's own styles
    where it has them (a house template may lack some), keeping headings and captions with what follows."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.styles = {s.name for s in doc.styles}
        self.headings: list[tuple[int, str]] = []
        self.figures = 0

    def _style(self, name: str) -> str | None:
        return name if name in self.styles else None

    def paragraph(self, text: str = "", style: str | None = None) -> Any:
        from docx.shared import Cm

        if style and style not in self.styles and style.startswith("List"):  # a bullet by hand
            paragraph = self.doc.add_paragraph("\u2022 " + text)
            paragraph.paragraph_format.left_indent = Cm(0.6)
            return paragraph
        return self.doc.add_paragraph(text, style=self._style(style) if style else None)

    def heading(self, text: str, level: int) -> Any:
        name = "Title" if level == 0 else f"Heading {level}"
        if name in self.styles:
            paragraph = self.doc.add_paragraph(text, style=name)
        else:
            paragraph = self.doc.add_paragraph()
            paragraph.add_run(text).bold = True
        paragraph.paragraph_format.keep_with_next = True  # never a heading alone at the foot of a page
        if level in (1, 2) and text != "Contents":
            self.headings.append((level, text))
        return paragraph

    def figure(self, png: bytes, caption: str, width_cm: float = 17.0) -> None:
        from docx.shared import Cm

        self.figures += 1
        label = self.paragraph(f"Figure {self.figures}. {caption}", "Caption")
        label.paragraph_format.keep_with_next = True  # the caption stays on the page of its figure
        section = self.doc.sections[-1]
        text_width = section.page_width - section.left_margin - section.right_margin
        self.doc.add_picture(io.BytesIO(png), width=min(Cm(width_cm), text_width))

    def table(self, columns: list[str], rows: list[list[str]]) -> None:
        _table(self.doc, columns, rows, self.styles)

    def contents_after(self, heading: Any) -> None:
        """A table of contents field after ``heading``: Word updates it (page numbers) when the file is
        opened; until then it lists the headings, so a reader of a converted copy still sees them."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        def run_with(kind: str, **attrs: str) -> Any:
            r = OxmlElement("w:r")
            child = OxmlElement(kind)
            for key, value in attrs.items():
                child.set(qn(key), value)
            r.append(child)
            return r

        anchor = heading
        entries = self.headings or [(1, "")]
        paragraphs = []
        for level, text in entries:
            p = self.doc.add_paragraph(style=self._style(f"toc {level}"))
            if f"toc {level}" not in self.styles:
                p.paragraph_format.left_indent = 360000 * (level - 1)
            p.add_run(text)
            paragraphs.append(p)
        first, last = paragraphs[0]._p, paragraphs[-1]._p
        instruction = run_with("w:instrText")
        instruction[0].set(qn("xml:space"), "preserve")
        instruction[0].text = ' TOC \\o "1-2" \\h \\z \\u '
        first.insert(1 if first.pPr is not None else 0, run_with("w:fldChar", **{"w:fldCharType": "begin"}))
        first.insert(2 if first.pPr is not None else 1, instruction)
        first.insert(3 if first.pPr is not None else 2, run_with("w:fldChar", **{"w:fldCharType": "separate"}))
        last.append(run_with("w:fldChar", **{"w:fldCharType": "end"}))
        for p in reversed(paragraphs):  # moved from the end of the body to just after the heading
            anchor._p.addnext(p._p)
        settings = self.doc.settings.element
        if settings.find(qn("w:updateFields")) is None:
            update = OxmlElement("w:updateFields")
            update.set(qn("w:val"), "true")
            settings.append(update)


def _synthesis_sections(w: _Writer, context: dict[str, Any]) -> None:
    """Key messages, the issue, methods, findings per question, recommendations, enablers and barriers, gaps:
    what the team wrote, and where nothing is written yet, saying so."""
    w.heading("Key messages", 1)
    for m in context["key_messages"]:
        paragraph = w.paragraph(style="List Bullet")
        paragraph.add_run(m["key_message"]).bold = True
        if m["confidence"]:
            paragraph.add_run(f" (confidence: {m['confidence']})")
    if not context["key_messages"]:
        w.paragraph("No key messages have been written yet (extracts/synthesis.xlsx, sheet key messages).")
    w.heading("The issue and the questions", 1)
    if context["scope"]:
        w.paragraph(context["scope"])
    for question in context["questions"]:
        w.paragraph(question, style="List Number")
    if context.get("timeline_png"):
        w.figure(context["timeline_png"], "The intermediate tiers and the evidence behind each")
    w.heading("Methods", 1)
    m, p = context["methods"], context["prisma"]
    w.paragraph("Searches: " + "; ".join(
        f"{s['database']}" + (f" ({s['interface']})" if s["interface"] else "") + (f", {s['date']}" if s["date"] else "")
        + (f": {s['records']} records" if s["records"] != "" else "") + (f"; search: {s['search_string']}"
                                                                         if s["search_string"] else "")
        for s in m["sources"]) + ".")
    w.paragraph(f"{context['identified']} records identified; {p['duplicates']} duplicates removed; "
                f"{p['records_screened']} screened; {p['records_excluded']} excluded at title and abstract; "
                f"{p['dbr_assessed']} full texts assessed; {p['new_studies']} studies included.")
    if context.get("flow_png"):
        w.figure(context["flow_png"], "PRISMA 2020 flow diagram", 15.0)
    else:  # no cairo library here to draw it for Word
        w.paragraph("The PRISMA 2020 flow diagram is in results/prisma/flow.svg.")
    agreement = " ".join(f"Screening at {s['stage']}: {s['compared']} records compared, agreement {s['agreement']}, "
                         f"kappa {s['kappa']}." for s in m["screening"])
    w.paragraph(f"{agreement} Data were extracted by {len(m['reviewers'])} reviewers"
                + (f" (median kappa {m['extraction_kappa_median']} over {m['extraction_fields']} fields)"
                   if m["extraction_kappa_median"] else "") + "; disagreements were settled by consensus.")
    if m["prioritisation"]:
        w.paragraph("Prioritisation and stopping: " + m["prioritisation"])
    _findings_sections(w, context)


def _findings_sections(w: _Writer, context: dict[str, Any]) -> None:
    """Findings per question, recommendations by audience, enablers and barriers, evidence gaps."""
    w.heading("Findings by review question", 1)
    for q in context["by_question"]:
        w.heading(f"{q['code']}. {q['question']}" if q["code"] else q["question"], 2)
        for f in q["findings"]:
            paragraph = w.paragraph(f["finding"], style="List Bullet")
            if f["overall_confidence"]:
                paragraph.add_run(f" Confidence: {f['overall_confidence']}.").italic = True
            if f["studies"]:
                paragraph.add_run(" (" + "; ".join(s["citation"] for s in f["studies"]) + ")")
            if f["quotes"]:
                w.paragraph(f["quotes"], style="Quote")
        if not q["findings"]:
            w.paragraph("No finding has been written for this question yet"
                        + (f"; {q['candidate_studies']} studies give candidate evidence (extracts/synthesis.xlsx, "
                           "sheet evidence)" if q["candidate_studies"] else "") + ".")
    w.heading("Recommendations", 1)
    for group in context["recommendations"]:
        w.heading(f"For {group['audience']}", 2)
        for r in group["recommendations"]:
            w.paragraph(r["recommendation"], style="List Bullet")
    if not context["recommendations"]:
        w.paragraph("No recommendations have been written yet (extracts/synthesis.xlsx, sheet recommendations).")
    if context["enablers_barriers"]:
        w.heading(context["enablers_barriers"]["caption"], 1)
        if context["enablers_barriers"]["rows"]:
            w.table(context["enablers_barriers"]["columns"], context["enablers_barriers"]["rows"])
    _gaps_section(w, context)


def _gaps_section(w: _Writer, context: dict[str, Any]) -> None:
    """Empty and thin rows of the evidence map, rows waiting for the consensus, studies not yet extracted."""
    gaps = context["gaps"]
    w.heading("Evidence gaps", 1)
    if gaps["cells"]:
        w.paragraph(f"{gaps['empty_cells']} of {gaps['cells']} cells of the evidence map ({gaps['axes']}) have "
                    "no evidence yet."
                    + (f" No evidence at all yet for: {'; '.join(gaps['empty_rows'])}." if gaps["empty_rows"]
                       else ""))
        for t in gaps["thin_rows"]:
            w.paragraph(f"{t['row']}: evidence on {', '.join(t['columns'])} only.", style="List Bullet")
        for t in gaps["disputed_rows"]:
            w.paragraph(f"{t['row']}: the reviewers disagree ({'; '.join(t['citations'])}); shown empty until "
                        "the consensus settles it, not a gap.", style="List Bullet")
    if gaps["not_extracted"]:
        w.paragraph("Included studies not yet extracted (not evidence of absence): "
                    + "; ".join(gaps["not_extracted"]) + ".")
    if context.get("evidence_map_png"):
        w.figure(context["evidence_map_png"], context.get("evidence_map_title", "Evidence map"))


def _table(doc: Any, columns: list[str], rows: list[list[str]], styles: set[str] | None = None) -> None:
    """A Word table whose columns share the text width of the page by how much text they hold, so that a
    short column is not squeezed into breaking words and a long one wraps. Its header row repeats on each
    page and no row breaks across pages."""
    from docx.oxml import OxmlElement

    section = doc.sections[-1]
    text_width = section.page_width - section.left_margin - section.right_margin
    word = doc.add_table(rows=1, cols=len(columns))
    if styles is None or "Table Grid" in styles:
        word.style = "Table Grid"
    word.autofit = False
    longest = [max([len(str(c)), *(max((len(w) for w in str(r[k]).split()), default=0) * 2 for r in rows),
                    *(min(len(str(r[k])), 60) for r in rows)]) + 3 for k, c in enumerate(columns)]
    widths = [int(text_width * n / sum(longest)) for n in longest]
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
    for number, row in enumerate(word.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if number == 0:
            properties.append(OxmlElement("w:tblHeader"))


def _closing_sections(w: _Writer, context: dict[str, Any]) -> None:
    """Limitations, what the last refresh changed, references."""
    limits = context["limitations"]
    w.heading("Limitations", 1)
    w.paragraph(f"{limits['studies_extracted']} of {limits['studies_included']} included studies extracted; "
                f"{limits['open_disagreements']} unresolved disagreements; {limits['validation_errors']} "
                "validation errors outstanding.")
    w.heading("What changed since the last refresh", 1)
    for change in context["changes"]:
        w.paragraph(f"{change['title']} ({change['count']}): {change['detail']}", style="List Bullet")
    if not context["changes"]:
        w.paragraph("Nothing changed in the evidence since the last refresh.")
    w.heading("References", 1)
    for reference in context["reference_parts"]:
        paragraph = w.paragraph()
        for part in reference:
            paragraph.add_run(part["text"]).italic = part["italic"]
    w.heading("Appendix: evidence tables", 1)
    for table in context["appendix"]:
        w.heading(table["caption"], 2)
        if table["rows"]:
            w.table(table["columns"], table["rows"])
        else:
            w.paragraph("No evidence yet.")