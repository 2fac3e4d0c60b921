"""The canonical record: its row form in records.csv and back."""

from dataclasses import asdict, fields

from hypothesis import given
from hypothesis import strategies as st

from review.model import Creator, Record

names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)


@given(st.builds(Creator, role=st.sampled_from(["author", "editor"]), family=names, given=names, name=names))
def test_creator_as_dict_is_every_field_that_has_a_value_in_field_order(creator):
    # as_dict lists the fields by hand (for speed): a field added to Creator must be added there too
    assert list(asdict(creator)) == [f.name for f in fields(Creator)]
    assert creator.as_dict() == {k: v for k, v in asdict(creator).items() if v}
    assert Creator.from_dict(creator.as_dict()) == creator


@given(st.lists(st.builds(Creator, role=st.sampled_from(["author", "editor"]), family=names, given=names),
                max_size=3))
def test_a_record_survives_its_row(creators):
    record = Record("bib:x", "bib", "bibtex", title="T", creators=creators, tags=["a", "b"], line=3,
                    original={"title": "T"})
    again = Record.from_row(record.as_row())
    assert again.creators == creators
    assert (again.title, again.tags, again.line, again.original) == ("T", ["a", "b"], 3, {"title": "T"})


records = st.builds(
    Record, record_id=names, source=names, source_type=st.just("csv"), title=names, year=names, abstract=names,
    doi=names, line=st.none() | st.integers(0, 9), tags=st.lists(names, max_size=2),
    collections=st.lists(names, max_size=2), original=st.dictionaries(names, names, max_size=2),
    creators=st.lists(st.builds(Creator, role=st.sampled_from(["author", "editor", "translator"]), family=names,
                                given=names, name=names), max_size=3))


@given(records)
def test_a_column_alone_and_the_count_of_filled_columns_are_what_the_whole_row_says(record):
    # the dedup stage merges a group column by column and ranks its members by filled(), not by as_row()
    row = record.as_row()
    assert {name: record.cell(name) for name in row} == row
    assert record.filled() == sum(bool(value) for value in row.values())
