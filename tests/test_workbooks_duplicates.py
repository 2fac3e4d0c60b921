"""The dedup stage and the reviewers' duplicates workbook (review.workbooks.duplicates), written and read back with openpyxl."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from conftest import FIXTURES, PROJECT, outputs_in
from openpyxl import load_workbook

from review.errors import ReviewError
from review.fileio import write_csv
from review.model import RECORD_COLUMNS, Creator, Record
from review.stages import dedup as dedup_stage
from review.workbooks import duplicates as dupsheet


def rec(rid: str, title: str, author: str, year: str = "2017", **fields) -> Record:
    family, _, given = author.partition(", ")
    creator = Creator(family=family, given=given) if given else Creator(name=author)
    return Record(record_id=rid, source=rid.split(":")[0], source_type="csv", source_key=rid.split(":")[1],
                  title=title, creators=[creator], year=year, **fields)


BASE = [
    rec("zotero:BATE2017", "Health and Social Care Integration (England)", "Bate, Alex"),
    rec("hmic:NAO2017", "Health and social care integration", "National Audit Office"),
    rec("zotero:HAM2017", "The spatial politics of place and health policy", "Hammond, Jonathan",
        container="Social Science & Medicine", volume="190", pages="217-226"),
    rec("scopus:HAM2017", "THE SPATIAL POLITICS OF PLACE AND HEALTH POLICY", "Hammond, J.",
        container="Soc Sci Med", volume="190", pages="217-226"),
]


def write_records(path, records):
    write_csv(path, RECORD_COLUMNS, (r.as_row() for r in records))


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def stage(tmp_path):
    """Run the stage on a records list; returns (outcome, out folder, sheet path)."""
    sheet = tmp_path / "extracts/duplicates.xlsx"

    def run(records):
        write_records(tmp_path / "records.csv", records)
        config = {"dedup": {"sheet": str(sheet), "ledger": str(tmp_path / "extracts/studies.csv")}}
        outcome = dedup_stage.run(config, {"records": tmp_path / "records.csv"},
                                  outputs_in(dedup_stage, tmp_path / "dedup"))
        return outcome, tmp_path / "dedup", sheet

    return run


def sheet_rows(path):
    ws = load_workbook(path)[dupsheet.SHEET]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_stage_writes_groups_unique_records_counts_and_asks_about_the_undecided_pair(stage):
    outcome, out, sheet = stage(BASE)

    groups = {r["record_id"]: r for r in rows(out / "groups.csv")}
    assert groups["scopus:HAM2017"]["survivor"] == "zotero:HAM2017"  # the Zotero item survives
    assert groups["scopus:HAM2017"]["study_id"] == groups["zotero:HAM2017"]["study_id"] == "Hammond2017"
    assert groups["scopus:HAM2017"]["rule"] == "title+authors+year"
    unique = rows(out / "unique_records.csv")
    assert len(unique) == 3 == outcome.unique
    merged = next(u for u in unique if u["study_id"] == "Hammond2017")
    assert merged["record_ids"] == "scopus:HAM2017; zotero:HAM2017" and merged["n_records"] == "2"
    counts = {(r["measure"], r["source"]): r["value"] for r in rows(out / "counts.csv")}
    assert counts[("duplicates_removed", "")] == "1" and counts[("pairs_for_review", "")] == "1"
    table = sheet_rows(sheet)
    assert table[0][:4] == ["decision", "notes", "record_id_a", "record_id_b"]
    assert [r[2:4] for r in table[1:]] == [["hmic:NAO2017", "zotero:BATE2017"]]
    pair = next(p for p in rows(out / "pairs.csv") if p["record_id_b"] == "zotero:BATE2017")
    assert pair["outcome"] == "for review"


def test_a_decision_holds_on_refresh_and_the_pair_is_not_asked_again(stage):
    _, out, sheet = stage(BASE)
    wb = load_workbook(sheet)
    wb[dupsheet.SHEET]["A2"] = " Same "  # case and spaces as a reviewer types them
    wb[dupsheet.SHEET]["B2"] = "checked the PDFs"
    wb.save(sheet)

    outcome, out, sheet = stage(BASE)

    groups = {r["record_id"]: r["study_id"] for r in rows(out / "groups.csv")}
    assert groups["hmic:NAO2017"] == groups["zotero:BATE2017"] == "Bate2017"  # the older of the two merged ids
    assert {"id": "NationalAuditOffice2017", "study_id": "Bate2017", "how": "merged"} in rows(out / "ids.csv")
    assert outcome.for_review == 0 and outcome.appended == 0
    pair = next(p for p in rows(out / "pairs.csv") if p["record_id_b"] == "zotero:BATE2017")
    assert pair["outcome"] == "decided by reviewer: same"
    assert len(sheet_rows(sheet)) == 2


def test_refresh_appends_new_pairs_and_never_touches_typed_cells(stage, tmp_path):
    _, _, sheet = stage(BASE)
    wb = load_workbook(sheet)
    wb[dupsheet.SHEET]["A2"] = "different"
    wb[dupsheet.SHEET]["B2"] = "=not a formula, a note"
    wb.save(sheet)
    before = sheet_rows(sheet)

    more = BASE + [
        rec("zotero:KF2018", "A year of integrated care systems: reviewing the journey", "Charles, Anna", "2018"),
        rec("hmic:KF2018", "A year of integrated care systems", "The King's Fund", "2018"),
    ]
    outcome, _, sheet = stage(more)

    after = sheet_rows(sheet)
    assert outcome.appended == 1
    assert after[: len(before)] == before  # every existing cell, typed or not, as it was
    assert [r[2:4] for r in after[len(before):]] == [["hmic:KF2018", "zotero:KF2018"]]
    backups = list((sheet.parent / ".backup").glob("duplicates.*.xlsx"))
    assert len(backups) == 1 and sheet_rows(backups[0]) == before


def test_a_value_outside_same_or_different_is_reported_with_its_row(stage):
    _, out, sheet = stage(BASE)
    wb = load_workbook(sheet)
    wb[dupsheet.SHEET]["A2"] = "probably"
    wb.save(sheet)

    outcome, out, _ = stage(BASE)

    issues = rows(out / "issues.csv")
    assert [(i["code"], i["sheet"], i["row"], i["column"], i["value"]) for i in issues] == [
        ("not-a-decision", dupsheet.SHEET, "2", "decision", "probably")]
    assert "same or different" in issues[0]["expected"]
    assert outcome.for_review == 1  # the pair stays undecided


def test_open_workbook_is_left_alone(stage):
    _, _, sheet = stage(BASE)
    (sheet.parent / "~$duplicates.xlsx").write_bytes(b"lock")
    before = sheet.read_bytes()

    more = BASE + [rec("zotero:KF2018", "A year of integrated care systems: reviewing the journey", "Charles, Anna"),
                   rec("hmic:KF2018", "A year of integrated care systems", "The King's Fund")]
    outcome, out, _ = stage(more)

    assert sheet.read_bytes() == before
    assert outcome.appended == 0
    assert [i["code"] for i in rows(out / "issues.csv")] == ["unreadable-workbook"]
    assert "open in a spreadsheet program" in rows(out / "issues.csv")[0]["value"]


def test_damaged_workbook_stops_the_stage_and_is_not_overwritten(stage):
    _, _, sheet = stage(BASE)
    sheet.write_bytes(b"this is not a zip file")

    with pytest.raises(ReviewError, match="cannot be read as an .xlsx workbook"):
        stage(BASE)

    assert sheet.read_bytes() == b"this is not a zip file"
    issue = rows(sheet.parent.parent / "dedup/issues.csv")[0]
    assert (issue["code"], issue["severity"]) == ("unreadable-workbook", "error")


def test_text_a_spreadsheet_would_run_is_neutralised(stage):
    records = [rec("a:1", "=HYPERLINK(\"http://x\",\"click\") integration of health and care", "Smith, Ann"),
               rec("b:1", "=HYPERLINK(\"http://x\",\"click\") integration of health care", "Jones, Bob")]
    _, _, sheet = stage(records)
    ws = load_workbook(sheet)[dupsheet.SHEET]
    titles = [ws.cell(row=2, column=k).value for k in (8, 9)]
    assert all(t.startswith("'=HYPERLINK") for t in titles)
    assert all(ws.cell(row=2, column=k).data_type == "s" for k in (8, 9))


def test_fingerprint_changes_with_decisions_only(stage):
    _, _, sheet = stage(BASE)
    empty = dupsheet.typed_digest(sheet)
    wb = load_workbook(sheet)
    wb[dupsheet.SHEET]["B2"] = "a note is not a decision"
    wb.save(sheet)
    assert dupsheet.typed_digest(sheet) == empty
    wb[dupsheet.SHEET]["A2"] = "different"
    wb.save(sheet)
    assert dupsheet.typed_digest(sheet) != empty


def test_review_dedup_command_writes_id_and_group(tmp_path):
    out = tmp_path / "groups.csv"
    result = subprocess.run([sys.executable, "-m", "review", "dedup", str(FIXTURES / "dedup/labelled.csv"),
                             "--out", str(out)], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    table = rows(out)
    assert list(table[0]) == ["ID", "group"]
    group = {r["ID"]: r["group"] for r in table}
    assert group["z1"] == group["h1"] == group["s1"]
    assert group["z4"] != group["z5"]
    assert len(table) == 17


# --- study identity across refreshes (the ledger) ----------------------------------------------------------

def test_a_copy_from_a_source_that_sorts_first_keeps_the_study_id(stage, tmp_path):
    _, out, _ = stage(BASE)
    before = {r["record_id"]: r["study_id"] for r in rows(out / "groups.csv")}
    copy = rec("assia:HAM2017", "The spatial politics of place and health policy.", "Hammond, J", container="SSM",
               volume="190", pages="217-26")
    _, out, _ = stage([copy, *BASE])
    after = {r["record_id"]: r["study_id"] for r in rows(out / "groups.csv")}
    assert after["assia:HAM2017"] == before["zotero:HAM2017"] == "Hammond2017"
    assert {k: after[k] for k in before} == before
    ledger = rows(tmp_path / "extracts/studies.csv")
    assert ledger[-1] == {"study_id": "Hammond2017", "event": "member", "record_id": "assia:HAM2017", "other": "",
                          "fingerprint": "title:the spatial politics of place and health policy|2017"}
    # and nothing is appended when nothing changed
    stage([copy, *BASE])
    assert rows(tmp_path / "extracts/studies.csv") == ledger


def test_a_reviewer_split_leaves_the_id_with_the_first_record_and_names_the_other(stage, tmp_path):
    _, _, sheet = stage(BASE)
    wb = load_workbook(sheet)
    ws = wb[dupsheet.SHEET]
    ws.append(["different", "two editions", "scopus:HAM2017", "zotero:HAM2017"])
    wb.save(sheet)
    _, out, _ = stage(BASE)
    groups = {r["record_id"]: r["study_id"] for r in rows(out / "groups.csv")}
    assert groups["zotero:HAM2017"] == "Hammond2017" and groups["scopus:HAM2017"] == "Hammond2017b"
    assert {"id": "Hammond2017", "study_id": "Hammond2017b", "how": "split"} in rows(out / "ids.csv")
    assert {"study_id": "Hammond2017b", "event": "split", "record_id": "", "other": "Hammond2017",
            "fingerprint": ""} in rows(tmp_path / "extracts/studies.csv")


def test_a_damaged_ledger_stops_the_stage_and_is_left_alone(stage, tmp_path):
    stage(BASE)
    ledger = tmp_path / "extracts/studies.csv"
    ledger.write_text(ledger.read_text() + "Smith2020,renamed,,,\n")
    before = ledger.read_bytes()
    with pytest.raises(ReviewError, match=r"studies.csv, line 9: 'renamed' for study 'Smith2020'"):
        stage(BASE)
    assert ledger.read_bytes() == before


REPORTS = [
    rec("zotero:CHE2016", "Sustainability and transformation partnerships: a new tier", "Checkland, Kath", "2016",
        container="BMJ Open", doi="10.1136/bmjopen-2016-000001"),
    rec("hmic:CHE2017", "Reimagining the local: integrated care policy in England", "Checkland, Kath", "2017",
        container="Journal of Social Policy", doi="10.1017/s0047279417000010"),
]


def type_link(sheet, decision, study, of):
    wb = load_workbook(sheet)
    ws = wb[dupsheet.LINKS]
    rows_typed = [r for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]
    ws.cell(row=len(rows_typed) + 2, column=1, value=decision)
    ws.cell(row=len(rows_typed) + 2, column=2, value=study)
    ws.cell(row=len(rows_typed) + 2, column=3, value=of)
    wb.save(sheet)


def test_reviewers_link_two_reports_of_one_study_by_study_id_and_unlink_them(stage):
    """Linked by the ids reviewers see (never record ids): one study of two reports, each keeping its own DOI and
    title, cited by the report the review knew first; unlinked, two studies again."""
    records = BASE + REPORTS
    _, out, sheet = stage(records)
    ids = {r["record_id"]: r["study_id"] for r in rows(out / "groups.csv")}
    first, later = ids["zotero:CHE2016"], ids["hmic:CHE2017"]
    assert first != later
    assert dupsheet.LINKS in load_workbook(sheet).sheetnames  # where reviewers link reports

    type_link(sheet, "link", later, first)
    _, out, _ = stage(records)
    unique = {r["study_id"]: r for r in rows(out / "unique_records.csv")}
    assert later not in unique
    study = unique[first]
    assert (study["title"], study["doi"], study["n_reports"]) == (REPORTS[0].title, REPORTS[0].doi, "2")
    assert [(r["title"], r["doi"]) for r in __import__("json").loads(study["reports"])] == [
        (REPORTS[1].title, REPORTS[1].doi)]
    assert {r["id"]: r["study_id"] for r in rows(out / "ids.csv") if r["how"] == "merged"} == {later: first}

    type_link(sheet, "unlink", later, first)  # the last row about a pair wins
    _, out, _ = stage(records)
    unique = {r["record_ids"]: r for r in rows(out / "unique_records.csv")}
    assert unique["zotero:CHE2016"]["n_reports"] == unique["hmic:CHE2017"]["n_reports"] == "1"
    assert unique["zotero:CHE2016"]["study_id"] == first


def test_a_link_to_a_study_id_the_review_does_not_have_is_named(stage):
    _, out, sheet = stage(BASE + REPORTS)
    type_link(sheet, "link", "Nobody2099", "Checkland2016")
    type_link(sheet, "maybe", "Checkland2017", "Checkland2016")
    _, out, _ = stage(BASE + REPORTS)
    found = {(i["code"], i["row"], i["value"]) for i in rows(out / "issues.csv")}
    assert ("unknown-study", "2", "Nobody2099") in found
    assert ("not-a-link", "3", "maybe Checkland2017 / Checkland2016") in found
