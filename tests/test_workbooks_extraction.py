"""Extraction sheets (review.workbooks.extraction and the sheets and evidence stages) written with openpyxl,
filled as a reviewer would, refreshed, read back."""

from __future__ import annotations

import csv
import shutil
import subprocess

import pytest
from conftest import PROJECT, outputs_in
from openpyxl import load_workbook
from pypdf import PdfReader

from review import codebook
from review import extraction as sheets
from review.errors import ReviewError
from review.fileio import write_csv
from review.model import RECORD_COLUMNS
from review.stages import evidence
from review.stages import sheets as sheets_stage

FORM = codebook.load(PROJECT / "protocols/codebook.yaml")
UNIQUE_COLUMNS = [*RECORD_COLUMNS, "study_id", "record_ids", "n_records"]


def study(group: str, title: str, authors: str, year: str, tags: str = "") -> dict:
    return {"study_id": group, "title": title, "authors": authors, "year": year, "tags": tags, "doi": "", "url": ""}


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


def set_cells(path, study_id, key, **values):
    """Type values as a reviewer would: a multiple choice field's codes ticked with x in their columns."""
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    for row in ws.iter_rows(min_row=2):
        if row[0].value == study_id and FORM["tier"].code_for(row[header["tier"] - 1].value or "") == key:
            for name, value in values.items():
                if name in header:
                    ws.cell(row=row[0].row, column=header[name], value=value)
                    continue
                for code in (c.strip() for c in value.split(";")):
                    ws.cell(row=row[0].row, column=header.get(f"{name}:{code}", header[f"{name}:{FORM[name].codes[0]}"]),
                            value="x" if f"{name}:{code}" in header else code)
            wb.save(path)
            return row[0].row
    raise AssertionError(f"no row {study_id} {key}")


def set_item(path, study_id, key, row=0, **values):
    """Type one lesson on the lessons sheet: into the study's ``row``-th row the pipeline wrote, or (``row=None``) a
    spare row below, whose study id and tier the reviewer types."""
    wb = load_workbook(path)
    ws = wb["lessons"]
    header = {c.value: c.column for c in ws[1] if c.value}
    mine = [r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == study_id]
    last = max(r[0].row for r in ws.iter_rows(min_row=1) if r[0].value)
    number = mine[row] if row is not None else last + 1
    if row is None:
        ws.cell(row=number, column=header["study_id"], value=study_id)
    ws.cell(row=number, column=header["tier"], value=FORM["tier"].label_of(key))
    for name, value in values.items():
        if name in header:
            ws.cell(row=number, column=header[name], value=value)
        else:
            for code in (c.strip() for c in value.split(";")):
                ws.cell(row=number, column=header[f"{name}:{code}"], value="x")
    wb.save(path)
    return number


def without_repeats(tmp_path):
    """The project's codebook with its repeat groups as plain groups (one lesson a row), as for CSV sheets."""
    import yaml

    data = yaml.safe_load((PROJECT / "protocols/codebook.yaml").read_text(encoding="utf-8"))
    for group in data["groups"]:
        if group.pop("repeat", None):
            group.pop("pair_by", None)
            for f in group["fields"]:  # an item's required text is no row's requirement
                f.pop("required", None)
    data["changes"] = [c for c in data["changes"] if "move_field" not in c]
    path = tmp_path / "codebook-flat.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


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
    assert header[:3] == ["study_id", "citation", "tier"] and header[-1] == "notes"
    assert set(sheets.STUDY_COLUMNS) <= set(header)
    body = rows_of(path)[1:]
    tiers = [(r[0], r[header.index("tier")]) for r in body]
    assert tiers == [("z:1", "Integrated Care System (non-statutory)"), ("z:1", "Integrated Care Board"),
                     ("z:2", "Sustainability and Transformation Partnership"), ("z:3", "Strategic Health Authority")]
    assert body[3][header.index("citation")] == "Edwards 2020"
    assert "Statutory status: Statutory body" in body[3][header.index("suggested")]
    title_cell = ws.cell(row=5, column=header.index("title") + 1)
    assert title_cell.value.startswith("'=HYPERLINK") and title_cell.data_type == "s"  # neutralised
    assert ws.protection.sheet and title_cell.protection.locked
    assert not ws.cell(row=2, column=header.index("relevance") + 1).protection.locked
    single = [dv for dv in ws.data_validations.dataValidation if dv.type == "list" and dv.formula1.startswith("labels_")]
    assert len(single) == sum(f.type == "single" for f in FORM.fields)
    codes = {row[6] for row in wb["codebook"].iter_rows(min_row=2, values_only=True)}
    assert {"F3_market_management", "ICB", "S23_consensus_limits"} <= codes
    about = dict(wb["about"].iter_rows(values_only=True))
    assert about["codebook_version"] == FORM.version


def test_the_sheet_leaves_room_to_work_on_a_laptop_screen(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES)
    ws = load_workbook(tmp / "extracts/alice.xlsx")["extraction"]
    header = {c.value: c for c in ws[1]}
    assert ws.freeze_panes == "D2"  # study id, citation and tier stay in view
    frozen_pixels = sum(ws.column_dimensions[letter].width * 7 + 5 for letter in "ABC")
    assert frozen_pixels < 1366 / 3  # two thirds of a 1366-pixel screen is left to the form
    for name in ("title", "tier_change", "findings_summary", "notes"):
        column = header[name].column_letter
        assert ws.column_dimensions[column].width >= 30
        assert ws[f"{column}2"].alignment.wrap_text
    assert ws.row_dimensions[1].height <= 160 and ws.row_dimensions[2].height <= 60
    first, last = header["themes:S23_competition"], header["themes:H_reorganisation_costs"]
    assert first.alignment.text_rotation == 90 and ws.column_dimensions[first.column_letter].width < 5
    group = ws.column_dimensions[first.column_letter]  # the field's code columns fold into one outline group
    assert group.outline_level == 1 and (group.min, group.max) == (first.column, last.column)
    long_help = [dv.prompt for dv in ws.data_validations.dataValidation if dv.prompt]
    assert long_help and all(len(prompt) <= 255 for prompt in long_help)  # Excel's limit: longer is cut or refused
    competition = next(c for c in FORM["themes"].choices if c.code == "S23_competition")
    note = header["themes:S23_competition"].comment
    assert competition.label in note.text and competition.definition in note.text and FORM["themes"].help in note.text
    assert note.height >= 22 * 3  # sized to its text, not openpyxl's small default box


def test_dropdowns_show_labels_and_stop_or_mark_a_wrong_value(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES[:1])
    path = tmp / "extracts/alice.xlsx"
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column_letter for c in ws[1]}
    labels = wb.defined_names["labels_tier"].attr_text
    sheet, cells = labels.split("!")
    values = [c.value for (c,) in wb[sheet.strip("'")][cells.replace("$", "")]]
    assert values == list(FORM["tier"].labels) and wb[sheet.strip("'")].sheet_state == "hidden"
    by_column = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            by_column[cell_range.coord.split(":")[0].rstrip("0123456789")] = dv
    assert by_column[header["tier"]].formula1 == "labels_tier" and by_column[header["tier"]].errorStyle == "stop"
    assert by_column[header["functions:F1_strategic_planning"]].formula1 == '"x"'
    assert by_column[header["period_start"]].type == "whole" and by_column[header["period_start"]].errorStyle == "stop"
    assert by_column[header["conflict_of_interest"]].formula1 == '"yes,no"'
    marks = {str(cf.sqref).split(":")[0].rstrip("0123456789"): cf.rules[0].formula[0] for cf in ws.conditional_formatting}
    assert "COUNTIF(labels_tier" in marks[header["tier"]] and "COUNTIF(codes_tier" in marks[header["tier"]]
    assert "ISNUMBER" in marks[header["period_start"]]
    assert f"LOWER(TRIM({header['themes:S23_competition']}2))" in marks[header["themes:S23_competition"]]

    refresh(STUDIES)  # appended rows are guarded and marked too
    ws = load_workbook(path)["extraction"]
    last = max(r.max_row for r in ws.data_validations.dataValidation[0].sqref.ranges)
    assert last >= len(rows_of(path)) + 20
    assert all(cell_range.max_row >= last for cf in ws.conditional_formatting for cell_range in cf.sqref.ranges)


def test_ticked_codes_labels_and_older_typed_codes_are_read_alike(project):
    tmp, _, refresh, read = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    row = set_cells(path, "z:3", "SHA", **{**GOOD, "evidence_type": "Peer-reviewed empirical study", "period_start": 2005,
                                           "period_end": 2010, "functions": "F4_performance_oversight; F1_strategic_planning"})
    set_cells(path, "z:2", "STP", **{**GOOD, "period_start": 2016, "period_end": 2017,
                                     "data_sources:documents": "X", "themes:S23_context": "x",
                                     "themes:S23_competition": "maybe"})

    outcome = read()

    evidence_rows = csv_rows(tmp / "evidence/evidence.csv")
    values = {(r["study_id"], r["tier"], r["field"], r["value"]) for r in evidence_rows}
    assert {("z:3", "SHA", "functions", "F1_strategic_planning"), ("z:3", "SHA", "functions", "F4_performance_oversight"),
            ("z:3", "SHA", "evidence_type", "peer_empirical"), ("z:2", "STP", "data_sources", "documents")} <= values
    # which themes were meant is unknown while one of its cells is not a tick: the field waits, as any invalid cell
    assert not any(r[:3] == ("z:2", "STP", "themes") for r in values)
    assert [(p.code, p.column, p.value) for p in outcome.problems] == [("not-a-tick", "themes:S23_competition", "maybe")]
    assert row == 5

    # an older sheet with one column per field: codes typed with ';' still read (and ticks add to them)
    wb = load_workbook(path)
    ws = wb["extraction"]
    ws.cell(row=1, column=ws.max_column + 1, value="themes")
    ws.cell(row=row, column=ws.max_column, value="H_meso_oversight; S23_context")
    wb.save(path)
    read()
    themes = {r["value"] for r in csv_rows(tmp / "evidence/evidence.csv") if r["study_id"] == "z:3" and r["field"] == "themes"}
    assert themes == {"H_meso_oversight", "S23_context"}


def test_accepting_the_suggestion_fills_only_the_blank_fields_and_says_so(project):
    tmp, _, refresh, read = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    set_cells(path, "z:3", "SHA", **{**GOOD, "period_start": 2005, "period_end": 2010, "accept_suggested": "yes",
                                     "coterminosity_lg": "Partial"})
    set_cells(path, "z:2", "STP", **{**GOOD, "period_start": 2016, "period_end": 2017, "accept_suggested": "yes"})

    outcome = read()

    assert outcome.problems == []
    tidy = csv_rows(tmp / "evidence/extractions.csv")
    sha = {(r["field"], r["value"], r["entry"]) for r in tidy if r["study_id"] == "z:3"}
    assert ("coterminosity_lg", "partial", "typed") in sha  # typed wins over the suggested "none"
    assert ("statutory_status", "statutory_body", "suggestion accepted") in sha
    assert ("functions", "F1_strategic_planning", "typed") in sha  # GOOD ticks functions: the suggestion is not taken
    assert not any(f == "functions" and e != "typed" for f, _, e in sha)
    stp = {(r["field"], r["value"], r["entry"]) for r in tidy if r["study_id"] == "z:2"}
    assert ("statutory_status", "non_statutory_partnership", "suggestion accepted") in stp

    set_cells(path, "z:1", "ICS_NONSTAT", **{**GOOD, "tier": "Place-based partnership", "accept_suggested": "yes"})
    assert [(p.code, p.column) for p in read().problems] == [("no-suggestion", "accept_suggested")]


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
    status = {(r[0], r[rows[0].index("status")]) for r in rows[1:]}
    assert ("z:1", sheets.DROPPED) in status and ("z:2", sheets.INCLUDED) in status


def test_a_citation_that_gains_a_letter_is_updated_in_the_pipelines_cells_only(project):
    tmp, _, refresh, _ = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    set_cells(path, "z:2", "STP", **GOOD, notes="typed by alice")
    spare = set_item(path, "z:2", "STP", row=None, lessons_for_ics="Plan money together.")
    typed = [r[2:] for r in rows_of(path)]

    # a second study by the same author in the same year: the report now cites z:2 as Hammond 2017a or 2017b
    outcomes = refresh([*STUDIES, study("z:4", "Another place", "Hammond, Jonathan", "2017", "tier-icb")])

    assert {o.reviewer: o.outcome for o in outcomes} == {"alice": "updated", "bob": "updated"}
    wb = load_workbook(path)
    for sheet in ("extraction", "lessons"):
        cited = {r[1] for r in wb[sheet].iter_rows(min_row=2, values_only=True) if r[0] == "z:2" and r[1]}
        assert cited == {"Hammond 2017b"}, sheet  # "The spatial politics..." sorts after "Another place"
    assert wb["lessons"].cell(row=spare, column=2).value is None  # a reviewer's added row: not the pipeline's cell
    assert [r[2:] for r in rows_of(path)][: len(typed)] == typed  # every other cell as it was
    assert refresh([*STUDIES, study("z:4", "Another place", "Hammond, Jonathan", "2017", "tier-icb")])[0].outcome \
        == "unchanged"


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
                                                   "period_end": 2015, "functions": "F1_strategic_planning",
                                                   "functions:F2_resource_allocation": "money"})
    set_cells(path, "z:2", "STP", evidence_type="Peer-reviewed empirical study ", relevance=" CORE ",
              period_start=2016, period_end=2017, evidence_locator="p. 3")

    outcome = read()

    found = {(p.code, p.column): p for p in outcome.problems}
    assert set(found) == {("not-in-codebook", "decision_mode"), ("wrong-type", "n_interviews"),
                          ("period-order", "period_end"), ("not-a-tick", "functions:F2_resource_allocation")}
    decision = found[("not-in-codebook", "decision_mode")]
    assert (decision.file, decision.sheet, decision.row, decision.record_id, decision.value) == (
        str(path), "extraction", str(row), "z:1", "Consensus")
    assert "did you mean 'consensual_collective'" in decision.hint
    assert found[("not-a-tick", "functions:F2_resource_allocation")].value == "money"
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
        "reviewer_b": "bob", "value_b": "moderate", "resolved_by": "", "item": ""}
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
    with pytest.raises(ReviewError, match=r"repeatable sub-records \(lessons\), which need a workbook"):
        refresh(STUDIES)  # a CSV file has no room for the lessons sheet: said, not silently left out
    config["extraction"]["codebook"] = str(without_repeats(tmp))
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


def soffice(target: str, path, outdir):
    """Open ``path`` in LibreOffice headless and save it as ``target`` (pdf, xlsx) in ``outdir``."""
    result = subprocess.run(["soffice", "--headless", "--norestore", "--convert-to", target, "--outdir", str(outdir),
                             str(path)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    return outdir / f"{path.stem}.{target.split(':')[0]}"


def squeezed(text: str) -> str:
    return "".join(text.split())  # a cell's text wraps over lines on the page


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_prints_every_label_and_definition_and_saves_the_workbook_without_losing_a_value(project):
    tmp, _, refresh, read = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    set_cells(path, "z:3", "SHA", **{**GOOD, "period_start": 2005, "period_end": 2010,
                                     "evidence_type": "Peer-reviewed empirical study", "accept_suggested": "yes"})
    read()
    before = csv_rows(tmp / "evidence/evidence.csv")

    # the pages as a reviewer prints them: the labels show, and no definition or help of the codebook is cut off
    pdf = PdfReader(soffice("pdf", path, tmp / "pdf"))
    pages = [squeezed(page.extract_text()) for page in pdf.pages]
    assert all("study_id" in page and "citation" in page for page in pages[:3])  # identifying columns on each page
    printed = "".join(pages)
    for expected in ("Strategic Health Authority", "Peer-reviewed empirical study", "functions:F4_performance_oversight",
                     *(c.definition for f in FORM.fields for c in f.choices if c.definition),
                     *(f.help for f in FORM.fields if f.help)):
        assert squeezed(expected) in printed, expected

    # saved by LibreOffice, as after a reviewer's session: values, dropdowns and marks are kept, the pipeline reads
    # the same evidence, and a refresh still appends below the last row
    saved = soffice("xlsx:Calc MS Excel 2007 XML", path, tmp / "saved")
    shutil.copyfile(saved, path)
    ws = load_workbook(path)["extraction"]
    assert {dv.formula1 for dv in ws.data_validations.dataValidation} >= {"labels_tier", '"x"', '"yes,no"'}
    assert len(list(ws.conditional_formatting)) >= 10
    read()
    assert csv_rows(tmp / "evidence/evidence.csv") == before
    refresh([*STUDIES, study("z:4", "Clinical commissioning groups", "Checkland, Kath", "2018", "tier-ccg")])
    body = rows_of(path)[1:]
    assert [r[0] for r in body][-1] == "z:4" and len(body) == 5
    read()
    assert csv_rows(tmp / "evidence/evidence.csv") == before


# --- a codebook revised during the review -------------------------------------------------------------------

def revised_codebook(tmp_path, retire_code=False, source=None):
    """Version 2.0 of the project's codebook: a field added, one renamed, one retired, two codes renamed."""
    import yaml

    data = yaml.safe_load((source or PROJECT / "protocols/codebook.yaml").read_text(encoding="utf-8"))
    data["version"] = "2.0"
    fields = {f["name"]: f for g in data["groups"] for f in g["fields"]}
    fields["lg_notes"]["name"] = "local_government_notes"
    summary = data["report"]["synthesis"]["summary"]
    summary[summary.index("lg_notes")] = "local_government_notes"
    for choice in fields["lesson_stance"]["choices"]:
        if choice["code"] == "cautions":
            choice.update(code="cautions_against", label="Cautions against")
    for choice in fields["data_sources"]["choices"]:
        if choice["code"] == "documents":
            choice.update(code="board_papers", label="Board papers and plans")
    if retire_code:
        fields["data_sources"]["choices"] = [c for c in fields["data_sources"]["choices"] if c["code"] != "archival"]
    for group in data["groups"]:
        group["fields"] = [f for f in group["fields"] if f["name"] != "decision_mode"]
    data["report"]["synthesis"]["questions"][1].remove("decision_mode")  # what names a retired field lets it go
    data["groups"][-1]["fields"].append({
        "name": "system_aims", "label": "System aims", "type": "multiple", "help": "The four purposes of ICSs.",
        "choices": [{"code": "outcomes", "label": "Improve outcomes"}, {"code": "inequalities", "label": "Tackle inequalities"},
                    {"code": "value", "label": "Productivity and value"}, {"code": "social", "label": "Social and economic development"}]})
    data["changes"] = [*data.get("changes", []),
        {"version": "2.0", "add_field": "system_aims", "note": "after piloting"},
        {"version": "2.0", "rename_field": {"from": "lg_notes", "to": "local_government_notes"}},
        {"version": "2.0", "retire_field": "decision_mode", "note": "too few studies report it"},
        {"version": "2.0", "rename_code": {"field": "lesson_stance", "from": "cautions", "to": "cautions_against"}},
        {"version": "2.0", "rename_code": {"field": "data_sources", "from": "documents", "to": "board_papers"}},
        *([{"version": "2.0", "retire_code": {"field": "data_sources", "code": "archival"}, "note": "merged into documents"}]
          if retire_code else [])]
    path = tmp_path / "codebook-2.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_a_revised_codebook_upgrades_every_workbook_and_keeps_every_value(project):
    tmp, config, refresh, read = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    row = set_cells(path, "z:2", "STP", lg_notes="councils kept at arm's length", decision_mode="consensual",
                    data_sources="documents; interviews", relevance="core")
    item = set_item(path, "z:2", "STP", lessons_for_ics="Keep councils close.", lesson_audience="local_government",
                    lesson_stance="Cautions")
    before = load_workbook(path)

    config["extraction"]["codebook"] = str(revised_codebook(tmp))
    outcome = {o.reviewer: o for o in refresh(STUDIES)}["alice"]

    assert outcome.upgraded_from == FORM.version and outcome.outcome == f"upgraded from codebook {FORM.version}"
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    assert ws.cell(row=row, column=header["local_government_notes"]).value == "councils kept at arm's length"
    assert ws.cell(row=row, column=header["decision_mode (retired in 2.0)"]).value == "consensual"
    lessons = {c.value: c.column for c in wb["lessons"][1] if c.value}
    assert wb["lessons"].cell(row=item, column=lessons["lesson_stance"]).value == "Cautions against"  # its own sheet
    assert ws.cell(row=row, column=header["data_sources:board_papers"]).value == "x"
    assert "lg_notes" not in header and "data_sources:documents" not in header
    new = [header[f"system_aims:{c}"] for c in ("outcomes", "inequalities", "value", "social")]
    assert min(new) > max(v for k, v in header.items() if not k.startswith("system_aims"))  # added at the end
    letter = ws.cell(row=1, column=new[0]).column_letter
    assert any(f"{letter}2" in str(dv.sqref) for dv in ws.data_validations.dataValidation)  # with its dropdown
    assert ws.cell(row=1, column=new[0]).comment is not None  # and its help
    retired = ws.cell(row=1, column=header["decision_mode (retired in 2.0)"]).column_letter
    assert not any(f"{retired}2" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    about = dict(r[:2] for r in wb["about"].iter_rows(values_only=True))
    assert about["codebook_version"] == "2.0" and about["upgraded_from"] == FORM.version
    assert "field decision_mode retired in version 2.0 (too few studies report it)" in about["changes"]
    assert "system_aims" in {r[1] for r in wb["codebook"].iter_rows(values_only=True)}
    assert "labels_lg_notes" not in wb.defined_names and "labels_lesson_stance" in wb.defined_names
    # every value typed before is still in the sheet, on the same row (a backup of the old file is kept)
    old = before["extraction"]
    for number in range(1, old.max_row + 1):
        for column in range(1, old.max_column + 1):
            value = old.cell(row=number, column=column).value
            if value is not None and number > 1:
                assert ws.cell(row=number, column=column).value == value, (number, column)
    assert list((tmp / "extracts/.backup").glob("alice.*.xlsx"))
    log = csv_rows(tmp / "extracts/cell-changes.csv")
    changed = {(r["column"], r["old"], r["new"]) for r in log if r["file"].endswith("alice.xlsx")}
    assert {("local_government_notes", "lg_notes", "local_government_notes"),
            ("decision_mode (retired in 2.0)", "decision_mode", "decision_mode (retired in 2.0)"),
            ("lesson_stance", "Cautions", "Cautions against"),
            ("data_sources:board_papers", "data_sources:documents", "data_sources:board_papers"),
            ("system_aims:outcomes", "", "system_aims:outcomes")} <= changed
    assert {o.reviewer for o in refresh(STUDIES) if o.outcome == "unchanged"} == {"alice", "bob"}  # once only

    result = read()
    values = {(r["field"], r["value"]) for r in csv_rows(tmp / "evidence/extractions.csv")
              if r["reviewer"] == "alice" and r["study_id"] == "z:2"}
    assert {("local_government_notes", "councils kept at arm's length"), ("lesson_stance", "cautions_against"),
            ("data_sources", "board_papers"), ("data_sources", "interviews")} <= values
    assert not [p for p in result.problems if p.code in ("missing-column", "codebook-version-changed")]


def test_an_older_sheet_reads_renamed_fields_and_codes_and_names_the_change_for_a_retired_code(project):
    tmp, config, refresh, _ = project
    config["reviewers"] = ["alice"]
    config["extraction"]["codebook"] = str(without_repeats(tmp))
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    set_cells(path, "z:2", "STP", lg_notes="notes", lesson_stance="cautions", data_sources="archival; documents")
    form = codebook.load(revised_codebook(tmp, retire_code=True, source=without_repeats(tmp)))
    # read as it is, before any refresh upgraded it (as for a workbook that was open during the refresh)
    rows, problems = evidence.read_sheet(path, "alice", form, {"z:2"}, require=False)
    row = next(r for r in rows if r.study_id == "z:2")
    assert row.values["local_government_notes"] == "notes" and row.values["lesson_stance"] == "cautions_against"
    retired = [p for p in problems if p.code == "retired-code"]
    assert [(p.column, p.value, p.severity) for p in retired] == [("data_sources:archival", "x", "warning")]
    assert "code archival of data_sources retired in version 2.0 (merged into documents)" in retired[0].hint
    assert row.values["data_sources"] == ["board_papers"]  # the renamed code's tick still counts
    assert "codebook-version-changed" in {p.code for p in problems}


def test_a_csv_sheet_is_upgraded_too(project):
    tmp, config, refresh, _ = project
    config["extraction"]["format"] = "csv"
    config["extraction"]["codebook"] = str(without_repeats(tmp))
    config["reviewers"] = ["alice"]
    refresh(STUDIES)
    path = tmp / "extracts/alice.csv"
    table = csv_rows(path)
    table[0].update(lg_notes="kept", lesson_stance="cautions", decision_mode="consensual")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    config["extraction"]["codebook"] = str(revised_codebook(tmp, source=without_repeats(tmp)))
    refresh(STUDIES)
    after = csv_rows(path)
    assert after[0]["local_government_notes"] == "kept" and after[0]["lesson_stance"] == "cautions_against"
    assert after[0]["decision_mode (retired in 2.0)"] == "consensual" and "system_aims" in after[0]


def relabelled_codebook(tmp_path, version="2.0"):
    """The project's codebook with a code renamed together with its label, and another code retired."""
    import yaml

    data = yaml.safe_load((PROJECT / "protocols/codebook.yaml").read_text(encoding="utf-8"))
    data["version"] = version
    design = next(f for g in data["groups"] for f in g["fields"] if f["name"] == "study_design")
    for choice in design["choices"]:
        if choice["code"] == "qual_case_study":
            choice.update(code="case_study_qualitative", label="Case study (qualitative)")
    design["choices"] = [c for c in design["choices"] if c["code"] != "oral_history"]
    data["changes"] = [*data.get("changes", []),
                       {"version": version, "rename_code": {"field": "study_design", "from": "qual_case_study",
                                                            "to": "case_study_qualitative"}},
                       {"version": version, "retire_code": {"field": "study_design", "code": "oral_history"}}]
    path = tmp_path / f"codebook-{version}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_a_code_renamed_with_its_label_keeps_the_values_the_dropdown_wrote(project):
    """The dropdown writes labels: an upgrade that renames a code and its label finds the old label through the
    workbook's own codebook sheet; a retired code's label is read as retired, never as an unknown value."""
    tmp, config, refresh, read = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    renamed = set_cells(path, "z:2", "STP", study_design="Qualitative case study")
    retired = set_cells(path, "z:3", "SHA", study_design="Oral history")

    config["extraction"]["codebook"] = str(relabelled_codebook(tmp))
    refresh(STUDIES)

    ws = load_workbook(path)["extraction"]
    column = {c.value: c.column for c in ws[1] if c.value}["study_design"]
    assert ws.cell(row=renamed, column=column).value == "Case study (qualitative)"
    assert ws.cell(row=retired, column=column).value == "oral_history"
    logged = {(r["old"], r["new"]) for r in csv_rows(tmp / "extracts/cell-changes.csv") if r["column"] == "study_design"}
    assert logged == {("Qualitative case study", "Case study (qualitative)"), ("Oral history", "oral_history")}
    result = read()
    values = {(r["study_id"], r["value"]) for r in csv_rows(tmp / "evidence/extractions.csv")
              if r["reviewer"] == "alice" and r["field"] == "study_design"}
    assert values == {("z:2", "case_study_qualitative")}
    problems = {(p.code, p.value) for p in result.problems if p.column == "study_design"}
    assert problems == {("retired-code", "oral_history")}  # on z:3


def test_a_codebook_whose_version_goes_down_is_a_named_error_not_an_upgrade(project):
    tmp, config, refresh, _ = project
    config["extraction"]["codebook"] = str(relabelled_codebook(tmp, "2.0"))
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    before = path.read_bytes()
    config["extraction"]["codebook"] = str(PROJECT / "protocols/codebook.yaml")  # 1.2: back a version
    with pytest.raises(ReviewError, match=r"made with codebook version 2.0, newer than the codebook's 1.2"):
        refresh(STUDIES)
    assert path.read_bytes() == before


def test_an_inserted_column_headed_like_a_field_is_reported_and_hides_nothing(project):
    tmp, _, refresh, read = project
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    set_cells(path, "z:3", "SHA", **{**GOOD, "period_start": 2005, "period_end": 2010})
    wb = load_workbook(path)
    ws = wb["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    ws.insert_cols(1)  # a reviewer's own column, headed like a field
    ws.cell(row=1, column=1, value="evidence_type")
    wb.save(path)
    outcome = read()
    values = {(r["study_id"], r["field"], r["value"]) for r in csv_rows(tmp / "evidence/evidence.csv")}
    assert ("z:3", "evidence_type", FORM["evidence_type"].code_for(GOOD["evidence_type"])) in values
    letters = f"columns A, {ws.cell(row=1, column=header['evidence_type'] + 1).column_letter}"
    assert [(p.code, p.column, p.value) for p in outcome.problems if p.code != "missing-required"] == [
        ("duplicate-column", "evidence_type", letters)]


# --- repeatable sub-records: the lessons sheet ----------------------------------------------------------------


def test_each_lesson_is_a_row_of_the_lessons_sheet_with_its_own_audience(project):
    tmp, config, refresh, read = project
    config["reviewers"] = ["alice"]
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames[:2] == ["extraction", "lessons"]
    ws = wb["lessons"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["study_id", "citation", "tier", "title"] and "lesson_audience:systems" in header
    assert [(r[0], r[2]) for r in ws.iter_rows(min_row=2, values_only=True) if r[0]] == [
        ("z:1", "Integrated Care System (non-statutory)"), ("z:1", "Integrated Care Board"),
        ("z:2", "Sustainability and Transformation Partnership"), ("z:3", "Strategic Health Authority")]
    assert ws.cell(row=2, column=1).protection.locked and not ws.cell(row=6, column=1).protection.locked  # spare row
    stance = header.index("lesson_stance") + 1
    assert any(dv.formula1 == "labels_lesson_stance" and f"{ws.cell(row=2, column=stance).coordinate}" in str(dv.sqref)
               for dv in ws.data_validations.dataValidation)
    set_cells(path, "z:2", "STP", **GOOD)
    set_item(path, "z:2", "STP", lessons_for_ics="Hold the ring.", lesson_audience="national_bodies",
             lesson_stance="Cautions", key_quote="hold the ring", lesson_locator="p. 3")
    spare = set_item(path, "z:2", "STP", row=None, lessons_for_ics="Plan money together.",
                     lesson_audience="systems; places")
    assert spare == 6
    result = read()
    lessons = {(r["item"], r["field"], r["value"]) for r in csv_rows(tmp / "evidence/evidence.csv")
               if r["study_id"] == "z:2" and r["item"]}
    assert {("1", "lessons_for_ics", "Hold the ring."), ("1", "lesson_audience", "national_bodies"),
            ("2", "lessons_for_ics", "Plan money together."), ("2", "lesson_audience", "systems"),
            ("2", "lesson_audience", "places")} <= lessons
    assert not {("1", "lesson_audience", "systems"), ("2", "lesson_audience", "national_bodies")} & lessons
    assert not [p for p in result.problems if p.severity == "error"]
    assert refresh(STUDIES)[0].outcome == "unchanged"  # the typed lessons are left as they are


def older_codebook(tmp_path):
    """The project's codebook as it was in version 1.1: each study x tier row held one lessons cell."""
    import yaml

    data = yaml.safe_load(without_repeats(tmp_path).read_text(encoding="utf-8"))
    data["version"] = "1.1"
    for group in data["groups"]:
        group["fields"] = [f for f in group["fields"] if f["name"] != "lesson_locator"]
    data["changes"] = [c for c in data["changes"] if str(c["version"]) != "1.2"]
    path = tmp_path / "codebook-1.1.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_an_older_workbooks_lessons_move_to_the_lessons_sheet_and_keep_counting(project):
    tmp, config, refresh, read = project
    config["reviewers"] = ["alice"]
    config["extraction"]["codebook"] = str(older_codebook(tmp))
    refresh(STUDIES)
    path = tmp / "extracts/alice.xlsx"
    assert "lessons" not in load_workbook(path).sheetnames
    row = set_cells(path, "z:2", "STP", **GOOD, lessons_for_ics="Hold the ring.", lesson_audience="national_bodies",
                    lesson_stance="Cautions", key_quote="hold the ring")

    config["extraction"]["codebook"] = str(PROJECT / "protocols/codebook.yaml")
    refresh(STUDIES)

    wb = load_workbook(path)
    main = {c.value: c.column for c in wb["extraction"][1] if c.value}
    aside = main["lessons_for_ics (moved to lessons in 1.2)"]
    assert wb["extraction"].cell(row=row, column=aside).value == "Hold the ring."  # kept where it was typed
    assert "lessons_for_ics" not in main
    items = [r for r in wb["lessons"].iter_rows(min_row=2, values_only=True) if r[0] == "z:2"]
    header = [c.value for c in wb["lessons"][1]]
    assert len(items) == 1 and items[0][header.index("lessons_for_ics")] == "Hold the ring."
    assert items[0][header.index("lesson_audience:national_bodies")] == "x"
    logged = [r for r in csv_rows(tmp / "extracts/cell-changes.csv") if r["sheet"] == "lessons"]
    assert {(r["column"], r["new"]) for r in logged} >= {("lessons_for_ics", "Hold the ring."),
                                                          ("key_quote", "hold the ring")}
    assert all("moved to the lessons sheet" in r["why"] for r in logged)
    read()
    evidence_rows = {(r["item"], r["field"], r["value"]) for r in csv_rows(tmp / "evidence/evidence.csv")
                     if r["study_id"] == "z:2"}
    assert {("1", "lessons_for_ics", "Hold the ring."), ("1", "lesson_stance", "cautions")} <= evidence_rows
