"""What the Snakefile's helpers (review.snakemake) tell the terminal."""

from __future__ import annotations

from review.fileio import write_csv
from review.snakemake import problems_summary


def test_the_problem_tables_with_errors_or_warnings_are_named_after_a_refresh(tmp_path):
    write_csv(tmp_path / "screening.csv", ["code", "severity"], [{"code": "missing-reason", "severity": "error"},
                                                                 {"code": "unknown-study", "severity": "warning"},
                                                                 {"code": "unknown-study", "severity": "warning"}])
    write_csv(tmp_path / "clean.csv", ["code", "severity"], [])
    outputs = {"screen_records": {"issues": str(tmp_path / "screening.csv")},
               "read_extractions": {"validation": str(tmp_path / "clean.csv")},
               "write_report": {"issues": str(tmp_path / "not-yet.csv")}}
    assert problems_summary(outputs) == [f"{tmp_path / 'screening.csv'}: 1 error, 2 warnings (screen_records)"]
