"""Stage 5: evidence tables and the executive summary (Markdown, self-contained HTML, Word).

Tables are computed with ``review.tables`` and written to ``results/tables/`` (CSV, plus one XLSX);
the summary is rendered from Jinja templates with plain data as context; the reference list is
formatted by citeproc-py in a bundled CSL style (Harvard, Cite Them Right); the evidence map is a
matplotlib heatmap (SVG, embedded in the HTML); the GRADE-CERQual Summary of Qualitative Findings comes
from ``extracts/findings.xlsx``, a sheet reviewers fill (created once, never overwritten).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from . import tables
from .codebook import Codebook
from .errors import ERROR, Problem
from .fileio import stable_zip, write_csv, write_if_changed
from .sheets import citation
from .templating import render
from .workbook import WorkbookBusy, read_only, save

log = logging.getLogger(__name__)

CONCERNS = ("no or very minor concerns", "minor concerns", "moderate concerns", "serious concerns")
CONFIDENCE = ("high", "moderate", "low", "very low")
FINDINGS_COLUMNS = ["finding_id", "finding", "contributing_studies", "methodological_limitations", "coherence",
                    "adequacy", "relevance", "overall_confidence", "explanation"]


# --- inputs -------------------------------------------------------------------------------------------


def load_studies(unique_csv: Path, included_csv: Path | None) -> pd.DataFrame:
    unique = pd.read_csv(unique_csv, dtype=str, keep_default_na=False)
    if included_csv is not None and included_csv.exists():
        keep = set(pd.read_csv(included_csv, dtype=str, keep_default_na=False)["study_id"])
        unique = unique[unique["group"].isin(keep)]
    unique = unique.rename(columns={"group": "study_id"})
    unique["citation"] = [citation(a, y) for a, y in zip(unique["authors"], unique["year"])]
    return unique.sort_values("study_id").reset_index(drop=True)


# --- references ---------------------------------------------------------------------------------------


def csl_items(studies: pd.DataFrame) -> list[dict[str, Any]]:
    import json

    items = []
    for row in studies.to_dict("records"):
        people = [c for c in json.loads(row["creators"] or "[]") if c.get("role", "author") == "author"]
        item = {"id": row["study_id"], "type": row["item_type"] or "document", "title": row["title"],
                "author": [{"literal": c["name"]} if c.get("name") else {"family": c.get("family", ""),
                                                                         "given": c.get("given", "")}
                           for c in people]}
        if row["year"]:
            item["issued"] = {"date-parts": [[int(row["year"])]]}
        for field, csl in (("container", "container-title"), ("volume", "volume"), ("issue", "issue"),
                           ("pages", "page"), ("doi", "DOI"), ("place", "publisher-place")):
            if row.get(field):
                item[csl] = row[field]
        publisher = row.get("institution") or row.get("publisher")
        if publisher:
            item["publisher"] = publisher
        items.append(item)
    return items


def references(studies: pd.DataFrame, style: str = "harvard-cite-them-right") -> list[str]:
    """The reference list, formatted by citeproc-py, sorted as the style sorts it."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    items = csl_items(studies)
    if not items:
        return []
    bibliography = CitationStylesBibliography(CitationStylesStyle(style, validate=False), CiteProcJSON(items),
                                              formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    return [re.sub(r"\s+", " ", str(entry)).strip() for entry in bibliography.bibliography()]


# --- the evidence map ----------------------------------------------------------------------------------


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
    for (i, j), value in pd.DataFrame(counts.values).stack().items():
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


# --- GRADE-CERQual findings sheet ------------------------------------------------------------------------


def ensure_findings_sheet(path: Path) -> bool:
    """Create the findings workbook when there is none (an existing one is never touched)."""
    if path.exists():
        return False
    wb = Workbook()
    ws = wb.active
    ws.title = "findings"
    ws.append(FINDINGS_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHI", (10, 60, 30, 22, 22, 22, 22, 18, 50)):
        ws.column_dimensions[letter].width = width
    concerns = DataValidation(type="list", formula1='"' + ",".join(CONCERNS) + '"', allow_blank=True)
    concerns.add("D2:G500")
    confidence = DataValidation(type="list", formula1='"' + ",".join(CONFIDENCE) + '"', allow_blank=True)
    confidence.add("H2:H500")
    for dv in (concerns, confidence):
        ws.add_data_validation(dv)
    help_sheet = wb.create_sheet("how to")
    help_sheet.append(["One review finding per row; contributing_studies are study ids (see the extraction "
                       "sheets) separated by ';'. Rate each GRADE-CERQual component and the overall confidence."])
    save(wb, path)
    return True


def read_findings(path: Path, studies: pd.DataFrame) -> tuple[list[dict[str, Any]], list[Problem]]:
    rows, problems = [], []
    try:
        wb = read_only(path)
    except WorkbookBusy as exc:
        return [], [Problem(code="unreadable-workbook", severity=ERROR, file=str(path), value=str(exc),
                            expected="a readable .xlsx workbook", hint="no findings were reported")]
    if wb is None:
        return [], []
    cite = dict(zip(studies["study_id"], studies["citation"]))
    try:
        sheet = wb["findings"] if "findings" in wb.sheetnames else wb.worksheets[0]
        data = sheet.iter_rows(values_only=True)
        index = {str(h or ""): k for k, h in enumerate(next(data, ()))}
        for number, values in enumerate(data, start=2):
            row = {name: str(values[index[name]]).strip() if name in index and index[name] < len(values)
                   and values[index[name]] is not None else "" for name in FINDINGS_COLUMNS}
            if not row["finding"]:
                continue
            ids = [s.strip() for s in row["contributing_studies"].split(";") if s.strip()]
            unknown = [s for s in ids if s not in cite]
            for s in unknown:
                problems.append(Problem(code="unknown-study", severity=ERROR, file=str(path), sheet="findings",
                                        row=str(number), column="contributing_studies", value=s,
                                        expected="a study id of an included study", hint="left out of the finding"))
            for name, allowed in [(n, CONCERNS) for n in FINDINGS_COLUMNS[3:7]] + [("overall_confidence", CONFIDENCE)]:
                if row[name] and row[name].lower() not in allowed:
                    problems.append(Problem(code="not-in-codebook", severity=ERROR, file=str(path), sheet="findings",
                                            row=str(number), column=name, value=row[name],
                                            expected=", ".join(allowed)))
            row["studies"] = [{"id": s, "citation": cite[s]} for s in ids if s in cite]
            rows.append(row)
    finally:
        wb.close()
    return rows, problems


# --- context and outputs ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    context: dict[str, Any]
    problems: list[Problem]


def table_payload(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[("" if v is None else str(v)) for v in row] for row in frame.itertuples(index=False)]}


def findings_by_theme(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> list[dict[str, Any]]:
    """Key findings generated from the data: for each theme, how many studies, which tiers, which studies."""
    themes = evidence[evidence["field"] == "themes"]
    cite = dict(zip(studies["study_id"], studies["citation"]))
    out = []
    for choice in codebook["themes"].choices:
        rows = themes[themes["value"] == choice.code]
        if rows.empty:
            continue
        out.append({"theme": choice.label, "code": choice.code, "studies": rows["study_id"].nunique(),
                    "tiers": sorted(set(rows["tier"]), key=lambda t: codebook["tier"].codes.index(t)
                                    if t in codebook["tier"].codes else 99),
                    "citations": sorted({cite.get(s, s) for s in rows["study_id"]})})
    return sorted(out, key=lambda f: (-f["studies"], f["code"]))


def build_context(config: dict[str, Any], codebook: Codebook, evidence: pd.DataFrame, studies: pd.DataFrame,
                  prisma_counts: pd.DataFrame, flow_svg: str, validation: pd.DataFrame,
                  disagreements: pd.DataFrame, findings: list[dict[str, Any]]) -> dict[str, Any]:
    computed = {name: fn(evidence, studies, codebook) for name, (_, fn) in tables.TABLES.items()}
    counts = dict(zip(prisma_counts["data"], prisma_counts["n"])) if not prisma_counts.empty else {}
    quality = evidence[evidence["field"] == "qa_overall"]
    low = sorted({studies.set_index("study_id")["citation"].get(s, s)
                  for s in quality[quality["value"] == "low"]["study_id"]})
    open_disagreements = disagreements[disagreements["resolved_by"] == ""] if not disagreements.empty else disagreements
    errors = validation[validation["severity"] == "error"] if not validation.empty else validation
    return {
        "title": config["title"], "questions": config.get("review_questions", []), "scope": config.get("scope", ""),
        "criteria": config.get("screening", {}).get("inclusion_criteria", []),
        "prisma": {k: counts.get(k, "") for k in ("records_screened", "records_excluded", "dbr_sought_reports",
                                                  "dbr_assessed", "new_studies", "duplicates", "dbr_excluded")},
        "identified": sum(int(counts.get(k, 0) or 0) for k in ("database_results", "register_results",
                                                               "website_results", "organisation_results",
                                                               "citations_results")),
        "flow_svg": flow_svg,
        "tables": [{"name": name, "caption": caption, **table_payload(computed[name])}
                   for name, (caption, _) in tables.TABLES.items()],
        "findings": findings_by_theme(evidence, studies, codebook),
        "lessons": table_payload(computed["lessons"]),
        "limitations": {"low_quality": low, "open_disagreements": len(open_disagreements),
                        "validation_errors": len(errors), "studies_extracted": evidence["study_id"].nunique(),
                        "studies_included": len(studies)},
        "cerqual": findings,
        "references": references(studies[studies["study_id"].isin(set(evidence["study_id"]))]),
        "codebook_version": codebook.version,
    }


def write_docx(context: dict[str, Any], path: Path) -> None:
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
    doc.add_heading("Key findings by theme", level=1)
    for finding in context["findings"]:
        doc.add_paragraph(f"{finding['theme']}: {finding['studies']} studies ({', '.join(finding['tiers'])}): "
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
    limits = context["limitations"]
    doc.add_heading("Limitations", level=1)
    doc.add_paragraph(f"{limits['studies_extracted']} of {limits['studies_included']} included studies extracted; "
                      f"{limits['open_disagreements']} unresolved disagreements; {limits['validation_errors']} "
                      "validation errors outstanding.")
    doc.add_heading("References", level=1)
    for reference in context["references"]:
        doc.add_paragraph(reference)
    buffer = io.BytesIO()
    doc.save(buffer)
    write_if_changed(path, stable_zip(buffer.getvalue()))


def write_tables(context: dict[str, Any], out_dir: Path) -> None:
    for table in context["tables"]:
        write_csv(out_dir / f"{table['name']}.csv", table["columns"],
                  (dict(zip(table["columns"], row)) for row in table["rows"]))
    wb = Workbook()
    wb.remove(wb.active)
    for table in context["tables"]:
        ws = wb.create_sheet(table["name"][:31])
        ws.append(table["columns"])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in table["rows"]:
            ws.append([("'" + v) if v.startswith(("=", "+", "-", "@")) else v for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    write_if_changed(out_dir / "tables.xlsx", stable_zip(buffer.getvalue()))


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else pd.DataFrame()


def run_stage(config: dict[str, Any], codebook: Codebook, results: Path, report_dir: Path, tables_dir: Path,
              findings_sheet: Path, templates: str | None = "templates") -> Outcome:
    studies = load_studies(results / "dedup/unique_records.csv", results / "screening/included.csv")
    evidence = _csv(results / "evidence/evidence.csv")
    if evidence.empty:
        evidence = pd.DataFrame(columns=["study_id", "tier", "field", "value", "basis", "codebook_version"])
    flow_path = results / "prisma/flow.svg"
    flow_svg = flow_path.read_text(encoding="utf-8") if flow_path.exists() else ""
    flow_svg = re.sub(r"^<\?xml[^>]*>\s*", "", flow_svg)
    ensure_findings_sheet(findings_sheet)
    findings, problems = read_findings(findings_sheet, studies)
    context = build_context(config, codebook, evidence, studies, _csv(results / "prisma/counts.csv"), flow_svg,
                            _csv(results / "evidence/validation.csv"), _csv(results / "evidence/disagreements.csv"),
                            findings)
    matrix = tables.matrix(tables.tier_function(evidence, studies, codebook), codebook, "functions")
    context["evidence_map_svg"] = evidence_map_svg(matrix, "Studies by tier and function")
    write_if_changed(report_dir / "evidence_map.svg", context["evidence_map_svg"].encode("utf-8"))
    write_tables(context, tables_dir)
    formats = config.get("output", {}).get("report_formats", ["markdown", "html", "docx"])
    if "markdown" in formats:
        write_if_changed(report_dir / "executive_summary.md",
                         render("executive_summary.md.j2", templates, **context).encode("utf-8"))
    if "html" in formats:
        write_if_changed(report_dir / "executive_summary.html",
                         render("executive_summary.html.j2", templates, **context).encode("utf-8"))
    if "docx" in formats:
        write_docx(context, report_dir / "executive_summary.docx")
    write_csv(report_dir / "issues.csv", Problem.columns(), (p.as_row() for p in problems))
    for p in problems:
        log.error("%s", p.describe())
    return Outcome(context, problems)


def findings_digest(path: Path) -> str:
    """Digest of the findings reviewers wrote (rows with a finding), a parameter of the report rule."""
    import hashlib

    digest = hashlib.sha256()
    if path.exists():
        try:
            wb = read_only(path)
        except WorkbookBusy:
            return "unreadable"
        try:
            for values in wb.worksheets[0].iter_rows(min_row=2, values_only=True):
                if len(values) > 1 and values[1] not in (None, ""):
                    digest.update(repr(values).encode())
        finally:
            wb.close()
    return digest.hexdigest()[:16]
