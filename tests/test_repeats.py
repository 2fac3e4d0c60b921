"""Items of a repeatable sub-record (lessons): paired across reviewers by their passage, each standing with its own
values, disputed item by item, replaced by the consensus workbook's items."""

from __future__ import annotations

from conftest import FORM

from review import repeats
from review.extraction import check_rows

LESSONS = FORM.repeats[0]
ITEM_FORM = FORM.repeat_form(LESSONS)
QUOTE = "An arbiter who is independent of the ICS may be required to resolve disputes"


def items(reviewer, *typed):
    """A reviewer's lesson rows, as read from their lessons sheet (several rows of one study x tier)."""
    records = [(k, {"study_id": "s1", "tier": "ICB", **values}) for k, values in enumerate(typed, start=2)]
    rows, problems = check_rows(records, reviewer, f"{reviewer}.xlsx", "lessons", ITEM_FORM, {"s1"}, fold=False)
    assert problems == []
    return rows


def lesson(text, audience, quote="", stance="cautions"):
    return {"lessons_for_ics": text, "lesson_audience": audience, "key_quote": quote or None, "lesson_stance": stance}


def standing(result, field):
    return {(e["item"], e["value"], e["basis"]) for e in result.evidence if e["field"] == field}


def test_the_sample_codebook_declares_lessons_as_a_repeat_with_their_own_fields():
    assert LESSONS.name == "lessons" and LESSONS.pair_by == ("key_quote", "lessons_for_ics")
    assert {"lessons_for_ics", "lesson_audience", "lesson_stance", "key_quote", "lesson_locator"} == {
        f.name for f in LESSONS.fields}
    assert "lessons_for_ics" not in FORM.names and FORM["lessons_for_ics"].repeat == "lessons"
    assert [f.name for f in ITEM_FORM.fields][0] == "tier"


def test_several_lessons_of_one_study_and_tier_are_several_items_each_with_its_own_audience():
    rows = items("alice", lesson("Hold the ring.", "national_bodies"), lesson("Plan money together.", "systems"))
    result = repeats.combine(FORM, LESSONS, rows, [])
    assert standing(result, "lesson_audience") == {("1", "national_bodies", "single reviewer"),
                                                    ("2", "systems", "single reviewer")}
    assert standing(result, "lessons_for_ics") == {("1", "Hold the ring.", "single reviewer"),
                                                    ("2", "Plan money together.", "single reviewer")}
    assert result.disagreements == []


def test_two_paraphrases_quoting_the_same_passage_are_one_lesson_in_the_first_reviewers_words():
    a = items("alice", lesson("An arbiter may be needed.", "national_bodies", QUOTE + "."))
    # the other reviewer copied the quote with typographic quotes and without its full stop
    b = items("bob", lesson("Disputes need someone outside the ICS.", "national_bodies", f"\u201c{QUOTE}\u201d"))
    result = repeats.combine(FORM, LESSONS, a + b, [])
    assert standing(result, "lessons_for_ics") == {("1", "An arbiter may be needed.",
                                                     "one item (the same key_quote); alice's words")}
    assert standing(result, "lesson_audience") == {("1", "national_bodies", "agreed")}
    # both wordings stay in the reviewers' values, under the one item
    assert {(t["reviewer"], t["item"]) for t in result.tidy if t["field"] == "lessons_for_ics"} == {
        ("alice", "1"), ("bob", "1")}


def test_a_paired_lesson_whose_audiences_differ_is_disputed_never_put_under_either():
    a = items("alice", lesson("Arbiter.", "national_bodies", QUOTE))
    b = items("bob", lesson("Arbiter needed.", "systems", QUOTE))
    result = repeats.combine(FORM, LESSONS, a + b, [])
    assert standing(result, "lesson_audience") == set()
    assert [(d["field"], d["item"], d["value_a"], d["value_b"]) for d in result.disagreements] == [
        ("lesson_audience", "1", "national_bodies", "systems")]
    assert list(result.disputed) == [("s1", "ICB")]


def test_lessons_that_share_no_passage_stand_apart_and_go_to_the_consensus_workbook():
    a = items("alice", lesson("Keep the purpose clear.", "national_bodies"))
    b = items("bob", lesson("Choose leaders who fit the area.", "national_bodies"))
    result = repeats.combine(FORM, LESSONS, a + b, [])
    assert standing(result, "lessons_for_ics") == {("1", "Keep the purpose clear.", repeats.NOT_PAIRED),
                                                    ("2", "Choose leaders who fit the area.", repeats.NOT_PAIRED)}
    [dispute] = result.disagreements
    assert (dispute["field"], dispute["item"], dispute["value_a"], dispute["value_b"]) == (
        "lessons", "not paired", "Keep the purpose clear.", "Choose leaders who fit the area.")


def test_the_consensus_workbooks_lessons_replace_the_reviewers_for_their_study_and_tier():
    a = items("alice", lesson("Keep the purpose clear.", "national_bodies"))
    b = items("bob", lesson("Choose leaders who fit the area.", "systems"))
    agreed = items("consensus", lesson("Keep the purpose clear and choose leaders who fit.", "national_bodies",
                                       stance="supports_current_design"))
    result = repeats.combine(FORM, LESSONS, a + b, agreed)
    assert standing(result, "lessons_for_ics") == {("1", "Keep the purpose clear and choose leaders who fit.",
                                                     "consensus")}
    assert standing(result, "lesson_audience") == {("1", "national_bodies", "consensus")}
    assert result.disputed == {}
    # what the reviewers disagreed on stays listed, settled by the consensus
    assert [(d["field"], d["item"], d["resolved_by"]) for d in result.disagreements] == [
        ("lessons", "not paired", "consensus")]
    assert len({t["reviewer"] for t in result.tidy}) == 2  # what each reviewer typed is kept


def test_the_same_passage_ignores_case_punctuation_and_a_quote_cut_short_but_not_another_passage():
    assert repeats.same_passage("‘Retreat’ from the confrontation of difficult issues.",
                                "retreat from the confrontation of difficult issues")
    assert repeats.same_passage(QUOTE, QUOTE[:40])  # a quote cut short is still that passage
    assert not repeats.same_passage(QUOTE, "it was not always clear who was responsible for making which decisions")
    assert not repeats.same_passage("", "") and not repeats.same_passage("x", "x y")  # too short to say
