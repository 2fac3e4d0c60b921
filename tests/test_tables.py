"""Evidence tables (review.tables): the kinds a codebook declares, on small frames."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import EVIDENCE, FORM, STUDIES, ev

from review import codebook, repeats, tables
from review.errors import ProtocolError


def declared(name, evidence=EVIDENCE):
    spec = next(t for t in FORM.tables if t.name == name)
    return tables.compute(spec, evidence, STUDIES, FORM)


def test_tier_function_counts_studies_in_historical_order():
    long = declared("tier_function")
    assert list(long[["tier", "code", "studies"]].itertuples(index=False, name=None)) == [
        ("RHA", "F1_strategic_planning", 1), ("SHA", "F1_strategic_planning", 1),
        ("SHA", "F4_performance_oversight", 1), ("STP", "F1_strategic_planning", 1)]
    wide = tables.matrix(long, FORM, "functions")
    # every tier and function of the codebook, in its order: a tier or function with no evidence is a gap shown
    assert list(wide.index) == list(FORM["tier"].codes) and list(wide.columns) == list(FORM["functions"].codes)
    assert wide.loc["SHA", "F4_performance_oversight"] == 1 and wide.loc["STP", "F4_performance_oversight"] == 0
    assert wide.loc["RHB"].sum() == 0 and int(wide.to_numpy().sum()) == 4


def test_the_timeline_shows_current_tiers_as_present_and_no_evidence_as_not_yet_extracted():
    timeline = declared("timeline").set_index("tier")
    assert timeline.loc["ICB", "to"] == "present" and timeline.loc["SHA", "to"] == 2013
    assert timeline.loc["RHB", "studies"] == "none extracted yet" and timeline.loc["SHA", "studies"] == 1


def test_theme_tier_lists_citations():
    long = declared("theme_tier")
    meso = long[long["code"] == "H_meso_oversight"]
    assert list(meso["tier"]) == ["RHA", "SHA"] and set(meso["citations"]) == {"Lorne et al. 2019"}


def test_characteristics_one_row_per_extracted_study():
    table = declared("characteristics")
    assert list(table["citation"]) == ["Lorne et al. 2019", "Moran et al. 2021"]  # s3 has no evidence
    assert table.iloc[0]["tiers"] == "RHA; SHA" and table.iloc[0]["period"] == "1974-2013"


def test_lg_relations_lessons_enablers_timeline_quality():
    lg = declared("lg_relations")
    assert list(lg["tier"]) == ["RHA", "STP"] and lg.iloc[0]["mechanisms"] == "lg_members_on_board (1)"
    lessons = declared("lessons")
    assert lessons[["audience", "stance", "citations"]].values.tolist() == [
        ["systems", "recommends_change", "Moran et al. 2021"]]
    eb = declared("enablers_barriers")
    assert eb[["kind", "code", "studies"]].values.tolist() == [["barrier", "KF_B_legislation", 1]]
    timeline = declared("timeline")
    rha = timeline[timeline["tier"] == "RHA"].iloc[0]
    assert (rha["from"], rha["to"], rha["studies"]) == (1974, 1996, 1)
    assert timeline[timeline["tier"] == "RHB"].iloc[0]["studies"] == "none extracted yet"
    quality = declared("quality").set_index("tool")
    assert quality.loc["SANRA", "moderate"] == 1 and quality.loc["CASP_qual", "high"] == 1


def test_a_value_the_reviewers_still_dispute_is_said_to_be_disputed_not_left_blank():
    disputes = pd.DataFrame([
        {"study_id": "s1", "tier": "SHA", "field": "lg_strength", "value_a": "weak", "value_b": "strong",
         "resolved_by": ""},
        {"study_id": "s2", "tier": "STP", "field": "qa_overall", "value_a": "high", "value_b": "low", "resolved_by": ""},
        {"study_id": "s1", "tier": "RHA", "field": "lg_strength", "value_a": "weak", "value_b": "strong",
         "resolved_by": "consensus"}])  # settled: the table shows the consensus value, no dispute
    evidence = EVIDENCE[~((EVIDENCE["study_id"] == "s2") & (EVIDENCE["field"] == "qa_overall"))]

    def table(name):
        spec = next(t for t in FORM.tables if t.name == name)
        return tables.compute(spec, evidence, STUDIES, FORM, disputes)

    lg = table("lg_relations").set_index("tier")
    assert lg.loc["SHA", "strength"] == "disputed (1)" and lg.loc["RHA", "strength"] == "weak (1)"
    assert lg.loc["STP", "strength"] == "weak (1)"  # no dispute there
    assert lg.loc["STP", "mechanisms"] == "not given (1)"  # every study of the row accounted for, none left out
    characteristics = table("characteristics").set_index("citation")
    assert characteristics.loc["Moran et al. 2021", "quality"] == "disputed"
    assert characteristics.loc["Lorne et al. 2019", "quality"] == "moderate"
    # without the disagreements list a blank stays blank: nothing is invented
    assert declared("characteristics", evidence).set_index("citation").loc["Moran et al. 2021", "quality"] == ""


def test_each_lesson_of_a_study_and_tier_is_under_its_own_audiences_only():
    rows = [("s1", "STP", "1", "lessons_for_ics", "Hold the ring."), ("s1", "STP", "1", "lesson_audience", "national_bodies"),
            ("s1", "STP", "2", "lessons_for_ics", "Plan money together."), ("s1", "STP", "2", "lesson_audience", "systems"),
            ("s1", "STP", "2", "lesson_audience", "places"), ("s1", "STP", "3", "lessons_for_ics", "Disputed one.")]
    evidence = pd.DataFrame([dict(zip(["study_id", "tier", "item", "field", "value"], r), basis="agreed")
                             for r in rows])
    spec = next(t for t in FORM.tables if t.name == "lessons")
    table = tables.compute(spec, evidence, STUDIES, FORM)
    # the old way (joining by study x tier) printed four pairs more: each lesson under the other's audiences
    assert table[["audience", "lesson"]].values.tolist() == [
        ["national_bodies", "Hold the ring."], ["systems", "Plan money together."], ["places", "Plan money together."],
        ["", "Disputed one."]]
    assert table["audience_label"].tolist()[-1] == tables.NOT_GROUPED



def test_a_statement_says_who_stands_behind_it():
    rows = [("s1", "STP", "1", "lessons_for_ics", "Hold the ring.", "one item (the same key_quote); alice's words"),
            ("s1", "STP", "2", "lessons_for_ics", "Plan together.", repeats.NOT_PAIRED),
            ("s2", "STP", "1", "lessons_for_ics", "Agreed later.", "consensus")]
    evidence = pd.DataFrame([dict(zip(["study_id", "tier", "item", "field", "value", "basis"], r)) for r in rows])
    table = tables.compute(next(t for t in FORM.tables if t.name == "lessons"), evidence, STUDIES, FORM)
    assert dict(zip(table["lesson"], table["agreement"])) == {
        "Hold the ring.": "both reviewers", "Agreed later.": "agreed at consensus",
        "Plan together.": "one reviewer's; the other's differ (not yet reconciled)"}


SMALL = {
    "version": "1", "row_unit": "study x setting",
    "groups": [{"name": "g", "fields": [
        {"name": "setting", "type": "single", "key": True,
         "choices": [{"code": "ward", "label": "Hospital ward", "period": [1990, 2000]},
                     {"code": "home", "label": "Home care"}]},
        {"name": "outcome", "type": "multiple", "choices": [{"code": "x_falls", "label": "Falls"},
                                                            {"code": "y_mood", "label": "Mood"}]},
        {"name": "claim", "type": "text"},
        {"name": "grade", "type": "single", "choices": [{"code": "A", "label": "A"}, {"code": "B", "label": "B"}]},
    ]}],
    "tables": [
        {"name": "by_setting", "caption": "Outcomes by setting", "kind": "by_key", "field": "outcome"},
        {"name": "claims", "caption": "Claims", "kind": "statements", "text": "claim", "group": "outcome",
         "rename": {"text": "claim"}},
        {"name": "groups", "caption": "Outcome groups", "kind": "code_groups", "field": "outcome",
         "groups": [{"name": "safety", "prefix": "x_"}]},
        {"name": "grades", "caption": "Grades", "kind": "ratings", "by": "outcome", "rating": "grade",
         "levels": ["A", "B"]},
    ],
}


def test_tables_of_another_review_come_from_its_own_codebook():
    form = codebook.parse(SMALL)
    evidence = ev([("s1", "home", "outcome", "y_mood"), ("s1", "ward", "outcome", "x_falls"),
                   ("s2", "ward", "outcome", "x_falls"), ("s2", "ward", "claim", "Fewer falls."),
                   ("s2", "ward", "grade", "B")])
    computed = tables.compute_all(evidence, STUDIES, form)
    assert list(computed) == ["by_setting", "claims", "groups", "grades"]
    assert computed["by_setting"].values.tolist() == [
        ["ward", "x_falls", 2, "Lorne et al. 2019; Moran et al. 2021"], ["home", "y_mood", 1, "Lorne et al. 2019"]]
    assert computed["claims"].columns.tolist() == ["group", "group_label", "claim", "agreement", "citations"]
    assert computed["claims"].values.tolist() == [["x_falls", "Falls", "Fewer falls.", "both reviewers",
                                                   "Moran et al. 2021"]]
    assert computed["groups"]["code"].tolist() == ["x_falls"]
    assert computed["grades"].set_index("by").loc["x_falls"].tolist() == [0, 1, 1]


@pytest.mark.parametrize(("change", "message"), [
    ({"tables": [{"name": "t", "caption": "T", "kind": "by_key", "field": "outcomes"}]},
     "unknown field 'outcomes' (did you mean 'outcome'?)"),
    ({"tables": [{"name": "t", "caption": "T", "kind": "by_key", "field": "claim"}]}, "field 'claim' is text"),
    ({"tables": [{"name": "t", "caption": "T", "kind": "ratings", "by": "outcome"}]}, "needs 'rating'"),
    ({"checks": [{"kind": "ordered", "first": "start", "last": "claim"}]}, "checks[0].first: unknown field 'start'"),
    ({"report": {"lessons_table": "nope"}}, "no table named 'nope'"),
])
def test_declarations_naming_what_the_codebook_lacks_are_refused(change, message):
    with pytest.raises(ProtocolError, match=re.escape(message)):
        codebook.parse({**SMALL, **change})
