"""The executive summary as a Word file: A4 (or the house template's page), headings kept with what follows,
tables sized from their text (landscape sections for wide ones), numbered pages under a running header, and
the document's properties from the protocol (no clock time: the same content gives the same bytes).
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from . import word_tables
from .fileio import stable_zip
from .report import number_figures

REFERENCE_DOCX = "reference.docx"  # the team's house style, in its templates folder (see templates/README.md)


def docx(context: dict[str, Any], reference: bytes | None = None) -> bytes:
    """The same content as Word, with real Word tables (for teams that edit in Word). ``reference`` is the
    team's house template (a .docx): its styles, page size, margins, header and footer are used and its
    text is dropped; a style it lacks falls back to plain formatting. Without one the page is A4."""
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
    info = context["document"]
    _properties(doc, context["title"], info)
    _running_header_and_footer(doc, f"{context['title']} \u2014 {info['status']}")
    w = _Writer(doc, number_figures(context))
    w.heading(context["title"], 0)
    cover = " \u00b7 ".join(v for v in (info["author"], info["date"]) if v)
    if cover:
        w.paragraph(cover)
    w.status(context["status"])
    contents = w.heading("Contents", 1)
    _synthesis_sections(w, context)
    certainty = context["certainty"]
    if certainty["rows"]:
        w.table(certainty["columns"], certainty["rows"], (certainty["heading"], 1))
        w.paragraph(certainty["method"])
    _closing_sections(w, context)
    w.contents_after(contents)
    buffer = io.BytesIO()
    doc.save(buffer)
    return stable_zip(buffer.getvalue(), f"{info['date']}T00:00:00Z" if info["date"] else None)


def _properties(doc: Any, title: str, info: dict[str, Any]) -> None:
    """The file's properties from the protocol: title, author, language, and its date as created and
    modified (python-docx would say "python-docx" and the clock's time); the language of the text too."""
    from docx.oxml.ns import qn

    properties = doc.core_properties
    properties.title = title
    properties.author = properties.last_modified_by = info["author"]
    properties.language = info["language"]
    properties.revision = 1
    properties.comments = ""
    if info["date"]:
        when = datetime.datetime.fromisoformat(info["date"])
        properties.created = properties.modified = when
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    run = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    if run is not None and run.find(qn("w:rPr")) is not None:
        language = run.find(qn("w:rPr")).find(qn("w:lang"))
        if language is None:
            from docx.oxml import OxmlElement

            language = OxmlElement("w:lang")
            run.find(qn("w:rPr")).append(language)
        language.set(qn("w:val"), info["language"])


def _field(paragraph: Any, instruction: str, shown: str) -> None:
    """A field (PAGE, NUMPAGES) in ``paragraph``: the reader's software fills in its value."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for kind, text in (("begin", None), ("instr", instruction), ("separate", None), ("text", shown),
                       ("end", None)):
        run = paragraph.add_run()
        if kind == "instr":
            child = OxmlElement("w:instrText")
            child.set(qn("xml:space"), "preserve")
            child.text = f" {text} "
            run._r.append(child)
        elif kind == "text":
            run.text = str(text)
        else:
            child = OxmlElement("w:fldChar")
            child.set(qn("w:fldCharType"), kind)
            run._r.append(child)


def _running_header_and_footer(doc: Any, header: str) -> None:
    """The title and the review's status at the head of every page, "Page n of m" at its foot; a house
    template's own header or footer (one with text) is kept."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    section = doc.sections[0]
    if not any(p.text.strip() for p in section.header.paragraphs):
        paragraph = section.header.paragraphs[0]
        run = paragraph.add_run(header)
        run.font.size, run.font.color.rgb = Pt(8), RGBColor(0x59, 0x59, 0x59)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if not any(p.text.strip() for p in section.footer.paragraphs):
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run("Page ")
        _field(paragraph, "PAGE", "1")
        paragraph.add_run(" of ")
        _field(paragraph, "NUMPAGES", "1")
        for run in paragraph.runs:
            run.font.size = Pt(9)


class _Writer:
    """Adds headings, paragraphs, figures and tables to a Word document, in the document's own styles
    where it has them (a house template may lack some), keeping headings and captions with what follows;
    a table too wide for the page gets a landscape section, which ends at the next heading."""

    def __init__(self, doc: Any, figures: dict[str, dict[str, Any]] | None = None) -> None:
        self.doc = doc
        self.styles = {s.name for s in doc.styles}
        self.headings: list[tuple[int, str]] = []
        self.numbers = figures or {}
        self.font = word_tables.document_font(doc)
        self.landscape = False

    def _style(self, name: str) -> str | None:
        return name if name in self.styles else None

    def status(self, status: dict[str, Any]) -> None:
        """The review's status as a banner: DRAFT in red while anything is incomplete, and what remains."""
        from docx.shared import Pt, RGBColor

        paragraph = self.paragraph()
        label = paragraph.add_run(status["label"].upper() + "  ")
        label.bold = True
        label.font.size = Pt(12)
        label.font.color.rgb = RGBColor(0xC0, 0x00, 0x00) if not status["final"] else RGBColor(0x2F, 0x55, 0x97)
        paragraph.add_run(status["line"])

    def paragraph(self, text: str = "", style: str | None = None) -> Any:
        from docx.shared import Cm

        if style and style not in self.styles and style.startswith("List"):  # a bullet by hand
            paragraph = self.doc.add_paragraph("\u2022 " + text)
            paragraph.paragraph_format.left_indent = Cm(0.6)
            return paragraph
        return self.doc.add_paragraph(text, style=self._style(style) if style else None)

    def heading(self, text: str, level: int, landscape: bool = False) -> Any:
        self._orient(landscape)
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

    def _text_width(self) -> Any:
        section = self.doc.sections[-1]
        return section.page_width - section.left_margin - section.right_margin

    def _orient(self, landscape: bool) -> None:
        """A new section (on a new page) turned to ``landscape`` or back, with the same margins; its header
        and footer are the first section's."""
        from docx.enum.section import WD_ORIENT, WD_SECTION

        if landscape == self.landscape:
            return
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        short, long = sorted((section.page_width, section.page_height))
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (long, short) if landscape else (short, long)
        self.landscape = landscape

    def figure(self, name: str, png: bytes) -> None:
        """A figure at the size it was drawn (its text is then the size it was drawn at), under its
        numbered caption; scaled down only where the page's text is narrower."""
        from docx.shared import Inches

        self._orient(False)
        figure = self.numbers[name]
        label = self.paragraph(f"Figure {figure['number']}. {figure['caption']}", "Caption")
        label.paragraph_format.keep_with_next = True  # the caption stays on the page of its figure
        from PIL import Image

        image = Image.open(io.BytesIO(png))
        dpi = image.info.get("dpi", (150, 150))[0] or 150
        self.doc.add_picture(io.BytesIO(png), width=min(Inches(image.width / dpi), self._text_width()))

    def table(self, columns: list[str], rows: list[list[str]], heading: tuple[str, int] | None = None) -> None:
        """A table, after its heading when it has one (both on a landscape page when the table is wide)."""
        from docx.shared import Emu

        portrait, landscape = sorted((self.doc.sections[-1].page_width, self.doc.sections[-1].page_height))
        section = self.doc.sections[-1]
        margins = section.left_margin + section.right_margin
        plan = word_tables.layout(columns, rows, self.font, Emu(portrait - margins).pt, Emu(landscape - margins).pt)
        if heading:
            self.heading(*heading, landscape=plan.landscape or self.landscape)
        else:
            self._orient(plan.landscape or self.landscape)
        if self.landscape and not plan.landscape:  # already across a landscape page: the table fills it
            plan = word_tables.layout(columns, rows, self.font, Emu(landscape - margins).pt,
                                      Emu(landscape - margins).pt)
        word_tables.write(self.doc, columns, rows, plan, self.styles)

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
            paragraph.add_run(f" ({context['certainty']['word']}: {m['confidence']})")
        paragraph.add_run(f" Based on {m['sources']}." if m["sources"] else " No finding linked yet.")
    if not context["key_messages"]:
        w.paragraph("No key messages have been written yet (extracts/synthesis.xlsx, sheet key messages).")
    w.heading("The issue and the questions", 1)
    if context["scope"]:
        w.paragraph(context["scope"])
    for question in context["questions"]:
        w.paragraph(question, style="List Number")
    if context.get("timeline_png"):
        w.figure("timeline", context["timeline_png"])
    w.heading("Methods", 1)
    m = context["methods"]
    w.status(context["status"])
    w.paragraph("Searches: " + "; ".join(
        f"{s['database']}" + (f" ({s['interface']})" if s["interface"] else "") + (f", {s['date']}" if s["date"] else "")
        + (f": {s['records']} records" if s["records"] != "" else "") + (f"; search: {s['search_string']}"
                                                                         if s["search_string"] else "")
        for s in m["sources"]) + ".")
    w.paragraph(m["studies_text"])
    if context.get("flow_png"):
        w.figure("flow", context["flow_png"])
    else:  # no cairo library here to draw it for Word
        w.paragraph("The PRISMA 2020 flow diagram is in results/prisma/flow.svg.")
    if m["agreement_text"]:
        w.paragraph(m["agreement_text"])
    if m["prioritisation"]:
        w.paragraph("Prioritisation and stopping: " + m["prioritisation"])
    _findings_sections(w, context)


def _findings_sections(w: _Writer, context: dict[str, Any]) -> None:
    """Findings per question, recommendations by audience, enablers and barriers, evidence gaps."""
    w.heading("Findings by review question", 1)
    for q in context["by_question"]:
        w.heading(f"{q['code']}. {q['question']}" if q["code"] else q["question"], 2)
        for f in q["findings"]:
            paragraph = w.paragraph(style="List Bullet")
            if f.get("finding_id"):
                paragraph.add_run(f"{f['finding_id']}. ").bold = True
            paragraph.add_run(f["finding"])
            if f["overall_confidence"]:
                paragraph.add_run(f" {context['certainty']['word'].capitalize()}: {f['overall_confidence']}.").italic = True
            if f["studies"]:
                paragraph.add_run(" (" + "; ".join(s["citation"] for s in f["studies"]) + ")")
            if f["quotes"]:
                w.paragraph(f["quotes"], style="Quote")
        if not q["findings"]:
            w.paragraph("No finding has been written for this question yet"
                        + (f"; {q['candidate_studies']} "
                           + ("study gives" if q["candidate_studies"] == 1 else "studies give")
                           + " candidate evidence (extracts/synthesis.xlsx, sheet evidence)"
                           if q["candidate_studies"] else "") + ".")
    w.heading("Recommendations", 1)
    for group in context["recommendations"]:
        w.heading(f"For {group['audience']}", 2)
        for r in group["recommendations"]:
            paragraph = w.paragraph(r["recommendation"], style="List Bullet")
            paragraph.add_run(f" Based on {r['sources']}." if r["sources"] else " No finding linked yet.")
    if not context["recommendations"]:
        w.paragraph("No recommendations have been written yet (extracts/synthesis.xlsx, sheet recommendations).")
    if context["enablers_barriers"]:
        table = context["enablers_barriers"]
        if table["rows"]:
            w.table(table["columns"], table["rows"], (table["caption"], 1))
        else:
            w.heading(table["caption"], 1)
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
        w.figure("evidence_map", context["evidence_map_png"])


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
        if table["rows"]:
            w.table(table["columns"], table["rows"], (table["caption"], 2))
        else:
            w.heading(table["caption"], 2, landscape=w.landscape)
            w.paragraph("No evidence yet.")