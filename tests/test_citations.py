"""Citations and the reference list (review.citations): the style's order, a/b, corporate authors, no author, italics."""

from __future__ import annotations

import json

from review.citations import citations, cited, reference_parts, references, short_citation, unresolved, year_suffixes


def row(sid, creators, year, title, container="", kind="article-journal", volume=""):
    return {"study_id": sid, "creators": json.dumps(creators), "item_type": kind, "title": title, "year": year,
            "container": container, "volume": volume, "issue": "", "pages": "", "doi": "", "place": "",
            "publisher": "", "institution": ""}


ROWS = [row("Zeta2020", [{"family": "Zeta", "given": "Ann"}], "2020", "Zed <b>paper</b>", "BMJ", volume="3"),
        row("DLUHC2022", [{"name": "Department for Levelling Up, Housing and Communities"}], "2022",
            "Levelling Up the United Kingdom", kind="report"),
        row("Integrated2020", [], "2020", "Integrated care systems explained", kind="webpage"),
        row("Ham2018", [{"family": "Ham", "given": "Chris"}], "2018", "Making sense of integrated care systems", "BMJ",
            volume="1"),
        row("Ham2018b", [{"family": "Ham", "given": "Chris"}], "2018", "Another look at integrated care", "HSJ",
            volume="2"),
        row("Lorne2019", [{"family": "Lorne", "given": "C"}, {"family": "Allen", "given": "P"},
                          {"family": "Checkland", "given": "K"}], "2019", "Integrated care systems: what can reforms learn",
            "PRUComm", kind="report")]


def test_short_citations_keep_a_corporate_author_whole_use_the_title_without_one_and_tell_same_names_apart():
    cite = citations(ROWS)
    assert cite["DLUHC2022"] == "Department for Levelling Up, Housing and Communities 2022"
    assert cite["Integrated2020"] == "Integrated care systems explained 2020"
    assert cite["Lorne2019"] == "Lorne et al. 2019"
    assert (cite["Ham2018b"], cite["Ham2018"]) == ("Ham 2018a", "Ham 2018b")  # by title, as the list orders them
    assert short_citation("Smith, Ann; Jones, Bo", "") == "Smith and Jones n.d."


def test_the_reference_list_is_in_the_styles_order_with_the_same_letters_and_no_repeated_title():
    suffix = year_suffixes(ROWS)
    text = references([dict(r, year_suffix=suffix[r["study_id"]]) for r in ROWS])
    assert [t.split(" (")[0] for t in text] == ["Department for Levelling Up, Housing and Communities", "Ham, C.",
                                                 "Ham, C.", "Integrated care systems explained",
                                                 "Lorne, C., Allen, P. and Checkland, K.",
                                                 "Zeta, A."]
    assert text[1].startswith("Ham, C. (2018a) “Another look") and text[2].startswith("Ham, C. (2018b) “Making sense")
    assert text[3] == "Integrated care systems explained (2020)."


def test_italics_are_marked_parts_and_markup_in_the_data_stays_text():
    parts = {"".join(p["text"] for p in entry): entry for entry in reference_parts(ROWS)}
    zeta = next(entry for text, entry in parts.items() if text.startswith("Zeta"))
    assert {"text": "BMJ", "italic": True} in zeta
    assert "Zed <b>paper</b>" in "".join(p["text"] for p in zeta if not p["italic"])  # as typed, never as markup
    report = next(entry for text, entry in parts.items() if text.startswith("Department"))
    assert {"text": "Levelling Up the United Kingdom", "italic": True} in report


def test_a_study_of_two_reports_is_cited_by_its_main_report_and_lists_the_other_with_its_own_doi():
    creators = json.dumps([{"role": "author", "family": "Checkland", "given": "Kath"}])
    paper = {"item_type": "article-journal", "title": "Reimagining the local", "creators": creators, "year": "2017",
             "container": "Journal of Social Policy", "doi": "10.1017/s0047279417000010"}
    study = {"study_id": "Checkland2016", "item_type": "article-journal", "creators": creators, "year": "2016",
             "title": "Sustainability and transformation partnerships", "container": "BMJ Open",
             "doi": "10.1136/bmjopen-2016-000001", "reports": json.dumps([paper])}
    other = {"study_id": "Lorne2019", "creators": json.dumps([{"family": "Lorne", "given": "Colin"}]), "year": "2019",
             "title": "Integrated care systems", "item_type": "report"}
    entries = ["".join(p["text"] for p in parts) for parts in reference_parts([study, other])]
    assert len(entries) == 2  # the other report is no entry of its own
    first = next(e for e in entries if e.startswith("Checkland"))
    main, also = first.split(" Also reported in: ")
    assert "(2016)" in main and "10.1136/bmjopen-2016-000001" in main and "2017" not in main
    assert "(2017)" in also and "Reimagining the local" in also and "10.1017/s0047279417000010" in also
    assert citations([study, other])["Checkland2016"] == "Checkland 2016"


def test_an_edited_book_is_cited_by_its_editors_and_grey_literature_by_where_and_when_it_was_seen():
    book = {"study_id": "Allen2020", "item_type": "book", "year": "2020", "publisher": "Policy Press",
            "title": "Commissioning healthcare in England: evidence, policy and practice",
            "creators": json.dumps([{"role": "editor", "family": "Allen", "given": "Pauline"},
                                    {"role": "editor", "family": "Checkland", "given": "Kath"},
                                    {"role": "editor", "family": "Moran", "given": "Valerie"}])}
    report_ = {"study_id": "Charles2018", "item_type": "report", "year": "2018", "publisher": "The King's Fund",
               "title": "A year of integrated care systems", "url": "https://www.kingsfund.org.uk/publications/a-year",
               "date_added": "2024-01-15T10:00:00Z",
               "creators": json.dumps([{"role": "author", "family": "Charles", "given": "Anna"}])}
    assert citations([book, report_]) == {"Allen2020": "Allen et al. 2020", "Charles2018": "Charles 2018"}
    entries = {e.split(" ")[0]: e for e in references([book, report_])}
    assert entries["Allen,"].startswith("Allen, P., Checkland, K. and Moran, V. (eds.) (2020)")
    assert "Commissioning healthcare in England" in entries["Allen,"] and "Edited by" not in entries["Allen,"]
    assert entries["Allen,"].count("Moran") == 1 and "practice. Policy Press" in entries["Allen,"]  # editors once
    four = dict(book, creators=json.dumps([{"role": "editor", "family": f, "given": "A"}
                                           for f in ("Allen", "Checkland", "Moran", "Peckham")]))
    (entry,) = references([four])
    assert entry.startswith("Allen, A. et al. (eds.) (2020)") and entry.count("Allen") == 1, entry
    assert "https://www.kingsfund.org.uk/publications/a-year" in entries["Charles,"]
    assert "(Accessed: January 15, 2024)" in entries["Charles,"]  # the Harvard style's accessed date


def test_a_report_is_cited_with_its_number():
    white_paper = {"study_id": "DHSS1972", "item_type": "report", "year": "1972", "issue": "Cmnd. 5055",
                   "title": "National Health Service reorganisation: England", "publisher": "HMSO", "place": "London",
                   "creators": json.dumps([{"role": "author", "name": "Department of Health and Social Security"}])}
    (entry,) = references([white_paper])
    assert "Cmnd. 5055" in entry


def test_bracketed_citations_are_found_with_their_locators_and_dates_are_not_citations():
    text = ('"plans" (Lorne et al. 2019a, executive summary); (see Ham 2018b; Department for Levelling Up, Housing '
            'and Communities 2022) (April 2023, 36 recommendations) (1974-82) (confidence: moderate) (n = 79) '
            '(Model ICB Blueprint, May 2025)')
    assert cited(text) == ["Lorne et al. 2019a", "Ham 2018b"]  # a corporate name with a comma is not read as one
    assert cited("(King's Fund 2018, national leaders 5)") == ["King's Fund 2018"]


def test_a_citation_the_references_do_not_carry_is_named_with_the_one_it_likely_meant():
    known = ["Lorne et al. 2019a", "Lorne et al. 2019b", "Charles et al. 2018",
             "House of Commons Health and Social Care Committee 2023"]
    text = ("(Lorne et al. 2019, p. 4); (Lorne et al. 2019b); (Health and Social Care Committee 2023); "
            "(King's Fund 2018, national leaders 5)")
    found = unresolved(text, known)
    assert [c for c, _ in found] == ["Lorne et al. 2019", "Health and Social Care Committee 2023", "King's Fund 2018"]
    assert found[0][1].startswith("Lorne et al. 2019")  # the same year and name, whichever letter
    assert found[1][1] == "House of Commons Health and Social Care Committee 2023"
    assert found[2][1] == ""  # no reference of 2018 reads like it: nothing guessed
    assert unresolved("(Charles et al. 2018, overview)", known) == []


def test_a_journal_article_exported_without_its_volume_is_not_called_a_preprint():
    article = row("Miller2021", [{"family": "Miller", "given": "R."}], "2021", "Integrated health and social care",
                  "International Journal of Integrated Care")
    article["doi"] = "10.5334/ijic.5666"
    (entry,) = references([article])
    assert "[Preprint]" not in entry and "International Journal of Integrated Care" in entry
    assert "https://doi.org/10.5334/ijic.5666" in entry


def test_a_title_ending_in_a_question_takes_no_full_stop_and_quotes_inside_a_quoted_title_turn_single():
    book = row("Alderwick2016", [{"family": "Alderwick", "given": "H."}], "2016",
               "Sustainability and transformation plans: how are they being developed?", kind="report")
    book["publisher"] = "The King's Fund"
    article = row("Smith2001", [{"family": "Smith", "given": "J."}], "2001", 'The "redisorganisation" of the NHS', "BMJ")
    text = {e.split(" ")[0]: e for e in references([book, article])}
    assert "developed? The King's Fund" in text["Alderwick,"] and "?." not in text["Alderwick,"]
    assert "\u201cThe \u2018redisorganisation\u2019 of the NHS\u201d" in text["Smith,"]
