"""A second, different review end to end (tests/scenarios/school_meals): the real ``snakemake`` on its own
protocol and codebook, which key rows by programme and declare their own tables. Nothing of the NHS
review may show in its outputs: the package knows no review's fields, codes or tables."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from conftest import PROJECT
from docx import Document
from openpyxl import load_workbook
from test_pipeline import snakemake

pytestmark = pytest.mark.slow

SCENARIO = PROJECT / "tests/scenarios/school_meals"

# what alice types: labels from the dropdowns, an x in each outcome's column
TYPED = {
    "Ashworth2017": {"design": "Difference in differences", "period_start": 2012, "period_end": 2016,
                     "pupils": 12000, "outcomes": ["take_up"], "effect_direction": "Favourable",
                     "risk_of_bias": "Some concerns", "summary": "Take-up rose by about 30 points.",
                     "locator": "Table 2"},
    "Kerr2012": {"design": "Randomised trial", "period_start": 2009, "period_end": 2011,
                 "outcomes": ["take_up", "attainment", "diet"], "effect_direction": "Mixed", "risk_of_bias": "Low",
                 "summary": "Attainment rose in the pilot areas.", "locator": "pp. 40-52"},
    "Moreno2021": {"design": "Difference in differences", "period_start": 2014, "period_end": 2019,
                   "outcomes": ["attendance"], "effect_direction": "No clear effect", "pupils": "many",
                   "summary": "No clear change in attendance.", "locator": "Table 3"},
}


@pytest.fixture
def review(tmp_path):
    shutil.copy(PROJECT / "Snakefile", tmp_path / "Snakefile")  # the workflow is the package's
    shutil.copytree(SCENARIO / "protocols", tmp_path / "protocols")
    (tmp_path / "extracts").mkdir()
    return tmp_path


def table(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def type_in(path, values):
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    for row in ws.iter_rows(min_row=2):
        for name, value in values.get(row[0].value, {}).items():
            for code in value if isinstance(value, list) else [None]:
                ws.cell(row=row[0].row, column=header[f"{name}:{code}" if code else name], value="x" if code else value)
    wb.save(path)


def test_a_second_review_with_its_own_codebook_and_tables_runs_end_to_end(review):
    first = snakemake(review)
    assert first.returncode == 0, first.stderr
    # a RIS and a CSV export with one study in both; screening from the records' own tags
    counts = table(review / "results/dedup/counts.csv")
    assert dict(zip(counts[counts.source == ""].measure, counts[counts.source == ""].value))["unique_records"] == "7"
    assert sorted(table(review / "results/screening/included.csv").study_id) == [
        "Ashworth2017", "Ashworth2020", "Kerr2012", "Lindqvist2019", "Moreno2021"]
    # one sheet for the one reviewer, keyed by programme, pre-filled from the programme tags
    ws = load_workbook(review / "extracts/alice.xlsx")["extraction"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["study_id", "citation", "programme"] and "outcomes:take_up" in header
    assert not any(str(h).startswith(("tier", "functions", "themes")) for h in header)
    rows = {r[0]: r[2] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows["Kerr2012"] == "UK free school meal pilots"

    type_in(review / "extracts/alice.xlsx", TYPED)
    # the codebook declares GRADE: the synthesis workbook has its domains, and the team rates a finding in them
    synthesis = load_workbook(review / "extracts/synthesis.xlsx")
    findings = synthesis["findings"]
    header = [c.value for c in findings[1]]
    assert header[5:] == ["risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias",
                          "certainty", "explanation"]
    assert [c.value for c in synthesis["key messages"][1]] == ["message_id", "key_message", "certainty", "finding_ids"]
    assert "GRADE assessment" in str(synthesis["how to"]["B2"].value)
    rated = {"question": "Q1", "finding_id": "F1", "finding": "Universal meals raised take-up",
             "contributing_studies": "Ashworth2017; Kerr2012", "risk_of_bias": "serious",
             "inconsistency": "not serious", "indirectness": "not serious", "imprecision": "serious",
             "publication_bias": "undetected", "certainty": "low", "explanation": "Two evaluations"}
    for name, value in rated.items():
        findings.cell(row=2, column=header.index(name) + 1, value=value)
    for column, value in enumerate(["M1", "Universal meals raise take-up", "low", "F1"], start=1):
        synthesis["key messages"].cell(row=2, column=column, value=value)
    synthesis.save(review / "extracts/synthesis.xlsx")
    second = snakemake(review)
    assert second.returncode == 0, second.stderr

    validation = table(review / "results/evidence/validation.csv")
    assert validation[["code", "column", "value"]].values.tolist() == [["wrong-type", "pupils", "many"]]
    evidence = table(review / "results/evidence/evidence.csv")
    assert sorted(evidence[evidence.field == "outcomes"].value) == ["attainment", "attendance", "diet", "take_up",
                                                                    "take_up"]
    # the declared tables, each a CSV, headed by the codebook's names
    outcomes = table(review / "results/tables/outcome_programme.csv")
    assert outcomes.columns.tolist()[0] == "programme" and len(outcomes) == 5
    bias = table(review / "results/tables/bias.csv").set_index("design")
    assert bias.loc["rct"].tolist() == ["1", "0", "0", "0"] and bias.loc["did"].tolist() == ["0", "1", "0", "1"]
    summary = (review / "results/report/executive_summary.md").read_text(encoding="utf-8")
    for caption in ("Evaluations included", "Outcomes by programme", "Direction of effects by programme",
                    "Risk of bias by design"):
        assert f"### {caption}" in summary
    # labels, never codes, and the scenario's own words for its map and gaps
    assert "| Universal Infant Free School Meals (England) | Take-up of school meals | 1 | Ashworth and Patel 2017 |" in summary
    assert "| Study design | Low | Some concerns | High | Not rated |" in summary  # headers: the field's label
    assert "cells of the evidence map (programme by outcomes)" in summary
    assert "Included studies not yet extracted (not evidence of absence): Ashworth and Shah 2020; Lindqvist 2019." in summary
    # nothing of the NHS review leaks into another review's report
    html = (review / "results/report/executive_summary.html").read_text(encoding="utf-8")
    html = re.sub(r"base64,[A-Za-z0-9+/=\s]+", "base64,", html)  # an embedded image's letters are not words
    for text in (summary, html):
        assert not re.search(r"\btiers?\b|NHS|King's Fund|ICS", text), re.findall(r".{30}\btiers?\b.{30}", text)[:3]
    assert (review / "results/report/executive_summary.docx").stat().st_size > 10_000
    # its findings rated in GRADE, the framework its codebook declares, and certainty where CERQual says confidence
    word = Document(str(review / "results/report/executive_summary.docx"))
    docx = "\n".join([p.text for p in word.paragraphs]
                     + [c.text for t in word.tables for row in t.rows for c in row.cells])
    for text in (summary, html, docx):
        assert "CERQual" not in text and "Summary of findings (GRADE)" in text
        assert "assessed with GRADE" in text and "certainty: low" in text and "confidence:" not in text
    assert ("| Finding | Contributing studies | Risk of bias | Inconsistency | Indirectness | Imprecision | "
            "Publication bias | Certainty | Explanation |") in summary
    assert "| Universal meals raised take-up | Ashworth and Patel 2017; Kerr and Dunn 2012 | serious |" in summary
    # nor into the team's synthesis workbook: no audiences declared, no NHS audiences offered
    offered = [v.formula1 for v in synthesis["recommendations"].data_validations.dataValidation]
    assert not any("national bodies" in str(f) or "places" in str(f) for f in offered)
