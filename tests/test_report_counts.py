"""The numbers the summary prints (review.report_counts), from the flow, the studies and the evidence."""

from __future__ import annotations

import pandas as pd

from review import report_counts


def test_rows_whose_values_stand_on_one_reviewer_alone_are_counted():
    evidence = pd.DataFrame([
        # s1 x SHA: both reviewers (one value agreed); s2 x STP: one reviewer only; a lesson of s2 counts for nothing
        {"study_id": "s1", "tier": "SHA", "field": "functions", "value": "F1", "basis": "agreed", "item": ""},
        {"study_id": "s1", "tier": "SHA", "field": "notes", "value": "x", "basis": "single reviewer", "item": ""},
        {"study_id": "s2", "tier": "STP", "field": "functions", "value": "F1", "basis": "single reviewer", "item": ""},
        {"study_id": "s2", "tier": "ICB", "field": "lessons_for_ics", "value": "L", "basis": "agreed", "item": "1"}])
    studies = pd.DataFrame({"study_id": ["s1", "s2", "s3"]})
    numbers = report_counts.numbers(pd.DataFrame(columns=["data", "n"]), studies, evidence)
    assert (numbers["rows_extracted"], numbers["rows_one_reviewer"]) == (2, 1)
    assert numbers["values_one_reviewer"] == 1  # s1 x SHA's notes: one reviewer's, in a row both extracted
    assert (numbers["studies_extracted"], numbers["studies_included"]) == (2, 3)


def test_the_flows_awaiting_boxes_are_read_and_checked_against_the_identities():
    flow = pd.DataFrame({"data": ["database_results", "duplicates", "records_screened", "records_excluded",
                                  "dbr_sought_reports", "dbr_notretrieved_reports", "dbr_assessed", "new_studies",
                                  "records_awaiting", "reports_awaiting"],
                         "n": [12, 2, 10, 4, 5, 0, 4, 3, 1, 1]})
    studies = pd.DataFrame({"study_id": ["s1", "s2", "s3"]})
    numbers = report_counts.numbers(flow, studies, pd.DataFrame())
    assert (numbers["awaiting_ta"], numbers["awaiting_ft"]) == (1, 1)
    assert report_counts.disagreements(numbers, {}, _no_tables()) == []
    stale = report_counts.numbers(flow.assign(n=[12, 2, 10, 4, 5, 0, 4, 3, 2, 1]), studies, pd.DataFrame())
    assert [(p.column, p.value) for p in report_counts.disagreements(stale, {}, _no_tables())] == [
        ("records_awaiting", "2 != 1")]


def _no_tables():
    from types import SimpleNamespace

    return SimpleNamespace(tables=[])
