"""The executive summary (review.report, review.documents): Markdown, HTML (Chromium), Word; the findings sheet."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile

import pandas as pd
import pytest
from conftest import EVIDENCE, FORM, LETTERED, STUDIES, unresolved
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from review import documents, figures, report, report_checks, tables
from review.certainty import GRADE_CERQUAL
from review.fileio import stable_zip
from review.workbooks import findings as findings_sheet


def context(**extra):
    base = report.build_context(
        {"title": "Tiers <script>alert(1)</script>", "review_questions": ["Q1?"], "scope": "England.",
         "output": {"document": {"organisation": "PRUComm", "date": "2024-05-01"}}},
        FORM, EVIDENCE, STUDIES.assign(item_type="report", creators='[{"role": "author", "family": "Lorne", '
                                       '"given": "Colin"}]', container="", volume="", issue="", pages="", doi="",
                                       place="", institution="PRUComm", publisher=""),
        pd.DataFrame({"data": ["records_screened", "new_studies"], "n": ["10", "3"]}), "<svg></svg>",
        pd.DataFrame(), pd.DataFrame(), [])
    base["evidence_map_svg"] = ""
    return {**base, **extra}


def test_html_is_autoescaped_and_lists_references():
    from review.templating import render

    html = render("executive_summary.html.j2", None, **context())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Lorne, C. (2019)" in html  # a Harvard reference from citeproc
    assert "Functions by tier" in html


def test_attack_markdown_summary_shows_html_in_data_as_text():
    from review.templating import render

    hostile = '<img src=x onerror="alert(1)">'
    finding = {"question": "Q1", "finding_id": "F1", "finding": hostile, "studies": [{"citation": hostile}],
               "quotes": hostile, "methodological_limitations": hostile, "coherence": hostile, "adequacy": hostile,
               "relevance": hostile, "overall_confidence": hostile, "explanation": hostile}
    written = {"findings": [finding], "key messages": [{"key_message": hostile, "confidence": hostile}],
               "recommendations": [{"recommendation": hostile, "audience": hostile}]}
    ctx = context()
    ctx.update(report.build_context(
        {"title": hostile, "review_questions": [hostile], "scope": hostile}, FORM, EVIDENCE, STUDIES,
        pd.DataFrame(), "<svg></svg>", pd.DataFrame(), pd.DataFrame(), [], written=written))
    ctx["evidence_map_svg"] = ""
    text = render("executive_summary.md.j2", None, **ctx)
    assert "<img" not in text and "<script" not in text and "&lt;img src=x" in text


def test_attack_markdown_summary_shows_links_images_and_tex_in_any_data_as_text():
    from review.templating import render

    hostile = "[x](javascript:alert(1)) ![p](http://tracker.example/p.png) \\input{/etc/passwd} <b>b</b>"
    finding = {"question": "Q1", "finding_id": "F1", "finding": hostile, "studies": [{"citation": hostile}],
               "quotes": hostile, "methodological_limitations": hostile, "coherence": hostile, "adequacy": hostile,
               "relevance": hostile, "overall_confidence": hostile, "explanation": hostile}
    written = {"findings": [finding], "key messages": [{"key_message": hostile, "confidence": hostile}],
               "recommendations": [{"recommendation": hostile, "audience": hostile}]}
    evidence = pd.concat([EVIDENCE, pd.DataFrame([{"study_id": "s2", "tier": "STP", "field": "lessons_for_ics",
                                                   "value": hostile, "basis": "agreed", "codebook_version": "1.0"}])])
    studies = STUDIES.assign(item_type="report", creators='[{"role": "author", "family": "Lorne", "given": "C"}]',
                             container=hostile, volume="", issue="", pages="", doi="", place="", institution="",
                             publisher="", title=hostile)
    ctx = report.build_context({"title": hostile, "review_questions": [hostile], "scope": hostile}, FORM, evidence,
                               studies, pd.DataFrame(), "<svg></svg>", pd.DataFrame(), pd.DataFrame(), [],
                               written=written)
    ctx["evidence_map_svg"] = ""
    text = render("executive_summary.md.j2", None, **ctx)
    assert text.count("\\[x\\](javascript:alert(1))") >= 8  # title, scope, question, findings, references, tables
    for live in ("[x](javascript", "![p](", "<b>"):
        assert live not in text.replace("\\[x\\](javascript", "").replace("!\\[p\\](", "")
    assert " \\input" not in text and "\\\\input{/etc/passwd}" in text


FLOW = {"database_results": "12", "duplicates": "2", "records_screened": "10", "records_excluded": "4",
        "dbr_sought_reports": "5", "dbr_notretrieved_reports": "0", "dbr_assessed": "5", "new_studies": "3"}


def flow(**changed):
    values = {**FLOW, **changed}
    return pd.DataFrame({"data": list(values), "n": list(values.values())})


def test_the_methods_print_the_flows_numbers_and_a_number_that_disagrees_is_an_error():
    built = report.build_context({"title": "T", "review_questions": ["Q1?"]}, FORM, EVIDENCE, STUDIES, flow(),
                                 "", pd.DataFrame(), pd.DataFrame(), [])
    assert built["count_problems"] == []
    assert built["methods"]["studies_text"].startswith(
        "12 records were identified; 2 duplicates removed; 10 records screened on title and abstract "
        "(1 still awaiting a decision), of which 4 excluded; of the 5 reports sought as full text, 5 assessed, "
        "of which 2 excluded with reasons. 3 studies are included")
    extracted = built["numbers"]["studies_extracted"]
    assert f"{extracted} of them extracted" in built["methods"]["studies_text"]
    assert extracted == built["limitations"]["studies_extracted"] == len(tables.compute_all(
        EVIDENCE, STUDIES, FORM)["characteristics"])  # one count for the methods, the limitations and the table
    wrong = report.build_context({"title": "T"}, FORM, EVIDENCE, STUDIES, flow(new_studies="4", records_screened="8"),
                                 "", pd.DataFrame(), pd.DataFrame(), [])
    assert sorted((p.code, p.column, p.value) for p in wrong["count_problems"]) == [
        ("report-counts-disagree", "new_studies", "4 != 3"),  # the flow's included against the included list
        ("report-counts-disagree", "records_excluded", "-1"),  # 8 screened, 4 excluded and 5 sought
        ("report-counts-disagree", "records_screened", "10 != 8")]
    assert wrong["status"]["label"] == "Draft" and "3 validation errors" in wrong["status"]["line"]


def test_the_summary_says_draft_until_nothing_remains_and_names_the_sources_of_its_messages(tmp_path):
    from review.templating import render

    final = report.review_status(3, 3, 0, 0, 0, 0)
    assert (final["label"], final["remaining"]) == ("Final", [])
    undecided = report.review_status(3, 3, 0, 0, 0, 0, awaiting=3)  # all extracted, but 3 records undecided
    assert undecided["label"] == "Draft" and undecided["line"] == "3 records or reports still to screen."
    draft = report.review_status(1, 3, 1, 2, 1, 1)
    assert draft["line"] == ("1 of 3 included studies extracted; 1 review question without findings; 2 "
                             "disagreements between reviewers still open; 1 validation error; 1 key message or recommendation without a linked "
                             "finding.")
    finding = {"question": "Q1", "finding_id": "F1", "finding": "Tiers come and go.", "studies": [
        {"id": "s1", "citation": "Lorne et al. 2019"}], "quotes": "", "methodological_limitations": "",
        "coherence": "", "adequacy": "", "relevance": "", "overall_confidence": "low", "explanation": ""}
    written = {"findings": [finding], "key messages": [{"key_message": "Tiers churn.", "confidence": "low",
                                                         "finding_ids": ["F1"]}],
               "recommendations": [{"recommendation": "Keep the tier.", "audience": "systems", "finding_ids": ["F1"]},
                                   {"recommendation": "Unsourced advice.", "audience": "systems", "finding_ids": []}]}
    ctx = {**context(), **report.build_context({"title": "T", "review_questions": ["Q1?"]}, FORM, EVIDENCE, STUDIES,
                                               flow(), "", pd.DataFrame(), pd.DataFrame(), [], written=written)}
    assert ctx["status"]["label"] == "Draft" and "1 key message or recommendation without" in ctx["status"]["line"]
    document = Document(io.BytesIO(documents.docx(ctx)))
    word = "\n".join(p.text for p in document.paragraphs)
    for text in (render("executive_summary.md.j2", None, **ctx), render("executive_summary.html.j2", None, **ctx),
                 word):
        assert text.count("Based on finding F1 (Lorne et al. 2019).") == 2 and "No finding linked yet." in text
        assert "DRAFT" in text and text.count("1 review question without findings") == 0  # Q1 has its finding
        assert text.count("1 key message or recommendation without a linked finding") == 2  # top and methods
        assert "F1." in text  # the finding carries the id its messages name
    markdown = render("executive_summary.md.j2", None, **ctx).splitlines()
    assert "- Unsourced advice. No finding linked yet." in markdown  # each recommendation an item of its own
    assert any(line.startswith("- Keep the tier. Based on finding F1") for line in markdown)


def test_word_output_has_real_tables(tmp_path):
    path = tmp_path / "summary.docx"
    path.write_bytes(documents.docx(context()))
    document = Document(str(path))
    assert len(document.tables) >= 5
    headers = {tuple(c.text for c in t.rows[0].cells) for t in document.tables}
    assert ("Tier", "Functions", "Studies", "Citations") in headers  # the code column headed by its field's label
    # labels, not field names: the declared column "design" shows the label of its field
    assert all("_" not in h and h[:1].isupper() for row in headers for h in row)
    assert any("Study design" in row for row in headers)
    with zipfile.ZipFile(path) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}  # reproducible bytes
        core = archive.read("docProps/core.xml").decode()
        assert 'w:val="en-GB"' in archive.read("word/styles.xml").decode()  # the text's language
    # the file's properties from the protocol: no "python-docx", no clock time, British English
    properties = document.core_properties
    assert (properties.title, properties.author, properties.last_modified_by, properties.language) == (
        "Tiers <script>alert(1)</script>", "PRUComm", "PRUComm", "en-GB")
    assert core.count("2024-05-01T00:00:00Z") == 2 and "python-docx" not in core
    # the running header names the title and the status; the footer numbers the pages
    section = document.sections[0]
    assert section.header.paragraphs[0].text.endswith("\u2014 Draft")
    footer = section.footer.paragraphs[0]._p.xml
    assert section.footer.paragraphs[0].text.startswith("Page ") and " PAGE " in footer and " NUMPAGES " in footer


def test_word_is_a4_with_the_evidence_map_columns_sized_to_their_text_and_italic_references(tmp_path):
    matrix = report.evidence_matrix(tables.compute_all(EVIDENCE, STUDIES, FORM), FORM)
    assert list(matrix.index)[:2] == ["Regional Hospital Board", "Hospital Management Committee / Board of Governors"]
    png = documents.evidence_map_png(matrix, "Evidence map")
    assert png.startswith(b"\x89PNG") and png == documents.evidence_map_png(matrix, "Evidence map")
    path = tmp_path / "summary.docx"
    path.write_bytes(documents.docx(context(evidence_map_png=png)))
    document = Document(str(path))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert len(document.inline_shapes) == 1  # the evidence map
    # placed at the size it was drawn, so its 8 pt labels print at 8 pt
    assert abs(document.inline_shapes[0].width.inches - figures.WIDTH_IN) < 0.01
    assert figures.smallest_text_pt(figures.evidence_map_figure(matrix, "Evidence map")) >= 8
    timeline = next(t for t in document.tables if [c.text for c in t.rows[0].cells][:2] == ["Tier", "From"])
    assert timeline.rows[1].cells[0].text == "Regional Hospital Board"  # labels, not codes, in the appendix
    widths = [c.width for c in timeline.rows[0].cells]
    assert widths[0] > widths[1] and widths[-1] > widths[1]  # tier names and citations wider than years
    assert len(Document(io.BytesIO(documents.docx(context(evidence_map_png=png, timeline_png=png)))).inline_shapes) == 2
    references = [p for p in document.paragraphs if p.text.startswith("Lorne, C. (2019)")]
    assert references and any(run.italic for run in references[0].runs)


def test_word_has_a_contents_field_figures_with_captions_and_table_headers_that_repeat():
    flow = documents.svg_png('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
                             '<rect width="40" height="20" fill="#9dc3e6"/></svg>')
    assert flow is not None and flow.startswith(b"\x89PNG")
    data = documents.docx(context(flow_png=flow))
    document = Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert len(document.inline_shapes) == 1
    # the caption and its picture one paragraph, kept on one page (LibreOffice leaves a caption kept with the
    # next paragraph alone at a page's foot: the printed check is in the LibreOffice test)
    caption = next(p for p in document.paragraphs if p.text.startswith("Figure 1. PRISMA 2020 flow diagram"))
    assert caption.paragraph_format.keep_together and caption._p.xpath(".//pic:pic")
    assert all(p.paragraph_format.keep_with_next for p in document.paragraphs if p.style.name.startswith("Heading"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode()
        settings = archive.read("word/settings.xml").decode()
    # the contents after the first page: each heading with a PAGEREF field to its bookmark (LibreOffice lays
    # out its page number, Word updates it when asked on opening), no TOC field LibreOffice would print as saved
    assert "TOC \\o" not in body and "<w:updateFields" in settings
    start = texts.index("Contents")
    assert document.paragraphs[start].paragraph_format.page_break_before
    headings = [p.text for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")
                and p.text != "Contents"]
    contents = [t.rstrip("\t") for t in texts[start + 1:start + 1 + len(headings)]]
    assert contents == headings and contents[:4] == ["Context", "Key messages", "Recommendations", "Review questions"]
    assert contents.index("References") < contents.index("Annex: how the review was done") < contents.index(
        "Appendix: evidence tables")  # the process in an annex after the findings and references
    bookmarks = re.findall(r'<w:bookmarkStart w:id="\d+" w:name="(_Toc\d+)"/>', body)
    assert re.findall(r" PAGEREF (_Toc\d+) \\h ", body) == bookmarks and len(bookmarks) == len(headings)
    assert all(t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None for t in document.tables)
    # without the cairo library there is no PNG: the summary points to the SVG
    plain = Document(io.BytesIO(documents.docx(context(flow_png=None))))
    assert "The PRISMA 2020 flow diagram is in results/prisma/flow.svg." in [p.text for p in plain.paragraphs]


def test_word_takes_the_house_templates_styles_and_page_and_drops_its_text():
    house = Document()
    house.add_paragraph("HOUSE BOILERPLATE")
    house.styles["Normal"].font.name = "Georgia"
    house.sections[0].page_width, house.sections[0].page_height = Cm(21.59), Cm(27.94)  # the house prints Letter
    for name in ("List Bullet", "Caption"):  # a house template need not define every style
        house.styles.element.remove(house.styles[name].element)
    buffer = io.BytesIO()
    house.save(buffer)
    document = Document(io.BytesIO(documents.docx(context(), buffer.getvalue())))
    texts = [p.text for p in document.paragraphs]
    assert "HOUSE BOILERPLATE" not in texts and "Key messages" in texts
    assert document.styles["Normal"].font.name == "Georgia"
    assert round(document.sections[0].page_width.cm, 2) == 21.59
    assert any(t.startswith("\u2022 ") for t in texts)  # a bullet by hand where the style is missing
    table = document.tables[0]
    width = document.sections[0].page_width - document.sections[0].left_margin - document.sections[0].right_margin
    assert abs(sum(c.width for c in table.rows[0].cells) - width) < 635 * len(table.columns)  # in twips: the house text width


def test_stable_zip_gives_the_same_bytes_for_the_same_content(tmp_path):
    first = tmp_path / "a.docx"
    first.write_bytes(documents.docx(context()))
    again = stable_zip(first.read_bytes(), "2024-05-01T00:00:00Z")  # the protocol's date, not the clock's
    assert again == first.read_bytes() == documents.docx(context())


def test_findings_sheet_is_created_once_and_checked(tmp_path):
    path = tmp_path / "findings.xlsx"
    assert findings_sheet.ensure(path) is True
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["findings"]
    ws.append(["F1", "A finding", "s1; nope", "minor concerns", "fine", "", "", "moderate", ""])
    wb.save(path)
    assert findings_sheet.ensure(path) is False  # never overwritten
    findings, problems = findings_sheet.read(path, dict(zip(STUDIES["study_id"], STUDIES["citation"])))
    assert [s["citation"] for s in findings[0]["studies"]] == ["Lorne et al. 2019"]
    assert sorted((p.code, p.column, p.value) for p in problems) == [
        ("not-in-codebook", "coherence", "fine"), ("unknown-study", "contributing_studies", "nope")]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_html_report_renders_in_headless_chromium(tmp_path):
    from review.templating import render

    page = tmp_path / "summary.html"
    page.write_text(render("executive_summary.html.j2", None, **context()), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1000,1400",
                    page.as_uri()], capture_output=True, timeout=120)
    from PIL import Image

    image = Image.open(shot).convert("L")
    colours = image.getcolors(maxcolors=256 * 256)
    assert colours is not None and len(colours) > 10  # text and tables drawn, not a blank page
    # printed: numbered figure captions as in Word, table headers as labels
    from pypdf import PdfReader

    printed = tmp_path / "summary.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={printed}", page.as_uri()],
                   capture_output=True, timeout=120)
    text = " ".join(p.extract_text() for p in PdfReader(printed).pages)
    assert "Figure 1. PRISMA 2020 flow diagram" in text and "Contributing studies" not in text  # no findings yet
    assert "Functions Studies Citations" in " ".join(text.split())


def outside(fig) -> list[str]:
    """The texts of ``fig`` that run past its edges, or past their panel's frame, as matplotlib's renderer lays
    them out (what the SVG and the PNG show)."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer, box = fig.canvas.get_renderer(), fig.bbox
    out = []
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            extent = text.get_window_extent(renderer)
            if extent.x0 < box.x0 - 0.5 or extent.x1 > box.x1 + 0.5 or extent.y0 < box.y0 - 0.5 or \
                    extent.y1 > box.y1 + 0.5:
                out.append(text.get_text())
    for ax in fig.axes:  # what is written in a panel (the counts after the bars) ends inside its frame
        frame = ax.get_window_extent(renderer)
        out += [t.get_text() for t in ax.texts if t.get_window_extent(renderer).x1 > frame.x1 + 0.5]
    return out


def test_the_timeline_has_its_panels_in_time_order_a_legend_its_eras_and_runs_to_the_reports_date():
    periods = tables.compute_all(EVIDENCE, STUDIES, FORM)["timeline"]
    layout = report.timeline_layout(FORM, {"output": {"document": {"date": "2025-12-01"}}})
    assert layout.until == pytest.approx(2025 + 334 / 365)  # the protocol's date, never today's
    svg = documents.timeline(periods, layout=layout).decode("utf-8")
    assert svg == documents.timeline(periods, layout=layout).decode("utf-8")  # same data, same bytes
    assert "<!-- 2020 -->" in svg and "<!-- 2030 -->" not in svg  # tick labels are drawn with their text as a comment
    fig = figures.timeline_figure(periods, layout)
    top, local = fig.axes[:2]
    assert (top.get_title(loc="left"), local.get_title(loc="left")) == ("Intermediate tiers",
                                                                        "Local commissioners and providers")
    rows = {t.get_text().replace("\n", " "): k for k, t in enumerate(top.get_yticklabels())}
    assert "Clinical Commissioning Group" not in rows and "Clinical Commissioning Group" in [
        t.get_text().replace("\n", " ") for t in local.get_yticklabels()]
    bars = {round(c.patches[0].get_y() + c.patches[0].get_height() / 2): c.patches[0] for c in top.containers}
    spans = [(bars[rows[label]].get_x(), bars[rows[label]].get_x() + bars[rows[label]].get_width()) for label in rows]
    assert [start for start, _ in spans] == sorted(start for start, _ in spans)  # chronological
    assert spans[rows["Regional Hospital Board"]] == (1948, 1974)
    assert spans[rows["Integrated Care Board"]][1] == pytest.approx(layout.until)  # still exists: to the report's date
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("28 to 10" in t for t in legend) and any(t.startswith("2: 2013-16") for t in legend)
    assert any(list(line.get_xdata()) == [pytest.approx(2006.5, abs=0.01)] * 2 for line in top.lines)  # 1 July 2006
    assert figures.smallest_text_pt(fig) >= 8 and fig.get_figwidth() == figures.WIDTH_IN
    assert outside(fig) == []  # the era's long label wrapped in the legend, not run past the edge
    # the count after a tier that still runs ends inside the panel, however many studies it counts
    counted = periods.assign(studies=periods["studies"].mask(periods["tier"].isin(["ICB", "ICP"]), "12"))
    crowded = figures.timeline_figure(counted, layout)
    assert outside(crowded) == []
    years = sorted((t.get_window_extent().x0, t.get_window_extent().x1) for t in crowded.axes[-1].get_xticklabels()
                   if t.get_text())
    assert len(years) >= 4 and all(end + 2 < start for (_, end), (start, _) in zip(years, years[1:]))  # apart
    assert any("\n" in t for t in legend) and outside(figures.evidence_map_figure(
        report.evidence_matrix(tables.compute_all(EVIDENCE, STUDIES, FORM), FORM), "Evidence map")) == []
    assert documents.timeline(periods.iloc[0:0]) == b""
    # drawn once for both formats, the same bytes as drawn for each alone
    assert documents.timelines(periods, layout) == (svg, documents.timeline(periods, "png", layout))
    matrix = report.evidence_matrix(tables.compute_all(EVIDENCE, STUDIES, FORM), FORM)
    assert documents.evidence_map(matrix, "Map") == (documents.evidence_map_svg(matrix, "Map"),
                                                     documents.evidence_map_png(matrix, "Map"))


def headings_and_figures_at_every_height() -> bytes:
    """A Word file of headings before tables and captioned figures, each a line lower on its page than the
    last, so that one of them falls at every height of a page, its foot too."""
    from PIL import Image

    from review.word import Writer

    document = Document()
    for section in document.sections:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    writer = Writer(document, {"timeline": {"number": 1, "caption": "Timeline of the tiers"}})
    picture = io.BytesIO()
    Image.new("RGB", (900, 300), "#2f5597").save(picture, format="PNG", dpi=(150, 150))
    for k in range(1, 40):
        writer.paragraph(f"Text {k}")
        if k % 2:
            writer.table(["Tier", "From", "To"], [["Regional Hospital Board", "1948", "1974"]] * 3,
                         (f"Heading {k}", 2))
        else:
            writer.figure("timeline", picture.getvalue())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_prints_the_word_file_on_a4_with_whole_words_in_tables_and_numbered_pages(tmp_path):
    from pypdf import PdfReader

    matrix = report.evidence_matrix(tables.compute_all(EVIDENCE, STUDIES, FORM), FORM)
    periods = tables.compute_all(EVIDENCE, STUDIES, FORM)["timeline"]
    # a GRADE-CERQual row of long words: eight columns that crowd a portrait page
    finding = {"finding": "Intermediate tiers were reorganised repeatedly; accountability stayed upward",
               "studies": [{"citation": "Checkland et al. 2016"}, {"citation": "Lorne et al. 2019"}],
               "methodological_limitations": "moderate concerns", "coherence": "no or very minor concerns",
               "adequacy": "serious concerns", "relevance": "minor concerns", "overall_confidence": "moderate",
               "explanation": "Interdisciplinary documentary evidence; uncharacteristically heterogeneous"}
    path = tmp_path / "summary.docx"
    path.write_bytes(documents.docx(context(evidence_map_png=documents.evidence_map_png(matrix, "Evidence map"),
                                            timeline_png=documents.timeline(periods, "png"),
                                            certainty=report.certainty_summary(GRADE_CERQUAL, [finding]))))
    document = Document(str(path))
    assert any(s.orientation == 1 for s in document.sections)  # the CERQual table across a landscape page
    # a profile of its own: another LibreOffice running (a second test run, an open window) would take the file
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    (tmp_path / "kept.docx").write_bytes(headings_and_figures_at_every_height())
    result = subprocess.run(["soffice", profile, "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                             str(tmp_path), str(path), str(tmp_path / "kept.docx")],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    # no heading printed alone at the foot of a page, and each figure's caption on the page of its picture
    # (a picture has no text: the images a page draws are counted against the captions it prints)
    kept = PdfReader(tmp_path / "kept.pdf").pages
    feet = [[line for line in page.extract_text().splitlines() if line.strip()][-1] for page in kept]
    assert len(feet) > 5 and not [line for line in feet if line.startswith("Heading")], feet
    assert [len(re.findall(rb"/\S+ Do\b", page.get_contents().get_data())) for page in kept] == [
        page.extract_text().count("Figure 1. Timeline of the tiers") for page in kept]
    pdf = PdfReader(tmp_path / "summary.pdf")
    width, height = (round(float(v)) for v in pdf.pages[0].mediabox.upper_right)
    assert (width, height) == (595, 842)  # A4 in points
    pages = [page.extract_text() for page in pdf.pages]
    text = " ".join(pages)
    for heading in ("Key messages", "Methods", "Findings by review question", "Evidence gaps",
                    "Appendix: evidence tables"):
        assert heading in text
    # the timeline and the evidence map (pages share their image resources, so distinct images are counted)
    assert len({image.image.size for page in pdf.pages for image in page.images}) == 2
    # every word of every table cell printed whole: a column narrower than a word breaks it ("Checklan d");
    # a line may still break after a hyphen
    printed = set(re.sub(r"-\s+", "-", text).split())
    words = {w for t in document.tables for row in t.rows for cell in row.cells for w in cell.text.split()}
    assert "Methodological" in words and not sorted(words - printed)
    assert all(f"Page {k} of {len(pages)}" in page for k, page in enumerate(pages, 1))
    # the contents print each heading with the page LibreOffice laid it out on
    headings = [p.text for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")
                and p.text != "Contents"]
    lines = [[line.strip() for line in page.splitlines()] for page in pages]
    at = next(k for k, page in enumerate(lines) if "Contents" in page)
    listed = "\n".join("\n".join(page) for page in lines[at:at + 2])
    for heading in headings:
        number = re.search(re.escape(heading) + r"\.+ ?(\d+)\n", listed)
        assert number, heading
        page = next(k for k, page in enumerate(lines) if heading in page) + 1  # a line of its own
        assert int(number.group(1)) == page, heading


def test_a_figure_is_drawn_again_only_when_what_it_shows_changed(tmp_path):
    from review.stages.report import _drawn

    counts = pd.DataFrame({"RHA": [1, 0], "ICS": [2, 3]}, index=["governance", "accountability"])
    drawings = []

    def draw(frame):
        def drawing():
            drawings.append(frame)
            return documents.evidence_map(frame, "Evidence")
        return drawing

    cache = tmp_path / ".evidence_map.npz"
    first = _drawn(cache, draw(counts), counts.to_csv(), "Evidence")
    again = _drawn(cache, draw(counts), counts.to_csv(), "Evidence")
    assert len(drawings) == 1 and again == first and first[0].startswith("<?xml") and first[1][:4] == b"\x89PNG"
    changed = counts.assign(ICS=[2, 4])
    assert _drawn(cache, draw(changed), changed.to_csv(), "Evidence") != first and len(drawings) == 2
    cache.write_bytes(b"not a cache")  # damaged: drawn again, never an error
    assert _drawn(cache, draw(counts), counts.to_csv(), "Evidence") == first and len(drawings) == 3


def test_the_table_shown_in_the_body_is_not_printed_again_in_the_appendix():
    built = report.build_context({"title": "T", "review_questions": ["Q1?"]}, FORM, EVIDENCE, STUDIES, flow(), "",
                                 pd.DataFrame(), pd.DataFrame(), [])
    body = FORM.report["synthesis"]["enablers_barriers_table"]
    assert built["enablers_barriers"] is not None
    assert body not in [t["name"] for t in built["appendix"]]
    assert {t["name"] for t in built["appendix"]} == {t.name for t in FORM.tables} - {body}


def headings_in_order(ctx):
    """The summary's top headings as Markdown, HTML and Word print them."""
    from html import unescape

    from review.templating import render

    markdown = [line[3:] for line in render("executive_summary.md.j2", None, **ctx).splitlines()
                if line.startswith("## ")]
    html = [unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", render("executive_summary.html.j2", None, **ctx))]
    word = [p.text for p in Document(io.BytesIO(documents.docx(ctx))).paragraphs
            if p.style.name == "Heading 1" and p.text != "Contents"]
    return markdown, html, word


def test_the_summary_puts_one_page_first_the_process_in_an_annex_in_the_same_order_in_every_format():
    import dataclasses

    ctx = context()
    assert ctx["sections"] == list(report.SECTIONS)
    markdown, html, word = headings_in_order(ctx)
    assert markdown == html == word
    assert markdown[:3] == ["Context", "Key messages", "Recommendations"]  # the first page: context, messages, ask
    assert markdown.index("References") < markdown.index("Annex: how the review was done") == len(markdown) - 2
    assert markdown[-1] == "Appendix: evidence tables"
    # the figures numbered as they now appear: the timeline with the questions, the flow in the annex
    drawn = {**ctx, "timeline_svg": "<svg></svg>", "evidence_map_svg": "<svg></svg>"}
    assert {k: v["number"] for k, v in report.number_figures(drawn).items()} == {
        "timeline": 1, "evidence_map": 2, "flow": 3}
    # a codebook declaring its own order (report.sections): every format follows it, and leaves out the rest
    form = dataclasses.replace(FORM, report={**FORM.report, "sections": ["key_messages", "context", "appendix"]})
    declared = {**ctx, **report.build_context({"title": "T", "scope": "England."}, form, EVIDENCE, STUDIES, flow(),
                                              "", pd.DataFrame(), pd.DataFrame(), [])}
    assert headings_in_order(declared) == (["Key messages", "Context", "Appendix: evidence tables"],) * 3


def test_every_lettered_citation_resolves_to_one_reference_and_a_lone_letter_is_explained():
    from review.templating import render

    studies = pd.concat([STUDIES, pd.DataFrame([  # included, not yet extracted: cited among the gaps
        {"study_id": "s4", "citation": "Lorne et al. 2019b", "year": "2019", "title": "Regional assemblage"},
        {"study_id": "s5", "citation": "Peckham et al. 2005a", "year": "2005", "title": "Decentralisation"}])])
    studies["citation"] = studies["citation"].replace({"Lorne et al. 2019": "Lorne et al. 2019a"})
    studies["year_suffix"] = studies["citation"].str.extract(r"\d{4}([a-z]*)$", expand=False)
    studies["creators"] = [f'[{{"role": "author", "family": "{c.split()[0]}", "given": "Anne"}}]'
                           for c in studies["citation"]]
    ctx = {**context(), **report.build_context({"title": "T", "review_questions": ["Q1?"]}, FORM, EVIDENCE, studies,
                                               flow(), "", pd.DataFrame(), pd.DataFrame(), [])}
    markdown = render("executive_summary.md.j2", None, **ctx)
    assert "Lorne et al. 2019b" in markdown.split("## Evidence gaps")[1]  # the gaps cite a study not extracted
    assert {"Lorne 2019a", "Lorne 2019b", "Peckham 2005a"} <= {f"{n} {y}" for n, y in LETTERED.findall(markdown)}
    assert unresolved(markdown) == []
    waiting = markdown.split("### Included studies not yet extracted")[1].split("\n## ")[0]
    assert "(2019b)" in waiting and "(2005a)" in waiting and "(2019a)" not in waiting
    # Peckham 2005a's partner is not included (the letters count every record screened): said so once
    assert ctx["references_note"].startswith("A letter after the year (Peckham et al. 2005a) tells apart")
    word = "\n".join(p.text for p in Document(io.BytesIO(documents.docx(ctx))).paragraphs)
    html = render("executive_summary.html.j2", None, **ctx)
    for text in (word, html):
        assert "Included studies not yet extracted" in text and "Peckham, A. (2005a)" in text
        assert "A letter after the year (Peckham et al. 2005a)" in text


def test_a_key_message_rated_above_a_finding_it_rests_on_is_named():
    findings = [{"finding_id": "F1", "overall_confidence": "moderate"}, {"finding_id": "F10", "overall_confidence": "low"},
                {"finding_id": "F2", "overall_confidence": "Moderate"}]
    messages = [{"message_id": "M1", "confidence": "moderate", "source_findings": ["F1", "F10"]},
                {"message_id": "M2", "confidence": "low", "source_findings": ["F1", "F10"]},
                {"message_id": "M3", "confidence": "moderate", "source_findings": ["F2"]},
                {"message_id": "M4", "confidence": "", "source_findings": ["F10"]}]
    problems = report_checks.confidence_problems(messages, findings)
    assert [(p.code, p.record_id, p.value, p.expected) for p in problems] == [
        ("message-above-its-findings", "M1", "moderate", "at most low, the rating of F10")]
    assert problems[0].severity == "warning"


def test_a_message_or_recommendation_citing_a_study_its_findings_do_not_rest_on_is_named():
    findings = [{"finding_id": "F3", "finding": "ICBs hold the budget.", "studies": [
        {"id": "s2", "citation": "Moran et al. 2021"}]}]
    written = report.sourced([
        {"recommendation_id": "R6", "row": 7, "finding_ids": ["F3"],
         "recommendation": "Make population health the centrepiece (Lorne et al. 2019, national leaders 4)."},
        {"recommendation_id": "R7", "row": 8, "finding_ids": ["F3"],
         "recommendation": "Answer for the system (Moran et al. 2021; Unknown 1999)."},
        {"recommendation_id": "R8", "row": 9, "finding_ids": [], "recommendation": "(Lorne et al. 2019)"}], findings)
    problems = report_checks.citation_problems(written, "recommendations", {"Lorne et al. 2019", "Moran et al. 2021"})
    assert [(p.code, p.record_id, p.row, p.value, p.expected) for p in problems] == [
        ("citation-outside-its-findings", "R6", "7", "Lorne et al. 2019", "a study of F3: Moran et al. 2021")]
    # a study the references lack is the workbook reader's warning; a recommendation with no finding, the status's


def test_the_certainty_method_is_said_as_done_only_once_a_finding_is_rated():
    unrated = {"finding": "Tiers come and go.", "studies": [], "overall_confidence": ""}
    before = report.certainty_summary(GRADE_CERQUAL, [unrated])["method"]
    after = report.certainty_summary(GRADE_CERQUAL, [{**unrated, "overall_confidence": "low"}])["method"]
    assert "is to be assessed with GRADE-CERQual" in before and "was assessed" not in before
    assert "was assessed with GRADE-CERQual" in after


def test_an_empty_section_says_why_in_every_format():
    from review.templating import render

    empty = pd.DataFrame(columns=EVIDENCE.columns)
    ctx = {**context(), **report.build_context({"title": "T", "review_questions": ["Q1?"]}, FORM, empty,
                                               STUDIES.assign(creators="[]"), flow(), "", pd.DataFrame(),
                                               pd.DataFrame(), [])}
    word = "\n".join(p.text for p in Document(io.BytesIO(documents.docx(ctx))).paragraphs)
    for text in (render("executive_summary.md.j2", None, **ctx), render("executive_summary.html.j2", None, **ctx),
                 word):
        assert "No study is cited in the evidence yet; the included studies are listed below." in text
    none = {**ctx, **report.build_context({"title": "T", "review_questions": ["Q1?"]}, FORM, empty,
                                          STUDIES.iloc[0:0], flow(), "", pd.DataFrame(), pd.DataFrame(), [])}
    assert "No study is cited yet." in render("executive_summary.md.j2", None, **none)
