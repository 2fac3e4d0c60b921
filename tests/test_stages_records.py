"""Stage 1 (sources -> records table) and the CLI around it."""

from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest
from conftest import FIXTURES, PROJECT, outputs_in

from review import protocol
from review.errors import ReviewError
from review.model import RECORD_COLUMNS, Record
from review.readers import read_file
from review.stages import records


def run_records(config, out, **kwargs):
    return records.run(config, {}, outputs_in(records, out), **kwargs)


@pytest.fixture
def sample(tmp_path):
    """A copy of the bundled sample library and protocol in a fresh folder."""
    shutil.copytree(PROJECT / "protocols", tmp_path / "protocols")
    return tmp_path


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_sample_library_imports_every_entry_of_every_export(sample):
    config = protocol.load(sample / "protocols/review.yaml")
    out = sample / "results/records"

    run_records(config, out, root=sample, results=sample / "results")

    table = pd.read_csv(out / "records.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == RECORD_COLUMNS
    expected = {}
    for source in protocol.sources(config):
        expected[source.name] = len(read_file(sample / source.file, source.format).records)
    assert table.groupby("source").size().to_dict() == expected
    assert table["record_id"].is_unique
    assert (table["title"] != "").all()
    assert set(table["file"]) == {s.file for s in protocol.sources(config)}  # paths as the protocol gives them
    summary = {r["source"]: r for r in rows(out / "sources.csv")}
    assert {k: int(v["records"]) for k, v in summary.items()} == expected
    assert rows(out / "issues.csv") == []


def test_records_table_round_trips_to_records(sample):
    config = protocol.load(sample / "protocols/review.yaml")
    run_records(config, sample / "out", root=sample)
    table = pd.read_csv(sample / "out/records.csv", dtype=str, keep_default_na=False)
    rebuilt = [Record.from_row(row) for row in table.to_dict("records")]
    assert [r.as_row() for r in rebuilt] == [r.as_row() for r in records.build(config, root=sample).records]


def test_sources_read_side_by_side_give_the_same_bytes_as_read_one_after_the_other(sample):
    # each worker process hands back its rows of the table; they are written in protocol order
    config = protocol.load(sample / "protocols/review.yaml")
    assert len(protocol.sources(config)) > 2
    alone = run_records(config, sample / "one", root=sample)
    together = run_records(config, sample / "two", root=sample, jobs=2)
    for name in ("records.csv", "issues.csv", "sources.csv"):
        assert (sample / "two" / name).read_bytes() == (sample / "one" / name).read_bytes(), name
    assert together.summary == alone.summary and together.records == alone.records == []


def test_rerun_on_the_same_inputs_writes_identical_bytes_and_keeps_mtimes(sample):
    config = protocol.load(sample / "protocols/review.yaml")
    out = sample / "out"
    run_records(config, out, root=sample)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    run_records(config, out, root=sample)
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before


def test_malformed_entries_are_reported_with_file_line_and_field(tmp_path):
    shutil.copy(FIXTURES / "bibtex/broken.bib", tmp_path / "broken.bib")
    config = protocol.validate({"title": "T", "sources": [{"name": "db", "file": "broken.bib"}]})

    run_records(config, tmp_path / "out", root=tmp_path)

    issues = rows(tmp_path / "out/issues.csv")
    malformed = [i for i in issues if i["code"] == "malformed-entry"]
    assert [(i["file"], i["row"], i["severity"]) for i in malformed] == [
        ("broken.bib", "8", "error"), ("broken.bib", "23", "error")]
    doi = next(i for i in issues if i["code"] == "invalid-doi")
    assert (doi["column"], doi["value"], doi["record_id"]) == ("doi", "not a doi", "db:good2")
    assert len(rows(tmp_path / "out/records.csv")) == 3


@pytest.mark.parametrize("jobs", [1, 2])
def test_unreadable_source_fails_the_stage_but_reports_and_keeps_the_others(tmp_path, jobs):
    shutil.copy(FIXTURES / "ris/not_ris.ris", tmp_path / "search.ris")
    shutil.copy(FIXTURES / "bibtex/good.bib", tmp_path / "good.bib")
    config = protocol.validate({"title": "T", "sources": [
        {"name": "hmic", "file": "search.ris"}, {"name": "lib", "file": "good.bib"}]})

    with pytest.raises(ReviewError, match="could not read hmic"):  # from a worker process with two jobs
        run_records(config, tmp_path / "out", root=tmp_path, jobs=jobs)

    issues = rows(tmp_path / "out/issues.csv")
    assert [(i["code"], i["file"]) for i in issues] == [("unreadable-source", "search.ris")]
    assert "not a RIS file" in issues[0]["value"]
    assert {r["source"] for r in rows(tmp_path / "out/records.csv")} == {"lib"}
