"""The real ``snakemake`` on a temporary copy of the project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import LETTERED, PROJECT, ZoteroServer, unresolved

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path):
    for name in ("Snakefile", "protocols", "extracts"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    return tmp_path


def snakemake(project, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args], cwd=project, capture_output=True, text=True,
        timeout=300, env={**os.environ, **(env or {})},
    )


def records(project):
    return pd.read_csv(project / "results/records/records.csv", dtype=str, keep_default_na=False)


def test_snakemake_on_the_sample_builds_records_and_a_second_run_does_nothing(project):
    first = snakemake(project)
    assert first.returncode == 0, first.stderr
    # reviewer_b's slips are named on the terminal too, not only in the logs
    assert "Problems to look at: results/evidence/validation.csv: 4 errors" in first.stderr
    table = records(project)
    # the corpus's 79 references and the PRUComm blog of 2024, which only the Zotero library holds
    assert table.groupby("source").size().to_dict() == {"hmic": 35, "scopus": 19, "zotero": 67}
    assert (project / "results/logs/import_records.log").exists()
    # the three exports hold those 80 references, with overlaps: dedup finds exactly those
    counts = pd.read_csv(project / "results/dedup/counts.csv", dtype=str, keep_default_na=False)
    overall = dict(zip(counts[counts.source == ""].measure, counts[counts.source == ""].value))
    assert overall["unique_records"] == "80" and overall["reviewer_decisions"] == "1"
    # the illustrative sample sheets: reviewer_b's four slips are reported, the consensus settles two fields
    validation = pd.read_csv(project / "results/evidence/validation.csv", dtype=str, keep_default_na=False)
    assert sorted(validation.code) == ["not-a-tick", "not-in-codebook", "period-order", "wrong-type"]
    assert set(validation.file) == {"extracts/reviewer_b.xlsx"}
    evidence = pd.read_csv(project / "results/evidence/evidence.csv", dtype=str, keep_default_na=False)
    assert {"agreed", "single reviewer", "consensus"} <= set(evidence.basis)
    # each lesson is printed under an audience given for that very lesson (its reviewers' or the consensus's),
    # never under the audience of another lesson of its study and tier
    items = evidence[evidence["item"] != ""]
    texts = {(r.study_id, r.tier, r.item): r.value for r in items[items.field == "lessons_for_ics"].itertuples()}
    given = {((r.study_id, r.tier, r.item), r.value) for r in items[items.field == "lesson_audience"].itertuples()}
    lessons = pd.read_csv(project / "results/tables/lessons.csv", dtype=str, keep_default_na=False)
    assert len(lessons) >= 10
    assert [r.lesson for r in lessons.itertuples() if not any(
        text == r.lesson and (key, r.audience) in given for key, text in texts.items())] == []
    tidy = pd.read_csv(project / "results/evidence/extractions.csv", dtype=str, keep_default_na=False)
    typed = {((r.study_id, r.tier, r.item), r.value) for r in tidy[tidy.field == "lesson_audience"].itertuples()}
    agreed = items[(items.field == "lesson_audience") & (items.basis != "consensus")]
    assert {((r.study_id, r.tier, r.item), r.value) for r in agreed.itertuples()} <= typed
    # screening from tags and workbooks; the PRISMA counts reconcile and match the search log
    prisma_counts = pd.read_csv(project / "results/prisma/counts.csv", dtype=str, keep_default_na=False)
    n = dict(zip(prisma_counts.data, prisma_counts.n))
    assert int(n["database_results"]) + int(n["citations_results"]) - int(n["duplicates"]) == int(n["records_screened"])
    assert pd.read_csv(project / "results/prisma/issues.csv").empty
    assert "Studies included in review" in (project / "results/prisma/flow.svg").read_text(encoding="utf-8")
    conflicts = pd.read_csv(project / "results/screening/conflicts.csv", dtype=str, keep_default_na=False)
    assert sorted(conflicts.resolved_by) == ["", "consensus"]
    for name in ("executive_summary.md", "executive_summary.html", "executive_summary.docx"):
        assert (project / "results/report" / name).stat().st_size > 1000, name
    summary = (project / "results/report/executive_summary.md").read_text(encoding="utf-8")
    assert "GRADE-CERQual" in summary
    assert summary.count("was assessed with GRADE-CERQual") == 1  # the method once, in the annex's methods
    # every lettered citation, in the evidence and among the studies not yet extracted, has its reference
    assert len(LETTERED.findall(summary)) > 10 and unresolved(summary) == []
    # the team's own bracketed citations resolve too, and no Markdown block runs into the next one
    assert not [r for r in csv_rows(project / "results/report/issues.csv") if r["code"] == "citation-not-in-references"]
    assert not [line for line in summary.splitlines() if re.search(r"[^\s>]>$", line)]
    kinds = ("*.csv", "*.md", "*.html", "*.docx", "*.svg", "*.xlsx")
    outputs = {p: p.read_bytes() for kind in kinds for p in (project / "results").rglob(kind)}

    second = snakemake(project)

    assert second.returncode == 0, second.stderr
    assert "Nothing to be done" in second.stdout + second.stderr
    assert {p: p.read_bytes() for kind in kinds for p in (project / "results").rglob(kind)} == outputs

    # the same inputs give byte-identical outputs when everything is rebuilt
    rebuilt = snakemake(project, "--forceall")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert {p: p.read_bytes() for kind in kinds for p in (project / "results").rglob(kind)} == outputs

    # a reviewer's sheet with typed work deleted stops the refresh, naming it; started again on purpose (its
    # entry taken out of the state too), it is made anew
    (project / "extracts/reviewer_b.xlsx").unlink()
    gone = snakemake(project)
    assert gone.returncode != 0 and "extracts/reviewer_b.xlsx: reviewer_b's extraction sheet is missing" in gone.stderr
    state = project / "extracts/.state/extraction-workbooks.json"
    kept = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps({k: v for k, v in kept.items() if k != "reviewer_b"}), encoding="utf-8")
    again = snakemake(project)
    assert again.returncode == 0, again.stderr
    assert "write_sheets" in again.stdout + again.stderr and (project / "extracts/reviewer_b.xlsx").exists()


def test_a_reviewer_decision_reruns_the_dedup_and_nothing_upstream(project):
    from openpyxl import load_workbook

    assert snakemake(project).returncode == 0
    sheet = project / "extracts/duplicates.xlsx"
    workbook = load_workbook(sheet)
    workbook["pairs to check"]["A2"] = "same"
    workbook.save(sheet)

    rerun = snakemake(project)

    log = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, rerun.stderr
    assert "find_duplicates" in log and "import_records" not in log
    counts = pd.read_csv(project / "results/dedup/counts.csv", dtype=str, keep_default_na=False)
    assert counts[(counts.measure == "unique_records") & (counts.source == "")].value.item() == "79"


def test_typing_in_an_extraction_sheet_reruns_only_the_evidence_stage(project):
    from openpyxl import load_workbook

    assert snakemake(project).returncode == 0
    sheet = project / "extracts/reviewer_b.xlsx"
    workbook = load_workbook(sheet)
    ws = workbook["extraction"]
    header = {c.value: c.column for c in ws[1] if c.value}
    row = next(r[0].row for r in ws.iter_rows(min_row=2) if ws.cell(row=r[0].row, column=header["decision_mode"]).value
               == "consensus")
    ws.cell(row=row, column=header["decision_mode"], value="consensual_collective")  # the reviewer fixes a slip
    workbook.save(sheet)

    rerun = snakemake(project)

    log = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, rerun.stderr
    assert "read_extractions" in log and "write_sheets" not in log and "find_duplicates" not in log
    validation = pd.read_csv(project / "results/evidence/validation.csv", dtype=str, keep_default_na=False)
    assert "decision_mode" not in set(validation.column)

    # a lesson typed on the lessons sheet counts as typing too
    workbook = load_workbook(sheet)
    ws = workbook["lessons"]
    header = {c.value: c.column for c in ws[1] if c.value}
    row = next(r[0].row for r in ws.iter_rows(min_row=2) if r[header["lessons_for_ics"] - 1].value)
    ws.cell(row=row, column=header["lesson_locator"], value="p. 99")
    workbook.save(sheet)
    rerun = snakemake(project)
    assert rerun.returncode == 0 and "read_extractions" in rerun.stdout + rerun.stderr


def test_lint_is_clean(project):
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=project, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_invalid_protocol_stops_with_the_key_named_and_no_traceback(project):
    path = project / "protocols/review.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("network:", "netwrok:"), encoding="utf-8")
    result = snakemake(project)
    assert result.returncode != 0
    assert "unknown key 'netwrok' (did you mean 'network'?)" in result.stderr
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr


BOMB = "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


@pytest.mark.parametrize("edit, expected", [
    # an alias bomb Snakemake's own loader would expand to gigabytes: refused by the package's loader
    (lambda text: text + "\nbomb:\n  a: &a [x, x, x, x, x, x, x, x, x]\n  " + BOMB.replace("\n", "\n  "),
     "refused: its aliases"),
    (lambda text: text + "\nreviewers: [someone_else]\n", "the key 'reviewers' is given twice (first at line"),
    (lambda text: text + "\nnetwork: [unclosed\n", "review.yaml: line "),
    (lambda text: "", "review.yaml: the protocol is empty"),
    (lambda text: text.replace("protocols/codebook.yaml", "protocols"), "protocols: cannot read the codebook"),
], ids=["alias-bomb", "duplicate-key", "syntax-error", "empty", "codebook-folder"])
def test_a_hostile_protocol_stops_snakemake_with_one_error_naming_the_file(project, edit, expected):
    path = project / "protocols/review.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    result = snakemake(project, "-n")
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr and len(result.stderr) < 3000


def test_an_unreadable_source_stops_the_run_and_its_problems_outlive_snakemake_removing_the_outputs(project):
    (project / "protocols/library/scopus.bib").write_text("not BibTeX at all\n", encoding="utf-8")
    result = snakemake(project, "import_records")
    assert result.returncode != 0
    kept = project / "results/records/issues-of-the-failed-run.csv"
    assert "could not read scopus; the problems are listed above and kept in results/records/" \
           "issues-of-the-failed-run.csv" in result.stderr
    assert not (project / "results/records/issues.csv").exists()  # Snakemake removed the failed job's outputs
    assert "unreadable-source" in (project / "results/logs/import_records.log").read_text(encoding="utf-8")
    assert "unreadable-source" in kept.read_text(encoding="utf-8") and "scopus.bib" in kept.read_text(encoding="utf-8")
    shutil.copy(PROJECT / "protocols/library/scopus.bib", project / "protocols/library/scopus.bib")
    assert snakemake(project, "import_records").returncode == 0 and not kept.exists()


def test_zotero_refresh_reruns_downstream_only_when_the_library_changed(project):
    with ZoteroServer() as server:
        path = project / "protocols/review.yaml"
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        config["sources"].append({"name": "team", "database": "Zotero",
                                  "zotero": {"library_id": server.library.library_id, "api_url": server.url}})
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        env = {"ZOTERO_API_KEY": server.library.api_key}

        first = snakemake(project, env=env)
        assert first.returncode == 0, first.stderr
        assert (records(project)["source"] == "team").sum() == 7

        unchanged = snakemake(project, env=env)
        assert unchanged.returncode == 0, unchanged.stderr
        assert "Nothing to be done" in unchanged.stdout + unchanged.stderr
        assert any("If-Modified-Since-Version" in r["headers"] for r in server.library.requests)

        server.library.edit("K8YEAR18", title="A year of integrated care systems (second edition)")
        changed = snakemake(project, env=env)
        assert changed.returncode == 0, changed.stderr
        assert "import_records" in changed.stdout + changed.stderr
        titles = set(records(project)["title"])
        assert "A year of integrated care systems (second edition)" in titles

        log = (project / "results/logs/sync_zotero.log").read_text(encoding="utf-8")
        assert "incremental sync" in log
        assert server.library.api_key not in log


def test_zotero_without_a_key_is_one_clear_error(project):
    path = project / "protocols/review.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["sources"] = [{"name": "team", "zotero": {"library_id": 1}}]
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "ZOTERO_API_KEY"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1"], cwd=project, capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode != 0
    assert "Error: Zotero sync failed: team: no Zotero API key: set the environment variable ZOTERO_API_KEY" in \
        result.stderr
    assert "Traceback" not in result.stderr


def test_configuration_overrides_reach_every_stage(project, tmp_path_factory):
    """What `snakemake --configfile` and `--config` set is what the jobs do, stage by stage."""
    protocol = yaml.safe_load((project / "protocols/review.yaml").read_text(encoding="utf-8"))
    assert {s["name"] for s in protocol["sources"]} == {"zotero", "hmic", "scopus"}
    assert protocol["reviewers"] == ["reviewer_a", "reviewer_b"]
    override = tmp_path_factory.mktemp("override") / "override.yaml"
    override.write_text(yaml.safe_dump({
        "title": "An override of the title",  # prisma, report
        "sources": [s for s in protocol["sources"] if s["name"] != "scopus"],  # records
        "dedup": {"title_maybe": 0.5},  # dedup: more pairs for reviewers
        "screening": {"reviewers": ["reviewer_a"]},  # screening: one screener, nothing to agree on
        "reviewers": ["reviewer_a", "reviewer_b", "reviewer_c"],  # sheets: a third extraction sheet
    }), encoding="utf-8")
    # reviewer_b's screening decisions would stop the run (a screener dropped with typed work): on this first
    # run they are not there to drop
    (project / "extracts/screening-reviewer_b.xlsx").unlink()

    result = snakemake(project, "--configfile", str(override))

    assert result.returncode == 0, result.stderr
    assert set(records(project)["source"]) == {"zotero", "hmic"}
    counts = pd.read_csv(project / "results/dedup/counts.csv", dtype=str, keep_default_na=False)
    assert int(counts[(counts["measure"] == "pairs_for_review") & (counts["source"] == "")]["value"].iloc[0]) > 0
    assert pd.read_csv(project / "results/screening/agreement.csv").empty
    assert "An override of the title" in (project / "results/prisma/flow.svg").read_text(encoding="utf-8")
    assert (project / "extracts/reviewer_c.xlsx").exists()
    summary = (project / "results/report/executive_summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# An override of the title")

    # --config values arrive as text; a nested key overrides that key alone (the codebook path stays)
    strict = snakemake(project, "--configfile", str(override), "--config", "extraction={strict: true}")
    assert strict.returncode != 0
    assert "validation errors in the extraction sheets" in strict.stderr


def csv_rows(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")


def ris_copy(row, key):
    """A re-formatted copy of a record, as another database exports it: upper-case title, initials, no DOI."""
    lines = ["TY  - JOUR", f"ID  - {key}"]
    for name in [a for a in row["authors"].split("; ") if a]:
        family, _, given = name.partition(", ")
        lines.append(f"AU  - {family} {''.join(w[0] for w in given.split())}".rstrip())
    lines += [f"TI  - {row['title'].upper()}", f"PY  - {row['year']}"]
    lines += [f"JO  - {row['container']}"] if row["container"] else []
    return "\n".join([*lines, "ER  - ", ""])


def test_a_living_review_keeps_every_typed_value_through_an_update_search_and_a_codebook_revision(project):
    """The acceptance of issue 10: an update search from a database sorting first, then a new codebook version."""
    assert snakemake(project).returncode == 0
    tidy_before = {tuple(r[k] for k in ("reviewer", "study_id", "tier", "item", "field", "value", "entry"))
                   for r in csv_rows(project / "results/evidence/extractions.csv")}
    evidence_before = {tuple(r[k] for k in ("study_id", "tier", "item", "field", "value", "basis"))
                       for r in csv_rows(project / "results/evidence/evidence.csv")}
    extracted = sorted({r[1] for r in tidy_before})
    summary_before = (project / "results/report/executive_summary.md").read_text(encoding="utf-8")
    cited = [line for line in summary_before.split("## References")[1].split("\n## ")[0].splitlines()
             if line.startswith("- ")]  # the reference list (the annex and the appendix follow it)
    prisma_before = {r["data"]: int(r["n"] or 0) for r in csv_rows(project / "results/prisma/counts.csv")
                     if r["n"].isdigit()}
    ids_before = {r["record_id"]: r["study_id"] for r in csv_rows(project / "results/dedup/groups.csv")}

    # an update search from ASSIA (sorts before hmic, scopus and zotero): copies of three extracted studies, two new
    unique = {r["study_id"]: r for r in csv_rows(project / "results/dedup/unique_records.csv")}
    copies = extracted[:3]
    text = "".join(ris_copy(unique[s], f"A{k}") for k, s in enumerate(copies, start=1))
    text += ris_copy({"authors": "Webster, Charles", "title": "Regional hospital boards and the planning of 1962",
                      "year": "1963", "container": "Public Administration"}, "A8")
    text += ris_copy({"authors": "Nobody, Anne", "title": "Integrated care boards two years on: a survey of chairs",
                      "year": "2025", "container": "Health Services Journal"}, "A9")
    (project / "protocols/library/assia.ris").write_text(text, encoding="utf-8")
    protocol = yaml.safe_load((project / "protocols/review.yaml").read_text(encoding="utf-8"))
    protocol["sources"].append({"name": "assia", "database": "ASSIA (ProQuest)", "file": "protocols/library/assia.ris",
                                "prisma": "databases", "search": {"interface": "ProQuest", "date": "2024-06-01",
                                                                  "search_string": "integrated care", "records": 5}})
    (project / "protocols/review.yaml").write_text(yaml.safe_dump(protocol, sort_keys=False), encoding="utf-8")
    update = snakemake(project)
    assert update.returncode == 0, update.stderr

    groups = {r["record_id"]: r["study_id"] for r in csv_rows(project / "results/dedup/groups.csv")}
    assert {k: groups[k] for k in ids_before} == ids_before  # no study changed its id
    assert [groups[f"assia:A{k}"] for k in (1, 2, 3)] == copies  # the copies joined their studies
    tidy_after = {tuple(r[k] for k in ("reviewer", "study_id", "tier", "item", "field", "value", "entry"))
                  for r in csv_rows(project / "results/evidence/extractions.csv")}
    assert tidy_before <= tidy_after
    evidence_after = {tuple(r[k] for k in ("study_id", "tier", "item", "field", "value", "basis"))
                      for r in csv_rows(project / "results/evidence/evidence.csv")}
    assert evidence_after == evidence_before
    summary_after = (project / "results/report/executive_summary.md").read_text(encoding="utf-8")
    assert all(line in summary_after for line in cited)
    prisma = {r["data"]: int(r["n"] or 0) for r in csv_rows(project / "results/prisma/counts.csv") if r["n"].isdigit()}
    assert prisma["database_results"] == prisma_before["database_results"] + 5
    assert prisma["duplicates"] == prisma_before["duplicates"] + 3
    assert prisma["records_screened"] == prisma_before["records_screened"] + 2
    report = {(r["section"], r["item"], r["change"], r["detail"])
              for r in csv_rows(project / "results/changes/changes.csv")}
    new_studies = {groups["assia:A8"], groups["assia:A9"]}
    assert new_studies == {"Webster1963", "Nobody2025"}
    assert report == ({("causes", "assia", "source added", "protocols/library/assia.ris")}  # why, first
                      | {("records", f"assia:A{k}", "added", "assia") for k in (1, 2, 3, 8, 9)}
                      | {("duplicates", f"assia:A{k}", "joined", s) for k, s in zip((1, 2, 3), copies)}
                      | {("studies", s, "new", "1 record") for s in new_studies}
                      | {("screening", s, "awaiting screening", "was new") for s in new_studies})
    assert "**Records** (5)" in summary_after

    # a field added after piloting: a new codebook version
    codebook = yaml.safe_load((project / "protocols/codebook.yaml").read_text(encoding="utf-8"))
    codebook["version"] = "1.3"
    codebook["groups"][-1]["fields"].append({
        "name": "system_aims", "label": "System aims", "type": "multiple", "help": "The four purposes of ICSs.",
        "choices": [{"code": "outcomes", "label": "Improve population health outcomes"},
                    {"code": "inequalities", "label": "Tackle inequalities"},
                    {"code": "value", "label": "Enhance productivity and value for money"},
                    {"code": "social", "label": "Support social and economic development"}]})
    codebook["changes"].append({"version": "1.3", "add_field": "system_aims", "note": "after piloting"})
    (project / "protocols/codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False, allow_unicode=True),
                                                     encoding="utf-8")
    revised = snakemake(project)
    assert revised.returncode == 0, revised.stderr
    from openpyxl import load_workbook

    for name in ("reviewer_a", "reviewer_b", "consensus"):
        wb = load_workbook(project / f"extracts/{name}.xlsx")
        header = [c.value for c in wb["extraction"][1]]
        assert "system_aims:outcomes" in header and "system_aims:social" in header, name
        assert dict(r[:2] for r in wb["about"].iter_rows(values_only=True))["codebook_version"] == "1.3"
    tidy_revised = {tuple(r[k] for k in ("reviewer", "study_id", "tier", "item", "field", "value", "entry"))
                    for r in csv_rows(project / "results/evidence/extractions.csv")}
    assert tidy_after == tidy_revised
    assert {tuple(r[k] for k in ("study_id", "tier", "item", "field", "value", "basis"))
            for r in csv_rows(project / "results/evidence/evidence.csv")} == evidence_before
    assert not [r for r in csv_rows(project / "results/evidence/validation.csv") if r["code"] == "missing-column"]
    log = csv_rows(project / "extracts/cell-changes.csv")
    assert {r["new"] for r in log if r["why"] == "field system_aims added in version 1.3 (after piloting)"} == {
        f"system_aims:{c}" for c in ("outcomes", "inequalities", "value", "social")}


def test_a_team_that_changes_keeps_every_typed_value_counting_or_stops_with_a_named_error(project):
    """A reviewer leaves and another joins, a workbook is moved away, a source file is deleted, a study id is
    overtyped: every refresh keeps each typed value counting or stops with an Error naming the cause."""
    assert snakemake(project).returncode == 0

    def table(name):
        return pd.read_csv(project / f"results/{name}", dtype=str, keep_default_na=False)

    decisions, extractions, evidence = (table("screening/decisions.csv"), table("evidence/extractions.csv"),
                                        table("evidence/evidence.csv"))
    protocol = project / "protocols/review.yaml"
    text = protocol.read_text(encoding="utf-8")
    assert "reviewers: [reviewer_a, reviewer_b]" in text
    protocol.write_text(text.replace("reviewers: [reviewer_a, reviewer_b]", "reviewers: [reviewer_a, reviewer_c]\n"
                                     "former_reviewers:\n  - {name: reviewer_b, left: 2026-11-30}"), encoding="utf-8")
    b_rows = (project / "extracts/screening-reviewer_b.xlsx").read_bytes()
    left = snakemake(project)
    assert left.returncode == 0, left.stderr
    # value by value: every decision, extraction value and resolved value of reviewer_b still counts
    assert table("screening/decisions.csv").equals(decisions)
    assert table("evidence/extractions.csv").equals(extractions)
    assert table("evidence/evidence.csv").equals(evidence)
    assert (project / "extracts/screening-reviewer_c.xlsx").exists() and (project / "extracts/reviewer_c.xlsx").exists()
    assert (project / "extracts/screening-reviewer_b.xlsx").read_bytes() == b_rows  # no new rows for who left
    report = (project / "results/changes/changes.md").read_text(encoding="utf-8")
    assert "reviewer joined: reviewer_c" in report and "reviewer left: reviewer_b" in report
    b_decided = int((decisions.reviewer == "reviewer_b").sum())
    b_keys = extractions[extractions.reviewer == "reviewer_b"][["study_id", "tier"]].drop_duplicates()
    assert f"{b_decided} screening decisions and {len(b_keys)} extraction rows still count" in report

    # dropped from the protocol altogether: a named error, nothing downstream changes
    protocol.write_text(text.replace("reviewers: [reviewer_a, reviewer_b]", "reviewers: [reviewer_a]"),
                        encoding="utf-8")
    dropped = snakemake(project)
    assert dropped.returncode != 0 and "Traceback" not in dropped.stderr
    assert f"Error: extracts/screening-reviewer_b.xlsx: {b_decided} typed rows of reviewer_b's screening decisions" \
        in dropped.stderr

    # a workbook that held typed work moved away (saved as .ods): a named error, no blank workbook in its place
    protocol.write_text(text, encoding="utf-8")
    (project / "extracts/reviewer_b.xlsx").rename(project / "extracts/reviewer_b.ods")
    moved = snakemake(project)
    assert moved.returncode != 0
    assert "extracts/reviewer_b.xlsx: reviewer_b's extraction sheet is missing (" in moved.stderr
    assert "extracts/reviewer_b.ods is beside it" in moved.stderr
    assert not (project / "extracts/reviewer_b.xlsx").exists()
    (project / "extracts/reviewer_b.ods").rename(project / "extracts/reviewer_b.xlsx")

    # a source file deleted: the run stops naming it rather than keep last time's records
    scopus = project / "protocols/library/scopus.bib"
    kept = scopus.read_bytes()
    scopus.unlink()
    gone = snakemake(project)
    assert gone.returncode != 0 and "source file the protocol names is missing (scopus: protocols/library/scopus.bib)" \
        in gone.stderr
    scopus.write_bytes(kept)

    # a study id overtyped with another study's: the row is named and its decision is not moved
    from openpyxl import load_workbook
    path = project / "extracts/screening-reviewer_a.xlsx"
    wb = load_workbook(path)
    ws = wb["title-abstract"]
    header = {c.value: c.column for c in ws[1]}
    typed = [r for r in range(2, ws.max_row + 1) if ws.cell(r, header["decision"]).value]
    row, other = typed[0], ws.cell(typed[1], header["study_id"]).value
    wb_study = ws.cell(row, header["study_id"]).value
    ws.cell(row, header["study_id"]).value = other
    wb.save(path)
    overtyped = snakemake(project)
    assert overtyped.returncode == 0, overtyped.stderr
    issues = table("screening/issues.csv")
    named = issues[issues.code == "study-id-mismatch"]
    assert named[["file", "row", "value", "severity"]].values.tolist() == [[str(path.relative_to(project)), str(row),
                                                                          other, "error"]]
    now = table("screening/decisions.csv")
    assert not ((now.reviewer == "reviewer_a") & (now.origin == f"extracts/screening-reviewer_a.xlsx row {row}")).any()
    assert wb_study != other
