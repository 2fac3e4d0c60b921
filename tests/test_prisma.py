"""The PRISMA 2020 flow (review.prisma and its stage): counts in the PRISMA2020 tool's fields, checks, diagram."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import pandas as pd
from conftest import SCREENING_CONFIG, outputs_in
from hypothesis import given, settings
from hypothesis import strategies as st

from review import prisma, screening
from review.fileio import write_csv
from review.stages import prisma as prisma_stage
from review.stages.screening import SCREENING_COLUMNS

CONFIG = SCREENING_CONFIG


def decision(study, stage, value, reviewer, reason=""):
    return screening.Decision(study, stage, value, reason, reviewer, "test")


TA, FT = screening.TA, screening.FT


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def outputs(folder):
    return outputs_in(prisma_stage, folder)


def flow(**counts):
    base = dict(identified={"hmic": 3, "team": 2}, categories={"hmic": "databases", "team": "citations"},
                duplicates=1, automatic=0, screened=4, excluded_ta=1, awaiting_ta=0, sought=3, not_retrieved=1,
                awaiting_ft=0,
                assessed=2, excluded_ft={"Opinion, without substance": 1}, included=1, reports_included=1)
    return prisma.Flow(**{**base, **counts})


def test_counts_use_the_prisma2020_field_names_and_reconcile(tmp_path):
    f = flow()
    assert prisma.check(f) == []
    prisma_stage.write(f, CONFIG, outputs(tmp_path))
    counts = {r["data"]: r["n"] for r in rows(tmp_path / "counts.csv")}
    assert (counts["database_results"], counts["citations_results"], counts["duplicates"]) == ("3", "2", "1")
    assert counts["dbr_excluded"] == "Opinion without substance, 1"  # the tool splits reasons on commas
    assert list(rows(tmp_path / "counts.csv")[0]) == prisma.CSV_COLUMNS


def test_an_inconsistency_is_reported_not_hidden(tmp_path):
    f = flow(included=2)
    problems = prisma.check(f)
    assert [p.column for p in problems] == ["dbr_assessed"]
    assert problems[0].value == "2 != 3"
    f.problems = problems
    prisma_stage.write(f, CONFIG, outputs(tmp_path))
    assert "do not reconcile" in (tmp_path / "flow.svg").read_text(encoding="utf-8")


def test_svg_is_valid_xml_shows_every_count_and_escapes_names(tmp_path):
    config = {**CONFIG, "sources": [{**CONFIG["sources"][0], "database": "HMIC <script>alert(1)</script>"},
                                    CONFIG["sources"][1]]}
    prisma_stage.write(flow(), config, outputs(tmp_path))
    text = (tmp_path / "flow.svg").read_text(encoding="utf-8")
    root = ET.fromstring(text)
    shown = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for phrase in ("Records identified from (n = 5)", "Duplicate records (n = 1)", "Records screened (n = 4)",
                   "Records excluded (n = 1)", "Reports sought for retrieval (n = 3)", "Reports not retrieved (n = 1)",
                   "Reports assessed for eligibility (n = 2)", "Reports excluded (n = 1)",
                   "Studies included in review (n = 1)"):
        assert phrase in shown, phrase
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "automation" not in shown  # nothing stopped: the PRISMA box shows duplicates only


def test_records_left_unscreened_by_the_stopping_rule_are_the_automation_tools_box(tmp_path):
    stopped = flow(automatic=2, screened=2, excluded_ta=0, awaiting_ta=0, sought=2, not_retrieved=0, assessed=2,
                   excluded_ft={"Opinion, without substance": 1}, identified={"hmic": 5})
    assert prisma.check(stopped) == []
    prisma_stage.write(stopped, CONFIG, outputs(tmp_path))
    root = ET.fromstring((tmp_path / "flow.svg").read_text(encoding="utf-8"))
    shown = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Marked ineligible by automation tools (n = 2)" in shown
    with open(tmp_path / "counts.csv", encoding="utf-8") as handle:
        counts = {r["data"]: r["n"] for r in csv.DictReader(handle)}
    assert counts["excluded_automatic"] == "2" and counts["records_screened"] == "2"


def test_search_log_mismatch_is_a_warning():
    problems = prisma.search_log_problems(CONFIG, {"hmic": 2, "team": 2})
    assert [(p.code, p.value) for p in problems] == [("search-count-mismatch", "2")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["include", "exclude", "maybe", None]), min_size=1, max_size=40),
       st.lists(st.sampled_from(["include", "exclude", "not-retrieved", "maybe", None]), min_size=40, max_size=40),
       st.integers(min_value=0, max_value=30), st.booleans())
def test_prisma_arithmetic_holds_for_any_decisions(tmp_path_factory, ta, ft, duplicates, stopped):
    tmp = tmp_path_factory.mktemp("prisma")
    studies = [f"g{k:03d}" for k in range(len(ta))]
    decisions = []
    for k, study in enumerate(studies):
        if ta[k]:
            decisions.append(decision(study, TA, ta[k], "alice", "opinion" if ta[k] == "exclude" else ""))
        if ft[k]:
            decisions.append(decision(study, FT, ft[k], "alice", "not-tier" if ft[k] == "exclude" else ""))
    table, _ = screening.screen(studies, decisions)
    if stopped:  # the team stopped by the stopping rule: studies nobody screened are the automation tool's
        for row, decided in zip(table, ta):
            if decided is None:
                row["status"] = screening.STOPPED
    write_csv(tmp / "screening.csv", SCREENING_COLUMNS, table)
    # copies of one report from several sources are records, not reports; some studies have two reports
    reports = {s: 1 + k % 2 for k, s in enumerate(studies)}
    write_csv(tmp / "unique.csv", ["study_id", "n_records", "n_reports"],
              [{"study_id": s, "n_records": 1 + k % 3 + reports[s], "n_reports": reports[s]}
               for k, s in enumerate(studies)])
    write_csv(tmp / "sources.csv", ["source", "records"], [{"source": "hmic", "records": len(studies) + duplicates}])
    write_csv(tmp / "dedup.csv", ["measure", "source", "value"],
              [{"measure": "duplicates_removed", "source": "", "value": duplicates}])
    config = {**CONFIG, "sources": [CONFIG["sources"][0] | {"search": {}}]}
    f = prisma.build(config, *(pd.read_csv(tmp / name, dtype=str, keep_default_na=False)
                               for name in ("sources.csv", "dedup.csv", "screening.csv", "unique.csv")))
    assert [p for p in f.problems if p.code == "prisma-inconsistent"] == []
    assert f.screened == f.excluded_ta + f.sought + f.awaiting_ta
    assert f.automatic == (ta.count(None) if stopped else 0)
    assert f.field_values()["excluded_automatic"] == f.automatic
    assert f.screened + f.automatic + f.duplicates == f.identified_total
    assert f.included == sum(1 for r in table if r["status"] == "included")
    included = [r["study_id"] for r in table if r["status"] == "included"]
    assert f.reports_included == sum(reports[s] for s in included) >= f.included  # a study's every report
    assert pd.Series([r["status"] for r in table]).isin(
        ["included", "excluded at full text", "excluded at title/abstract", "not retrieved", "awaiting screening",
         "awaiting full text", screening.STOPPED]).all()


def test_an_updated_review_counts_the_previous_version_the_new_studies_and_the_total(tmp_path):
    """PRISMA 2020's flow for updated reviews: studies and reports of the previous version, the new studies
    (those included now that it did not include) and their reports, and the total."""
    screened = pd.DataFrame([{"study_id": s, "status": "included", "ta_decision": "include", "ft_reason": ""}
                             for s in ("Ham2017", "Lorne2019", "Sanderson2023", "Charles2018")])
    unique = pd.DataFrame({"study_id": ["Ham2017", "Lorne2019", "Sanderson2023", "Charles2018"],
                           "n_reports": ["1", "2", "1", "1"]})
    previous = pd.DataFrame({"study_id": ["Ham2017", "Lorne2019", "Walshe2003"], "n_reports": ["1", "", "3"]})
    config = {**CONFIG, "sources": [CONFIG["sources"][0]],
              "previous_version": {"label": "the 2019 review", "included": "previous.csv"}}
    f = prisma.build(config, pd.DataFrame([{"source": "hmic", "records": 4}]),
                     pd.DataFrame([{"measure": "duplicates_removed", "source": "", "value": "0"}]), screened, unique,
                     previous)
    # previous: Ham2017 (1), Lorne2019 (2: as its study has now), Walshe2003 (3); new: Sanderson2023, Charles2018
    assert (f.previous_studies, f.previous_reports) == (3, 6)
    assert f.new == (2, 2) and f.total == (5, 8)
    assert [p for p in f.problems if p.code == "prisma-inconsistent"] == []
    prisma_stage.write(f, config, outputs(tmp_path))
    counts = {r["data"]: r["n"] for r in rows(tmp_path / "counts.csv")}
    assert [counts[k] for k in ("previous_studies", "previous_reports", "new_studies", "new_reports",
                                "total_studies", "total_reports")] == ["3", "6", "2", "2", "5", "8"]
    root = ET.fromstring((tmp_path / "flow.svg").read_text(encoding="utf-8"))
    shown = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for phrase in ("Previous version: the 2019 review", "Studies included (n = 3)", "New studies included in review "
                   "(n = 2)", "Total studies included in review (n = 5)", "Reports of total included studies (n = 8)"):
        assert phrase in shown, phrase
    # not an update: every included study is new, and the total is what is included
    plain = flow()
    assert plain.new == plain.total == (1, 1) and plain.field_values()["previous_studies"] == 0
