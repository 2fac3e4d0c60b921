"""Stage ``write_report``: evidence tables (CSV and one workbook) and the executive summary (md, html, docx).

Reads the evidence, PRISMA counts and flow, validation and disagreements, the included studies and the
team's synthesis (``extracts/synthesis.xlsx``, created once, never overwritten).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

from .. import changes as refresh_changes
from .. import codebook as codebooks
from .. import documents, figures, report, report_checks, synthesis, tables
from ..atomic import write_if_changed
from ..certainty import GRADE_CERQUAL, Framework
from ..errors import WARNING, Problem
from ..extraction import EVIDENCE_COLUMNS
from ..fileio import kept_arrays, write_csv
from ..templating import render
from ..workbooks import changes as cell_changes
from ..workbooks import synthesis as synthesis_sheet
from ..workbooks.base import WorkbookError, unreadable
from .common import included_frame, read_csv, stop

log = logging.getLogger(__name__)

CONFIG_KEYS = ("title", "review_questions", "scope", "output", "screening", "extraction", "sources", "reviewers",
               "former_reviewers")
INPUTS = {"evidence": "results/evidence/evidence.csv", "validation": "results/evidence/validation.csv",
          "disagreements": "results/evidence/disagreements.csv", "counts": "results/prisma/counts.csv",
          "flow": "results/prisma/flow.svg", "included": "results/screening/included.csv",
          "unique": "results/dedup/unique_records.csv", "ids": "results/dedup/ids.csv",
          "changes": "results/changes/changes.csv", "screening_agreement": "results/screening/agreement.csv",
          "extraction_agreement": "results/evidence/agreement.csv",
          "prioritisation": "results/screening/prioritisation.csv"}
OUTPUTS = {"markdown": "results/report/executive_summary.md", "html": "results/report/executive_summary.html",
           "docx": "results/report/executive_summary.docx", "evidence_map": "results/report/evidence_map.svg",
           "timeline": "results/report/timeline.svg",
           "issues": "results/report/issues.csv", "workbook": "results/tables/tables.xlsx"}
TEMPLATES = ("executive_summary.md.j2", "executive_summary.html.j2", "_table.md.j2")
FILES = (documents.REFERENCE_DOCX,)  # the team's house style for Word, when its templates folder has one


def table_outputs(codebook: codebooks.Codebook, folder: str = "results/tables") -> dict[str, str]:
    """One CSV per declared table, beside the tables workbook."""
    return {f"table_{spec.name}": f"{folder}/{spec.name}.csv" for spec in codebook.tables}


@dataclass
class Outcome:
    context: dict[str, Any]
    problems: list[Problem]


def findings_path(config: dict[str, Any]) -> Path:
    """The older GRADE-CERQual workbook: read once, into the synthesis workbook when that is created."""
    return Path(config["extraction"].get("folder", "extracts")) / "findings.xlsx"


def synthesis_path(config: dict[str, Any]) -> Path:
    return Path(config["extraction"].get("folder", "extracts")) / "synthesis.xlsx"


def _synthesis(config: dict[str, Any], studies: pd.DataFrame, inputs: dict[str, Path], outputs: dict[str, Path],
               audiences: tuple[str, ...] = (), declared: Framework = GRADE_CERQUAL
               ) -> tuple[dict[str, list[dict[str, Any]]], list[Problem], Framework]:
    """The team's synthesis workbook: created once, its study ids following merges; what the team wrote in
    it, checked, and the certainty framework its findings are rated in (the declared one unless the
    workbook was made for another)."""
    path = synthesis_path(config)
    questions = config.get("review_questions", [])
    problems: list[Problem] = []
    try:
        if synthesis_sheet.ensure(path, questions, legacy=findings_path(config), audiences=audiences,
                                  certainty=declared):
            log.info("%s created (the findings of %s copied into it)", path, findings_path(config))
        # a finding follows its studies when they were merged into others
        cell_changes.record(path.parent, cell_changes.follow_ids(
            path, [synthesis_sheet.FINDINGS], ["contributing_studies"], cell_changes.Ids.read(inputs.get("ids")),
            many=["contributing_studies"]))
        written, problems = synthesis_sheet.read(path, dict(zip(studies["study_id"], studies["citation"])), questions,
                                                 audiences, declared)
        used = synthesis_sheet.framework(path, declared)
    except WorkbookError as exc:
        raise stop(outputs["issues"], [], path, exc, "the team's synthesis") from exc
    return written, problems, used


def _refresh_evidence(path: Path, candidates: list[dict[str, str]], problems: list[Problem]) -> None:
    """The synthesis workbook's evidence sheet rewritten with the candidate evidence (the pipeline's sheet:
    when the workbook is open elsewhere it waits for the next refresh)."""
    try:
        synthesis_sheet.refresh_evidence(path, candidates)
    except WorkbookError as exc:
        problems.append(unreadable(path, exc, "the evidence sheet was not refreshed this time", WARNING,
                                   "a closed, readable workbook"))


def _drawn(cache: Path, draw: Callable[[], tuple[str, bytes]], *data: str) -> tuple[str, bytes]:
    """A figure as SVG and PNG: the drawing kept in ``cache`` when it was drawn from the same ``data`` by the
    same drawing code, else drawn and kept. matplotlib takes about two seconds for the two figures whatever
    the review's size, and most refreshes (a screening decision) change neither."""
    import numpy as np

    code = [version("matplotlib"), Path(figures.__file__).read_text(encoding="utf-8")]

    def compute() -> dict[str, Any]:
        svg, png = draw()
        return {"svg": np.frombuffer(svg.encode("utf-8"), np.uint8), "png": np.frombuffer(png, np.uint8)}

    kept = kept_arrays(cache, hashlib.sha256(json.dumps([*code, *data]).encode()).hexdigest(), compute)
    return kept["svg"].tobytes().decode("utf-8"), kept["png"].tobytes()


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> Outcome:
    codebook = codebooks.load(config["extraction"]["codebook"])
    templates = config["output"]["templates"]
    studies = included_frame(inputs["unique"], inputs["included"])
    evidence = read_csv(inputs["evidence"])
    if evidence.empty:
        evidence = pd.DataFrame(columns=EVIDENCE_COLUMNS)
    flow_svg = inputs["flow"].read_text(encoding="utf-8") if inputs["flow"].exists() else ""
    flow_svg = re.sub(r"^<\?xml[^>]*>\s*", "", flow_svg)
    written, problems, rated = _synthesis(config, studies, inputs, outputs, synthesis.audiences(codebook),
                                          synthesis.framework(codebook))
    disagreements = read_csv(inputs["disagreements"])
    computed = tables.compute_all(evidence, studies, codebook, disagreements)
    context = report.build_context(config, codebook, evidence, studies, read_csv(inputs["counts"]), flow_svg,
                                   read_csv(inputs["validation"]), disagreements, [],
                                   computed, written, read_csv(inputs["screening_agreement"]),
                                   read_csv(inputs["extraction_agreement"]), certainty=rated)
    problems += context["count_problems"]  # numbers that should agree and do not: errors, never sentences
    problems += report_checks.confidence_problems(context["key_messages"], written.get("findings", []))
    references = set(studies["citation"])
    problems += report_checks.citation_problems(context["key_messages"], "key messages", references)
    problems += report_checks.citation_problems([r for group in context["recommendations"]
                                                 for r in group["recommendations"]], "recommendations", references)
    if "prioritisation" in inputs:
        summary = read_csv(inputs["prioritisation"])
        context["methods"]["prioritisation"] = synthesis.prioritisation(
            {str(k): str(v) for k, v in zip(summary.get("measure", []), summary.get("value", []))})
    _refresh_evidence(synthesis_path(config), context["candidate_evidence"], problems)
    if "changes" in inputs:
        context["changes"] = refresh_changes.summary([{str(k): str(v) for k, v in row.items()}
                                                      for row in read_csv(inputs["changes"]).to_dict("records")])
    matrix = report.evidence_matrix(computed, codebook)
    folder = outputs["evidence_map"].parent
    context["evidence_map_svg"], context["evidence_map_png"] = _drawn(
        folder / ".evidence_map.npz", lambda: documents.evidence_map(matrix, context["evidence_map_title"]),
        matrix.to_csv(), context["evidence_map_title"])
    write_if_changed(outputs["evidence_map"], context["evidence_map_svg"].encode("utf-8"))
    periods = next((computed[t.name] for t in codebook.tables if t.kind == "key_periods"), pd.DataFrame())
    layout = report.timeline_layout(codebook, config)
    context["timeline_svg"], context["timeline_png"] = _drawn(
        folder / ".timeline.npz", lambda: documents.timelines(periods, layout), periods.to_csv(), repr(layout))
    context["figures"] = report.number_figures(context)
    write_if_changed(outputs["timeline"], context["timeline_svg"].encode("utf-8"))
    for table in context["tables"]:  # each beside the workbook unless the rule names its path
        path = outputs.get(f"table_{table['name']}", outputs["workbook"].parent / f"{table['name']}.csv")
        write_csv(path, table["columns"],
                  (dict(zip(table["columns"], row)) for row in table["rows"]))
    write_if_changed(outputs["workbook"], documents.tables_workbook(context["tables"]))
    formats = config["output"].get("report_formats", ["markdown", "html", "docx"])
    if "markdown" in formats:
        write_if_changed(outputs["markdown"], render(TEMPLATES[0], templates, **context).encode("utf-8"))
    if "html" in formats:
        write_if_changed(outputs["html"], render(TEMPLATES[1], templates, **context).encode("utf-8"))
    if "docx" in formats:
        context["flow_png"] = documents.svg_png(flow_svg) if flow_svg else None
        if flow_svg and context["flow_png"] is None:
            log.warning("the cairo library is not installed: the Word summary points to the PRISMA flow's SVG "
                        "instead of showing it")
        reference = Path(templates) / documents.REFERENCE_DOCX
        write_if_changed(outputs["docx"], documents.docx(context, reference.read_bytes() if reference.is_file()
                                                         else None))
    write_csv(outputs["issues"], Problem.columns(), (p.as_row() for p in problems))
    for p in problems:
        log.error("%s", p.describe())
    return Outcome(context, problems)
