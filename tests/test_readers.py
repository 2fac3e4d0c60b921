"""Each reader on realistic exports, including broken ones."""

from __future__ import annotations

import json

import pytest

from review.errors import ERROR, WARNING, SourceError
from review.readers import READERS, read_file


def by_key(result):
    return {r.source_key: r for r in result.records}


def codes(result):
    return sorted((p.code, p.row) for p in result.problems)


def test_every_format_of_the_protocol_has_a_reader():
    from review.protocol import SUFFIX_FORMATS

    assert set(SUFFIX_FORMATS.values()) <= set(READERS)


# --- BibTeX ---------------------------------------------------------------------------------


def test_bibtex_decodes_latex_splits_names_and_keeps_lines(fixtures):
    result = read_file(fixtures / "bibtex/good.bib", "bibtex", source="lib")
    records = by_key(result)

    assert result.problems == []
    lorne = records["lorne2019ics"]
    assert lorne.record_id == "lib:lorne2019ics"
    assert lorne.line == 4
    assert lorne.title.startswith("Integrated Care Systems: What can current reforms")
    assert [c.display() for c in lorne.creators] == ["Lorne, Colin", "Allen, Pauline", "Osipovič, Dorota"]
    assert (lorne.item_type, lorne.year, lorne.date, lorne.place) == ("report", "2019", "2019-11", "London")
    assert lorne.institution.endswith("(PRUComm)")
    assert lorne.tags == ["tier-ics", "tier-rha", "tier-sha"]

    hammond = records["hammond2017spatial"]
    assert hammond.container == "Social Science & Medicine"
    assert hammond.pages == "217-226"
    assert hammond.doi == "10.1016/j.socscimed.2017.08.007"
    assert hammond.original["doi"] == "https://doi.org/10.1016/J.SOCSCIMED.2017.08.007"  # original kept


def test_bibtex_braced_author_is_an_organisation_and_strings_expand(fixtures):
    records = by_key(read_file(fixtures / "bibtex/good.bib", "bibtex"))

    plan = records["nhsengland2019ltp"]
    assert plan.creators[0].name == "NHS England" and not plan.creators[0].family
    assert plan.url == "https://www.longtermplan.nhs.uk/"
    assert plan.item_type == "webpage"
    assert plan.extra == "Published 7 January 2019"
    book = records["kf2022"]
    assert book.publisher == "The King's Fund"  # from @string
    assert [c.role for c in book.creators] == ["author", "editor"]
    assert book.title.endswith("2000–20: how political failure led to the crisis in the NHS and social care")
    assert book.isbn == "9781909029990"


def test_bibtex_broken_entries_are_reported_and_the_rest_imports(fixtures):
    result = read_file(fixtures / "bibtex/broken.bib", "bibtex", source="lib")

    assert sorted(by_key(result)) == ["good1", "good2"]
    assert result.records[-1].record_id == "lib:good1@L33"  # a reused key keeps both entries apart
    assert codes(result) == [
        ("duplicate-key", "33"),
        ("empty-entry", "29"),
        ("invalid-doi", "15"),
        ("invalid-year", "33"),
        ("malformed-entry", "23"),
        ("malformed-entry", "8"),
    ]
    unbalanced = next(p for p in result.problems if p.row == "8")
    assert unbalanced.severity == ERROR
    assert "unbalanced braces" in unbalanced.hint
    assert unbalanced.file.endswith("broken.bib")
    assert next(p for p in result.problems if p.code == "invalid-doi").value == "not a doi"


def test_file_without_entries_is_not_bibtex(tmp_path):
    path = tmp_path / "notes.bib"
    path.write_text("just some notes\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not a BibTeX file"):
        read_file(path, "bibtex")


# --- RIS ------------------------------------------------------------------------------------


def test_ris_reads_bom_one_space_tags_and_a_final_record_without_er(fixtures):
    result = read_file(fixtures / "ris/hmic_export.ris", "ris", source="hmic")
    records = by_key(result)

    assert sorted(records) == ["HMIC001", "HMIC002", "HMIC003"]
    assert codes(result) == [("missing-end-tag", "29"), ("nonstandard-ris-tags", "19")]
    assert all(p.severity == WARNING for p in result.problems)
    first = records["HMIC001"]
    assert first.title.endswith("qualitative study of three Integrated Care Systems")  # continuation line joined
    assert [c.display() for c in first.creators] == ["Sanderson, M", "Allen, P", "Osipovic, D"]
    assert (first.year, first.container, first.doi, first.database) == (
        "2023", "BMJ Open", "10.1136/bmjopen-2022-065993", "HMIC")
    assert first.tags == ["Governance", "Integrated care systems"]
    assert first.line == 1
    report = records["HMIC002"]
    assert (report.item_type, report.publisher, report.place) == ("report", "The King's Fund", "London")
    assert records["HMIC003"].container == "BMJ"


def test_text_that_is_not_ris_is_one_clear_error(fixtures):
    with pytest.raises(SourceError, match=r"not_ris\.ris: not a RIS file"):
        read_file(fixtures / "ris/not_ris.ris", "ris")


# --- CSL-JSON -------------------------------------------------------------------------------


def test_csljson_from_zotero_keeps_item_keys_and_library(fixtures):
    result = read_file(fixtures / "csljson/zotero_export.json", "csljson", source="zotero")
    records = by_key(result)

    article = records["X7KQ2M9P"]
    assert article.zotero_key == "users/4815162:X7KQ2M9P"
    assert (article.year, article.date, article.issn) == ("2023", "2023-02-08", "2044-6055")
    assert article.tags == ["tier-icb", "tier-ics"]
    report = records["R6ORGS22"]
    assert report.zotero_key == "groups/998877:R6ORGS22"
    assert report.institution == "The King's Fund" and report.year == "2022"
    assert report.creators[0].name == "The King's Fund"
    assert report.creators[1].family == "van Eeden" and report.creators[1].role == "editor"
    assert records["lorne2019ics"].date == "2019-11"  # a Better BibTeX style id stays the key
    assert [(p.code, p.row) for p in result.problems] == [("malformed-entry", "")]


def test_broken_json_names_the_line(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[\n {"id": "a",\n  "type": "book"\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"export\.json: line \d+: not valid JSON"):
        read_file(path, "csljson")


# --- CSV ------------------------------------------------------------------------------------


def test_csv_in_the_benchmark_layout(fixtures):
    result = read_file(fixtures / "csv/records.csv", "csv", source="db")
    records = by_key(result)

    adeli = records["id_01"]
    assert [c.display() for c in adeli.creators] == ["Adeli, K.", "Lewis, G. F."]
    assert adeli.doi == "10.1097/mol.0b013e3282ffaf82"
    assert adeli.pages == "221-8"  # faithful: not expanded
    assert adeli.abstract.startswith("PURPOSE OF REVIEW: Excessive postprandial lipemia, is")
    hammond = records["id_02"]
    assert hammond.issue == "" and hammond.pages == "217-226"  # UNKNOWN is a placeholder, not a value
    assert [c.family for c in records["id_03"].creators] == ["Deng", "Ravichandran"]
    assert records["id_03"].item_type == "paper-conference"
    assert codes(result) == [("empty-entry", "5"), ("invalid-doi", "4")]


def test_csv_without_a_title_column_is_rejected(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text("database,hits\nHMIC,120\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no 'title' column"):
        read_file(path, "csv")


# --- EndNote XML ----------------------------------------------------------------------------


def test_endnote_xml(fixtures):
    result = read_file(fixtures / "endnote/sample.xml", "endnote-xml", source="en")
    records = by_key(result)

    article = records["12"]
    assert article.record_id == "en:12"
    assert (article.container, article.volume, article.issue, article.pages) == ("BMJ Open", "13", "2", "e065993")
    assert article.doi == "10.1136/bmjopen-2022-065993" and article.issn == "2044-6055"
    assert article.original["caption"] == "Duplicate"
    book = records["13"]
    assert (book.item_type, book.isbn, book.publisher, book.place) == ("book", "9781846199819", "Radcliffe", "London")
    assert [(p.code, p.row) for p in result.problems] == [("malformed-entry", "record 3")]


def test_endnote_records_are_those_of_the_records_list_and_any_record_only_when_it_has_none(tmp_path):
    # the export is read one record at a time (iterparse), so which records count is decided by their path
    record = "<record><rec-number>{0}</rec-number><titles><title>Title {0}</title></titles></record>"
    exports = {"listed": f"<xml><records>{record.format(1)}{record.format(2)}</records>"
                         f"<notes>{record.format(9)}</notes></xml>",
               "unlisted": f"<xml><library>{record.format(3)}</library></xml>",
               "none": "<xml><records/></xml>", "other": f"<endnote><records>{record.format(4)}</records></endnote>"}
    for name, text in exports.items():
        (tmp_path / f"{name}.xml").write_text(text, encoding="utf-8")
    titles = {name: [r.title for r in read_file(tmp_path / f"{name}.xml", "endnote-xml").records]
              for name in ("listed", "unlisted")}
    assert titles == {"listed": ["Title 1", "Title 2"], "unlisted": ["Title 3"]}
    for name in ("none", "other"):
        with pytest.raises(SourceError, match="not an EndNote XML export"):
            read_file(tmp_path / f"{name}.xml", "endnote-xml")


def test_endnote_xml_with_entities_is_refused(fixtures):
    with pytest.raises(SourceError, match="entities"):
        read_file(fixtures / "endnote/entities.xml", "endnote-xml")


def test_truncated_xml_names_line_and_column(fixtures):
    with pytest.raises(SourceError, match=r"truncated\.xml: line 1, column \d+: not well-formed"):
        read_file(fixtures / "endnote/truncated.xml", "endnote-xml")


# --- files ----------------------------------------------------------------------------------


def test_missing_file_and_wrong_encoding_are_clear_errors(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        read_file(tmp_path / "nope.ris", "ris")
    latin = tmp_path / "latin1.ris"
    latin.write_bytes("TY  - JOUR\nTI  - Gesundheitsämter\nER  - \n".encode("latin-1"))
    with pytest.raises(SourceError, match="set 'encoding:'"):
        read_file(latin, "ris")
    assert read_file(latin, "ris", encoding="latin-1").records[0].title == "Gesundheitsämter"


def test_attack_csv_unterminated_quote_loses_only_its_row_and_says_which(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text('title,author,year\n"Regional tiers,Smith A,2001\nStrategic health authorities,Jones B,2004\n'
                    '"Integrated care, in practice",Lee C,2022\n"An abstract\nover two lines",Kay D,2019\n',
                    encoding="utf-8")
    result = read_file(path, "csv", source="db")
    assert [(p.code, p.row) for p in result.problems] == [("csv-unclosed-quote", "2")]
    assert "never closed" in result.problems[0].hint
    titles = [r.title for r in result.records]
    # the rows after the broken one are read as rows, not swallowed into its title; a real two-line cell stays
    assert titles == ["Strategic health authorities", "Integrated care, in practice", "An abstract over two lines"]


def test_attack_bibtex_extra_closing_brace_is_reported_with_the_fields_it_lost(tmp_path):
    path = tmp_path / "extra.bib"
    path.write_text("@article{k1,\n  title = {Strategic health authorities}},\n  author = {Smith, Ann},\n"
                    "  year = {2004}\n}\n\n@article{k2,\n  title = {Integrated care},\n  year = {2022}\n}\n",
                    encoding="utf-8")
    result = read_file(path, "bibtex", source="lib")
    assert [(p.code, p.row, p.severity) for p in result.problems] == [("text-after-entry", "2", ERROR)]
    assert result.problems[0].value.startswith(", author = {Smith, Ann}")
    assert "fields lost: author, year" in result.problems[0].hint
    assert [r.title for r in result.records] == ["Strategic health authorities", "Integrated care"]


def test_attack_csl_json_fields_of_the_wrong_type_are_named_not_stringified(tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([
        {"id": "a", "type": "article-journal", "title": ["a", "b"], "author": "Smith, Ann; Jones, Bob", "volume": 12},
        {"id": "b", "type": 5, "title": "Integrated care", "author": [{"family": "Lee"}, "oops"]},
    ]), encoding="utf-8")
    result = read_file(path, "csljson", source="z")
    assert [(p.code, p.column, p.severity) for p in result.problems if p.code == "wrong-type"] == [
        ("wrong-type", "title", ERROR), ("wrong-type", "author", "warning"),
        ("wrong-type", "type", ERROR), ("wrong-type", "author", "warning")]
    assert ("missing-title", "title") in [(p.code, p.column) for p in result.problems]  # the list title left out
    first, second = result.records
    assert first.title != "['a', 'b']" and first.volume == "12"
    assert [c.name or c.family for c in first.creators] == ["Smith, Ann", "Jones, Bob"]
    assert second.item_type == "document" and [c.family for c in second.creators] == ["Lee"]


@pytest.mark.parametrize("encoding, expected", [("utf-16", "not readable as utf-16 text"),
                                                ("rot13", "'rot13' is not a text encoding")])
def test_attack_an_encoding_that_cannot_read_the_file_is_one_clear_error(tmp_path, encoding, expected):
    path = tmp_path / "refs.ris"
    path.write_text("TY  - JOUR\nTI  - A title\nER  - \n", encoding="utf-8")
    with pytest.raises(SourceError, match=expected):
        read_file(path, "ris", encoding=encoding)


def test_attack_control_characters_are_removed_and_reported(tmp_path):
    path = tmp_path / "refs.csv"
    path.write_bytes(b'Title,Authors,Year\n"A ti\x00tle with\x01 NUL",Smith J,2020\nClean,Jon\x1bes A,2021\n')
    result = read_file(path, "csv")
    assert [r.title for r in result.records] == ["A title with NUL", "Clean"]
    assert [c.family for r in result.records for c in r.creators] == ["Smith", "Jones"]
    assert [(p.code, p.row, p.column, p.value) for p in result.problems] == [
        ("control-characters", "2", "title", "A ti\\x00tle with\\x01 NUL"),
        ("control-characters", "3", "author", "Jon\\x1bes")]


def test_attack_csljson_nested_thousands_deep_is_one_clear_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('[{"id": "a", "type": "book", "title": "T", "note": ' + "[" * 100_000 + "]" * 100_000 + "}]")
    with pytest.raises(SourceError, match="deep.json: JSON nested deeper than can be read"):
        read_file(path, "csljson")


def test_attack_csljson_endless_integers_and_nan_are_reported_not_stored_as_text(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text('[{"id": "a", "type": "book", "title": "T", "volume": ' + "9" * 5000 + ', "issue": NaN,\n'
                    ' "page": -Infinity, "issued": {"date-parts": [[Infinity]]}, "ISBN": 12},\n'
                    ' {"id": "b", "type": "book", "title": NaN, "author": [{"family": "Ham"}]}]')
    result = read_file(path, "csljson")
    first, second = result.records
    assert (first.volume, first.issue, first.pages, first.year, first.isbn) == ("", "", "", "", "")
    assert second.title == ""
    found = {(p.record_id.split(":")[-1], p.column, p.value, p.severity) for p in result.problems}
    assert {("a", "volume", "a 5,000-digit number", WARNING), ("a", "issue", "NaN", WARNING),
            ("a", "page", "-Infinity", WARNING), ("a", "issued", "{'date-parts': [[Infinity]]}", WARNING),
            ("b", "title", "NaN", ERROR)} <= found
    assert all(p.code in ("wrong-type", "missing-title") for p in result.problems)


def test_attack_a_bibtex_macro_bomb_is_bounded_and_reported(tmp_path):
    lines = ['@string{a0 = "xxxxxxxxxx"}'] + [f"@string{{a{i} = " + " # ".join([f"a{i - 1}"] * 10) + "}"
                                            for i in range(1, 10)]
    path = tmp_path / "bomb.bib"
    path.write_text("\n".join([*lines, "@article{k1, title = a9, author = {Smith, J}, year = 2001}"]) + "\n")
    result = read_file(path, "bibtex")  # 741 bytes that expanded to 10 GB
    assert [(r.record_id, r.title) for r in result.records] == [("bomb:k1", "")]
    bomb = [p for p in result.problems if p.code == "malformed-entry"]
    assert [(p.row, p.value[:12]) for p in bomb] == [("6", "@string{a5 =")]
    assert "expands to more than 100,000 characters" in bomb[0].hint


def test_bibtex_duplicated_fields_and_undefined_macros_are_reported(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text("@string{bmj = {BMJ}}\n@article{k2, title = {First},\n author = {Smith, J},\n"
                    " title = {Second}, journal = bmj # JNL, month = jan, year = 2001}\n")
    result = read_file(path, "bibtex")
    record, = result.records
    assert (record.title, record.container, record.date) == ("First", "BMJJNL", "2001-01")
    assert [(p.code, p.row, p.column, p.value) for p in result.problems] == [
        ("duplicate-field", "4", "title", "Second"), ("undefined-macro", "4", "journal", "JNL")]


def read_text_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = read_file(path, {"ris": "ris", "csv": "csv"}[name.rsplit(".", 1)[1]])
    return result, [(p.code, p.row, p.column) for p in result.problems]


def test_ris_tag_in_lower_case_is_read_as_its_tag_not_joined_to_the_value_before(tmp_path):
    result, problems = read_text_file(tmp_path, "a.ris", "TY  - JOUR\nTI  - A title\nau  - Smith, J\nAU  - Jones, A\n"
                                                        "AB  - An abstract that goes\nin - between lines\nER  - \n")
    record, = result.records
    assert [c.family for c in record.creators] == ["Smith", "Jones"] and record.title == "A title"
    assert record.abstract == "An abstract that goes in - between lines"  # no tag: a continuation line
    assert problems == [("nonstandard-ris-tags", "3", "tag")]


def test_ris_of_only_end_tags_is_an_error_and_tagged_lines_without_a_type_are_reported(tmp_path):
    with pytest.raises(SourceError, match="not a RIS file"):
        read_text_file(tmp_path, "a.ris", "ER  - \nER  - \n")
    result, problems = read_text_file(tmp_path, "b.ris", "TY  - JOUR\nTI  - One\nER  - \nTI  - Lost\nER  - \n")
    assert [r.title for r in result.records] == ["One"] and problems == [("malformed-entry", "4", "TY")]


def test_csv_header_only_file_says_it_holds_no_reference(tmp_path):
    result, problems = read_text_file(tmp_path, "a.csv", "Title,Authors,Year\n")
    assert result.records == [] and problems == [("no-records", "", "")]


def test_csv_long_row_keeps_its_extra_cells_and_reports_them(tmp_path):
    result, problems = read_text_file(tmp_path, "a.csv", "Title,Authors,Year\nNHS, a history,Smith J,2020\n")
    record, = result.records
    assert record.original == {"Title": "NHS", "Authors": " a history", "Year": "Smith J", "extra cell 4": "2020"}
    assert problems == [("csv-extra-cells", "2", ""), ("invalid-year", "2", "year")]


def test_csv_stray_quote_and_duplicated_column_are_reported(tmp_path):
    result, problems = read_text_file(tmp_path, "a.csv", 'Title,Authors,Title,Year\n'
                                                         '"The NHS at 70, a review,"Smith, J",x,2018\n'
                                                         'First,Jones A,Second,2019\n')
    assert [r.title for r in result.records] == ["The NHS at 70, a review,Smith", "First"]
    assert result.records[1].original["Title (2)"] == "Second"
    assert problems == [("csv-duplicate-column", "1", "Title (2)"), ("csv-stray-quote", "2", "")]


def test_csv_valid_multiline_quoted_abstract_is_read_even_with_a_line_as_wide_as_the_header(tmp_path):
    result, problems = read_text_file(tmp_path, "a.csv", 'Title,Authors,Year,Abstract\nA title,Smith J,2020,'
                                                         '"Para one, with, commas\nline, with, three\nend"\n'
                                                         'B title,Jones A,2021,x\n')
    assert [(r.title, r.abstract) for r in result.records] == [
        ("A title", "Para one, with, commas line, with, three end"), ("B title", "x")]
    assert problems == []


def test_csv_cell_longer_than_the_csv_modules_limit_is_read(tmp_path):
    import csv

    before = csv.field_size_limit()
    result, problems = read_text_file(tmp_path, "a.csv", 'Title,Authors,Abstract\nA,Smith J,"' + "x" * 200_000
                                      + '"\nB,Jones A,short\n')
    assert [len(r.abstract) for r in result.records] == [200_000, 5] and problems == []
    assert csv.field_size_limit() == before


def test_csljson_field_given_twice_keeps_the_first_and_reports_the_other(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"id": "a", "type": "book",\n  "title": "First", "title": "Second", "author": [{"family": "Ham"}]}]')
    result = read_file(path, "csljson")
    assert [r.title for r in result.records] == ["First"]
    assert [(p.code, p.column, p.value) for p in result.problems] == [("duplicate-field", "title", "'Second'")]


def test_ris_tag_of_one_value_given_twice_keeps_the_first_and_reports_the_other(tmp_path):
    result, problems = read_text_file(tmp_path, "a.ris", "TY  - JOUR\nTI  - First\nAU  - Ham, C\nAU  - Lorne, C\n"
                                                        "TI  - Second\nER  - \n")
    assert [r.title for r in result.records] == ["First"] and len(result.records[0].creators) == 2
    assert problems == [("duplicate-field", "1", "TI")] and result.problems[0].value == "Second"
