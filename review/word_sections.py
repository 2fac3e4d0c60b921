"""The executive summary's sections as Word writes them, one function per section name of
``review.report.SECTIONS``: ``review.word`` calls them in the order the codebook declares. What the team wrote,
and where nothing is written yet, saying so; the same sentences as the Markdown and HTML templates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .word import Writer


def context_section(w: Writer, context: dict[str, Any]) -> None:
    """The review's scope, the context a reader needs before its messages."""
    if context["scope"]:
        w.heading("Context", 1)
        w.paragraph(context["scope"])


def key_messages(w: Writer, context: dict[str, Any]) -> None:
    w.heading("Key messages", 1)
    for m in context["key_messages"]:
        paragraph = w.paragraph(style="List Bullet")
        paragraph.add_run(m["key_message"]).bold = True
        if m["confidence"]:
            paragraph.add_run(f" ({context['certainty']['word']}: {m['confidence']})")
        paragraph.add_run(f" Based on {m['sources']}." if m["sources"] else " No finding linked yet.")
    if not context["key_messages"]:
        w.paragraph("No key messages have been written yet (extracts/synthesis.xlsx, sheet key messages).")


def recommendations(w: Writer, context: dict[str, Any]) -> None:
    """The ask: recommendations by audience."""
    w.heading("Recommendations", 1)
    for group in context["recommendations"]:
        w.heading(f"For {group['audience']}", 2)
        for r in group["recommendations"]:
            paragraph = w.paragraph(r["recommendation"], style="List Bullet")
            paragraph.add_run(f" Based on {r['sources']}." if r["sources"] else " No finding linked yet.")
    if not context["recommendations"]:
        w.paragraph("No recommendations have been written yet (extracts/synthesis.xlsx, sheet recommendations).")


def questions(w: Writer, context: dict[str, Any]) -> None:
    w.heading("Review questions", 1)
    for question in context["questions"]:
        w.paragraph(question, style="List Number")
    if context.get("timeline_png"):
        w.figure("timeline", context["timeline_png"])


def findings(w: Writer, context: dict[str, Any]) -> None:
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


def enablers_barriers(w: Writer, context: dict[str, Any]) -> None:
    if context["enablers_barriers"]:
        table = context["enablers_barriers"]
        if table["rows"]:
            w.table(table["columns"], table["rows"], (table["caption"], 1))
        else:
            w.heading(table["caption"], 1)


def gaps(w: Writer, context: dict[str, Any]) -> None:
    """Empty and thin rows of the evidence map, rows waiting for the consensus, studies not yet extracted."""
    gaps = context["gaps"]
    w.heading("Evidence gaps", 1)
    if gaps.get("note"):
        w.paragraph(gaps["note"])
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


def certainty(w: Writer, context: dict[str, Any]) -> None:
    """The declared certainty framework's summary table, and how findings were rated unless the process annex
    says it (none for ``none``)."""
    table = context["certainty"]
    if table["rows"]:
        w.table(table["columns"], table["rows"], (table["heading"], 1))
        if "process" not in context["sections"]:  # else the annex's methods say it: once per document
            w.paragraph(table["method"])


def limitations(w: Writer, context: dict[str, Any]) -> None:
    limits = context["limitations"]
    w.heading("Limitations", 1)
    for line in limits["lines"]:
        w.paragraph(line, style="List Bullet")


def _references(w: Writer, entries: list[list[dict[str, Any]]]) -> None:
    for reference in entries:
        paragraph = w.paragraph()
        for part in reference:
            paragraph.add_run(part["text"]).italic = part["italic"]


def references(w: Writer, context: dict[str, Any]) -> None:
    """The studies the evidence cites, then the included studies not yet extracted (cited among the gaps):
    every citation in the summary has its entry."""
    w.heading("References", 1)
    if context["references_empty"]:
        w.paragraph(context["references_empty"])
    _references(w, context["reference_parts"])
    if context["references_note"]:
        w.paragraph(context["references_note"])
    if context["waiting_reference_parts"]:
        w.heading("Included studies not yet extracted", 2)
        _references(w, context["waiting_reference_parts"])


def process(w: Writer, context: dict[str, Any]) -> None:
    """The annex: how the review was done (searches, status, studies and the PRISMA flow, agreement,
    prioritisation and stopping) and what the last refresh changed."""
    w.heading("Annex: how the review was done", 1)
    w.heading("Methods", 2)
    m = context["methods"]
    w.status(context["status"])
    w.paragraph("Searches: " + "; ".join(
        f"{s['database']}" + (f", via {s['interface']}" if s["interface"] else "") + (f", {s['date']}" if s["date"] else "")
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
    if context["certainty"]["method"]:
        w.paragraph("Certainty of the findings: " + context["certainty"]["method"])
    if m["prioritisation"]:
        w.paragraph("Prioritisation and stopping: " + m["prioritisation"])
    w.heading("What changed since the last refresh", 2)
    for change in context["changes"]:
        w.paragraph(f"{change['title']} ({change['count']}): {change['detail']}", style="List Bullet")
    if not context["changes"]:
        w.paragraph("Nothing changed in the evidence since the last refresh.")


def appendix(w: Writer, context: dict[str, Any]) -> None:
    w.heading("Appendix: evidence tables", 1)
    for table in context["appendix"]:
        if table["rows"]:
            w.table(table["columns"], table["rows"], (table["caption"], 2))
        else:
            w.heading(table["caption"], 2, landscape=w.landscape)
            w.paragraph("No evidence yet.")


WRITERS: dict[str, Callable[[Writer, dict[str, Any]], None]] = {
    "context": context_section, "key_messages": key_messages, "recommendations": recommendations,
    "questions": questions, "findings": findings, "enablers_barriers": enablers_barriers, "gaps": gaps,
    "certainty": certainty, "limitations": limitations, "references": references, "process": process,
    "appendix": appendix}
