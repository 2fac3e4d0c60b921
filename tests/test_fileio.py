"""review.fileio: CSV cells a spreadsheet would run are neutralised and read back unchanged; YAML aliases
that would expand without end are refused; a table unchanged keeps its file, one that fails half way leaves
the old file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.fileio import (
    YamlTooLarge,
    csv_bytes,
    neutralise,
    read_frame,
    restore,
    safe_yaml,
    write_csv,
)

ATTACKS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3+cmd|' /C calc'!A0",
           "\t=1+1", "\r=1+1", "'=already quoted"]


@pytest.mark.parametrize("value", ATTACKS)
def test_attack_csv_injection_is_neutralised_in_every_csv_the_pipeline_writes_and_read_back_unchanged(tmp_path, value):
    path = tmp_path / "records.csv"
    write_csv(path, ["title", "year"], [{"title": value, "year": "2020"}])
    cell = path.read_text(encoding="utf-8").splitlines()[1]
    assert cell.lstrip('"').startswith("'")  # Excel and Calc show it as text
    assert read_frame(path).to_dict("records") == [{"title": value, "year": "2020"}]


@pytest.mark.parametrize("value", ["-0.100", "+3", "12", "1e5", "plain", "O'Brien", "'quoted'", ""])
def test_numbers_and_ordinary_text_are_written_as_they_are(value):
    assert neutralise(value) == value and restore(value) == value


@given(st.text())
def test_restore_undoes_neutralise_for_any_text(value):
    assert restore(neutralise(value)) == value


def test_a_few_yaml_aliases_load_but_an_alias_bomb_is_refused_before_it_is_built():
    assert safe_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
    with pytest.raises(YamlTooLarge, match="expand it to 490,329,064 values"):
        safe_yaml(bomb)


def test_read_frame_takes_only_the_columns_asked_for_and_reads_a_missing_one_as_empty(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, ["record_id", "abstract", "source"], [{"record_id": "r1", "abstract": "long", "source": "=x"}])
    frame = read_frame(path, ["source", "record_id", "severity"])
    assert sorted(frame.columns) == ["record_id", "severity", "source"]
    assert frame.to_dict("records") == [{"record_id": "r1", "source": "=x", "severity": ""}]


def test_frame_rows_are_what_pandas_gives_row_by_row():
    import pandas as pd

    from review.fileio import frame_rows

    frame = pd.DataFrame({"study_id": ["S1", "S2"], "title": ["A", ""], "n": [1, 2]})
    assert frame_rows(frame) == frame.to_dict("records")
    assert frame_rows(frame.iloc[0:0]) == []


cells = st.text(alphabet=st.sampled_from(["a", "é", ",", '"', "'", "=", "-", "1", "\r", "\n", " "]), max_size=6)


@given(st.lists(st.fixed_dictionaries({"a": cells, "b": cells}), min_size=1, max_size=5))
def test_a_written_table_reads_back_cell_for_cell_as_streamed_or_in_memory(rows):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        write_csv(path, ["a", "b"], rows)
        assert path.read_bytes() == csv_bytes(["a", "b"], rows)
        assert read_frame(path).to_dict("records") == rows


def test_an_unchanged_table_keeps_its_file_and_a_changed_one_is_replaced(tmp_path):
    path = tmp_path / "t.csv"
    assert write_csv(path, ["a"], [{"a": "1"}])
    before = path.stat()
    assert not write_csv(path, ["a"], [{"a": "1"}])
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_ino == before.st_ino
    assert write_csv(path, ["a"], [{"a": "2"}])  # same size, other bytes
    assert path.read_text(encoding="utf-8") == "a\n2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_table_that_fails_half_way_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, ["a"], [{"a": "old"}])

    def rows():
        yield {"a": "new"}
        raise RuntimeError("the stage failed while rows were written")

    with pytest.raises(RuntimeError):
        write_csv(path, ["a"], rows())
    assert path.read_text(encoding="utf-8") == "a\nold\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_cache_that_cannot_be_written_costs_only_the_next_computation(tmp_path, caplog):
    import logging

    import numpy as np

    from review.fileio import kept_arrays

    (tmp_path / "file").write_text("x")
    cache = tmp_path / "file" / "cache.npz"  # under a file: cannot be created
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.arange(3)}

    with caplog.at_level(logging.INFO, logger="review.fileio"):
        assert kept_arrays(cache, "k", compute)["a"].tolist() == [0, 1, 2]
        assert kept_arrays(cache, "k", compute)["a"].tolist() == [0, 1, 2]
    assert len(calls) == 2 and "was not kept" in caplog.text
    kept = tmp_path / "cache.npz"
    kept_arrays(kept, "k", compute)
    assert kept_arrays(kept, "k", compute)["a"].tolist() == [0, 1, 2] and len(calls) == 3
