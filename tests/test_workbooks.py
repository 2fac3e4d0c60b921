"""The base every reviewer file goes through (review.workbooks.base): by header, below the last used row,
backed up, and refused rather than guessed at. Real .xlsx files written and read back with openpyxl."""

from __future__ import annotations

import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from review.workbooks import base


def workbook(path, header, *rows, sheet="data"):
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_rows_are_read_by_header_name_wherever_the_columns_are(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["my notes", "decision", "study_id"], ["typed", "include", "S1"],
                    [None, None, None], ["", "exclude", "S2"])
    table = base.read_table(path, "data", required=["study_id", "decision"])
    assert list(table.records(["study_id", "decision", "absent"])) == [
        (2, {"study_id": "S1", "decision": "include", "absent": None}),
        (3, {"study_id": None, "decision": None, "absent": None}),
        (4, {"study_id": "S2", "decision": "exclude", "absent": None})]


def test_a_missing_column_sheet_or_damaged_file_is_an_error_naming_it(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id", "notes"], ["S1", "x"])
    with pytest.raises(base.WorkbookError, match=r"the 'data' sheet of .*a\.xlsx has no 'decision' column"):
        base.read_table(path, "data", required=["study_id", "decision"])
    with pytest.raises(base.WorkbookError, match=r"has no 'decisions' sheet \(it has: data\)"):
        base.read_table(path, "decisions")
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    with pytest.raises(base.WorkbookError, match="cannot be read as an .xlsx workbook"):
        base.read_table(damaged, "data")


def test_appends_go_below_the_last_used_row_by_header_name(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["inserted", "study_id", "title"], ["typed by a reviewer", "S1", "One"],
                    [None, None, None], ["a value in a spare row", None, None])
    wb = load_workbook(path)
    ws = wb["data"]
    first = base.append_rows(ws, [{"study_id": "S2", "title": "=HYPERLINK(\"x\")"}])
    assert first == 5  # never into a row where anything was typed
    assert [c.value for c in ws[5]] == [None, "S2", "'=HYPERLINK(\"x\")"]
    assert ws.cell(row=5, column=3).data_type == "s"
    assert ws["A4"].value == "a value in a spare row" and ws["A2"].value == "typed by a reviewer"


def test_save_backs_up_the_previous_bytes_once_and_replaces_atomically(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id"], ["S1"])
    before = path.read_bytes()
    wb = base.open_for_update(path)
    wb.active.append(["S2"])
    backup = base.save(wb, path)
    assert backup.read_bytes() == before and backup.parent.name == ".backup"
    assert base.backup(path) != backup  # the new content gets its own name
    assert [v for (v,) in load_workbook(path).active.iter_rows(values_only=True)] == ["study_id", "S1", "S2"]


def test_an_open_workbook_is_left_alone(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id"], ["S1"])
    (tmp_path / ".~lock.a.xlsx#").write_text("lock")
    with pytest.raises(base.WorkbookError, match="open in a spreadsheet program"):
        base.open_for_update(path)


@pytest.mark.parametrize(("value", "shown"), [("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2", "-2"), ("-2+3", "'-2+3"), ("@SUM(1)", "'@SUM(1)"),
                                              ("plain", "plain"), (3, 3)])
def test_formulas_are_neutralised(value, shown):
    assert base.neutralise(value) == shown


def test_digest_is_stable_and_sensitive():
    assert base.digest([("a", 1)]) == base.digest([("a", 1)])
    assert base.digest([("a", 1)]) != base.digest([("a", 2)])
    assert base.digest([("a", "b")]) != base.digest([("ab",)])  # parts are kept apart


def test_a_formula_cell_is_read_as_its_formula_not_as_empty(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id", "n_interviews"], ["S1", "=2*6"], ["S2", 12])
    table = base.read_table(path, "data")
    assert [values for _, values in table.records(["n_interviews"])] == [{"n_interviews": "=2*6"},
                                                                         {"n_interviews": 12}]
