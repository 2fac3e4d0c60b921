"""The executive summary as a Word file: A4 (or the house template's page), headings kept with what follows,
tables sized from their text (landscape sections for wide ones), numbered pages under a running header, and
the document's properties from the protocol (no clock time: the same content gives the same bytes).
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from . import word_sections, word_tables
from .fileio import stable_zip
from .report import FIRST_PAGE, number_figures

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
    w = Writer(doc, number_figures(context))
    w.heading(context["title"], 0)
    cover = " \u00b7 ".join(v for v in (info["author"], info["date"]) if v)
    if cover:
        w.paragraph(cover)
    w.status(context["status"])
    contents = None
    for name in context["sections"]:
        if contents is None and name not in FIRST_PAGE:  # the contents after the first page, on a page of their own
            contents = w.heading("Contents", 1, page_break=True)
        word_sections.WRITERS[name](w, context)
    w.contents_after(contents if contents is not None else w.heading("Contents", 1, page_break=True))
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


class Writer:
    """Adds headings, paragraphs, figures and tables to a Word document, in the document's own styles
    where it has them (a house template may lack some), keeping headings and captions with what follows;
    a table too wide for the page gets a landscape section, which ends at the next heading."""

    def __init__(self, doc: Any, figures: dict[str, dict[str, Any]] | None = None) -> None:
        self.doc = doc
        self.styles = {s.name for s in doc.styles}
        self.headings: list[tuple[int, str, str]] = []  # level, text, bookmark
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

    def heading(self, text: str, level: int, landscape: bool = False, page_break: bool = False) -> Any:
        """A heading kept with what follows; levels 1 and 2 are bookmarked for the contents' page numbers."""
        self._orient(landscape)
        name = "Title" if level == 0 else f"Heading {level}"
        if name in self.styles:
            paragraph = self.doc.add_paragraph(text, style=name)
        else:
            paragraph = self.doc.add_paragraph()
            paragraph.add_run(text).bold = True
        paragraph.paragraph_format.keep_with_next = True  # never a heading alone at the foot of a page
        paragraph.paragraph_format.page_break_before = page_break or None
        if level in (1, 2) and text != "Contents":
            bookmark = f"_Toc{len(self.headings) + 1:05d}"  # numbered in order: the same bytes on every run
            _bookmark(paragraph, bookmark, len(self.headings) + 1)
            self.headings.append((level, text, bookmark))
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
        numbered caption; scaled down only where the page's text is narrower. The caption and the picture are
        one paragraph kept on one page: a caption kept with a picture paragraph after it (keep with next) is
        still left alone at a page's foot by LibreOffice."""
        from docx.shared import Inches
        from PIL import Image

        self._orient(False)
        figure = self.numbers[name]
        paragraph = self.paragraph(f"Figure {figure['number']}. {figure['caption']}", "Caption")
        paragraph.paragraph_format.keep_together = True
        image = Image.open(io.BytesIO(png))
        dpi = image.info.get("dpi", (150, 150))[0] or 150
        run = paragraph.add_run()
        run.add_break()
        run.add_picture(io.BytesIO(png), width=min(Inches(image.width / dpi), self._text_width()))

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
        """The contents after ``heading``: each heading of levels 1 and 2 with its page number as a PAGEREF
        field to the heading's bookmark. LibreOffice computes such a field as it lays out the pages (a TOC
        field it would show as last saved, and python-docx cannot lay out pages to save one with numbers);
        Word computes them when it updates the fields, which ``updateFields`` asks the reader to do on
        opening. Each entry links to its heading."""
        from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        anchor = heading
        for level, text, bookmark in self.headings:
            style = f"toc {level}"
            p = self.doc.add_paragraph(style=self._style(style))
            if style not in self.styles:  # as Word's own contents styles set them: indented, no space between
                p.paragraph_format.left_indent = 360000 * (level - 1)
                p.paragraph_format.space_after = 0
            p.paragraph_format.tab_stops.add_tab_stop(self._text_width(), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
            link = OxmlElement("w:hyperlink")
            link.set(qn("w:anchor"), bookmark)
            link.set(qn("w:history"), "1")
            p._p.append(link)
            run = p.add_run(text + "\t")
            link.append(run._r)  # moved into the link
            _field(p, f"PAGEREF {bookmark} \\h", "")
            anchor._p.addnext(p._p)  # moved from the end of the body to after the heading, in order
            anchor = p
        settings = self.doc.settings.element
        if settings.find(qn("w:updateFields")) is None:
            update = OxmlElement("w:updateFields")
            update.set(qn("w:val"), "true")
            settings.append(update)


def _bookmark(paragraph: Any, name: str, number: int) -> None:
    """A bookmark around ``paragraph``'s text, for a PAGEREF field to find its page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)
    paragraph._p.append(end)
