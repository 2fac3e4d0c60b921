from __future__ import annotations

import copy

import pytest
import yaml
from conftest import PROJECT

from review import codebook
from review.errors import ProtocolError


def bundled() -> dict:
    return yaml.safe_load((PROJECT / "protocols/codebook.yaml").read_text(encoding="utf-8"))


def test_the_bundled_codebook_is_valid_and_follows_the_domain_notes():
    form = codebook.load(PROJECT / "protocols/codebook.yaml")
    assert [f.name for f in form.key_fields] == ["tier"]
    assert {"RHB", "RHA", "SHA", "PCT", "CCG", "STP", "ICS_NONSTAT", "ICB", "ICP"} <= set(form["tier"].codes)
    assert form["functions"].codes[:4] == ("F1_strategic_planning", "F2_resource_allocation",
                                           "F3_market_management", "F4_performance_oversight")
    labels = {c.label for c in form["themes"].choices}
    assert "Limits of the consensual model of decision making" in labels  # word for word from the seed report
    assert "A permissive and supportive national programme" in labels
    sha = next(c for c in form["tier"].choices if c.code == "SHA")
    assert sha.period == (2002, 2013) and "tier-sha" in sha.tags
    assert sha.defaults["statutory_status"] == "statutory_body"


def mutate(change) -> dict:
    data = copy.deepcopy(bundled())
    change(data)
    return data


def fields(data):
    return [f for g in data["groups"] for f in g["fields"]]


def test_unknown_type_is_an_error_naming_the_field():
    def change(data):
        fields(data)[0]["type"] = "dropdown"

    with pytest.raises(ProtocolError, match="field 'evidence_type': unknown type 'dropdown'"):
        codebook.parse(mutate(change))


def test_duplicate_code_is_an_error():
    def change(data):
        fields(data)[0]["choices"].append({"code": "book", "label": "Book again"})

    with pytest.raises(ProtocolError, match="field 'evidence_type': duplicate code 'book'"):
        codebook.parse(mutate(change))


def test_empty_choice_list_is_an_error():
    def change(data):
        fields(data)[1]["choices"] = []

    with pytest.raises(ProtocolError, match="field 'study_design': a single choice field needs a non-empty list"):
        codebook.parse(mutate(change))


def test_default_with_an_unknown_code_is_an_error():
    def change(data):
        tier = next(f for f in fields(data) if f["name"] == "tier")
        tier["choices"][0]["defaults"] = {"coterminosity_lg": "complete"}

    with pytest.raises(ProtocolError, match="default 'complete' is not a code of 'coterminosity_lg'"):
        codebook.parse(mutate(change))


def test_the_summarys_sections_are_known_names_each_at_most_once():
    from review.report import SECTIONS

    schema = codebook.schema()["properties"]["report"]["properties"]["sections"]
    assert tuple(schema["items"]["enum"]) == SECTIONS  # the schema allows what the report knows how to print
    ordered = codebook.parse(mutate(lambda data: data["report"].update(sections=["key_messages", "context"])))
    assert ordered.report["sections"] == ["key_messages", "context"]

    def change(data):
        data["report"]["sections"] = ["context", "methods", "context"]  # a name it does not know, one twice

    with pytest.raises(ProtocolError, match=r"report/sections: .* has non-unique elements[\s\S]*"
                                            r"report/sections/1: 'methods' is not one of \['context'"):
        codebook.parse(mutate(change))


def test_the_timeline_panels_name_key_codes_with_a_period():
    def change(data):
        data["report"]["timeline"]["panels"][0]["codes"] += ["SHAA", "other"]  # a typo; a code with no period

    with pytest.raises(ProtocolError, match=r"report.timeline.panels\[0\].codes: 'SHAA' is not a code of the key "
                                            r"field with a period[\s\S]*'other'"):
        codebook.parse(mutate(change))


def test_the_certainty_framework_is_one_the_package_knows_and_grade_cerqual_when_not_declared():
    from review import synthesis

    def declare(value):
        def change(data):
            data["report"]["synthesis"]["certainty"] = value
        return change

    assert synthesis.framework(codebook.parse(mutate(declare("grade")))).heading == "Summary of findings (GRADE)"
    assert synthesis.framework(codebook.parse(mutate(declare("none")))).rated == {}
    undeclared = mutate(lambda data: data["report"]["synthesis"].pop("certainty"))
    assert synthesis.framework(codebook.parse(undeclared)).name == "grade-cerqual"  # what codebooks meant before
    with pytest.raises(ProtocolError, match=r"report.synthesis.certainty: 'GRADE CERQual' is not a framework this "
                                            r"package knows; allowed: grade-cerqual, grade, none \(did you mean "
                                            r"'grade-cerqual'\?\)"):
        codebook.parse(mutate(declare("GRADE CERQual")), "codebook.yaml")


def test_unknown_key_in_the_codebook_is_rejected():
    def change(data):
        fields(data)[0]["requried"] = True

    with pytest.raises(ProtocolError, match="requried"):
        codebook.parse(mutate(change))


@pytest.mark.parametrize("label", ["Book", "  book chapter ", "Peer_Review"])
def test_a_label_that_names_another_choice_is_an_error(label):
    def change(data):
        fields(data)[0]["choices"][0]["label"] = label  # peer_empirical's label

    with pytest.raises(ProtocolError, match="'peer_empirical'.*is also the code or label of|is also the code or label of 'peer_empirical'"):
        codebook.parse(mutate(change))


def test_a_cell_may_hold_the_code_or_the_label_and_is_shown_as_the_label():
    tier = codebook.parse(bundled())["tier"]
    assert tier.code_for("Strategic Health Authority") == tier.code_for(" strategic  health authority ") == "SHA"
    assert tier.code_for("sha") == "SHA" and tier.code_for("Strategic Health") is None
    assert tier.label_of("SHA") == "Strategic Health Authority" and tier.label_of("XYZ") == "XYZ"
    functions = codebook.parse(bundled())["functions"]
    assert functions.tick_columns()[0] == "functions:F1_strategic_planning"
    assert len(functions.tick_columns()) == len(functions.codes) and tier.tick_columns() == ()


def with_changes(changes, edit=None) -> dict:
    data = bundled()
    if edit:
        edit(data)
    data["changes"] = changes
    return data


def by_name(data) -> dict:
    return {f["name"]: f for f in fields(data)}


def rename_stance(data):
    for f in fields(data):
        for c in f.get("choices") or []:
            if f["name"] == "lesson_stance" and c["code"] == "cautions":
                c.update(code="warns", label="Warns")


def test_renamed_codes_are_read_as_the_code_they_became_even_through_a_chain():
    data = with_changes([{"version": 2, "rename_code": {"field": "lesson_stance", "from": "caution", "to": "cautions"}},
                         {"version": 3, "rename_code": {"field": "lesson_stance", "from": "cautions", "to": "warns"}}],
                        rename_stance)
    stance = codebook.parse(data)["lesson_stance"]
    assert stance.code_for("caution") == stance.code_for("Cautions") == stance.code_for("warns") == "warns"
    assert stance.code_for("nonsense") is None


def test_a_retired_code_names_its_change_and_headers_follow_renames():
    def edit(data):
        f = by_name(data)
        f["lg_notes"]["name"] = "local_government_notes"
        summary = data["report"]["synthesis"]["summary"]
        summary[summary.index("lg_notes")] = "local_government_notes"  # what names a renamed field follows it
        f["data_sources"]["choices"] = [c for c in f["data_sources"]["choices"] if c["code"] != "archival"]
    form = codebook.parse(with_changes([
        {"version": "2", "rename_field": {"from": "lg_notes", "to": "local_government_notes"}},
        {"version": "2", "retire_code": {"field": "data_sources", "code": "archival"}, "note": "rarely used"}], edit))
    assert form["data_sources"].retired("Archival") == "code archival of data_sources retired in version 2 (rarely used)"
    assert form["data_sources"].retired("interviews") == ""
    assert form.renamed_headers() == {"lg_notes": "local_government_notes"}
    assert form.retired_headers() == {"data_sources:archival": "data_sources:archival (retired in 2)"}


@pytest.mark.parametrize("change, message", [
    ({"rename_field": {"from": "lg_notes", "to": "nowhere"}}, "'nowhere' is not a field of the codebook"),
    ({"rename_field": {"from": "themes", "to": "lg_notes"}}, "'themes' is still a field of the codebook"),
    ({"retire_field": "themes"}, "'themes' is still a field of the codebook; remove it to retire it"),
    ({"rename_code": {"field": "lesson_stance", "from": "x", "to": "y"}}, "'y' is not a code of 'lesson_stance'"),
    ({"rename_code": {"field": "lesson_stance", "from": "cautions", "to": "cautions"}}, "still a code"),
    ({"retire_code": {"field": "lesson_stance", "code": "cautions"}}, "remove it to retire it"),
    ({"add_field": "nothing"}, "'nothing' is not a field"),
    ({"add_field": "themes", "retire_field": "x"}, "changes/0"),
])
def test_a_change_that_does_not_match_the_codebook_is_an_error(change, message):
    with pytest.raises(ProtocolError, match=message):
        codebook.parse(with_changes([{"version": "2", **change}]))


def lessons_group(data) -> dict:
    return next(g for g in data["groups"] if g.get("repeat") == "lessons")


@pytest.mark.parametrize("edit, message", [
    (lambda d: lessons_group(d).update(repeat="codebook"), r"groups\[\d+\]\.repeat: 'codebook' is a sheet the workbooks"),
    (lambda d: lessons_group(d)["fields"].append({"name": "lesson_tier", "type": "text", "key": True}),
     "field 'lesson_tier': a key field identifies the row; it cannot be in a repeat"),
    (lambda d: lessons_group(d).update(pair_by=["key_quote", "themes"]), "'themes' is not a field of the repeat"),
    (lambda d: d["checks"].append({"kind": "ordered", "first": "period_start", "last": "lessons_for_ics"}),
     "field 'lessons_for_ics' is in the repeat 'lessons'; a check compares the fields of one study x key row"),
    (lambda d: d["changes"].append({"version": "1.2", "move_field": {"field": "themes", "to": "lessons"}}),
     "'themes' is not a field of the repeat 'lessons'"),
    (lambda d: next(c for g in d["groups"] for f in g["fields"] if f["name"] == "tier" for c in f["choices"]
                    if c.get("defaults"))["defaults"].update(lesson_stance="cautions"),
     "default for 'lesson_stance', a field of the repeat 'lessons'"),
])
def test_a_repeat_that_does_not_make_sense_is_an_error_naming_it(edit, message):
    data = bundled()
    edit(data)
    with pytest.raises(ProtocolError, match=message):
        codebook.parse(data)


def test_a_repeats_fields_are_found_by_name_but_are_not_columns_of_the_row():
    form = codebook.parse(bundled())
    assert "lesson_audience" not in form.names and "lesson_audience" in form.all_names
    assert form["lesson_audience"].repeat == "lessons" and form.repeat_of("lesson_audience").name == "lessons"
    assert form.repeat_of("themes") is None
    assert form.moved_headers()["lesson_audience:systems"] == ("lesson_audience:systems (moved to lessons in 1.2)",
                                                              "lessons")


def test_attack_a_codebook_key_given_twice_or_a_folder_is_refused_with_the_file(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text("version: '1'\nfields: []\nversion: '2'\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"codebook\.yaml: line 3: not valid YAML .*'version' is given twice"):
        codebook.load(path)
    with pytest.raises(ProtocolError, match=r"cannot read the codebook .*names a YAML file"):
        codebook.load(tmp_path)
