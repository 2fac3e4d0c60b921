"""The synthesis (review.synthesis and review.workbooks.synthesis): candidate evidence per question, gaps,
the methods box, labels for readers, and the team's synthesis workbook written and read back."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import EVIDENCE, FORM, STUDIES, ev
from openpyxl import Workbook, load_workbook
from openpyxl.utils import column_index_from_string

from review import report, synthesis, tables
from review.certainty import GRADE, GRADE_CERQUAL, NONE
from review.workbooks import findings as findings_sheet
from review.workbooks import synthesis as sheet

QUESTIONS = ["What functions?", "How governed?", "Relations with local government?", "Lessons for ICSs?"]
MORE = pd.concat([EVIDENCE, ev([("s2", "STP", "findings_summary", "Horizontal accountability was weak."),
                                ("s2", "STP", "evidence_locator", "pp. 4-6")])])


def test_candidate_evidence_lists_each_questions_fields_with_labels_summary_and_locator():
    rows = synthesis.candidate_evidence(MORE, STUDIES, FORM, len(QUESTIONS))
    q1 = [r for r in rows if r["question"] == "Q1"]
    assert {(r["value"], r["tier"], r["citation"]) for r in q1} == {
        ("Strategic planning", "Strategic Health Authority", "Lorne et al. 2019"),
        ("Performance oversight", "Strategic Health Authority", "Lorne et al. 2019"),
        ("Strategic planning", "Regional Health Authority", "Lorne et al. 2019"),
        ("Strategic planning", "Sustainability and Transformation Partnership", "Moran et al. 2021")}
    stp = next(r for r in rows if r["question"] == "Q4" and r["study_id"] == "s2" and r["field"] == "Themes")
    assert stp["summary"] == (f"{FORM['findings_summary'].label}: Horizontal accountability was weak. | "
                              f"{FORM['lessons_for_ics'].label}: Back horizontal accountability.")
    assert stp["locator"] == "pp. 4-6"
    assert synthesis.candidate_evidence(MORE, STUDIES, FORM, 1) == q1  # a protocol with fewer questions


def test_gaps_name_empty_tiers_thin_rows_and_studies_not_yet_extracted():
    matrix = report.evidence_matrix(tables.compute_all(EVIDENCE, STUDIES, FORM), FORM)
    gaps = synthesis.gaps(matrix, STUDIES, EVIDENCE)
    assert gaps["cells"] == len(FORM["tier"].codes) * len(FORM["functions"].codes)
    assert gaps["empty_cells"] == gaps["cells"] - 4 and "Regional Hospital Board" in gaps["empty_rows"]
    assert {"row": "Strategic Health Authority", "columns": ["Strategic planning", "Performance oversight"]} in gaps[
        "thin_rows"]
    assert gaps["not_extracted"] == ["Ham 1981"] and gaps["note"] == ""
    # a catch-all code ("Other", flagged catch_all in the codebook) is no gap, nor counted among the cells
    other = report.catch_all_labels(FORM)
    assert other == {"Other"} and "Other" in gaps["empty_rows"]
    without = synthesis.gaps(matrix, STUDIES, EVIDENCE, catch_all=other)
    assert "Other" not in without["empty_rows"] and without["cells"] == gaps["cells"] - len(FORM["functions"].codes)
    # no evidence map to read gaps from: the section says why instead of standing empty
    assert synthesis.gaps(pd.DataFrame(), STUDIES.iloc[0:0], EVIDENCE)["note"] == "No study has been included yet."
    assert synthesis.gaps(pd.DataFrame(), STUDIES[STUDIES["study_id"] != "s3"], EVIDENCE)["note"].startswith(
        "The codebook declares no evidence map")


def test_gaps_list_a_row_in_dispute_apart_from_the_empty_rows():
    matrix = report.evidence_matrix(tables.compute_all(EVIDENCE, STUDIES, FORM), FORM)
    gaps = synthesis.gaps(matrix, STUDIES, EVIDENCE, {"Regional Hospital Board": ["Lorne et al. 2019"] * 2})
    assert "Regional Hospital Board" not in gaps["empty_rows"] and "Area Health Authority" in gaps["empty_rows"]
    assert gaps["disputed_rows"] == [{"row": "Regional Hospital Board", "citations": ["Lorne et al. 2019"]}]


def test_disputed_rows_are_the_map_fields_open_disagreements_with_labels():
    open_ = pd.DataFrame([{"study_id": "s1", "tier": "RHB", "field": "functions", "resolved_by": ""},
                          {"study_id": "s2", "tier": "STP", "field": "themes", "resolved_by": ""}])
    assert report.disputed_rows(open_, STUDIES, FORM) == {"Regional Hospital Board": ["Lorne et al. 2019"]}
    assert report.map_axes(FORM) == "tier by functions"


def test_tables_for_readers_show_labels_never_codes():
    lessons = report.labelled(tables.compute_all(EVIDENCE, STUDIES, FORM)["lessons"], FORM)
    # a lesson stands under the audience its reviewer named, not under the themes of its study
    assert lessons.columns.tolist() == ["audience", "lesson", "stance", "agreement", "citations"]
    assert lessons[["audience", "stance"]].values.tolist() == [[FORM["lesson_audience"].label_of("systems"),
                                                                "Recommends change"]]
    lg = report.labelled(pd.DataFrame({"tier": ["RHA"], "mechanisms": ["lg_members_on_board (1); none_reported (2)"],
                                       "studies": [3]}), FORM)
    assert lg.iloc[0].tolist() == ["Regional Health Authority",
                                   f"{FORM['lg_mechanisms'].label_of('lg_members_on_board')} (1); "
                                   f"{FORM['lg_mechanisms'].label_of('none_reported')} (2)", 3]


def test_methods_box_has_each_search_and_the_agreement():
    config = {"sources": [{"name": "hmic", "database": "HMIC", "search": {"interface": "Ovid", "date": "2024-01-10",
                                                                         "search_string": "ICS*", "records": 35}}],
              "reviewers": ["a", "b"]}
    box = synthesis.methods(config, pd.DataFrame([{"stage": "title_abstract", "items_compared": "11",
                                                   "agreement": "0.818", "kappa": "0.40"}]),
                            pd.DataFrame({"kappa": ["1.000", "0.500", ""]}))
    assert box["sources"][0] == {"name": "hmic", "database": "HMIC", "interface": "Ovid", "date": "2024-01-10",
                                 "search_string": "ICS*", "records": 35}
    named = synthesis.methods({"sources": [{"name": "hmic", "database": "HMIC (Ovid)", "search": {"interface": "Ovid"}}]},
                              pd.DataFrame(), pd.DataFrame())
    assert named["sources"][0]["interface"] == ""  # the name says it already: not "HMIC (Ovid) (Ovid)"
    assert box["screening"][0]["stage"] == "title and abstract" and box["extraction_kappa_median"] == "0.75"
    assert box["prioritisation"] == ""  # filled by the report stage from the screening stage's summary
    full = synthesis.methods(config, pd.DataFrame([{"stage": "full_text", "items_compared": "1", "agreement": "1.000",
                                                    "kappa": "0.90"}]), pd.DataFrame())
    text = synthesis.agreement_sentence(full, 1)
    assert "Screening at full text: 1 record screened by both reviewers independently was compared" in text
    assert "full/text" not in text and "by one reviewer" not in text  # how many were decided is not known here
    mixed = synthesis.agreement_sentence({**full, "decided": {"full text": 69}}, 1)
    assert "the other 68 records were screened by one reviewer." in mixed  # not all screening was double
    assert "(almost perfect agreement; on 1 record, a rough estimate)" in text and "1 disagreement is still open" in text
    assert "settled" not in text  # never said settled while one is open
    skewed = synthesis.agreement_sentence(synthesis.methods(config, pd.DataFrame([
        {"stage": "title_abstract", "items_compared": "11", "agreement": "0.818", "kappa": "-0.100",
         "screened_by_one": "67"}]), pd.DataFrame()), 0)
    assert ("\u22120.100 (less than chance agreement: the reviewers agreed on 81.8% of them, nearly all on the common "
            "decision, but not on the rare one, which is what kappa weighs; on 11 records, a rough estimate); the other "
            "67 records were screened by one reviewer.") in skewed
    # the count the screening stage gives wins over decided minus compared, which counts an open conflict twice
    assert "the other 67 records were screened by one reviewer; 1 of the records compared is still in conflict" in \
        synthesis.agreement_sentence(
        {**synthesis.methods(config, pd.DataFrame([{"stage": "title_abstract", "items_compared": "11",
                                                    "agreement": "0.818", "kappa": "-0.100",
                                                    "screened_by_one": "67"}]), pd.DataFrame()),
         "decided": {"title and abstract": 77}}, 0)
    both = synthesis.agreement_sentence(
        {**synthesis.methods(config, pd.DataFrame([{"stage": "title_abstract", "items_compared": "11",
                                                    "agreement": "0.818", "kappa": "-0.100",
                                                    "screened_by_one": "67"}]), pd.DataFrame()),
         "decided": {"title and abstract": 77, "full text": 68}}, 0)
    # full text, which no two reviewers shared, is said, not left out
    assert "68 reports decided at full text were each screened by one reviewer, so no agreement between reviewers is " \
        "measured there." in both
    one = synthesis.agreement_sentence({**synthesis.methods({"reviewers": ["a"]}, pd.DataFrame(), pd.DataFrame()),
                                        "decided": {"title and abstract": 7, "full text": 5}}, 0)
    assert one.startswith("7 records decided at title and abstract and 5 reports decided at full text were each "
                          "screened by one reviewer, so no agreement between reviewers is measured in screening.")
    extraction = synthesis.methods(config, pd.DataFrame(), pd.DataFrame(
        {"field": ["evidence_type", "lg_strength", "lg_notes", "relevance"], "kappa": ["1.000", "0.500", "", "1.000"]}))
    said = synthesis.agreement_sentence({**extraction, "studies_extracted": 3}, 0)
    assert ("over the 3 of 4 fields compared that have one (free text and fields where every value was the same have "
            "none), the median Cohen's kappa was 1.00 (perfect agreement), the lowest 0.50 (lg_strength, moderate "
            "agreement)") in said


def test_methods_wording_is_right_for_none_one_and_many():
    one = synthesis.agreement_sentence(synthesis.methods({"reviewers": ["a"]}, pd.DataFrame(), pd.DataFrame()), 0)
    assert one == "Data were extracted by 1 reviewer, so no agreement between reviewers is measured."
    two = synthesis.agreement_sentence(synthesis.methods({"reviewers": ["a", "b"]}, pd.DataFrame(), pd.DataFrame()), 0)
    assert "0 compared fields" not in two and "codebook of" not in two and "settled in the consensus workbook" in two
    assert "except" not in two
    some = synthesis.agreement_sentence({**synthesis.methods({"reviewers": ["a", "b"]}, pd.DataFrame(), pd.DataFrame()),
                                         "rows_extracted": 19, "rows_one_reviewer": 1, "key_label": "tier"}, 0)
    assert "extracted independently by 2 reviewers, except 1 study x tier row of 19 extracted by one reviewer only." in some
    more = synthesis.agreement_sentence({**synthesis.methods({"reviewers": ["a", "b"]}, pd.DataFrame(), pd.DataFrame()),
                                         "rows_extracted": 19, "rows_one_reviewer": 1, "values_one_reviewer": 12,
                                         "key_label": "tier"}, 0)
    assert ("except 1 study x tier row of 19 extracted by one reviewer only and 12 entries (a field of a row) in other "
            "rows given by one reviewer only") in more
    counts = {"identified": 1, "duplicates": 1, "automatic": 0, "screened": 0, "excluded_ta": 0, "awaiting_ta": 0,
              "sought": 1, "not_retrieved": 0, "awaiting_ft": 0, "assessed": 1, "excluded_ft": 0, "included": 1,
              "studies_included": 1, "studies_extracted": 0}
    text = synthesis.studies_sentence(counts)
    assert text.startswith("1 record was identified; 1 duplicate removed; 0 records screened")
    assert "1 report sought" in text and "1 study is included, 0 of them extracted so far." in text
    many = synthesis.studies_sentence({**counts, "identified": 3, "duplicates": 2, "awaiting_ta": 3, "included": 2})
    assert "3 records were identified; 2 duplicates removed" in many and "(3 still awaiting a decision)" in many
    assert "2 studies are included" in many
    before = synthesis.studies_sentence({**counts, "sought": 0, "assessed": 0, "included": 0})
    assert before.endswith("; no report sought as full text yet. No study is included yet.")
    assert "0 reports" not in before and "0 studies" not in before


def test_methods_name_the_model_the_stopping_test_and_the_teams_stop():
    summary = {"model": "TF-IDF ..., seed 3", "studies": "900", "screened": "600", "found": "40", "not_screened": "300",
               "sentence": "At least 95% of the relevant records have been found, with 95% confidence (p = 0.012): "
                           "screening may stop.", "stopped_on": "", "stop_note": "",
               "trained_on_included": "40", "trained_on_excluded": "560"}
    text = synthesis.prioritisation(summary)
    # before any inclusion and exclusion, nothing was ranked: not said as if it had been
    early = synthesis.prioritisation({**summary, "trained_on_included": "0"})
    assert "no ranking has been made yet" in early and "were presented" not in early
    assert "seed 3" in text and "600 of the 900 records had been screened" in text and "Systematic Reviews 9:273" in text
    assert "Callaghan and Müller-Hansen (2020, Statistical stopping criteria" in text
    assert "automation" not in text
    stopped = synthesis.prioritisation({**summary, "stopped_on": "2026-11-20", "stop_note": "budget"})
    assert "stopped screening on 2026-11-20 (budget); the 300 records not screened" in stopped
    assert "marked ineligible by automation tools" in stopped
    assert synthesis.prioritisation({}) == ""  # prioritisation off


# --- the workbook -------------------------------------------------------------------------------------------

def write_rows(path, name, rows):
    wb = load_workbook(path)
    ws = wb[name]
    header = [c.value for c in ws[1]]
    for number, values in enumerate(rows, start=2):
        for column, value in values.items():
            ws.cell(row=number, column=header.index(column) + 1, value=value)
    wb.save(path)


def test_the_workbook_is_created_once_with_dropdowns_and_takes_the_older_findings(tmp_path):
    legacy = tmp_path / "findings.xlsx"
    findings_sheet.ensure(legacy)
    write_rows(legacy, "findings", [{"finding_id": "F1", "finding": "Tiers are reinvented", "contributing_studies": "s1",
                                     "overall_confidence": "low"}])
    path = tmp_path / "synthesis.xlsx"
    assert sheet.ensure(path, QUESTIONS, legacy) and not sheet.ensure(path, QUESTIONS, legacy)
    wb = load_workbook(path)
    assert wb.sheetnames == [sheet.MESSAGES, sheet.FINDINGS, sheet.RECOMMENDATIONS, sheet.EVIDENCE, sheet.HOW]
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in wb[sheet.FINDINGS].data_validations.dataValidation}
    assert lists["A2"] == '"Q1,Q2,Q3,Q4"' and "very low" in lists["J2"]
    copied = [c.value for c in wb[sheet.FINDINGS][2]]
    assert copied[1:4] == ["F1", "Tiers are reinvented", "s1"] and copied[9] == "low"


def test_what_the_team_wrote_is_read_checked_and_the_evidence_sheet_never_touches_it(tmp_path):
    path = tmp_path / "synthesis.xlsx"
    sheet.ensure(path, QUESTIONS)
    write_rows(path, sheet.FINDINGS, [
        {"question": "q1", "finding_id": "F1", "finding": "Planning persisted", "contributing_studies": "s1; nobody",
         "quotes": "\"the region plans\" (p. 4)", "overall_confidence": "Moderate"},
        {"question": "Q9", "finding_id": "F2", "finding": "Other (Lorne et al. 2018)", "coherence": "fine"}])
    write_rows(path, sheet.MESSAGES, [{"key_message": "Tiers come and go", "confidence": "moderate",
                                       "finding_ids": "F1; F7"}])
    write_rows(path, sheet.RECOMMENDATIONS, [{"recommendation": "Keep a regional tier", "audience": "national bodies"}])
    typed = sheet.typed_digest(path)
    assert sheet.refresh_evidence(path, synthesis.candidate_evidence(MORE, STUDIES, FORM, 4))
    assert not sheet.refresh_evidence(path, synthesis.candidate_evidence(MORE, STUDIES, FORM, 4))  # unchanged
    assert sheet.typed_digest(path) == typed  # the pipeline's sheet is not the team's typing

    written, problems = sheet.read(path, dict(zip(STUDIES["study_id"], STUDIES["citation"])), QUESTIONS)
    f1, f2 = written[sheet.FINDINGS]
    assert (f1["question"], f1["overall_confidence"], [s["citation"] for s in f1["studies"]]) == (
        "Q1", "moderate", ["Lorne et al. 2019"])
    assert f2["question"] == "" and f2["coherence"] == ""
    assert {(p.code, p.sheet, p.value) for p in problems} == {
        ("unknown-study", sheet.FINDINGS, "nobody"), ("unknown-question", sheet.FINDINGS, "Q9"),
        ("not-in-list", sheet.FINDINGS, "fine"), ("unknown-finding", sheet.MESSAGES, "F7"),
        ("citation-not-in-references", sheet.FINDINGS, "Lorne et al. 2018")}
    # each problem names the row as the spreadsheet shows it
    assert {(p.code, p.row) for p in problems if p.code in ("unknown-finding", "citation-not-in-references")} == {
        ("unknown-finding", "2"), ("citation-not-in-references", "3")}
    grouped = synthesis.by_question(QUESTIONS, written[sheet.FINDINGS], [])
    assert [g["code"] for g in grouped] == ["Q1", "Q2", "Q3", "Q4", ""] and grouped[0]["findings"] == [f1]
    # no audiences declared: grouped by what the team typed
    assert synthesis.by_audience(written[sheet.RECOMMENDATIONS], ())[0]["audience"] == "national bodies"
    evidence = [list(r) for r in load_workbook(path)[sheet.EVIDENCE].iter_rows(values_only=True)]
    assert evidence[0] == sheet.EVIDENCE_COLUMNS and len(evidence) > 5


@pytest.mark.parametrize("kind", ["md", "html"])
def test_the_summary_says_plainly_what_is_not_written_yet(kind):
    from review.templating import render

    context = report.build_context({"title": "T", "review_questions": QUESTIONS, "scope": "S"}, FORM, EVIDENCE,
                                   STUDIES, pd.DataFrame({"data": [], "n": []}), "", pd.DataFrame(), pd.DataFrame(), [])
    context["evidence_map_svg"] = ""
    text = render(f"executive_summary.{kind}.j2", None, **context)
    assert "No key messages have been written yet" in text and "No recommendations have been written yet" in text
    assert text.count("No finding has been written for this question yet") == 4
    assert "Included studies not yet extracted (not evidence of absence): Ham 1981" in text
    assert "F1_strategic_planning" not in text.split("Appendix")[1] and "Strategic planning" in text


def test_the_methods_name_who_left_and_count_their_work():
    config = {"reviewers": ["reviewer_a", "reviewer_c"],
              "former_reviewers": [{"name": "reviewer_b", "left": "2026-11-30"}]}
    box = synthesis.methods(config, pd.DataFrame(), pd.DataFrame())
    assert box["reviewers"] == ["reviewer_a", "reviewer_c", "reviewer_b"]
    sentence = synthesis.agreement_sentence(box, 0)
    assert "extracted independently by 3 reviewers" in sentence
    assert "Reviewers: reviewer_a and reviewer_c (reviewer_b until 2026-11-30, whose work still counts)." in sentence
    assert "Reviewers:" not in synthesis.agreement_sentence(synthesis.methods({"reviewers": ["a", "b"]},
                                                                               pd.DataFrame(), pd.DataFrame()), 0)


def test_the_methods_claim_no_extraction_before_any_and_no_search_count_the_log_left_empty():
    config = {"reviewers": ["alice", "bob"], "sources": [{"name": "scopus", "search": {"records": None}}]}
    box = synthesis.methods(config, pd.DataFrame(), pd.DataFrame())
    assert box["sources"][0]["records"] == ""  # not "None records"
    sentence = synthesis.agreement_sentence({**box, "studies_extracted": 0}, 0)
    assert sentence == "Data extraction by 2 reviewers has not started yet." and "settled" not in sentence
    alone = synthesis.methods({"reviewers": [], "sources": [{"name": "scopus", "database": ""}]}, pd.DataFrame(),
                              pd.DataFrame())
    assert alone["sources"][0]["database"] == "scopus"  # a source is named, never printed as nothing
    assert synthesis.agreement_sentence({**alone, "studies_extracted": 0}, 0) == (
        "No reviewer is listed in the protocol yet, so no study has been extracted.")  # not "by 0 reviewers"


def test_audiences_are_the_reviews_own_a_dropdown_when_declared_and_free_text_otherwise(tmp_path):
    assert synthesis.audiences(FORM) == ("national bodies", "systems", "places", "local government")  # the sample's
    declared = ("Schools", "Local authorities", "Government")
    path = tmp_path / "declared.xlsx"
    sheet.ensure(path, QUESTIONS, audiences=declared)
    (validation,) = [v for v in load_workbook(path)[sheet.RECOMMENDATIONS].data_validations.dataValidation]
    assert validation.formula1 == '"Schools,Local authorities,Government"'
    write_rows(path, sheet.RECOMMENDATIONS, [{"recommendation": "Fund the meals", "audience": "government"},
                                             {"recommendation": "Ask the tiers", "audience": "national bodies"}])
    written, problems = sheet.read(path, {}, QUESTIONS, declared)
    assert [(p.code, p.value, p.expected) for p in problems] == [
        ("not-in-list", "national bodies", "schools, local authorities, government")]
    groups = synthesis.by_audience(written[sheet.RECOMMENDATIONS], declared)
    assert [(g["audience"], len(g["recommendations"])) for g in groups] == [("Government", 1),
                                                                            ("audience not given", 1)]
    free = tmp_path / "free.xlsx"
    sheet.ensure(free, QUESTIONS)
    assert not load_workbook(free)[sheet.RECOMMENDATIONS].data_validations.dataValidation  # no NHS list by default
    guide = " ".join(str(c.value) for c in load_workbook(free)[sheet.HOW]["B"] if c.value)
    assert "Each with its audience (who it is for)" in guide and "national bodies" not in guide


# --- the certainty framework the codebook declares -----------------------------------------------------------

def dropdowns(ws):
    return {ws.cell(row=1, column=column_index_from_string(str(dv.sqref)[0])).value: dv.formula1
            for dv in ws.data_validations.dataValidation}


def test_the_findings_sheet_gets_the_declared_frameworks_columns_and_dropdowns(tmp_path):
    grade = tmp_path / "grade.xlsx"
    sheet.ensure(grade, QUESTIONS, certainty=GRADE)
    wb = load_workbook(grade)
    assert [c.value for c in wb[sheet.FINDINGS][1]] == sheet.FINDING_BASE + [
        "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "certainty", "explanation"]
    lists = dropdowns(wb[sheet.FINDINGS])
    assert lists["risk_of_bias"] == '"not serious,serious,very serious"'
    assert lists["publication_bias"] == '"undetected,strongly suspected"' and "very low" in lists["certainty"]
    assert dropdowns(wb[sheet.MESSAGES]) == {"certainty": '"high,moderate,low,very low"'}
    guide = " ".join(str(c.value) for c in wb[sheet.HOW]["B"] if c.value)
    assert "its GRADE assessment (risk of bias: not serious" in guide and "CERQual" not in guide
    write_rows(grade, sheet.FINDINGS, [{"question": "Q1", "finding": "Meals raise take-up", "risk_of_bias": "Serious",
                                        "publication_bias": "very serious", "certainty": "low"}])
    write_rows(grade, sheet.MESSAGES, [{"key_message": "Take-up rises", "certainty": "low"}])
    written, problems = sheet.read(grade, {}, QUESTIONS, certainty=GRADE)
    (finding,), (message,) = written[sheet.FINDINGS], written[sheet.MESSAGES]
    assert (finding["risk_of_bias"], finding["publication_bias"], finding["overall_confidence"]) == ("serious", "", "low")
    assert message["confidence"] == "low"  # the templates' name for a message's rating, whatever it is called
    assert [(p.code, p.column, p.expected) for p in problems] == [
        ("not-in-list", "publication_bias", "undetected, strongly suspected")]

    none = tmp_path / "none.xlsx"
    sheet.ensure(none, QUESTIONS, certainty=NONE)
    wb = load_workbook(none)
    assert [c.value for c in wb[sheet.FINDINGS][1]] == sheet.FINDING_BASE
    assert [c.value for c in wb[sheet.MESSAGES][1]] == ["message_id", "key_message", "finding_ids"]
    assert "rates no finding" in str(wb[sheet.HOW]["B2"].value)
    write_rows(none, sheet.FINDINGS, [{"question": "Q1", "finding": "Meals raise take-up"}])
    written, problems = sheet.read(none, {}, QUESTIONS, certainty=NONE)
    assert written[sheet.FINDINGS][0]["overall_confidence"] == "" and problems == []
    assert report.certainty_summary(NONE, written[sheet.FINDINGS])["rows"] == []  # no table in the report


def old_cerqual_workbook(path):
    """A synthesis workbook as every team had it before frameworks were declared, written cell by cell."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    for name, header, row in [
            (sheet.MESSAGES, ["message_id", "key_message", "confidence", "finding_ids"], ["M1", "Tiers churn", "Low", "F1"]),
            (sheet.FINDINGS, ["question", "finding_id", "finding", "contributing_studies", "quotes",
                              "methodological_limitations", "coherence", "adequacy", "relevance", "overall_confidence",
                              "explanation"],
             ["Q1", "F1", "Tiers come and go", "s1", "", "minor concerns", "no or very minor concerns",
              "moderate concerns", "minor concerns", "moderate", "two studies"]),
            (sheet.RECOMMENDATIONS, sheet.RECOMMENDATION_COLUMNS, [])]:
        ws = wb.create_sheet(name)
        ws.append(header)
        if row:
            ws.append(row)
    wb.save(path)


def test_an_old_cerqual_workbook_still_reads_and_a_changed_framework_is_said_not_dropped(tmp_path):
    path = tmp_path / "synthesis.xlsx"
    old_cerqual_workbook(path)
    citations = dict(zip(STUDIES["study_id"], STUDIES["citation"]))
    written, problems = sheet.read(path, citations, QUESTIONS, certainty=GRADE_CERQUAL)
    assert problems == [] and written[sheet.MESSAGES][0]["confidence"] == "low"
    assert written[sheet.FINDINGS][0]["adequacy"] == "moderate concerns"
    # the codebook now declares GRADE: the workbook is read as what it is, and the team is told
    again, changed = sheet.read(path, citations, QUESTIONS, certainty=GRADE)
    assert again == written and sheet.framework(path, GRADE) is GRADE_CERQUAL
    assert [(p.code, p.severity, p.sheet, p.row) for p in changed] == [
        ("certainty-framework-changed", "error", sheet.FINDINGS, "1")]
    assert "risk_of_bias" in changed[0].column and "declare grade-cerqual again" in changed[0].hint
    table = report.certainty_summary(sheet.framework(path, GRADE), again[sheet.FINDINGS])
    assert table["heading"] == "Summary of qualitative findings (GRADE-CERQual)" and table["rows"][0][-2] == "moderate"
    # declared none: nothing rated in the report, and each column of typed ratings named
    unrated, unread = sheet.read(path, citations, QUESTIONS, certainty=NONE)
    assert unrated[sheet.FINDINGS][0]["overall_confidence"] == ""
    assert {(p.code, p.sheet, p.column, p.row) for p in unread} == {
        ("certainty-not-read", sheet.FINDINGS, c, "2") for c in GRADE_CERQUAL.columns} | {
        ("certainty-not-read", sheet.MESSAGES, "confidence", "2")}


def test_older_findings_rated_in_cerqual_keep_their_columns_in_a_grade_workbook(tmp_path):
    legacy = tmp_path / "findings.xlsx"
    findings_sheet.ensure(legacy)
    write_rows(legacy, "findings", [{"finding_id": "F1", "finding": "Take-up rose", "contributing_studies": "s1",
                                     "coherence": "minor concerns", "overall_confidence": "low"}])
    path = tmp_path / "synthesis.xlsx"
    sheet.ensure(path, QUESTIONS, legacy, certainty=GRADE)
    header = [c.value for c in load_workbook(path)[sheet.FINDINGS][1]]
    assert header == sheet.finding_columns(GRADE) + ["coherence", "overall_confidence"]
    written, problems = sheet.read(path, {"s1": "Lorne et al. 2019"}, QUESTIONS, certainty=GRADE)
    assert written[sheet.FINDINGS][0]["finding"] == "Take-up rose"
    assert {(p.code, p.column, p.value) for p in problems if p.code != "unknown-question"} == {
        ("certainty-not-read", "coherence", "minor concerns"),
        ("certainty-not-read", "overall_confidence", "low")}


def test_limitations_are_worded_for_none_one_and_many_and_name_single_reviewer_rows():
    one = synthesis.limitation_lines({"studies_included": 2, "studies_extracted": 1}, 1, 1, [])
    assert one == ["1 of 2 included studies has been extracted so far.",
                   "1 disagreement between reviewers is not yet resolved.",
                   "1 validation error is outstanding in the extraction sheets."]
    many = synthesis.limitation_lines({"studies_included": 64, "studies_extracted": 13, "rows_extracted": 19,
                                       "rows_one_reviewer": 1, "values_one_reviewer": 12}, 9, 0, ["Ham 1981"], "tier")
    assert many == ["13 of 64 included studies have been extracted so far.",
                    "9 disagreements between reviewers are not yet resolved.",  # no "0 validation errors are ..."
                    "1 of 19 study x tier rows extracted rests on one reviewer alone.",
                    "12 entries in other rows (a field of a row) were given by one reviewer only.",
                    "Studies appraised as low quality: Ham 1981."]
    assert synthesis.limitation_lines({}, 0, 0, []) == ["No study has been included yet."]
    assert synthesis.limitation_lines({"studies_included": 1}, 0, 0, []) == [
        "The one included study has not been extracted yet."]
    assert synthesis.limitation_lines({"studies_included": 5}, 0, 0, []) == [
        "None of the 5 included studies has been extracted yet."]
    done = synthesis.limitation_lines({"studies_included": 3, "studies_extracted": 3}, 0, 0, [])
    assert len(done) == 1 and done[0].startswith("None that the review's own records show")


def test_kappa_words_follow_landis_and_koch_with_their_upper_bounds():
    words = {k: synthesis.kappa_meaning(k) for k in ("-0.100", "0.000", "0.200", "0.210", "0.600", "0.800", "0.810",
                                                      "1.000")}
    assert words == {"-0.100": "less than chance agreement", "0.000": "slight agreement", "0.200": "slight agreement",
                     "0.210": "fair agreement", "0.600": "moderate agreement", "0.800": "substantial agreement",
                     "0.810": "almost perfect agreement", "1.000": "perfect agreement"}


def test_a_flow_before_any_decision_is_not_said_as_screened():
    counts = {"identified": 35, "duplicates": 0, "automatic": 0, "screened": 35, "excluded_ta": 0, "awaiting_ta": 35,
              "sought": 0, "not_retrieved": 0, "awaiting_ft": 0, "assessed": 0, "excluded_ft": 0, "included": 0,
              "studies_included": 0, "studies_extracted": 0}
    sentence = synthesis.studies_sentence(counts)
    assert "35 records to screen on title and abstract, none decided yet" in sentence
    assert "screened on title and abstract" not in sentence
