"""A group's row: completed only from copies of the same document; authors read the wrong way round mended."""

from __future__ import annotations

import json

from review.merge import merge_group, same_document, swapped
from review.model import Creator, Record
from review.normalise import split_name


def record(rid: str, title: str, authors: list[str], year: str, doi: str = "", container: str = "",
           pages: str = "") -> Record:
    return Record(record_id=rid, source="t", source_type="ris", source_key=rid, title=title,
                  creators=[split_name(a) for a in authors], year=year, doi=doi, container=container, pages=pages)


ARTICLE = record("a:1", "Sustainability and transformation partnerships: the emergence of a new tier",
                 ["Checkland, Kath", "Hammond, Jonathan"], "2016", container="BMJ Open")
PAPER = record("b:1", "Reimagining the local: NHS integrated care policy", ["Checkland, Kath", "Hammond, Jonathan"],
               "2017", doi="10.1017/s0047279417000010", container="Journal of Social Policy", pages="1-20")


def test_two_reports_of_one_study_keep_their_own_doi_and_venue():
    assert not same_document(ARTICLE, PAPER)
    row = merge_group([PAPER, ARTICLE], ARTICLE)  # a reviewer's `same` decision put both in one group
    assert row["doi"] == "" and row["container"] == "BMJ Open" and row["pages"] == ""


def test_a_copy_of_the_same_document_fills_what_the_survivor_lacks():
    copy = record("c:1", "SUSTAINABILITY AND TRANSFORMATION PARTNERSHIPS: THE EMERGENCE OF A NEW TIER.",
                  ["Checkland K", "Hammond J"], "2017", doi="10.1136/bmjopen-2016-000001", pages="e1")
    assert same_document(ARTICLE, copy)  # online first one year, printed the next
    row = merge_group([ARTICLE, copy], ARTICLE)
    assert row["doi"] == "10.1136/bmjopen-2016-000001" and row["pages"] == "e1" and row["year"] == "2016"
    later = record("d:1", ARTICLE.title, ["Checkland, Kath"], "2019", doi="")
    assert not same_document(ARTICLE, later)  # three years apart: another edition or report


def test_an_author_line_without_commas_takes_the_names_a_copy_gives_unambiguously():
    fuller = record("u:1", "Developing architecture of system management in the English NHS",
                    ["Sanderson Marie", "Allen Pauline"], "2023", doi="10.1136/bmjopen-2022-065993",
                    container="BMJ Open")
    first = record("z:1", "Developing architecture of system management in the English NHS",
                   ["Sanderson, M.", "Allen, P."], "2023", doi="10.1136/bmjopen-2022-065993")
    assert fuller.creators[0] == Creator(family="Marie", given="Sanderson")  # how a comma-less line reads
    assert swapped(fuller.creators[0], first.creators[0])
    row = merge_group([fuller, first], fuller)  # the fuller copy survives
    assert row["authors"] == "Sanderson, M.; Allen, P."
    assert [c["family"] for c in json.loads(row["creators"])] == ["Sanderson", "Allen"]
    assert row["container"] == "BMJ Open"
    # names read the same way in both are left as they are
    assert merge_group([first, fuller], first)["authors"] == "Sanderson, M.; Allen, P."
    assert not swapped(Creator(family="Lorne", given="Colin"), Creator(family="Lorne", given="C"))
