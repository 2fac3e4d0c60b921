"""Deduplication (review.dedup, dedup_candidates, dedup_rules): rules and vetoes on real pairs, veto-aware
clustering, exact groups on a labelled set."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest
from conftest import FIXTURES

from review import dedup
from review.dedup_candidates import Settings, candidate_pairs, prepare
from review.dedup_rules import PairDecision, decide_pair
from review.merge import merge_group
from review.model import Creator, Record
from review.readers import read_file


def record(rid: str, title: str, authors: str = "", year: str = "", container: str = "", volume: str = "",
           issue: str = "", pages: str = "", doi: str = "", zotero_key: str = "") -> Record:
    creators = [Creator(family=a.split(",")[0].strip(), given=(a.split(",")[1:] or [""])[0].strip())
                for a in authors.split(";") if a.strip()]
    return Record(record_id=rid, source="t", source_type="csv", source_key=rid, title=title, creators=creators,
                  year=year, container=container, volume=volume, issue=issue, pages=pages, doi=doi,
                  zotero_key=zotero_key)


def decide(a: Record, b: Record) -> PairDecision:
    p = prepare([a, b])
    return decide_pair(p, 0, 1, Settings())


def grouped(records, **kwargs) -> list[set[str]]:
    result = dedup.run(records, **kwargs)
    members = defaultdict(set)
    for r, g in zip(records, result.group):
        members[g].add(r.record_id)
    return sorted((m for m in members.values() if len(m) > 1), key=sorted)


# --- rules -----------------------------------------------------------------------------------------

def test_same_doi_with_a_dropped_subtitle_is_a_match():
    a = record("a", "Anxiety about electronic data hacking", "Elhai, Jon; Levine, Jason", "2017",
               "Internet Research", "27", "3", "631-649", "10.1108/intr-03-2016-0070")
    b = record("b", "Anxiety about electronic data hacking - Predictors and relations with digital privacy "
               "protection behavior", "Elhai, Jon D.; Levine, Jason C.", "2017", "Internet Research", "27", "3",
               "631-649", "10.1108/intr-03-2016-0070")
    assert (decide(a, b).label, decide(a, b).rule) == ("match", "doi")


def test_identical_title_with_agreeing_authors_and_year_is_a_match():
    a = record("a", "The new NHS: modern, dependable", "Department of Health", "1997")
    b = record("b", "The New NHS - Modern, Dependable", "Department of Health", "1997")
    assert (decide(a, b).label, decide(a, b).rule) == ("match", "title+authors+year")


def test_close_title_with_authors_and_venue_is_a_match():
    a = record("a", "Cervical squamous and glandular intraepithelial neoplasia: identification and current "
               "management approaches", "Wright, V C", "2003", "Salud Publica de Mexico", "45", "", "S417-S429")
    b = record("b", "Cervical squamous and glandular intraepithelial neoplasia - identification and management",
               "Wright, V C", "2003", "Salud Publica Mex", "45", "", "S417-29")
    assert decide(a, b).label == "match"


def test_translated_title_in_brackets_matches_the_original():
    a = record("a", "Crowdwork: Applying a relational inequality theory [Arbeiten in der Crowd: Perspektiven der "
               "Theorie relationaler Ungleichheiten in Arbeitsorganisationen]", "Abendroth, A.-K.; Reimann, M.",
               "2020", "Industrielle Beziehungen", "27", "2", "160-178")
    b = record("b", "Arbeiten in der Crowd: Perspektiven der Theorie relationaler Ungleichheiten in "
               "Arbeitsorganisationen", "Abendroth, Anja-Kristin; Reimann, Mareike", "2020",
               "Industrielle Beziehungen", "27", "2", "160-178")
    assert decide(a, b).label == "match"


def test_swapped_family_and_given_names_still_agree():
    a = record("a", "We don't need no education: Required abilities in online labor markets",
               "Carignani, Andrea; Negri, Lorenzo", "2010", "ICIS 2010 Proceedings")
    b = record("b", "We Don't Need no Education - Required Abilities in Online Labor Markets",
               "Andrea, C.; Lorenzo, N.", "2010", "International Conference on Information Systems")
    assert decide(a, b).label == "match"


def test_similar_title_without_other_agreement_goes_to_reviewers():
    a = record("a", "Health and Social Care Integration (England)", "Bate, Alex", "2017")
    b = record("b", "Health and social care integration", "National Audit Office", "2017")
    assert decide(a, b).label == "maybe"


# --- vetoes --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b", "veto"), [
    (record("a", "Sponsorship and IT vendor management of projects", "Liu, Li", "2009", "J Inf Technol", "24",
            "1", "46-54", "10.1057/jit.2009.2"),
     record("b", "Sponsorship and IT vendor management of projects", "Liu, Li", "2009", "J Inf Technol", "24",
            "1", "46-54", "10.1057/jit.2008.23x"), None),  # same issue of record overrules one wrong DOI
    (record("a", "Cultural Universality Versus Particularity in CMC", "Stahl, Bernd", "2004", doi="10.1/a"),
     record("b", "Cultural Universality Versus Particularity in CMC", "Stahl, Bernd", "2004", doi="10.1/b"),
     "veto:doi-differs"),
    (record("a", "Treatment for POEMS syndrome", "Kuwabara, S", "2012", "Cochrane Database Syst Rev"),
     record("b", "Treatment for POEMS syndrome", "Kuwabara, S", "2008", "Cochrane Database Syst Rev"),
     "veto:year-gap"),
    (record("a", "How do requirements evolve over time? A case study", "Schneider, S", "2018", "J Inf Technol",
            "33", "2", "151-170"),
     record("b", "Erratum to - How do requirements evolve over time? A case study", "Schneider, S", "2018",
            "J Inf Technol", "33", "2", "171"), "veto:notice-vs-article"),
    (record("a", "Symposium Part 1: Should the Bethesda system terminology be used?", "Crum, C P", "2003"),
     record("b", "Symposium Part 2: Should the Bethesda system terminology be used?", "Crum, C P", "2003"),
     "veto:part-numbers-differ"),
    (record("a", "Effect of exenatide on coronary function in mice", "Gaung, Y", "2017",
            "Circulation. Conference: Resuscitation Science Symposium", "136", "", "A1"),
     record("b", "Effect of exenatide on coronary function in mice", "Gaung, Y", "2018", "Circulation", "137",
            "4", "350-359"), "veto:abstract-vs-article"),
    (record("a", "Cultural Universality Versus Particularity in CMC", "Stahl, Bernd", "2003",
            "Americas Conference on Information Systems"),
     record("b", "Cultural Universality Versus Particularity in CMC", "Stahl, Bernd", "2004",
            "Journal of Global Information Technology Management", "7", "4", "47-65"),
     "veto:conference-vs-journal"),
    (record("a", "Indwelling pleural catheters reduced hospital admissions", "Fysh, E", "2011", "Respirology",
            "16", "", "63"),
     record("b", "Indwelling pleural catheters reduced hospital admissions", "Fysh, E", "2010", "Chest", "138",
            "", "1017"), "veto:venue-and-pages-differ"),
    (record("a", "Editorial Introduction", "Zwass, Vladimir", "2006", "J Manag Inf Syst", "23", "1", "5-12"),
     record("b", "Editorial Introduction", "Zwass, Vladimir", "2006", "J Manag Inf Syst", "23", "2", "5-6"),
     "veto:issue-differs"),
    (record("a", "Remarks from the Editor", "Lee, Allen", "2000", "MIS Quarterly", "24", "", "iii-v"),
     record("b", "Remarks from the Editor", "Lee, Allen", "2001", "MIS Quarterly", "25", "", "iii-iv"),
     "veto:volume-differs"),
])
def test_vetoes(a, b, veto):
    decision = decide(a, b)
    if veto is None:
        assert decision.label == "match"
    else:
        assert (decision.label, decision.rule) == ("distinct", veto)


def test_a_chain_never_joins_records_a_veto_separates():
    # b has no DOI and matches both a and c, whose DOIs differ: b joins one of them, never both
    a = record("a", "Being autonomous and having space in which to act: commissioning in the new NHS",
               "Checkland, Kath; Dam, Rinita", "2017", "J Soc Policy", doi="10.1017/s0047279417000587")
    b = record("b", "Being autonomous and having space in which to act: commissioning in the new NHS",
               "Checkland, Kath; Dam, Rinita", "2017", "J Soc Policy")
    c = record("c", "Being autonomous and having space in which to act: commissioning in the new NHS",
               "Checkland, Kath; Dam, Rinita", "2017", "J Soc Policy", doi="10.1017/s0047279417999999")
    result = dedup.run([a, b, c])
    assert result.group[0] != result.group[2]
    assert result.refused  # the match that would have made the chain is recorded as refused


def test_reviewer_decisions_override_the_rules():
    a = record("a", "Health and Social Care Integration (England)", "Bate, Alex", "2017")
    b = record("b", "Health and social care integration", "National Audit Office", "2017")
    assert grouped([a, b], same=[("a", "b")]) == [{"a", "b"}]
    c = record("c", "Health and social care integration", "National Audit Office", "2017")
    assert grouped([b, c], different=[("b", "c")]) == []


def test_survivor_is_the_zotero_item_then_the_most_complete():
    plain = record("db:1", "The spatial politics of place and health policy", "Hammond, J; Lorne, C", "2017",
                   "Soc Sci Med", "190", "", "217-226", "10.1016/j.socscimed.2017.08.007")
    zotero = record("z:1", "The spatial politics of place and health policy", "Hammond, J; Lorne, C", "2017",
                    zotero_key="users/1:ABCD2345")
    result = dedup.run([plain, zotero])
    assert result.survivor == [False, True]
    merged = merge_group([plain, zotero], zotero)
    assert merged["record_id"] == "z:1" and merged["doi"] == "10.1016/j.socscimed.2017.08.007"


def test_small_labelled_set_gives_exactly_the_true_groups():
    path = FIXTURES / "dedup/labelled.csv"
    records = read_file(path, "csv", source="lab").records
    with open(path, encoding="utf-8") as handle:
        truth_by_id = {row["ID"]: row["group"] for row in csv.DictReader(handle)}
    truth = defaultdict(set)
    for rid, g in truth_by_id.items():
        truth[g].add(f"lab:{rid}")
    expected = sorted((m for m in truth.values() if len(m) > 1), key=sorted)
    assert grouped(records) == expected


def test_candidate_pairs_are_distinct_and_ordered():
    records = read_file(FIXTURES / "dedup/labelled.csv", "csv", source="lab").records
    pairs = candidate_pairs(prepare(records))
    assert len(pairs) == len({tuple(p) for p in pairs})
    assert all(i < j for i, j in pairs)


def test_blocks_larger_than_the_limit_are_skipped():
    records = [record(f"r{k}", f"Editorial {k}", "Smith, J", "2020", "J", "1", "", "1") for k in range(5)]
    p = prepare(records)
    assert len(candidate_pairs(p, max_block=3)) < len(candidate_pairs(p, max_block=10))


# --- laws: a pair's decision does not depend on the order of its records ---------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TITLES = ["The intermediate tier of the NHS", "The intermediate tiers of the English NHS", "Strategic health authorities",
          "Integrated care systems: a year on", "Integrated care systems: one year on", "Erratum: integrated care"]


@st.composite
def records(draw):
    def one(k):
        family = draw(st.sampled_from(["Smith", "Jones", "Lorne", ""]))
        return Record(record_id=f"s:{k}", source="s", source_type="csv", title=draw(st.sampled_from(TITLES)),
                      creators=[Creator(family=family, given="A")] if family else [],
                      year=draw(st.sampled_from(["2019", "2020", "2023", ""])),
                      doi=draw(st.sampled_from(["", "10.1/a", "10.1/b"])),
                      container=draw(st.sampled_from(["", "BMJ", "Health Policy"])),
                      volume=draw(st.sampled_from(["", "12", "13"])), pages=draw(st.sampled_from(["", "1-9", "10-19"])))
    return one(0), one(1)


@settings(max_examples=300, deadline=None)
@given(records())
def test_pair_decisions_are_symmetric(pair):
    forward = prepare(list(pair))
    backward = prepare(list(reversed(pair)))
    a = decide_pair(forward, 0, 1, Settings())
    b = decide_pair(backward, 0, 1, Settings())
    assert (a.label, a.rule) == (b.label, b.rule)
    assert a.title == pytest.approx(b.title) and a.authors == pytest.approx(b.authors)


def test_the_dedup_stage_writes_each_survivor_merged_with_its_original_values_as_read(tmp_path):
    from review.fileio import read_frame, write_csv
    from review.model import RECORD_COLUMNS
    from review.stages import dedup as stage

    full = record("db:1", "The spatial politics of place and health policy", "Hammond, J; Lorne, C", "2017",
                  "Soc Sci Med", "190", "", "217-226", "10.1016/j.socscimed.2017.08.007")
    full.original = {"T1": "The spatial politics…", "N2": ["=an abstract", "in two parts"]}
    bare = record("z:1", "The spatial politics of place and health policy", "Hammond, J; Lorne, C", "2017",
                  zotero_key="users/1:ABCD2345")
    bare.original = {"title": "The spatial politics of place and health policy", "n": 3}
    alone = record("db:2", "Strategic health authorities and the NHS", "Walshe, K", "2003")
    write_csv(tmp_path / "records.csv", RECORD_COLUMNS, (r.as_row() for r in (full, bare, alone)))
    outputs = {name: tmp_path / f"{name}.csv" for name in stage.OUTPUTS}
    stage.run({"dedup": {}}, {"records": tmp_path / "records.csv"}, outputs)
    unique = {row["record_id"]: row for row in read_frame(outputs["unique"]).to_dict("records")}
    assert sorted(unique) == ["db:2", "z:1"]
    assert unique["z:1"]["original"] == bare.as_row()["original"]  # its own, never a member's
    assert unique["z:1"]["container"] == "Soc Sci Med" and unique["z:1"]["record_ids"] == "db:1; z:1"
    assert unique["db:2"] == {**alone.as_row(), "study_id": unique["db:2"]["study_id"], "record_ids": "db:2",
                              "n_records": "1", "n_reports": "1", "reports": ""}


def test_two_reports_of_one_study_keep_their_own_data_and_the_study_is_cited_by_the_one_known_first(tmp_path):
    """A reviewer's `same` decision puts an article and the later paper it led to in one group: the study has
    two reports, each with its own DOI; the one the ledger knew first is the one the study is cited by."""
    from openpyxl import Workbook

    from review.fileio import read_frame, write_csv
    from review.model import RECORD_COLUMNS
    from review.stages import dedup as stage
    from review.workbooks import ledger as ledger_sheet

    article = record("db:1", "Sustainability and transformation partnerships: the emergence of a new tier",
                     "Checkland, Kath; Hammond, Jonathan", "2016", "BMJ Open", doi="10.1136/bmjopen-2016-000001")
    paper = record("z:1", "Reimagining the local: integrated care policy in England",
                   "Checkland, Kath; Hammond, Jonathan", "2017", "Journal of Social Policy", "46", "3", "1-20",
                   "10.1017/s0047279417000010", zotero_key="users/1:ABCD2345")
    write_csv(tmp_path / "records.csv", RECORD_COLUMNS, (r.as_row() for r in (article, paper)))
    outputs = {name: tmp_path / f"{name}.csv" for name in stage.OUTPUTS}
    ledger = tmp_path / "studies.csv"
    config = {"dedup": {"ledger": str(ledger)}}
    stage.run(config, {"records": tmp_path / "records.csv"}, outputs)  # two studies: the ledger knows both
    assert {r["event"] for r in ledger_sheet.read(ledger)} == {"new", "member"}

    sheet = tmp_path / "duplicates.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "pairs to check"
    ws.append(["decision", "notes", "record_id_a", "record_id_b"])
    ws.append(["same", "the paper reports the same study", "db:1", "z:1"])
    wb.save(sheet)
    stage.run({"dedup": {"ledger": str(ledger), "sheet": str(sheet)}}, {"records": tmp_path / "records.csv"}, outputs)
    unique = read_frame(outputs["unique"]).to_dict("records")
    assert len(unique) == 1
    study = unique[0]
    # cited by the article (the Zotero item would otherwise survive): its title with its own DOI, never the paper's
    assert study["record_id"] == "db:1" and study["year"] == "2016"
    assert study["doi"] == "10.1136/bmjopen-2016-000001" and study["container"] == "BMJ Open"
    assert study["n_reports"] == "2" and study["n_records"] == "2" and study["record_ids"] == "db:1; z:1"
    other = json.loads(study["reports"])
    assert [(r["title"], r["doi"], r["year"], r["record_ids"]) for r in other] == [
        (paper.title, "10.1017/s0047279417000010", "2017", "z:1")]


def test_a_fuller_copy_joining_later_completes_the_study_but_never_moves_its_citation(tmp_path):
    """An update search brings a fuller copy of Sanderson et al. 2023 with a comma-less author line and the
    print year: it completes the row, the study is still cited by the authors and year the team has cited."""
    from review.citations import citations
    from review.fileio import read_frame, write_csv
    from review.model import RECORD_COLUMNS
    from review.normalise import split_name
    from review.stages import dedup as stage

    title = "Developing architecture of system management in the English NHS"
    known = Record(record_id="zotero:SAND", source="zotero", source_type="zotero", source_key="SAND", title=title,
                   creators=[split_name("Sanderson, Marie"), split_name("Allen, Pauline"), split_name("Lorne, Colin")],
                   year="2022", doi="10.1136/bmjopen-2022-065993")
    fuller = Record(record_id="update:1", source="update", source_type="ris", source_key="1", title=title,
                    creators=[split_name("Sanderson Marie"), split_name("Allen Pauline"), split_name("Lorne Colin")],
                    year="2023", doi="10.1136/bmjopen-2022-065993", container="BMJ Open", volume="13",
                    pages="e065993", abstract="Objectives: to understand ...", zotero_key="")
    outputs = {name: tmp_path / f"{name}.csv" for name in stage.OUTPUTS}
    config = {"dedup": {"ledger": str(tmp_path / "studies.csv")}}
    write_csv(tmp_path / "records.csv", RECORD_COLUMNS, [known.as_row()])
    stage.run(config, {"records": tmp_path / "records.csv"}, outputs)
    before = read_frame(outputs["unique"]).to_dict("records")
    write_csv(tmp_path / "records.csv", RECORD_COLUMNS, [known.as_row(), fuller.as_row()])
    stage.run(config, {"records": tmp_path / "records.csv"}, outputs)
    (study,) = read_frame(outputs["unique"]).to_dict("records")
    assert study["record_id"] == "update:1" and study["container"] == "BMJ Open"  # the fuller copy survives
    assert study["authors"] == "Sanderson, Marie; Allen, Pauline; Lorne, Colin" and study["year"] == "2022"
    assert citations([study]) == citations(before) == {study["study_id"]: "Sanderson et al. 2022"}
