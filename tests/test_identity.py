"""Study identity: ids that survive new copies, new survivors, lost members, merges, splits and renamed sources."""

from __future__ import annotations

from review.identity import (
    MERGED,
    NEW,
    SPLIT,
    Group,
    Ledger,
    Member,
    assign,
    fingerprint,
    readable_base,
    unique_id,
)


def group(*ids: str, authors: str = "Sanderson, Mark", year: str = "2023", prints: dict | None = None) -> Group:
    prints = prints or {}
    return Group(tuple(Member(r, prints.get(r, "")) for r in ids), authors=authors, year=year, title="A title",
                 named_after=ids[0])


def refresh(ledger_rows: list[dict], groups: list[Group]) -> tuple[list[str], list[dict], object]:
    """One refresh: the ids given, and the ledger as the stage leaves it (rows appended)."""
    result = assign(groups, Ledger(ledger_rows))
    return result.ids, ledger_rows + result.events, result


def test_readable_ids_from_author_organisation_title_and_year():
    assert readable_base("Sanderson, Mark; Allen, Pauline", "2023") == "Sanderson2023"
    assert readable_base("Ó Briain, Séan", "2019") == "OBriain2019"
    assert readable_base("NHS England", "2022") == "NHSEngland2022"
    assert readable_base("Department of Health and Social Care", "2021") == "DHSC2021"
    assert readable_base("", "", "The future of integrated care") == "Futurend"
    assert unique_id("Ham2018", {"Ham2018"}) == "Ham2018b"
    assert unique_id("Ham2018", {"Ham2018", "Ham2018b"}) == "Ham2018c"
    assert unique_id("Ham2018", {"Ham2018"} | {f"Ham2018{c}" for c in "bcdefghijklmnopqrstuvwxyz"}) == "Ham2018bb"


def test_a_new_study_is_named_readably_and_recorded():
    ids, ledger, _ = refresh([], [group("hmic:1", "zotero:A"), group("scopus:9", authors="Ham, Chris", year="2018")])
    assert ids == ["Sanderson2023", "Ham2018"]
    assert [(r["study_id"], r["event"], r["record_id"]) for r in ledger] == [
        ("Sanderson2023", NEW, "hmic:1"), ("Ham2018", NEW, "scopus:9"),
        ("Sanderson2023", "member", "hmic:1"), ("Sanderson2023", "member", "zotero:A"),
        ("Ham2018", "member", "scopus:9")]


def test_an_id_survives_a_copy_from_a_source_that_sorts_first():
    _, ledger, _ = refresh([], [group("hmic:1", "zotero:A")])
    ids, ledger2, _ = refresh(ledger, [group("assia:77", "hmic:1", "zotero:A")])
    assert ids == ["Sanderson2023"]
    assert ledger2[-1] == {"study_id": "Sanderson2023", "event": "member", "record_id": "assia:77", "other": "",
                           "fingerprint": ""}


def test_an_id_survives_when_the_survivor_changes_or_a_member_disappears():
    _, ledger, _ = refresh([], [group("hmic:1", "zotero:A")])
    ids, ledger, _ = refresh(ledger, [group("zotero:A", "hmic:1", authors="Other, Name", year="1999")])
    assert ids == ["Sanderson2023"]  # the name is given once, not recomputed from a new survivor
    ids, ledger, result = refresh(ledger, [group("zotero:A")])
    assert ids == ["Sanderson2023"] and result.events == []
    # and when a member that was added later is the only one left
    _, ledger, _ = refresh([], [group("hmic:1")])
    _, ledger, _ = refresh(ledger, [group("hmic:1", "cinahl:5")])
    ids, _, _ = refresh(ledger, [group("cinahl:5")])
    assert ids == ["Sanderson2023"]


def test_same_names_get_a_suffix_and_keep_it():
    _, ledger, _ = refresh([], [group("a:1"), group("a:2")])
    assert [r["study_id"] for r in ledger if r["event"] == NEW] == ["Sanderson2023", "Sanderson2023b"]
    ids, _, _ = refresh(ledger, [group("a:2"), group("a:3"), group("a:1")])
    assert ids == ["Sanderson2023b", "Sanderson2023c", "Sanderson2023"]


def test_a_merge_keeps_the_older_id_and_records_the_other():
    _, ledger, _ = refresh([], [group("a:1", authors="Ham, Chris"), group("b:2")])
    ids, ledger, result = refresh(ledger, [group("a:1", "b:2")])
    assert ids == ["Ham2023"]
    assert result.merged == {"Sanderson2023": "Ham2023"}
    assert result.renamed == {"Sanderson2023": "Ham2023"}
    assert {"study_id": "Sanderson2023", "event": MERGED, "record_id": "", "other": "Ham2023", "fingerprint": ""} in ledger
    # the merge is remembered: the old id keeps pointing at the survivor on later refreshes
    ids, _, later = refresh(ledger, [group("a:1", "b:2", "c:3")])
    assert ids == ["Ham2023"] and later.renamed == {"Sanderson2023": "Ham2023"} and later.merged == {}


def test_a_split_leaves_the_id_with_the_earliest_record():
    _, ledger, _ = refresh([], [group("b:2")])
    _, ledger, _ = refresh(ledger, [group("a:1", "b:2")])  # a:1 joined later, though its id sorts first
    ids, ledger, result = refresh(ledger, [group("a:1", authors="Ham, Chris"), group("b:2")])
    assert ids == ["Ham2023", "Sanderson2023"]
    assert result.split == {"Ham2023": "Sanderson2023"}
    assert {"study_id": "Ham2023", "event": SPLIT, "record_id": "", "other": "Sanderson2023", "fingerprint": ""} in ledger
    assert {"study_id": "Ham2023", "event": "member", "record_id": "a:1", "other": "", "fingerprint": ""} in ledger
    ids, _, again = refresh(ledger, [group("b:2"), group("a:1")])
    assert ids == ["Sanderson2023", "Ham2023"] and again.events == []


def test_a_renamed_source_is_recognised_by_fingerprint():
    doi = fingerprint("10.1/X", "Anything", "2020")
    assert doi == "doi:10.1/x" and fingerprint("", "The Title.", "2020") == "title:the title|2020"
    assert fingerprint("", "", "2020") == ""
    _, ledger, _ = refresh([], [group("hmic:1", prints={"hmic:1": doi}), group("hmic:2")])
    ids, _, result = refresh(ledger, [group("hmic2:1", prints={"hmic2:1": doi}), group("hmic:2")])
    assert ids == ["Sanderson2023", "Sanderson2023b"]
    assert not [e for e in result.events if e["event"] == NEW]
    # a fingerprint never takes the id of a study whose own records are still present
    ids, _, _ = refresh(ledger, [group("hmic:1", prints={"hmic:1": doi}), group("x:9", prints={"x:9": doi}),
                                 group("hmic:2")])
    assert ids[0] == "Sanderson2023" and ids[1] not in ("Sanderson2023", "Sanderson2023b")


def test_assignment_is_deterministic_whatever_the_group_order():
    _, ledger, _ = refresh([], [group("a:1"), group("b:2"), group("c:3")])
    forward = refresh(ledger, [group("a:1", "b:2"), group("c:3"), group("d:4")])
    backward = refresh(ledger, [group("d:4"), group("c:3"), group("b:2", "a:1")])
    assert forward[0] == list(reversed(backward[0]))


def test_a_line_number_id_reused_by_another_work_after_a_re_export_is_not_taken_for_the_old_one():
    first, second = fingerprint("", "Regional health authorities", "1990"), fingerprint("", "Clinical commissioning", "2013")
    _, ledger, _ = refresh([], [group("ris:L1", prints={"ris:L1": first}, authors="Ham, C"),
                                group("ris:L9", prints={"ris:L9": second}, authors="Checkland, K")])
    # the re-export put the commissioning paper first and the RHA paper on line 5
    ids, _, _ = refresh(ledger, [group("ris:L1", prints={"ris:L1": second}, authors="Checkland, K"),
                                 group("ris:L5", prints={"ris:L5": first}, authors="Ham, C")])
    assert ids == ["Checkland2023", "Ham2023"]
