"""Reviewers' files tried as a careless or hurried reviewer would (issue 11): every typed cell stays on the
row of its study after a refresh, or the stage stops with a named error and the file's bytes are unchanged."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import PROJECT, outputs_in
from filesystems import fill, immutable, read_only_mount, tmpfs
from openpyxl import load_workbook

from review import protocol
from review.errors import ProtocolError, ReviewError
from review.fileio import write_csv
from review.model import RECORD_COLUMNS
from review.stages import dedup as dedup_stage
from review.stages import evidence as evidence_stage
from review.stages import screening as screening_stage
from review.stages import sheets as sheets_stage

UNIQUE_COLUMNS = [*RECORD_COLUMNS, "study_id", "record_ids", "n_records"]


def study(group, title, tags=""):
    return {"study_id": group, "record_id": group, "title": title, "authors": "Smith, Ann", "year": "2020", "tags": tags,
            "n_records": "1"}


PROTOCOL = {
    "title": "T", "sources": [{"name": "s", "file": "s.ris"}], "reviewers": ["alice", "bob"],
    "screening": {"exclusion_reasons": [{"code": "not-tier", "label": "Not a tier"}]},
    "extraction": {"folder": "extracts", "codebook": "protocols/codebook.yaml", "spare_rows": 5},
    "dedup": {"sheet": "extracts/duplicates.xlsx"},
}


@pytest.fixture
def review(tmp_path, monkeypatch):
    """A small review: unique records, groups, records; the stages run on it with a real protocol, in its
    own project folder (the protocol's paths stay inside it)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "protocols").mkdir()
    shutil.copy(PROJECT / "protocols/codebook.yaml", tmp_path / "protocols/codebook.yaml")
    config = protocol.validate(PROTOCOL)

    def write(studies, ids=()):
        write_csv(tmp_path / "ids.csv", ["id", "study_id", "how"], ids)
        write_csv(tmp_path / "unique.csv", UNIQUE_COLUMNS, studies)
        write_csv(tmp_path / "records.csv", RECORD_COLUMNS, studies)
        write_csv(tmp_path / "groups.csv", ["record_id", "study_id"], ({"record_id": s["study_id"], "study_id": s["study_id"]}
                                                                     for s in studies))
        write_csv(tmp_path / "included.csv", ["study_id"], ({"study_id": s["study_id"]} for s in studies))

    inputs = {"records": tmp_path / "records.csv", "groups": tmp_path / "groups.csv", "unique": tmp_path / "unique.csv",
              "included": tmp_path / "included.csv", "sheets": tmp_path / "sheets.csv", "ids": tmp_path / "ids.csv"}

    def screen():
        return screening_stage.run(config, inputs, outputs_in(screening_stage, tmp_path / "screening"))

    def sheets():
        return sheets_stage.run(config, inputs, {"summary": tmp_path / "sheets.csv"})

    def evidence():
        return evidence_stage.run(config, inputs, outputs_in(evidence_stage, tmp_path / "evidence"))

    return tmp_path, write, screen, sheets, evidence


STUDIES = [study("s:1", "Strategic health authorities", "tier-sha"), study("s:2", "Integrated care boards", "tier-icb"),
           study("s:3", "Regional hospital boards", "tier-rhb")]


def typed_by_study(path, sheet, column):
    ws = load_workbook(path)[sheet]
    header = {c.value: c.column for c in ws[1] if c.value}
    return {(ws.cell(row=r, column=header["study_id"]).value, ws.cell(row=r, column=header[column]).value)
            for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=header["study_id"]).value}


def test_a_column_inserted_at_a_and_a_deleted_study_never_misfile_an_extraction(review):
    tmp, write, _, sheets, _ = review
    write(STUDIES[:2])
    sheets()
    path = tmp / "extracts/alice.xlsx"
    wb = load_workbook(path)
    ws = wb["extraction"]
    ws.insert_cols(1)
    ws["A1"] = "my column"
    header = {c.value: c.column for c in ws[1] if c.value}
    for r in range(2, 4):
        ws.cell(row=r, column=1, value=f"note {ws.cell(row=r, column=header['study_id']).value}")
        ws.cell(row=r, column=header["findings_summary"], value=f"finding of {ws.cell(row=r, column=header['study_id']).value}")
    ws.delete_rows(2)  # the reviewer deletes the first study's row
    wb.save(path)
    before = typed_by_study(path, "extraction", "findings_summary") | typed_by_study(path, "extraction", "my column")

    write(STUDIES)  # an update search brings a new study
    sheets()

    after = typed_by_study(path, "extraction", "findings_summary") | typed_by_study(path, "extraction", "my column")
    assert before <= after  # every typed cell is still on its study's row
    assert ("s:3", None) in typed_by_study(path, "extraction", "findings_summary")  # the new study got its own row
    assert {s for s, _ in after} == {"s:1", "s:2", "s:3"}


def test_a_column_inserted_in_a_screening_workbook_keeps_decisions_with_their_studies(review):
    tmp, write, screen, _, _ = review
    write(STUDIES[:2])
    screen()
    path = tmp / "extracts/screening-alice.xlsx"
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    ws.protection.sheet = False
    ws.insert_cols(1)
    ws["A1"] = "x"
    ws["A2"] = "one value in an inserted column"
    header = {c.value: c.column for c in ws[1] if c.value}
    ws.cell(row=2, column=header["decision"], value="exclude")
    ws.cell(row=2, column=header["reason"], value="not-tier")
    excluded = ws.cell(row=2, column=header["study_id"]).value
    wb.save(path)

    write(STUDIES)
    outcome = screen()

    assert {(d.study_id, d.decision) for d in outcome.decisions if d.reviewer == "alice"} == {(excluded, "exclude")}
    assert {s for s, _ in typed_by_study(path, "title-abstract", "decision")} == {"s:1", "s:2", "s:3"}
    assert (excluded, "exclude") in typed_by_study(path, "title-abstract", "decision")


@pytest.mark.parametrize("damage", ["delete the decision column", "delete the header row", "truncate the file",
                                    "rename the sheet", "damage the sheet's XML"])
def test_a_screening_workbook_that_cannot_be_read_stops_the_stage_and_stays_as_it_is(review, damage):
    tmp, write, screen, _, _ = review
    write(STUDIES)
    screen()
    path = tmp / "extracts/screening-bob.xlsx"
    if damage == "truncate the file":
        path.write_bytes(path.read_bytes()[:2000])
    elif damage == "damage the sheet's XML":
        original = path.read_bytes()
        copy = tmp / "copy.xlsx"
        copy.write_bytes(original)
        with zipfile.ZipFile(copy) as source, zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                data = source.read(item.filename)
                target.writestr(item, data[:-200] if item.filename.startswith("xl/worksheets/") else data)
    else:
        wb = load_workbook(path)
        ws = wb["title-abstract"]
        if damage == "delete the decision column":
            ws.delete_cols([c.value for c in ws[1]].index("decision") + 1)
        elif damage == "delete the header row":
            ws.delete_rows(1)
        else:
            ws.title = "screening"
        wb.save(path)
    before = path.read_bytes()

    with pytest.raises(ReviewError) as stopped:
        screen()

    assert "extracts/screening-bob.xlsx" in str(stopped.value) and "Traceback" not in str(stopped.value)
    assert path.read_bytes() == before


def test_a_renamed_duplicates_sheet_stops_the_dedup(review):
    tmp, write, *_ = review
    sheet = tmp / "extracts/duplicates.xlsx"
    write([study("a:1", "Integration of health and care: the English way"),
           study("b:1", "Integration of health and care in the English way")])
    config = {"dedup": {"sheet": str(sheet)}}
    run = lambda: dedup_stage.run(config, {"records": tmp / "records.csv"}, outputs_in(dedup_stage, tmp / "d"))  # noqa: E731
    run()
    wb = load_workbook(sheet)
    wb["pairs to check"].title = "my pairs"
    wb.save(sheet)
    before = sheet.read_bytes()
    with pytest.raises(ReviewError, match="has no 'pairs to check' sheet"):
        run()
    assert sheet.read_bytes() == before


def test_values_typed_in_a_spare_row_are_an_error_and_the_row_is_never_reused(review):
    tmp, write, _, sheets, evidence = review
    write(STUDIES[:1])
    sheets()
    path = tmp / "extracts/alice.xlsx"
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    assert ws.cell(row=3, column=header["study_id"]).protection.locked is False  # a spare row's id is fillable
    assert ws.cell(row=2, column=header["study_id"]).protection.locked is True
    ws.cell(row=3, column=header["findings_summary"], value="typed without a study")
    wb.save(path)

    problems = evidence().problems
    assert [(p.code, p.row, p.column) for p in problems if p.code == "row-without-study"] == [
        ("row-without-study", "3", "study_id")]

    write(STUDIES[:2])
    sheets()
    assert typed_by_study(path, "extraction", "findings_summary") >= {("s:1", None), ("s:2", None)}
    ws = load_workbook(path)["extraction"]
    assert ws.cell(row=3, column=header["findings_summary"]).value == "typed without a study"
    assert ws.cell(row=3, column=header["study_id"]).value is None  # the new study went below it


@pytest.mark.parametrize("name", ["consensus", "duplicates", "findings", "screening-alice", "Consensus", "../x"])
def test_reserved_or_unsafe_reviewer_names_are_refused(name):
    with pytest.raises(ProtocolError, match="reviewers: "):
        protocol.validate({"title": "T", "sources": [{"name": "s", "file": "s.ris"}], "reviewers": [name]})


def set_cells(path, sheet, study, **values):
    wb = load_workbook(path)
    ws = wb[sheet]
    header = {c.value: c.column for c in ws[1] if c.value}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=header["study_id"]).value == study)
    for name, value in values.items():
        ws.cell(row=row, column=header[name], value=value)
    wb.save(path)


def test_when_two_studies_merge_every_decision_and_row_follows_the_surviving_id(review):
    tmp, write, screen, sheets, evidence = review
    write(STUDIES)
    screen()
    sheets()
    screening = tmp / "extracts/screening-alice.xlsx"
    set_cells(screening, "title-abstract", "s:2", decision="include")
    extraction = tmp / "extracts/alice.xlsx"
    # the same tier in both (the pipeline pre-filled each study's tier from its tags)
    set_cells(extraction, "extraction", "s:2", findings_summary="what s:2 found", relevance="core", tier="SHA")
    set_cells(extraction, "extraction", "s:1", relevance="supporting")

    # a reviewer's duplicate decision merged s:2 into s:1 (the dedup stage says so in ids.csv)
    merged = [s for s in STUDIES if s["study_id"] != "s:2"]
    write(merged, ids=[{"id": "s:2", "study_id": "s:1", "how": "merged"}])
    outcome = screen()
    sheets()
    result = evidence()

    assert {(d.study_id, d.decision) for d in outcome.decisions if d.reviewer == "alice"} == {("s:1", "include")}
    typed = typed_by_study(extraction, "extraction", "findings_summary")
    assert ("s:1", "what s:2 found") in typed and not any(s == "s:2" for s, _ in typed)
    log = rows(tmp / "extracts/cell-changes.csv")
    assert {(r["file"].rsplit("/", 1)[1], r["column"], r["old"], r["new"], r["why"]) for r in log} >= {
        ("screening-alice.xlsx", "study_id", "s:2", "s:1", "study s:2 merged into s:1"),
        ("alice.xlsx", "study_id", "s:2", "s:1", "study s:2 merged into s:1")}
    assert list((tmp / "extracts/.backup").glob("alice.*.xlsx"))  # the file as it was before
    # the two rows now about s:1 disagree on relevance: held back and sent to consensus, nothing dropped
    assert ("duplicate-row-differs", "relevance") in {(p.code, p.hint.split("differ in ")[1].split(",")[0])
                                                       for p in result.problems if p.code == "duplicate-row-differs"}
    disputed = typed_by_study(tmp / "extracts/consensus.xlsx", "extraction", "disputed")
    assert any(s == "s:1" and "relevance" in d for s, d in disputed)
    values = rows(tmp / "evidence/evidence.csv")
    assert {(v["study_id"], v["field"], v["value"]) for v in values} >= {("s:1", "findings_summary", "what s:2 found")}
    assert not any(v["field"] == "relevance" and v["study_id"] == "s:1" for v in values)


def test_a_workbook_open_elsewhere_stops_the_stage_when_its_ids_must_follow(review):
    tmp, write, screen, sheets, _ = review
    write(STUDIES)
    sheets()
    path = tmp / "extracts/alice.xlsx"
    before = path.read_bytes()
    (tmp / "extracts/.~lock.alice.xlsx#").write_text("locked")
    write(STUDIES[:1] + STUDIES[2:], ids=[{"id": "s:2", "study_id": "s:1", "how": "merged"}])
    with pytest.raises(ReviewError, match="open in a spreadsheet program"):
        sheets()
    assert path.read_bytes() == before


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_rows_of_a_study_split_at_this_refresh_are_flagged_for_the_reviewer(review):
    tmp, write, _, sheets, evidence = review
    write(STUDIES)
    sheets()
    set_cells(tmp / "extracts/alice.xlsx", "extraction", "s:1", relevance="core")
    write([*STUDIES, study("s:1b", "Strategic health authorities (second edition)", "tier-sha")],
          ids=[{"id": "s:1", "study_id": "s:1b", "how": "split"}])
    sheets()
    flagged = [p for p in evidence().problems if p.code == "study-split"]
    assert [(p.file.rsplit("/", 1)[1], p.value, p.severity) for p in flagged] == [("alice.xlsx", "s:1", "warning")]
    assert "s:1b now holds some of its records" in flagged[0].hint


def test_a_new_dispute_of_a_study_already_in_the_consensus_workbook_is_shown_in_its_row(review):
    """Two rows of one reviewer merged into a study that already has a consensus row: the new dispute is added
    to what that row shows (it was only in the validation report), and nothing typed there is replaced."""
    from review import codebook as codebooks
    from review.workbooks import consensus as consensus_sheet

    tmp, write, screen, sheets, evidence = review
    write(STUDIES)
    screen()
    sheets()
    extraction = tmp / "extracts/alice.xlsx"
    set_cells(extraction, "extraction", "s:2", findings_summary="what s:2 found", relevance="core", tier="SHA")
    set_cells(extraction, "extraction", "s:1", relevance="supporting")
    form = codebooks.load(PROJECT / "protocols/codebook.yaml")
    consensus = tmp / "extracts/consensus.xlsx"
    earlier = {("s:1", "SHA"): [{"field": "qa_overall", "reviewer_a": "alice", "value_a": "high",
                                 "reviewer_b": "bob", "value_b": "low"}]}
    assert consensus_sheet.append_disputes(consensus, form, earlier, {}) == 1
    set_cells(consensus, "extraction", "s:1", disputed="qa_overall: alice=high / bob=low; settled at the meeting")

    write([s for s in STUDIES if s["study_id"] != "s:2"], ids=[{"id": "s:2", "study_id": "s:1", "how": "merged"}])
    screen()
    sheets()
    evidence()

    shown = dict(typed_by_study(consensus, "extraction", "disputed"))["s:1"]
    assert shown.startswith("qa_overall: alice=high / bob=low; settled at the meeting; relevance: ")
    assert len([s for s, _ in typed_by_study(consensus, "extraction", "disputed") if s == "s:1"]) == 1


# --- where the files are and what the file system allows (issues 24 and 29) -----------------------------------


def refresh_sheets(tmp, summary="results/sheets.csv"):
    """The sheets stage as Snakemake runs it: its command, in its own process."""
    return subprocess.run([sys.executable, "-m", "review", "sheets", "--config", json.dumps(protocol.validate(PROTOCOL)),
                           "--unique", "unique.csv", "--included", "included.csv", "--ids", "ids.csv",
                           "--summary", summary], cwd=tmp, capture_output=True, text=True, timeout=120)


NEW_STUDY = study("s:4", "Clinical commissioning groups", "tier-ccg")


def test_a_workbook_linked_into_a_synced_folder_is_refreshed_through_the_link_and_typing_there_counts(review):
    tmp, write, _, sheets, evidence = review
    write(STUDIES)
    sheets()
    synced = tmp / "Dropbox/alice.xlsx"
    synced.parent.mkdir()
    shutil.move(tmp / "extracts/alice.xlsx", synced)
    (tmp / "extracts/alice.xlsx").symlink_to(synced)
    set_cells(synced, "extraction", "s:1", findings_summary="typed in the synced copy")
    write([*STUDIES, NEW_STUDY])

    done = refresh_sheets(tmp)

    assert done.returncode == 0, done.stderr
    assert (tmp / "extracts/alice.xlsx").is_symlink()
    assert {s for s, _ in typed_by_study(synced, "extraction", "study_id")} == {"s:1", "s:2", "s:3", "s:4"}
    set_cells(synced, "extraction", "s:4", findings_summary="typed after the refresh")
    evidence()
    values = {(v["study_id"], v["value"]) for v in rows(tmp / "evidence/evidence.csv")}
    assert {("s:1", "typed in the synced copy"), ("s:4", "typed after the refresh")} <= values


def no_traceback(done):
    """The stage stopped with one ``Error:`` line (after its log) and exit code 2, and no traceback."""
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith("Error: ") and "Traceback" not in done.stderr


@pytest.mark.parametrize("how", ["chmod a-w", "chattr +i"])
def test_a_read_only_or_immutable_workbook_is_left_as_it_is_with_an_error_naming_it(review, how):
    tmp, write, _, sheets, _ = review
    write(STUDIES)
    sheets()
    alice = tmp / "extracts/alice.xlsx"
    before = alice.read_bytes()
    write([*STUDIES, NEW_STUDY])
    if how == "chmod a-w":
        alice.chmod(0o444)
        held = contextlib.nullcontext(alice)
    else:
        held = immutable(alice)
    with held:
        done = refresh_sheets(tmp)
    no_traceback(done)
    assert "Error: cannot write extracts/alice.xlsx: it is read-only; it was left as it was" in done.stderr
    assert alice.read_bytes() == before
    assert "s:4" in {s for s, _ in typed_by_study(tmp / "extracts/bob.xlsx", "extraction", "study_id")}


@pytest.mark.parametrize("refusal", ["extracts/ full", "extracts/ read-only", "results/ full"])
def test_a_full_or_read_only_disk_stops_the_refresh_with_an_error_and_every_workbook_and_backup_sound(review, refusal):
    tmp, write, _, sheets, _ = review
    write(STUDIES)
    sheets()
    write([*STUDIES, NEW_STUDY])
    folder = tmp / refusal.split("/")[0]
    with tmpfs(folder, "1m"):
        before = {p: p.read_bytes() for p in (tmp / "extracts").glob("*.xlsx")}
        if refusal.endswith("full"):
            fill(folder)
        else:
            read_only_mount(folder)
        done = refresh_sheets(tmp)
        no_traceback(done)
        if refusal == "results/ full":
            assert "Error: cannot write results/sheets.csv: no space is left on its disk; nothing was written" in done.stderr
        else:
            cause = "no space is left on its disk" if refusal.endswith("full") else "its file system is read-only"
            assert "cannot write extracts/.backup/alice." in done.stderr and cause in done.stderr
            assert "extracts/alice.xlsx was not written either" in done.stderr
            assert {p: p.read_bytes() for p in (tmp / "extracts").glob("*.xlsx")} == before
            backups = list((tmp / "extracts/.backup").glob("*.*.xlsx"))
            assert all(hashlib.sha256(p.read_bytes()).hexdigest()[:12] == p.name.split(".")[-2] for p in backups)


def test_a_read_only_screening_workbook_is_still_read_and_its_new_rows_wait_with_a_warning(review):
    tmp, write, screen, _, _ = review
    write(STUDIES)
    screen()
    path = tmp / "extracts/screening-alice.xlsx"
    set_cells(path, "title-abstract", "s:1", decision="include")
    path.chmod(0o444)
    before = path.read_bytes()
    write([*STUDIES, NEW_STUDY])
    outcome = screen()
    assert path.read_bytes() == before
    assert ("s:1", "include") in {(d.study_id, d.decision) for d in outcome.decisions if d.reviewer == "alice"}
    assert [(p.severity, p.file) for p in outcome.problems if "read-only" in p.value] == [("warning", "extracts/screening-alice.xlsx")]
    path.chmod(0o644)
    screen()
    assert "s:4" in {s for s, _ in typed_by_study(path, "title-abstract", "study_id")}
