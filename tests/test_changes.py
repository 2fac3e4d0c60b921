"""What a refresh changed (review.changes, and the report_changes stage with its kept state)."""

from __future__ import annotations

import csv
import json
import subprocess

import pytest
from conftest import outputs_in

from review import changes
from review.errors import ReviewError
from review.fileio import write_csv
from review.stages import changes as stage


def state(records=None, groups=None, screening=None, tidy=(), evidence=(), findings=(), problems=()):
    records = records or {"hmic": ["hmic:1", "hmic:2"], "zotero": ["zotero:A"]}
    groups = groups or {"Ham2017": ["hmic:1", "zotero:A"], "Bate2017": ["hmic:2"]}
    screening = screening or {"Ham2017": "included", "Bate2017": "included"}
    return changes.snapshot(
        [{"source": s, "record_id": r} for s, ids in records.items() for r in ids],
        [{"study_id": s, "record_id": r} for s, ids in groups.items() for r in ids],
        [{"study_id": s, "status": v} for s, v in screening.items()],
        [{"reviewer": w, "study_id": s, "tier": t, "field": f, "value": v} for w, s, t, f, v in tidy],
        [{"study_id": s, "tier": t, "field": f, "value": v, "basis": "agreed"} for s, t, f, v in evidence],
        [{"finding_id": k, "finding": text, "study_ids": ids} for k, text, ids in findings],
        [{"severity": "error", "code": c, "file": "a.xlsx", "sheet": "extraction", "row": r, "column": "x", "value": "v"}
         for c, r in problems])


def changed(before, after):
    return {(r["section"], r["item"], r["change"], r["detail"]) for r in changes.compare(before, after)}


def with_causes(snapshot, current=("reviewer_a", "reviewer_b"), former=None, sources=None, version="1.1",
                declared=(), decisions=None, cells=0):
    return snapshot | changes.context({"current": list(current), "former": former or {}},
                                      sources or {"hmic": "hmic.ris", "zotero": "Zotero 1"},
                                      {"version": version, "changes": list(declared)},
                                      [{"reviewer": r} for r, n in (decisions or {}).items() for _ in range(n)], cells)


def test_the_causes_come_first_a_reviewer_who_left_a_source_removed_a_codebook_upgrade_and_cells_rewritten():
    tidy = [("reviewer_b", "Ham2017", "STP", "tier", "stp"), ("reviewer_a", "Ham2017", "STP", "tier", "stp")]
    before = with_causes(state(tidy=tidy), decisions={"reviewer_b": 3})
    after = with_causes(state(tidy=tidy, records={"hmic": ["hmic:1", "hmic:2"]}), current=("reviewer_a", "reviewer_c"),
                        former={"reviewer_b": "2026-11-30"}, sources={"hmic": "hmic.ris"}, version="1.2",
                        declared=["code a of f renamed b (1.2)"], decisions={"reviewer_b": 3}, cells=2)
    log = [{"file": "x.xlsx", "why": "old"}, {"file": "a.xlsx", "why": "code a of f renamed b"},
           {"file": "b.xlsx", "why": "code a of f renamed b"}]
    rows = changes.compare({**before, "cell_changes": 1}, {**after, "cell_changes": 3}, log)
    causes = [(r["item"], r["change"], r["detail"]) for r in rows if r["section"] == "causes"]
    assert rows[:len(causes)] == [r for r in rows if r["section"] == "causes"]  # first
    assert causes == [
        ("reviewer_c", "reviewer joined", "their files are created with every study"),
        ("reviewer_b", "reviewer left", "on 2026-11-30: their 3 screening decisions and 1 extraction row still count; "
                                        "their files get no new rows"),
        ("zotero", "source removed", "Zotero 1: its 1 record no longer counts"),
        ("codebook 1.1 -> 1.2", "codebook upgraded", "code a of f renamed b (1.2)"),
        ("code a of f renamed b", "cells rewritten", "2 cells in a.xlsx, b.xlsx (extracts/cell-changes.csv)")]
    page = changes.markdown(rows, "the previous refresh")
    assert "reviewer left: reviewer_b" in page and "source removed: zotero" in page
    # a state kept before the causes were recorded is not compared for them
    assert not [r for r in changes.compare(state(), after) if r["section"] == "causes"]


def test_a_row_moved_by_a_merge_is_re_keyed_not_removed_and_added():
    before = state(tidy=[("reviewer_a", "Bate2017", "STP", "tier", "stp")])
    after = state(groups={"Ham2017": ["hmic:1", "hmic:2", "zotero:A"]}, screening={"Ham2017": "included"},
                  tidy=[("reviewer_a", "Ham2017", "STP", "tier", "stp")])
    found = {(r["item"], r["change"], r["detail"]) for r in changes.compare(before, after) if r["section"] == "extraction"}
    assert found == {("Bate2017 | STP", "re-keyed", "reviewer_a: Ham2017 | STP (study merged)")}


def test_nothing_changed_is_nothing():
    assert changes.compare(state(), state()) == []
    assert "Nothing changed." in changes.markdown([], "the previous refresh")


def test_records_added_and_removed_per_source_and_new_duplicates():
    after = state(records={"assia": ["assia:9"], "hmic": ["hmic:1"], "zotero": ["zotero:A"]},
                  groups={"Ham2017": ["assia:9", "hmic:1", "zotero:A"]}, screening={"Ham2017": "included"})
    found = changed(state(), after)
    assert {("records", "assia:9", "added", "assia"), ("records", "hmic:2", "removed", "hmic"),
            ("duplicates", "assia:9", "joined", "Ham2017"), ("studies", "Bate2017", "gone", "none of its records is left"),
            ("screening", "Bate2017", "no longer screened", "was included")} == found


def test_studies_merged_split_new_and_screening_changes():
    merged = state(groups={"Ham2017": ["hmic:1", "hmic:2", "zotero:A"]}, screening={"Ham2017": "included"})
    assert ("studies", "Bate2017", "merged", "into Ham2017") in changed(state(), merged)
    assert ("screening", "Bate2017", "screened as Ham2017 (merged)", "was included") in changed(state(), merged)
    split = state(groups={"Ham2017": ["zotero:A"], "Ham2017b": ["hmic:1"], "Bate2017": ["hmic:2"]},
                  screening={"Ham2017": "included", "Ham2017b": "awaiting title/abstract", "Bate2017": "excluded"})
    found = changed(state(), split)
    assert ("studies", "Ham2017b", "split off", "from Ham2017") in found
    assert ("screening", "Bate2017", "excluded", "was included") in found


def test_extraction_rows_per_reviewer_evidence_findings_and_problems():
    before = state(tidy=[("alice", "Ham2017", "SHA", "relevance", "core")], evidence=[("Ham2017", "SHA", "relevance", "core")],
                   findings=[("F1", "Tiers are reinvented", ["Ham2017"]), ("F2", "Other", ["Bate2017"])],
                   problems=[("not-in-codebook", "3")])
    after = state(tidy=[("alice", "Ham2017", "SHA", "relevance", "supporting"), ("bob", "Bate2017", "ICS", "relevance", "core")],
                  evidence=[("Ham2017", "SHA", "relevance", "supporting")],
                  findings=[("F1", "Tiers are reinvented", ["Ham2017"]), ("F2", "Other", ["Bate2017"])],
                  problems=[("wrong-type", "4")])
    found = changed(before, after)
    assert {("extraction", "Ham2017 | SHA", "changed", "alice"), ("extraction", "Bate2017 | ICS", "added", "bob"),
            ("evidence", "Ham2017", "changed", ""), ("findings", "F1", "evidence changed", "Ham2017"),
            ("problems", "wrong-type | a.xlsx | extraction | 4 | x | v", "opened", ""),
            ("problems", "not-in-codebook | a.xlsx | extraction | 3 | x | v", "closed", "")} == found
    text = changes.markdown(changes.compare(before, after), "the previous refresh")
    assert "| Extraction rows | 2 | alice: 1 changed; bob: 1 added |" in text
    assert "## Findings whose evidence changed" in text and "- F1 (evidence changed: Ham2017)" in text


def test_the_first_refresh_lists_everything_as_new_and_markdown_never_carries_html():
    found = changed(None, state())
    assert ("records", "hmic:1", "added", "hmic") in found and ("studies", "Ham2017", "new", "2 records") in found
    # said first, so that "80 new" is read as what it is, not as 80 studies found this week
    assert changes.compare(None, state())[0] == {
        "section": "causes", "item": "no earlier refresh kept its state, so everything is counted as new",
        "change": "first refresh", "detail": ""}
    assert changes.compare(state(), state()) == []  # not said again once a state is kept
    rows = [{"section": "evidence", "item": "<script>alert(1)</script>", "change": "added", "detail": ""}]
    assert "<script>" not in changes.markdown(rows, "x") and "&lt;script&gt;" in changes.markdown(rows, "x")


@pytest.fixture
def refresh(tmp_path, monkeypatch):
    """The stage on tables written as the stages before it write them; returns the changes it reported."""
    monkeypatch.chdir(tmp_path)
    config = {"extraction": {"folder": "extracts"}}

    def run(records):
        write_csv(tmp_path / "records.csv", ["record_id", "source"], [{"record_id": r, "source": r.split(":")[0]}
                                                                      for r in records])
        write_csv(tmp_path / "groups.csv", ["record_id", "study_id"], [{"record_id": r, "study_id": r.upper()}
                                                                       for r in records])
        for name in ("screening", "tidy", "evidence", "validation", "screening_issues", "records_issues"):
            write_csv(tmp_path / f"{name}.csv", ["study_id"], [])
        write_csv(tmp_path / "decisions.csv", ["study_id", "reviewer"], [])
        inputs = {name: tmp_path / f"{name}.csv" for name in stage.INPUTS}
        rows = stage.run(config, inputs, outputs_in(stage, tmp_path / "out"))
        with open(tmp_path / "out/changes.csv", encoding="utf-8") as handle:
            assert list(csv.DictReader(handle)) == rows
        return {(r["item"], r["change"]) for r in rows if r["section"] == "records"}

    return tmp_path, config, run


def test_each_refresh_is_compared_with_the_one_before_and_a_rerun_reports_the_same(refresh):
    tmp, _, run = refresh
    assert run(["hmic:1"]) == {("hmic:1", "added")}
    assert run(["hmic:1", "assia:2"]) == {("assia:2", "added")}
    assert run(["hmic:1", "assia:2"]) == {("assia:2", "added")}  # the same state again: the same report
    assert run(["assia:2"]) == {("hmic:1", "removed")}
    assert (tmp / "extracts/.state/current.json").exists() and (tmp / "extracts/.state/previous.json").exists()
    assert "Compared with the previous refresh." in (tmp / "out/changes.md").read_text(encoding="utf-8")


def test_changes_since_a_git_revision_or_a_date(refresh):
    tmp, config, run = refresh

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp, check=True, capture_output=True,
                       env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                            "GIT_COMMITTER_EMAIL": "t@x", "GIT_AUTHOR_DATE": "2026-01-10T12:00:00",
                            "GIT_COMMITTER_DATE": "2026-01-10T12:00:00", "PATH": "/usr/bin:/bin"})

    git("init", "-q")
    run(["hmic:1"])
    git("add", "extracts")
    git("commit", "-qm", "first search")
    git("tag", "baseline")
    run(["hmic:1", "assia:2"])
    run(["hmic:1", "assia:2", "cinahl:3"])
    rows, against = stage.since(config, "baseline")
    assert {(r["item"], r["change"]) for r in rows if r["section"] == "records"} == {("assia:2", "added"),
                                                                                    ("cinahl:3", "added")}
    assert against.startswith("baseline (revision ")
    rows, _ = stage.since(config, "2026-02-01")  # the last commit before that date
    assert {r["item"] for r in rows if r["section"] == "records"} == {"assia:2", "cinahl:3"}
    with pytest.raises(ReviewError, match="neither a git revision nor a date"):
        stage.since(config, "2020-01-01")


def test_a_study_whose_citation_or_surviving_record_changed_is_named():
    row = {"study_id": "Sanderson2023", "record_id": "zotero:S", "year": "2023", "title": "Developing architecture",
           "creators": json.dumps([{"role": "author", "family": "Sanderson", "given": "Marie"}]), "authors": ""}
    moved = {**row, "record_id": "update:1", "creators": json.dumps([{"role": "author", "family": "Marie",
                                                                      "given": "Sanderson"}])}
    before, after = state() | changes.cited([row]), state() | changes.cited([moved])
    assert {("studies", "Sanderson2023", "citation changed", "Sanderson 2023 -> Marie 2023"),
            ("studies", "Sanderson2023", "surviving record changed", "zotero:S -> update:1")} <= changed(before, after)
    assert not [r for r in changes.compare(before, state() | changes.cited([row])) if r["section"] == "studies"]


def test_a_link_or_image_in_the_data_is_text_in_the_change_report():
    hostile = "[x](javascript:alert(1)) ![p](http://tracker.example/p.png)"
    page = changes.markdown([{"section": "records", "item": hostile, "change": "added", "detail": "hmic"}], "x")
    assert "[x](javascript" not in page and "![p](" not in page and "\\[x\\](javascript:alert(1))" in page
