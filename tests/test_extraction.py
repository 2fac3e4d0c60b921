"""The pure extraction rules (review.extraction): code columns, accepting a suggestion, cell checks."""

from __future__ import annotations

from conftest import FORM

from review.extraction import (
    ACCEPT,
    OWN_WORDS,
    SUGGESTED,
    TYPED,
    check_cell,
    check_rows,
    defaults,
    suggestion,
    ticks,
)
from review.model import Formula
from review.resolve import combine

FUNCTIONS = FORM["functions"]


def raw(**values):
    return {"study_id": "s:1", **values}


def test_ticks_take_x_yes_and_tick_marks_and_report_anything_else():
    cells = {"functions:F1_strategic_planning": "x", "functions:F2_resource_allocation": " YES ",
             "functions:F4_performance_oversight": "\u2713", "functions:F5_commissioning_purchasing": "no",
             "functions:F6_direct_management_provision": 1, "functions:F7_capital_estates": "?",
             "functions:F8_workforce_education": ""}
    chosen, bad = ticks(cells, FUNCTIONS)
    assert chosen == ["F1_strategic_planning", "F2_resource_allocation", "F4_performance_oversight",
                      "F6_direct_management_provision"]
    assert bad == [("functions:F7_capital_estates", "?")]


def read(*records):
    return check_rows(enumerate(records, start=2), "alice", "alice.xlsx", "extraction", FORM, {"s:1"}, require=False)


def test_ticked_codes_and_the_field_column_are_one_value_in_codebook_order():
    rows, problems = read(raw(tier="SHA", functions="F7_capital_estates", **{"functions:F1_strategic_planning": "x"}))
    assert problems == [] and rows[0].values["functions"] == ["F1_strategic_planning", "F7_capital_estates"]


def test_a_cell_that_is_not_a_tick_holds_the_whole_field_back():
    rows, problems = read(raw(tier="SHA", **{"functions:F1_strategic_planning": "x", "functions:F3_market_management": "?"}))
    assert [(p.code, p.column, p.row) for p in problems] == [("not-a-tick", "functions:F3_market_management", "2")]
    assert "functions" not in rows[0].values


def test_a_dash_in_a_code_column_is_no_tick_and_keeps_the_ticks_beside_it():
    rows, problems = read(raw(tier="SHA", **{"functions:F1_strategic_planning": "x",
                                              "functions:F3_market_management": "-", "functions:F4_performance_oversight": "\u2013"}))
    assert problems == [] and rows[0].values["functions"] == ["F1_strategic_planning"]


def test_only_ticks_start_a_row():
    rows, problems = read(raw(tier="SHA", **{"themes:H_meso_oversight": "x"}))
    assert [r.values for r in rows] == [{"tier": "SHA", "themes": ["H_meso_oversight"]}] and problems == []
    rows, problems = read({"study_id": "", "themes:H_meso_oversight": "x"})
    assert rows == [] and [p.code for p in problems] == ["row-without-study"]


def test_the_suggestion_names_labels_and_accepting_it_fills_only_blank_valid_fields():
    text = suggestion(FORM, FORM["tier"], "SHA")
    assert text.startswith("Statutory status: Statutory body | Functions: Strategic planning; Performance oversight")
    suggested = defaults(FORM, "SHA")
    assert suggested["coterminosity_lg"] == "none" and suggested["functions"][0] == "F1_strategic_planning"

    rows, problems = read(raw(tier="Strategic Health Authority", coterminosity_lg="full", statutory_status="bogus",
                              **{ACCEPT: "yes"}))
    row = rows[0]
    assert row.values["coterminosity_lg"] == "full"  # typed wins
    assert "statutory_status" not in row.values  # typed but invalid: reported, never replaced by the suggestion
    assert [p.code for p in problems] == ["not-in-codebook"]
    assert row.values["functions"] == suggested["functions"] and row.accepted == {"functions"}


def test_accepting_is_recorded_per_reviewer_in_the_tidy_values():
    rows, _ = read(raw(tier="SHA", **{ACCEPT: "yes"}))
    typed, _ = check_rows([(2, raw(tier="SHA", coterminosity_lg="none"))], "bob", "bob.xlsx", "extraction", FORM,
                          {"s:1"}, require=False)
    tidy = combine(FORM, [*rows, *typed], {}).tidy
    entries = {(r["reviewer"], r["field"], r["entry"]) for r in tidy if r["field"] == "coterminosity_lg"}
    assert entries == {("alice", "coterminosity_lg", SUGGESTED), ("bob", "coterminosity_lg", TYPED)}


def test_accept_without_a_suggestion_or_with_another_word_is_reported():
    _, problems = read(raw(tier="HWB", relevance="core", **{ACCEPT: "yes"}), raw(tier="SHA", **{ACCEPT: "please"}))
    assert [(p.code, p.column, p.row) for p in problems] == [("no-suggestion", ACCEPT, "2"), ("wrong-type", ACCEPT, "3")]


def test_two_rows_for_one_study_and_tier_are_read_as_one_when_they_agree():
    rows, problems = read(raw(tier="SHA", relevance="core"), raw(tier="SHA", coterminosity_lg="none", relevance="core"))
    assert [(p.code, p.severity, p.row) for p in problems] == [("duplicate-row", "warning", "3")]
    assert len(rows) == 1 and rows[0].values == {"tier": "SHA", "relevance": "core", "coterminosity_lg": "none"}


def test_rows_of_merged_studies_that_differ_go_to_consensus_and_neither_value_is_used():
    rows, problems = read(raw(tier="SHA", relevance="core", coterminosity_lg="none"),
                          raw(tier="SHA", relevance="supporting", coterminosity_lg="none"))
    assert [(p.code, p.row, p.column) for p in problems] == [("duplicate-row-differs", "3", "tier")]
    assert "relevance" in problems[0].hint and "consensus" in problems[0].hint
    combined = combine(FORM, rows, {})
    assert ("s:1", "SHA") in combined.disputed
    dispute = combined.disputed[("s:1", "SHA")][0]
    assert (dispute["field"], dispute["reviewer_a"], dispute["value_a"], dispute["reviewer_b"], dispute["value_b"]) == (
        "relevance", "alice (row 2)", "core", "alice (row 3)", "supporting")
    standing = {(e["field"], e["value"]) for e in combined.evidence}
    assert ("coterminosity_lg", "none") in standing and not any(f == "relevance" for f, _ in standing)
    # a consensus value settles it
    settled = combine(FORM, rows, {("s:1", "SHA"): check_rows([(2, raw(tier="SHA", relevance="core"))], "consensus",
                                                              "c.xlsx", "extraction", FORM, {"s:1"}, False)[0][0]})
    assert ("relevance", "core") in {(e["field"], e["value"]) for e in settled.evidence}


def test_two_reviewers_free_text_stands_in_both_wordings_and_only_codes_are_disputed():
    def one(reviewer, **values):
        return check_rows([(2, raw(tier="STP", **values))], reviewer, f"{reviewer}.xlsx", "extraction", FORM,
                          {"s:1"}, require=False)[0]

    rows = [*one("alice", relevance="core", findings_summary="Consensus avoided hard choices."),
            *one("bob", relevance="supporting", findings_summary="Hard choices were put off.")]
    combined = combine(FORM, rows, {})
    assert [d["field"] for d in combined.disagreements] == ["relevance"]
    summary = [(e["value"], e["basis"]) for e in combined.evidence if e["field"] == "findings_summary"]
    assert summary == [("Consensus avoided hard choices.", OWN_WORDS), ("Hard choices were put off.", OWN_WORDS)]
    assert not any(e["field"] == "relevance" for e in combined.evidence)
    text = next(s for s in combined.agreement if s["field"] == "findings_summary")
    assert text["agreement"] == "0.000" and text["kappa"] == ""  # the wording is still compared
    # a consensus wording, when the team writes one, replaces both
    agreed = one("consensus", findings_summary="Systems put hard choices off.")[0]
    settled = combine(FORM, rows, {("s:1", "STP"): agreed})
    assert [(e["value"], e["basis"]) for e in settled.evidence if e["field"] == "findings_summary"] == [
        ("Systems put hard choices off.", "consensus")]


def test_attack_a_formula_in_a_number_cell_is_reported_not_read_as_empty():
    value, problem = check_cell(Formula("=B2*2"), FORM["n_interviews"])
    assert value is None and problem is not None and problem[0] == "formula"
    assert check_cell(Formula("=x"), FORM["findings_summary"])[1][0] == "formula"  # text cells too: what shows is computed
    # text typed deliberately with = first (stored as text, not a formula) is text
    assert check_cell("= a note, not a sum", FORM["findings_summary"]) == ("= a note, not a sum", None)
    assert check_cell("12", FORM["n_interviews"]) == (12, None)


def test_attack_a_cell_value_in_validation_markdown_is_text_not_a_link():
    from review.errors import Problem
    from review.resolve import validation_markdown

    problem = Problem(code="wrong-type", severity="error", file="alice.xlsx", row="3", column="n_interviews",
                      value="[x](javascript:alert(1)) <img src=x>", record_id="s:1")
    text = validation_markdown([problem], FORM)
    assert "\\[x\\](javascript:alert(1)) &lt;img src=x&gt;" in text and "<img" not in text
