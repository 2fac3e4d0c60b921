"""Workbooks edited in their XML (review.workbooks.xlsxml): read as openpyxl reads them, written so that
openpyxl and LibreOffice read back what was set, and a screening refresh done this way
(review.workbooks.screening_xml) gives the workbook the openpyxl path gives, cell for cell and style for style."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from test_screening import OTHER, RELEVANT, run_with, write_titled

from review.screening import FT, TA, Settings
from review.workbooks import reading, screening_xml, xlsxml
from review.workbooks import screening as screening_wb
from review.workbooks.screening_layout import SHEETS

values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**9, 10**9),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: abs(f) < 1e15),
    st.text(alphabet=st.characters(whitelist_categories=("L", "N", "P", "Zs")), max_size=10))


def saved(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def openpyxl_values(data: bytes, sheet: str = "Sheet"):
    ws = load_workbook(io.BytesIO(data))[sheet]
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(values, max_size=5), max_size=6), edits=st.lists(
    st.tuples(st.integers(1, 9), st.integers(1, 7), values), max_size=8))
def test_cells_read_as_openpyxl_reads_them_and_set_as_openpyxl_reads_them_back(rows, edits):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    data = saved(wb)
    book = xlsxml.Workbook(data)
    sheet = book.sheet("Sheet")
    got = {(n, k): v for n in sheet.numbers() for k, v in sheet.row_values(n).items()}
    expected = openpyxl_values(data)
    assert {key: (type(v), v) for key, v in got.items()} == {key: (type(v), v) for key, v in expected.items()}
    for number, column, value in edits:
        sheet.set(number, column, value)
        expected.pop((number, column), None)
        if value is not None and value != "":
            expected[(number, column)] = value
    after = openpyxl_values(book.to_bytes())
    assert {key: (type(v), v) for key, v in after.items()} == {key: (type(v), v) for key, v in expected.items()}


@pytest.mark.parametrize("value", ["=1+1", "#N/A", "a_x000D_b"])
def test_what_it_would_not_read_as_openpyxl_does_is_refused(value):
    wb = Workbook()
    wb.active.append(["study_id", value])
    with pytest.raises(xlsxml.NotPlain):
        xlsxml.Workbook(saved(wb))


SHEET_XML = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><r><t>Strat</t></r><r><rPr><b/></rPr><t xml:space="preserve">egic </t></r>\
<rPh sb="0" eb="1"><t>phonetic, never read</t></rPh></is></c><c r="B1" t="b"><v>1</v></c><c r="C1"><v>2.5</v></c>\
<c r="D1" t="str"><v>text</v></c><c r="E1" t="inlineStr"><is><t>plain</t></is></c><c r="F1" t="inlineStr"/>\
<c r="AB1" t="n"><v> 12 </v></c></row>
<row r="3"><c r="B3"><v>7</v></c><c r="C3" s="0"/></row>
</sheetData></worksheet>"""


def with_part(name, change):
    """A one-cell workbook saved by openpyxl with its part ``name`` changed by ``change`` (bytes -> bytes)."""
    wb = Workbook()
    wb.active.append(["x"])
    source = zipfile.ZipFile(io.BytesIO(saved(wb)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, change(data) if info.filename == name else data)
    return buffer.getvalue()


def test_rich_and_phonetic_inline_strings_and_every_plain_type_are_read_as_openpyxl_reads_them():
    # the sheet is read in one walk of its elements (a state machine over rows, cells, values and texts)
    data = with_part("xl/worksheets/sheet1.xml", lambda _: SHEET_XML)
    sheet = xlsxml.Workbook(data).sheet("Sheet")
    got = {(n, k): v for n in sheet.numbers() for k, v in sheet.row_values(n).items()}
    expected = openpyxl_values(data)
    assert {key: (type(v), v) for key, v in got.items()} == {key: (type(v), v) for key, v in expected.items()}
    assert got[(1, 1)] == "Strategic " and got[(1, 28)] == 12 and sheet.numbers() == [1, 3]


def test_a_part_declaring_entities_is_refused():
    def declared(data):
        head, mark, rest = data.partition(b"?>")
        return head + mark + b'<!DOCTYPE x [<!ENTITY e "e">]>' + rest if mark else b'<!DOCTYPE x [<!ENTITY e "e">]>' + data

    with pytest.raises(xlsxml.NotPlain, match="entities"):
        xlsxml.Workbook(with_part("xl/workbook.xml", declared)).sheet("Sheet")


def _cells(path):
    """Every cell of every sheet as openpyxl reads it, with what a reviewer sees of its style."""
    wb = load_workbook(path)
    out = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": {(c.row, c.column): (c.value, c.protection.locked, c.alignment.wrap_text, c.font.b,
                                          c.fill.fgColor.rgb) for row in ws.iter_rows() for c in row
                      if c.value is not None or c.has_style},
            "validations": sorted((str(dv.sqref), dv.formula1) for dv in ws.data_validations.dataValidation),
            "protected": ws.protection.sheet, "freeze": ws.freeze_panes}
    return out


def _reviewed(tmp_path):
    """A screening workbook after two refreshes, with a decision, an inclusion and a column of alice's own."""
    titles = [RELEVANT[0], OTHER[0], RELEVANT[1], OTHER[1], OTHER[2], OTHER[3]]
    write_titled(tmp_path, titles, {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path, seed=1)
    path = tmp_path / "extracts/screening-alice.xlsx"
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(row=4, column=col["decision"], value="exclude")
    ws.cell(row=4, column=col["reason"], value="opinion")
    ws.cell(row=1, column=len(col) + 1, value="my flag")
    ws.cell(row=6, column=len(col) + 1, value="ask Bob")
    wb.save(path)
    write_titled(tmp_path, [*titles, RELEVANT[2]], {"s0": "screen:include", "s1": "screen:exclude:opinion"})
    run_with(tmp_path, seed=1)
    return path, [*titles, RELEVANT[2]]


def _both_ways(monkeypatch, folder, path, settings_, wanted, ranking, guide, appended):
    """The same refresh given to two copies of ``path``, one written in XML (asserted), one through openpyxl;
    both append ``appended`` rows and give the same cells and styles. Returns the two copies."""
    fast, slow = folder / "fast.xlsx", folder / "slow.xlsx"
    shutil.copy(path, fast)
    shutil.copy(path, slow)
    taken = []
    real = screening_xml.append_in_xml
    monkeypatch.setattr(screening_wb, "append_in_xml", lambda *a: taken.append(real(*a)) or taken[-1])
    assert screening_wb.append_studies(fast, settings_, wanted, ranking, guide) == appended
    assert taken == [appended]  # written in XML
    monkeypatch.setattr(screening_wb, "append_in_xml", lambda *a: None)
    assert screening_wb.append_studies(slow, settings_, wanted, ranking, guide) == appended
    assert _cells(fast) == _cells(slow)
    return fast, slow


def test_a_refresh_written_in_xml_gives_the_workbook_the_openpyxl_path_gives(tmp_path, monkeypatch):
    path, titles = _reviewed(tmp_path)
    settings_ = Settings.from_config({"screening": {"exclusion_reasons": [{"code": "opinion", "label": "Opinion"}]},
                                      "extraction": {"folder": str(tmp_path / "extracts")}})
    # the next refresh: a new ranking, two new studies, one more study in the full-text sheet, new guidance
    studies = [{"study_id": f"s{k}", "citation": f"  Smith 2020{k} ", "year": "2020", "title": t,
                "abstract": "=SUM(1) an abstract", "container": ""}
               for k, t in enumerate([*titles, "Clinical commissioning groups", "Primary care trusts"])]
    ranking = {s["study_id"]: (k + 1, round(0.5 - k / 10, 4)) for k, s in enumerate(reversed(studies))}
    wanted = {TA: studies, FT: [studies[0], studies[2]]}
    guide = ["Screening prioritisation", "", "Progress: 3 of 9", "+not a formula"]
    fast, slow = _both_ways(monkeypatch, tmp_path, path, settings_, wanted, ranking, guide, appended=3)
    sheets = list(SHEETS.values())  # and the stage's fast reader reads the inline strings alike
    read = {name: [values for _, values in table.rows] for name, table in reading.read_tables(fast, sheets).items()}
    assert read == {name: [values for _, values in table.rows] for name, table in reading.read_tables(slow, sheets).items()}
    assert (tmp_path / "extracts/.backup").exists() or fast.with_name(".backup").exists()

    # the same refresh again changes nothing, so the file is not written
    before = fast.read_bytes()
    assert screening_wb.append_studies(fast, settings_, wanted, ranking, guide) == 0
    assert fast.read_bytes() == before


def _before_prioritisation(tmp_path):
    """A screening workbook from a first run (no decision, so no ranking and no rank columns), then typed
    in: an exclusion, and a column of alice's own with a note in an untyped row."""
    titles = [RELEVANT[0], OTHER[0], RELEVANT[1], OTHER[1], OTHER[2]]
    write_titled(tmp_path, titles, {})
    run_with(tmp_path, seed=1)
    path = tmp_path / "extracts/screening-alice.xlsx"
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    col = {c.value: c.column for c in ws[1]}
    assert "rank" not in col
    ws.cell(row=3, column=col["decision"], value="exclude")
    ws.cell(row=1, column=len(col) + 1, value="my flag")
    ws.cell(row=5, column=len(col) + 1, value="ask Bob")
    wb.save(path)
    studies = [{"study_id": f"s{k}", "citation": f"Smith 2020{k}", "year": "2020", "title": t, "abstract": "",
                "container": ""} for k, t in enumerate([*titles, "Clinical commissioning groups"])]
    typed = {ws.cell(row=n, column=col["study_id"]).value: n for n in (3, 5)}
    return path, studies, typed


def test_a_first_ranking_adds_the_rank_columns_in_xml_as_openpyxl_adds_them(tmp_path, monkeypatch):
    path, studies, typed = _before_prioritisation(tmp_path)
    settings_ = Settings.from_config({"screening": {}, "extraction": {"folder": str(tmp_path / "extracts")}})
    ranking = {s["study_id"]: (k + 1, round(0.9 - k / 10, 4)) for k, s in enumerate(reversed(studies))}
    fast, _ = _both_ways(monkeypatch, tmp_path, path, settings_, {TA: studies}, ranking, (), appended=1)
    ws = load_workbook(fast)["title-abstract"]
    header = [c.value for c in ws[1]]
    assert header[-3:] == ["my flag", "rank", "score"]  # after alice's column, which keeps its place
    rows = {n: dict(zip(header, r)) for n, r in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2)
            if r[0]}
    assert {r["study_id"]: n for n, r in rows.items() if r["decision"] or r["my flag"]} == typed  # in place
    assert {rows[n]["decision"] for n in typed.values()} == {"exclude", None}
    untyped = [r["study_id"] for r in rows.values() if r["rank"] is not None]
    assert untyped == sorted(untyped, key=lambda s: ranking[s][0]) and len(untyped) == len(studies) - 2


def test_a_cell_where_the_rank_columns_would_go_leaves_the_first_ranking_to_openpyxl(tmp_path):
    path, studies, _ = _before_prioritisation(tmp_path)
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    ws.cell(row=2, column=ws.max_column + 1, value="a note under no header")
    wb.save(path)
    ranking = {s["study_id"]: (k + 1, 0.5) for k, s in enumerate(studies)}
    assert screening_xml.append_in_xml(path, {TA: studies}, ranking, ()) is None


def test_a_workbook_the_xml_path_cannot_take_is_left_to_openpyxl(tmp_path):
    path, titles = _reviewed(tmp_path)
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    notes = [c.column for c in ws[1] if c.value == "notes"][0]
    ws.cell(row=3, column=notes, value="=1+1")  # a formula: read differently, so not edited in XML
    wb.save(path)
    settings_ = Settings.from_config({"screening": {}, "extraction": {"folder": str(tmp_path / "extracts")}})
    studies = [{"study_id": f"s{k}", "citation": "", "year": "", "title": t, "abstract": "", "container": ""}
               for k, t in enumerate(titles)]
    assert screening_xml.append_in_xml(path, {TA: studies}, {"s0": (1, 1.0)}, ()) is None
    screening_wb.append_studies(path, settings_, {TA: studies}, {"s0": (1, 1.0)})
    assert load_workbook(path)["title-abstract"].cell(row=3, column=notes).value == "=1+1"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("ranked_before", [True, False], ids=["ranked-before", "first-ranking"])
def test_libreoffice_opens_a_workbook_written_in_xml_and_keeps_every_value(tmp_path, ranked_before):
    if ranked_before:
        path, titles = _reviewed(tmp_path)
        studies = [{"study_id": f"s{k}", "citation": "", "year": "2020", "title": t, "abstract": "text",
                    "container": ""} for k, t in enumerate([*titles, "A new study"])]
    else:  # the rank columns' header cells written in XML too
        path, studies, _ = _before_prioritisation(tmp_path)
    ranking = {s["study_id"]: (k + 1, round(0.1 * k, 4)) for k, s in enumerate(studies)}
    assert screening_xml.append_in_xml(path, {TA: studies}, ranking, ["line one", "line two"]) == 1
    out = tmp_path / "lo"
    result = subprocess.run(["soffice", "--headless", "--norestore", "--convert-to", "xlsx", "--outdir", str(out),
                             str(path)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    ours, theirs = load_workbook(path), load_workbook(out / path.name)
    for name in ("title-abstract", "instructions"):
        assert [[c.value for c in r] for r in ours[name].iter_rows()] == \
               [[c.value for c in r] for r in theirs[name].iter_rows()][:ours[name].max_row]


