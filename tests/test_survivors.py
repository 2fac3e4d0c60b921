"""Which record stands for several: one rule for a dedup group's survivor and a report's record."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from review import dedup
from review.model import Creator, Record
from review.survivors import best


def survivor(records: list[Record]) -> Record:
    """The survivor the dedup keeps when reviewers put ``records`` in one group."""
    result = dedup.run(records, same=[(records[0].record_id, r.record_id) for r in records[1:]])
    assert len(set(result.group)) == 1
    return next(r for r, kept in zip(records, result.survivor) if kept)


def test_a_report_is_read_from_the_record_its_group_keeps_however_full_its_provenance():
    # tags, collections, place and language fill the first record's row but are no bibliographic field: the
    # second, with a volume and pages, is the more complete record for both
    tagged = Record(record_id="a:1", source="a", source_type="ris", source_key="1", title="Strategic health authorities",
                    year="2002", place="London", language="en", tags=["screen:include", "nhs"], collections=["tiers"])
    fuller = Record(record_id="b:1", source="b", source_type="ris", source_key="1", title="Strategic health authorities",
                    year="2002", volume="12", pages="1-9")
    assert best([tagged, fuller]) is fuller
    assert survivor([tagged, fuller]) is fuller


@st.composite
def groups(draw):
    def one(k: int) -> Record:
        def some(values: list[str]) -> str:
            return draw(st.sampled_from(["", *values]))

        return Record(record_id=f"s:{k}", source="s", source_type="csv", source_key=str(k),
                      title=some(["Integrated care systems"]), year=some(["2022"]), container=some(["BMJ"]),
                      volume=some(["12"]), pages=some(["1-9"]), doi=some(["10.1/a"]), url=some(["https://x.org"]),
                      creators=[Creator(family="Lorne", given="C")] if draw(st.booleans()) else [],
                      zotero_key=some(["users/1:ABCD2345"]), place=some(["London"]), language=some(["en"]),
                      tags=draw(st.lists(st.sampled_from(["a", "b"]), max_size=2)))
    return [one(k) for k in range(draw(st.integers(2, 4)))]


@settings(max_examples=60, deadline=None)
@given(groups())
def test_the_dedup_and_the_reports_choose_by_one_rule(records):
    assert best(records) is survivor(records)
