"""The team (reviewers now and those who left), the registry of reviewers' files, and whose row a row is."""

from __future__ import annotations

import pytest
from conftest import PROJECT

from review import protocol
from review.errors import ProtocolError
from review.identity import row_is_about
from review.team import Team
from review.workbooks import registry


def test_those_who_left_are_read_after_the_team_and_named_with_their_date():
    team = Team.from_config({"reviewers": ["reviewer_a", "reviewer_c"],
                             "former_reviewers": [{"name": "reviewer_b", "left": "2026-11-30"}]})
    assert team.current == ("reviewer_a", "reviewer_c") and team.readers == ("reviewer_a", "reviewer_c", "reviewer_b")
    assert team.left("reviewer_b") == "2026-11-30" and team.left("reviewer_a") == ""
    assert team.describe() == "reviewer_a and reviewer_c (reviewer_b until 2026-11-30, whose work still counts)"
    assert Team.from_config({"reviewers": ["a"]}).describe() == "a"
    screening = Team.from_config({"reviewers": ["a", "b"], "screening": {"reviewers": ["a"]}}, "screening")
    assert screening.current == ("a",)


def test_the_protocol_takes_a_date_as_yaml_writes_it_and_refuses_a_reviewer_both_on_and_off_the_team(tmp_path):
    text = (PROJECT / "protocols/review.yaml").read_text(encoding="utf-8")
    text = text.replace("reviewers: [reviewer_a, reviewer_b]",
                        "reviewers: [reviewer_a, reviewer_c]\nformer_reviewers:\n  - {name: reviewer_b, left: 2026-11-30}")
    path = tmp_path / "review.yaml"
    path.write_text(text, encoding="utf-8")
    assert protocol.load(path)["former_reviewers"] == [{"name": "reviewer_b", "left": "2026-11-30", "note": ""}]
    path.write_text(text.replace("name: reviewer_b", "name: reviewer_a"), encoding="utf-8")
    with pytest.raises(ProtocolError, match="'reviewer_a' is also in reviewers"):
        protocol.load(path)


def test_a_file_that_held_typed_work_and_is_gone_is_an_error_that_names_it_and_a_save_as_beside_it(tmp_path):
    path = tmp_path / "reviewer_b.xlsx"
    registry.write(tmp_path, "extraction", {"reviewer_b": (path, 9)})
    known = registry.read(tmp_path, "extraction")
    error = registry.missing(path, "reviewer_b", known, "extraction sheet", "extraction")
    assert error is not None and "9 typed rows" in str(error) and "former_reviewers" in str(error)
    assert registry.missing(path, "reviewer_c", known, "extraction sheet", "extraction") is None  # never typed in: made anew
    (tmp_path / "reviewer_c.ods").write_bytes(b"PK")
    saved_as = registry.missing(tmp_path / "reviewer_c.xlsx", "reviewer_c", known, "extraction sheet", "extraction")
    assert saved_as is not None and "reviewer_c.ods is beside it, but only .xlsx is read" in str(saved_as)
    path.write_bytes(b"PK")
    assert registry.missing(path, "reviewer_b", known, "extraction sheet", "extraction") is None
    (tmp_path / "reviewer_b.xls").write_bytes(b"")
    warning = registry.beside(path)
    assert warning is not None and warning.code == "other-format-beside" and warning.file.endswith("reviewer_b.xls")


def test_the_registry_is_rewritten_only_when_what_it_keeps_changes(tmp_path):
    registry.write(tmp_path, "screening", {"a": (tmp_path / "screening-a.xlsx", 3)})
    state = registry.state_path(tmp_path, "screening")
    stamp = state.stat().st_mtime_ns
    registry.write(tmp_path, "screening", {"a": (tmp_path / "screening-a.xlsx", 3)})
    assert state.stat().st_mtime_ns == stamp
    registry.write(tmp_path, "screening", {})
    assert registry.read(tmp_path, "screening") == {}
    assert not registry.state_path(tmp_path / "new", "screening").exists()
    registry.write(tmp_path / "new", "screening", {})  # nothing to keep, no file
    assert not registry.state_path(tmp_path / "new", "screening").exists()


def test_reviewers_files_are_found_by_name_except_the_teams_shared_ones(tmp_path):
    for name in ("screening-reviewer_a.xlsx", "screening-consensus.xlsx", "reviewer_a.xlsx", "consensus.xlsx",
                 "~$reviewer_a.xlsx"):
        (tmp_path / name).write_bytes(b"")
    assert registry.reviewers_files(tmp_path, "screening-", ".xlsx", ["consensus"]) == {
        "reviewer_a": tmp_path / "screening-reviewer_a.xlsx"}
    assert set(registry.reviewers_files(tmp_path, "", ".xlsx", ["consensus"])) == {
        "reviewer_a", "screening-reviewer_a", "screening-consensus"}  # the stage passes screening files over


@pytest.mark.parametrize(("shown", "titles", "about"), [
    ("Developing architecture of system management in the English NHS",
     ["Developing architecture of system management in the English NHS: evidence from a qualitative study"], True),
    ("DEVELOPING ARCHITECTURE OF SYSTEM MANAGEMENT IN THE ENGLISH NHS.", ["Developing architecture of system "
                                                                          "management in the English NHS"], True),
    ("The spatial politics of place and health policy", ["Developing architecture of system management in the "
                                                         "English NHS"], False),
    ("", ["Anything"], True),  # nothing shown: nothing to check
    ("The spatial politics of place", ["Another title", "The spatial politics of place and health policy"], True),
])
def test_a_row_is_about_its_study_when_the_title_it_shows_is_one_of_the_studys(shown, titles, about):
    assert row_is_about(shown, titles) is about
