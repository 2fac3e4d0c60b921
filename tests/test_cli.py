"""The ``review`` command: previews, one-line errors, and the stage commands the Snakefile calls."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

from conftest import FIXTURES, PROJECT, zotero_protocol

from review.cli import build_parser
from review.cli_stages import STAGES
from review.zotero import snapshot_path, sync_all


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run_cli(*args, cwd=PROJECT):
    return subprocess.run([sys.executable, "-m", "review", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_cli_import_previews_a_file():
    result = run_cli("import", str(FIXTURES / "ris/hmic_export.ris"))
    assert result.returncode == 0, result.stderr
    assert "3 records, 1 with a DOI; 2 issues" in result.stdout
    assert "missing-end-tag" in result.stdout


def test_cli_user_errors_are_one_line_without_traceback(tmp_path):
    result = run_cli("import", str(FIXTURES / "ris/not_ris.ris"))
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ") and "not a RIS file" in result.stderr
    assert "Traceback" not in result.stderr

    bad = tmp_path / "review.yaml"
    bad.write_text("title: T\nsources: []\n", encoding="utf-8")
    result = run_cli("check", "--protocol", str(bad))
    assert result.returncode == 2 and "no sources yet; put an export" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_check_reads_the_codebook_too_and_names_what_is_wrong_with_it(tmp_path):
    good = run_cli("check")
    assert good.returncode == 0 and "codebook protocols/codebook.yaml version" in good.stdout
    protocol = (PROJECT / "protocols/review.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "review.yaml"
    bad.write_text(protocol.replace("codebook: protocols/codebook.yaml", "codebook: protocols"), encoding="utf-8")
    result = run_cli("check", "--protocol", str(bad))
    assert result.returncode == 2 and result.stderr.startswith("Error: protocols: cannot read the codebook")
    assert "Traceback" not in result.stderr


def test_cli_check_names_a_source_file_that_is_missing_as_the_refresh_would(tmp_path):
    protocol = (PROJECT / "protocols/review.yaml").read_text(encoding="utf-8")
    assert "protocols/library/scopus.bib" in protocol
    bad = tmp_path / "review.yaml"
    bad.write_text(protocol.replace("protocols/library/scopus.bib", "protocols/library/scopsu.bib"), encoding="utf-8")
    result = run_cli("check", "--protocol", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "a source file it names is missing (scopus: protocols/library/scopsu.bib)" in result.stderr


def test_cli_import_writes_csv(tmp_path):
    out = tmp_path / "preview.csv"
    result = run_cli("import", str(FIXTURES / "bibtex/good.bib"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert [r["source_key"] for r in rows(out)] == ["lorne2019ics", "hammond2017spatial", "nhsengland2019ltp",
                                                     "kf2022"]


def test_a_zotero_snapshot_previews_as_zotero_json(zotero_server, api_env, tmp_path):
    sync_all(zotero_protocol(zotero_server), tmp_path, environ=api_env)
    snap = snapshot_path(tmp_path, "team")
    result = run_cli("import", str(snap), "--format", "zotero-json")
    assert result.returncode == 0, result.stderr
    assert "records" in result.stdout and "unknown format" not in result.stderr


def test_every_stage_command_takes_its_rules_paths_and_the_configuration():
    from importlib import import_module

    parser = build_parser()
    for command, (module, _) in STAGES.items():
        stage = import_module(f"review.stages.{module}")
        args = parser.parse_args([command, "--config", "{}"])
        for name, default in {**stage.INPUTS, **stage.OUTPUTS}.items():
            assert getattr(args, name) == default, (command, name)


def test_running_one_stage_imports_no_other_stage_module():
    probe = ("import sys; from review.cli import build_parser; build_parser('prisma').parse_args(['prisma']); "
             "print(sorted(m for m in sys.modules if m.startswith('review.stages.')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "review.stages.prisma" in result.stdout
    assert "review.stages.dedup" not in result.stdout and "review.stages.report" not in result.stdout


def test_a_stage_uses_the_configuration_it_is_given_not_the_protocol_file(tmp_path):
    out = tmp_path / "records"
    config = {"sources": [{"name": "lib", "file": str(FIXTURES / "bibtex/good.bib"), "format": "bibtex",
                           "encoding": "utf-8-sig", "prisma": "databases", "enabled": True}]}
    result = run_cli("records", "--config", json.dumps(config), "--protocol", str(tmp_path / "missing.yaml"),
                     "--records", str(out / "r.csv"), "--issues", str(out / "i.csv"), "--sources", str(out / "s.csv"))
    assert result.returncode == 0, result.stderr
    assert {r["source"] for r in rows(out / "r.csv")} == {"lib"}
    assert [r["source"] for r in rows(out / "s.csv")] == ["lib"]
    # the stage's log ends with its time and peak memory (what pipeline_bench.py reads per stage)
    seconds, peak = re.fullmatch(r"records: (\d+\.\d) s, peak memory (\d+\.\d\d) GB",
                                 result.stdout.strip().splitlines()[-1]).groups()
    assert float(seconds) >= 0 and float(peak) > 0.05  # Python with pandas takes more than 50 MB


def test_a_configuration_that_is_not_json_is_an_error_line(tmp_path):
    result = run_cli("duplicates", "--config", "{dedup: ", "--records", str(tmp_path / "r.csv"))
    assert result.returncode == 2
    assert result.stderr.startswith("Error: --config is not JSON") and "Traceback" not in result.stderr


def test_the_report_rules_template_digest_changes_with_the_house_word_style(tmp_path):
    from review.snakemake import template_digest

    config = {"output": {"templates": str(tmp_path)}}
    before = template_digest(config, "write_report")
    (tmp_path / "reference.docx").write_bytes(b"house style v1")
    with_house = template_digest(config, "write_report")
    (tmp_path / "reference.docx").write_bytes(b"house style v2")
    assert len({before, with_house, template_digest(config, "write_report")}) == 3  # each edit reruns the report


def test_reviewers_digests_are_remembered_until_a_file_changes(tmp_path, monkeypatch):
    from review import snakemake as glue

    monkeypatch.chdir(tmp_path)
    sheet = tmp_path / "sheet.xlsx"
    sheet.write_bytes(b"typed once")
    calls = []

    def compute():
        calls.append(sheet.exists())
        return f"digest {len(calls)}"

    assert glue._cached("rule", [sheet], compute) == "digest 1"
    assert glue._cached("rule", [sheet], compute) == "digest 1" and len(calls) == 1  # not read again
    sheet.write_bytes(b"typed twice")  # another size and time
    assert glue._cached("rule", [sheet], compute) == "digest 2"
    sheet.unlink()
    assert glue._cached("rule", [sheet], compute) == "digest 3"  # a deleted sheet is a change too
    (tmp_path / ".snakemake/review/digests.json").write_text("not json")
    assert glue._cached("rule", [sheet], compute) == "digest 4"  # a damaged cache is only a miss


def test_a_file_system_error_no_stage_expected_is_an_error_line_naming_the_file(tmp_path):
    result = run_cli("duplicates", "--config", "{}", "--records", str(tmp_path))  # a folder given for a file
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"Error: {tmp_path}: Is a directory"
