"""The base every reviewer file goes through (review.workbooks.base): by header, below the last used row,
backed up, and refused rather than guessed at. Real .xlsx files written and read back with openpyxl."""

from __future__ import annotations

import datetime
import hashlib
import zipfile

import pytest
from filesystems import fill, tmpfs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from review.workbooks import base, reading


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
    table = reading.read_table(path, "data", required=["study_id", "decision"])
    assert list(table.records(["study_id", "decision", "absent"])) == [
        (2, {"study_id": "S1", "decision": "include", "absent": None}),
        (3, {"study_id": None, "decision": None, "absent": None}),
        (4, {"study_id": "S2", "decision": "exclude", "absent": None})]


def test_a_missing_column_sheet_or_damaged_file_is_an_error_naming_it(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id", "notes"], ["S1", "x"])
    with pytest.raises(base.WorkbookError, match=r"the 'data' sheet of .*a\.xlsx has no 'decision' column"):
        reading.read_table(path, "data", required=["study_id", "decision"])
    with pytest.raises(base.WorkbookError, match=r"has no 'decisions' sheet \(it has: data\)"):
        reading.read_table(path, "decisions")
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    with pytest.raises(base.WorkbookError, match="cannot be read as an .xlsx workbook"):
        reading.read_table(damaged, "data")


def test_attack_a_workbook_with_a_part_that_inflates_to_gigabytes_is_refused_before_parsing(tmp_path):
    from review.workbooks import xlsxml

    path = workbook(tmp_path / "a.xlsx", ["study_id", "title"], ["S1", "One"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:  # a part no sheet refers to
        archive.writestr("xl/worksheets/unused.xml", b"\0" * (40 << 20))
    for read in (lambda: reading.read_table(path, "data"), lambda: base.open_for_update(path),
                 lambda: reading.sheet_names(path)):
        with pytest.raises(base.WorkbookError, match=r"a.xlsx was not opened: its part xl/worksheets/unused.xml "
                                                     r"would inflate to 41,943,040 bytes"):
            read()
    with pytest.raises(xlsxml.PartTooLarge):
        xlsxml.Workbook.open(path)


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


def test_attack_control_characters_never_stop_a_workbook_from_being_written(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id", "title"], ["S1", "One"])
    wb = load_workbook(path)
    base.append_rows(wb["data"], [{"study_id": "S2", "title": "A ti\x00tle\x1b with=\x07"},
                                  {"study_id": "S3", "title": "\x00=cmd|' /C calc'!A0"}])
    base.save(wb, path)  # openpyxl raised IllegalCharacterError on the NUL
    table = reading.read_table(path, "data")
    assert [row for _, row in table.rows] == [("S1", "One"), ("S2", "A title with="), ("S3", "'=cmd|' /C calc'!A0")]


def test_appended_rows_are_dressed_as_the_style_dresses_each_cell_and_keep_what_a_cell_had(tmp_path):
    from openpyxl.styles import Alignment, PatternFill, Protection

    def style(cell, name):  # as the workbooks' own: by the column's name only
        cell.protection = Protection(locked=name == "study_id")
        cell.alignment = Alignment(wrap_text=name == "title", vertical="top")

    rows = [{"study_id": f"S{k}", "title": f"Title {k}", "notes": ""} for k in range(30)]
    sheets = []
    for dressed in (True, False):
        wb = Workbook()
        ws = wb.active
        ws.append(["study_id", "title", "notes"])
        ws.cell(row=7, column=2).fill = PatternFill("solid", fgColor="FFFF0000")  # a spare cell a reviewer coloured
        if dressed:
            base.append_rows(ws, rows, style)
        else:  # each cell dressed by the style itself, the reference
            base.append_rows(ws, rows)
            for row in ws.iter_rows(min_row=2, max_row=31):
                for cell in row:
                    style(cell, ws.cell(row=1, column=cell.column).value)
        wb.save(tmp_path / f"{dressed}.xlsx")
        read = load_workbook(tmp_path / f"{dressed}.xlsx").active
        sheets.append([(c.protection.locked, c.alignment.wrap_text, c.alignment.vertical, c.fill.fgColor.rgb)
                       for row in read.iter_rows(min_row=2, max_row=31) for c in row])
    assert sheets[0] == sheets[1]
    assert sheets[0][5 * 3 + 1] == (False, True, "top", "FFFF0000")  # row 7's title: kept its colour
    assert sheets[0][0][0] is True and sheets[0][1][:3] == (False, True, "top")


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


def test_an_open_workbook_kept_in_a_synced_folder_is_left_alone_where_it_is_open(tmp_path):
    synced = workbook(tmp_path / "synced.xlsx", ["study_id"], ["S1"])
    (tmp_path / "extracts").mkdir()
    link = tmp_path / "extracts" / "a.xlsx"
    link.symlink_to(synced)
    (tmp_path / ".~lock.synced.xlsx#").write_text("lock")  # the program that opened it locks the file itself
    with pytest.raises(base.WorkbookError, match="open in a spreadsheet program"):
        base.open_for_update(link)


def hash_named(folder):
    """Every backup in ``folder`` and whether it holds the content its name says."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] == p.name.split(".")[-2]
            for p in folder.glob("*.*.*")}


def test_a_backup_that_does_not_hold_its_content_is_written_again_never_trusted(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id"], ["S1"])
    before = path.read_bytes()
    name = tmp_path / ".backup" / f"a.{hashlib.sha256(before).hexdigest()[:12]}.xlsx"
    name.parent.mkdir()
    name.write_bytes(before[:1000])  # a backup cut short by a full disk, under the real workbook's hash
    wb = base.open_for_update(path)
    wb.active.append(["S2"])
    assert base.save(wb, path) == name
    assert name.read_bytes() == before


def test_a_disk_that_fills_during_a_backup_leaves_no_backup_under_its_name_and_the_workbook_as_it_was(tmp_path):
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    path = workbook(extracts / "a.xlsx", ["study_id", "notes"], *[[f"S{k}", "typed " * 50] for k in range(400)])
    before = path.read_bytes()
    with tmpfs(extracts, "1m"):
        filler = fill(extracts, leave=len(before) // 2)  # the backup starts and cannot end
        wb = base.open_for_update(path)
        wb.active.append(["S-new"])
        with pytest.raises(base.WorkbookError) as refused:
            base.save(wb, path)
        assert "no space is left on its disk" in str(refused.value) and f"{path} was not written" in str(refused.value)
        assert path.read_bytes() == before and not list((extracts / ".backup").glob("a.*"))
        filler.unlink()  # space again: the backup is made, whole
        made = base.save(wb, path)
        assert made.read_bytes() == before and hash_named(extracts / ".backup") == {made.name: True}


def test_the_study_ledger_and_the_screening_order_are_backed_up_before_each_append(tmp_path):
    from review.workbooks import ledger, order

    folder = tmp_path / "extracts"
    row = {"study_id": "Smith2020", "event": "new", "record_id": "s:1", "other": "", "fingerprint": ""}
    ledger.append(folder / "studies.csv", [row])
    first = (folder / "studies.csv").read_bytes()
    ledger.append(folder / "studies.csv", [row | {"study_id": "Jones2021"}])
    order.append(order.order_path(folder), 0, ["Smith2020"], {"Smith2020": 1})
    order.append(order.order_path(folder), 1, ["Jones2021"], {})
    backups = sorted((folder / ".backup").iterdir())
    assert [p.name.split(".")[0] for p in backups] == ["screening-order", "studies"]
    assert backups[1].read_bytes() == first and all(hash_named(folder / ".backup").values())


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
    table = reading.read_table(path, "data")
    assert [values for _, values in table.records(["n_interviews"])] == [{"n_interviews": "=2*6"},
                                                                         {"n_interviews": 12}]


def test_text_typed_with_an_equals_sign_first_is_text_and_a_formula_cell_a_formula(tmp_path):
    from review.model import Formula

    path = workbook(tmp_path / "a.xlsx", ["study_id", "notes"], ["S1", "=2*6"], ["S2", "= a note"], ["S3", "plain"])
    wb = load_workbook(path)
    wb["data"]["B3"].data_type = "s"  # as Excel stores '= a note: text
    wb.save(path)
    values = [row["notes"] for _, row in reading.read_table(path, "data").records(["notes"])]
    assert values == ["=2*6", "= a note", "plain"]
    assert [isinstance(v, Formula) for v in values] == [True, False, False]


def test_a_header_given_to_an_inserted_column_does_not_hide_the_fields_values(tmp_path):
    path = workbook(tmp_path / "a.xlsx", ["study_id", "tier", "notes", "tier"], ["S1", None, "mine", "SHA"],
                    ["S2", "RHA", None, None], ["S3", "note", None, "PCT"])
    table = reading.read_table(path, "data")
    assert table.repeated == {"tier": [1, 3]}
    assert [row["tier"] for _, row in table.records(["tier"])] == ["SHA", "RHA", "note"]


def _openpyxl_rows(path, sheet):
    """What openpyxl's read-only mode gives (the reference the fast reader must match), trailing empty rows
    dropped."""
    wb = load_workbook(path, read_only=True, data_only=False)
    rows = [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def _read_all(path, sheet):
    table = reading.read_table(path, sheet)
    return [tuple(table.header), *(values for _, values in table.rows)]


def _refuse_openpyxl(*args, **kwargs):
    raise AssertionError("read through openpyxl, not calamine")


plain_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda f: abs(f) < 1e15),
    st.text(alphabet=st.characters(whitelist_categories=("L", "N", "P", "Zs")), max_size=12))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(plain_values, min_size=1, max_size=5), min_size=1, max_size=8))
def test_the_fast_reader_reads_exactly_what_openpyxl_reads(tmp_path, rows):
    path = workbook(tmp_path / "plain.xlsx", ["study_id", "decision", "notes", "n", "x"], *rows)
    expected = [tuple(r) for r in _openpyxl_rows(path, "data")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "load_workbook", _refuse_openpyxl)  # proves calamine read it
        got = _read_all(path, "data")
    typed = [[(type(v), v) for v in r] for r in got[1:]]  # 2 == 2.0 and 1 == True: compare the types too
    assert typed == [[(type(v), v) for v in r] for r in expected[1:]]
    assert got[0] == tuple(base.text(h) for h in expected[0])


@pytest.mark.parametrize("value", ["=2*6", "#N/A", "a_x000D_b", datetime.datetime(2024, 3, 1, 12, 0)])
def test_what_calamine_would_read_differently_is_read_by_openpyxl(tmp_path, value):
    path = workbook(tmp_path / "a.xlsx", ["study_id", "value"], ["S1", value], ["S2", 12])
    assert _read_all(path, "data")[1:] == _openpyxl_rows(path, "data")[1:]
    assert _read_all(path, "data")[1][1] == value


def test_rows_keep_the_numbers_the_spreadsheet_shows_when_the_first_rows_and_columns_are_empty(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws["B1"], ws["B3"], ws["C3"] = "study_id", "S1", "include"
    wb.save(tmp_path / "a.xlsx")
    table = reading.read_table(tmp_path / "a.xlsx", "data")
    assert table.header[:2] == ["", "study_id"]
    assert list(table.records(["study_id"])) == [(2, {"study_id": None}), (3, {"study_id": "S1"})]


def test_a_workbook_read_again_unchanged_is_not_parsed_again_but_a_changed_one_is(tmp_path, monkeypatch):
    path = workbook(tmp_path / "a.xlsx", ["study_id", "decision"], ["S1", "include"])
    first = reading.read_table(path, "data")
    monkeypatch.setattr(reading, "_read_tables", _refuse_openpyxl)
    assert reading.read_table(path, "data") is first  # the same bytes: the same tables
    monkeypatch.undo()
    workbook(path, ["study_id", "decision"], ["S1", "exclude"])  # same size, same second, other bytes
    assert list(reading.read_table(path, "data").records(["decision"])) == [(2, {"decision": "exclude"})]
    assert reading.sheet_names(path) == ["data"]
