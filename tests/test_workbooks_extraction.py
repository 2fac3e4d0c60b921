"""Extraction sheets (review.workbooks.extraction and the sheets and evidence stages) written with openpyxl,
filled as a reviewer would, refreshed, read back."""

from __future__ import annotations

import csv
import shutil
import subprocess

import pytest
from conftest import PROJECT, outputs_in
from openpyxl import load_workbook

from review import codebook
from review import extraction as sheets
from review.fileio import write_csv
from review.model import RECORD_COLUMNS
from review.stages import evidence
from review.stages import sheets as sheets_stage

FORM = codebook.load(PROJECT / "protocols/codebook.yaml")
UNIQUE_COLUMNS = [*RECORD_COLUMNS, "group", "record_ids", "n_records"]


def study(group: str, title: str, authors: str, year: str, tags: str = "") -> dict:
    return {"group": group, "title": title, "authors": authors, "year": year, "tags": tags, "doi": "", "url": ""}


STUDIES = [
    study("z:1", "Developing architecture of system management in the English NHS", "Sanderson, Marie; Allen, P",
          "2023", "tier-ics; tier-icb"),
    study("z:2", "The spatial politics of place and health policy", "Hammond, Jonathan", "2017", "tier-stp"),
    study("z:3", "=HYPERLINK(\"http://example.org\") Strategic health authorities and regions", "Edwards, Nigel",
          "2020", "tier-sha"),
]


@pytest.fixture
def project(tmp_path):
    config = {"reviewers": ["alice", "bob"], "screening": {"enabled": False},
              "extraction": {"folder": str(tmp_path / "extracts"), "format": "xlsx", "strict": False, "spare_rows": 20,
                             "codebook": str(PROJECT / "protocols/codebook.yaml")}}
    inputs = {"unique": tmp_path / "unique.csv", "included": tmp_path / "included.csv", "sheets": tmp_path / "sheets.csv"}

    def refresh(studies):
        write_csv(tmp_path / "unique.csv", UNIQUE_COLUMNS, studies)
        return sheets_stage.run(config, inputs, {"summary": tmp_path / "sheets.csv"})

    def read():
        return evidence.run(config, inputs, outputs_in(evidence, tmp_path / "evidence"))

    return tmp_path, config, refresh, read


def rows_of(path):
    ws = load_workbook(path)["extraction"]
    return [[c.value for c in row] for row in ws.iter_rows() if row[0].value]


def set_cells(path, study_id, tier, **values):
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    for row in ws.iter_rows(min_row=2):
        if row[0].value == study_id and row[header["tier"] - 1].value == tier:
            for name, value in values.items():
                ws.cell(row=row[0].row, column=header[name], value=value)
            wb.save(path)
            return row[0].row
    raise AssertionError(f"no row {study_id} {tier}")


def csv_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


GOOD = dict(evidence_type="peer_empirical", relevance="core", period_start=2019, period_end=2022,
            evidence_locator="Results", functions="F1_strategic_planning; F10_system_leadership_convening",
            qa_overall="high")


def test_new_workbook_has_a_row_per_study_and_tier_with_dropdowns_and_a_codebook(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = [c.value for c in ws[1]]
    assert header[:7] == sheets.STUDY_COLUMNS and header[-1] == "notes"
    body = rows_of(path)[1:]
    tiers = [(r[0], r[header.index("tier")]) for r in body]
    assert tiers == [("z:1", "ICS_NONSTAT"), ("z:1", "ICB"), ("z:2", "STP"), ("z:3", "SHA")]
    assert body[3][header.index("citation")] == "Edwards 2020"
    assert "statutory_status=statutory_body" in body[3][header.index("suggested")]
    title_cell = ws.cell(row=5, column=header.index("title") + 1)
    assert title_cell.value.startswith("'=HYPERLINK") and title_cell.data_type == "s"  # neutralised
    assert ws.protection.sheet and title_cell.protection.locked
    assert not ws.cell(row=2, column=header.index("relevance") + 1).protection.locked
    single = [dv for dv in ws.data_validations.dataValidation if dv.type == "list" and "lists" in dv.formula1]
    assert len(single) == sum(f.type == "single" for f in FORM.fields)
    assert any("consensual_collective" in (dv.prompt or "") for dv in ws.data_validations.dataValidation)
    codes = {row[5] for row in wb["codebook"].iter_rows(min_row=2, values_only=True)}
    assert {"F3_market_management", "ICB", "S23_consensus_limits"} <= codes
    about = dict(wb["about"].iter_rows(values_only=True))
    assert about["codebook_version"] == FORM.version


def test_refresh_appends_new_studies_and_never_changes_typed_cells(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES[:2])
    path = tmp / "extracts/alice.xlsx"
    set_cells(path, "z:2", "STP", **GOOD, notes="typed by alice")
    before = rows_of(path)

    outcomes = refresh(STUDIES)

    after = rows_of(path)
    assert after[: len(before)] == before  # every typed cell byte for byte
    assert [r[0] for r in after[len(before):]] == ["z:3"]
    assert {o.reviewer: o.appended for o in outcomes} == {"alice": 1, "bob": 1}
    assert list((tmp / "extracts/.backup").glob("alice.*.xlsx"))
    ws = load_workbook(path)["extraction"]
    covered = max(r.max_row for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges)
    assert covered >= len(after) + 20  # dropdowns reach the new rows and their spare rows


def test_a_study_that_dropped_out_is_flagged_not_deleted(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES)
    refresh(STUDIES[1:])
    rows = rows_of(tmp / "extracts/alice.xlsx")
    status = {(r[0], r[5]) for r in rows[1:]}
    assert ("z:1", sheets.DROPPED) in status and ("z:2", sheets.INCLUDED) in status


def test_open_workbook_is_left_alone_and_reported(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES[:1])
    path = tmp / "extracts/alice.xlsx"
    (tmp / "extracts/~$alice.xlsx").write_bytes(b"")
    before = path.read_bytes()
    with pytest.raises(Exception, match="open in a spreadsheet program"):
        refresh(STUDIES)
    assert path.read_bytes() == before
    assert len(rows_of(tmp / "extracts/bob.xlsx")) == 5  # the other reviewer's sheet still refreshed


def test_cells_are_checked_against_the_codebook(project):
    tmp, _, refresh, read = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    row = set_cells(path, "z:1", "ICS_NONSTAT", **{**GOOD, "decision_mode": "Consensus", "n_interviews": "about 60",
                                                   "period_end": 2015, "functions": "F1_strategic_planning; F2 money"})
    set_cells(path, "z:2", "STP", evidence_type="Peer-reviewed empirical study ", relevance=" CORE ",
              period_start=2016, period_end=2017, evidence_locator="p. 3")

    outcome = read()

    found = {(p.code, p.column): p for p in outcome.problems}
    assert set(found) == {("not-in-codebook", "decision_mode"), ("wrong-type", "n_interviews"),
                          ("period-order", "period_end"), ("not-in-codebook", "functions")}
    decision = found[("not-in-codebook", "decision_mode")]
    assert (decision.file, decision.sheet, decision.row, decision.record_id, decision.value) == (
        str(path), "extraction", str(row), "z:1", "Consensus")
    assert "did you mean 'consensual_collective'" in decision.hint
    assert "F2 money" in found[("not-in-codebook", "functions")].hint
    evidence_rows = csv_rows(tmp / "evidence/evidence.csv")
    values = {(r["study_id"], r["field"], r["value"]) for r in evidence_rows}
    assert ("z:2", "evidence_type", "peer_empirical") in values  # label and case tolerated
    assert ("z:2", "relevance", "core") in values
    assert not any(r["field"] in ("decision_mode", "n_interviews", "period_end", "functions")
                   and r["study_id"] == "z:1" for r in evidence_rows)  # invalid cells left out, not coerced
    report = (tmp / "evidence/validation.md").read_text(encoding="utf-8")
    assert "did you mean 'consensual_collective'" in report and f"| {row} | z:1 | decision_mode |" in report


def test_required_fields_and_unstarted_rows(project):
    tmp, _, refresh, read = project
    refresh(STUDIES)
    set_cells(tmp / "extracts/alice.xlsx", "z:2", "STP", relevance="core")
    problems = read().problems
    missing = sorted(p.column for p in problems if p.code == "missing-required")
    assert missing == ["evidence_locator", "evidence_type", "period_end", "period_start"]
    assert {p.record_id for p in problems} == {"z:2"}  # rows nobody started are not errors


def test_dual_extraction_agreement_kappa_and_consensus(project):
    tmp, _, refresh, read = project
    refresh(STUDIES)
    for reviewer in ("alice", "bob"):
        path = tmp / f"extracts/{reviewer}.xlsx"
        set_cells(path, "z:1", "ICS_NONSTAT", **GOOD)
        set_cells(path, "z:2", "STP", **{**GOOD, "period_start": 2016, "period_end": 2017})
    set_cells(tmp / "extracts/bob.xlsx", "z:2", "STP", qa_overall="moderate")

    outcome = read()

    agreement = {r["field"]: r for r in csv_rows(tmp / "evidence/agreement.csv")}
    assert agreement["qa_overall"]["agreement"] == "0.500" and agreement["evidence_type"]["agreement"] == "1.000"
    assert csv_rows(tmp / "evidence/disagreements.csv")[0] | {} == {
        "study_id": "z:2", "tier": "STP", "field": "qa_overall", "reviewer_a": "alice", "value_a": "high",
        "reviewer_b": "bob", "value_b": "moderate", "resolved_by": ""}
    assert outcome.consensus_added == 1
    evidence_rows = csv_rows(tmp / "evidence/evidence.csv")
    assert not any(r["study_id"] == "z:2" and r["field"] == "qa_overall" for r in evidence_rows)  # disputed
    assert {r["basis"] for r in evidence_rows if r["study_id"] == "z:1"} == {"agreed"}

    set_cells(tmp / "extracts/consensus.xlsx", "z:2", "STP", qa_overall="moderate")
    read()

    settled = [r for r in csv_rows(tmp / "evidence/evidence.csv") if r["study_id"] == "z:2" and r["field"] == "qa_overall"]
    assert [(r["value"], r["basis"]) for r in settled] == [("moderate", "consensus")]
    assert csv_rows(tmp / "evidence/disagreements.csv")[0]["resolved_by"] == "consensus"
    assert len(rows_of(tmp / "extracts/consensus.xlsx")) == 2  # asked once, not again


def test_csv_sheets_for_teams_without_excel(project):
    tmp, config, refresh, read = project
    config["extraction"]["format"] = "csv"
    refresh(STUDIES)
    path = tmp / "extracts/alice.csv"
    rows = csv_rows(path)
    assert [r["tier"] for r in rows] == ["ICS_NONSTAT", "ICB", "STP", "SHA"]
    rows[2].update({k: str(v) for k, v in {**GOOD, "period_start": 2016, "period_end": 2017, "qa_overall": "hgh"}.items()})
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    refresh(STUDIES)  # appends nothing, keeps the typing
    assert csv_rows(path)[2]["qa_overall"] == "hgh"
    problems = read().problems
    assert [(p.code, p.row, p.column) for p in problems] == [("not-in-codebook", "4", "qa_overall")]
    assert "did you mean 'high'" in problems[0].hint


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_workbook_opens_in_libreoffice(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES)
    result = subprocess.run(["soffice", "--headless", "--convert-to", "csv", "--outdir", str(tmp / "lo"),
                             str(tmp / "extracts/alice.xlsx")], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "z:1" in (tmp / "lo/alice.csv").read_text(encoding="utf-8")
