"""A new team's first five minutes, from a built wheel: installed in a fresh virtual environment outside the
repository, ``review new`` in an empty folder, ``snakemake`` saying what to add, then one RIS export and a
reviewer added, and ``snakemake`` giving screening workbooks, PRISMA counts and a report.

Nothing is downloaded: the wheel is built without build isolation, installed without its dependencies, and
the fresh environment reads those from this test's environment (a .pth file naming its site-packages)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pandas as pd
import pytest
from conftest import PROJECT
from openpyxl import load_workbook

from review import __version__

pytestmark = pytest.mark.slow

RIS = PROJECT / "tests/scenarios/school_meals/protocols/library/trials.ris"


def run(*args, cwd, env):
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with the wheel built from this checkout installed in it."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # built from a copy: the build leaves build/ and *.egg-info where it runs
    shutil.copytree(PROJECT / "review", source / "review", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(PROJECT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REVIEW_PYTHON", "VIRTUAL_ENV")}
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "--wheel-dir", tmp / "dist", source, cwd=tmp, env=env)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("review-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"review/workflow/Snakefile", "review/workflow/rules/records.smk", "review/workflow/envs/review.yaml",
            "review/scaffold/review.yaml.tmpl", "review/scaffold/templates/README.md"} <= names
    venv = tmp / "venv"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp, env=env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin/python"
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel,
                    cwd=tmp, env=env)
    assert installed.returncode == 0, installed.stderr
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp, env=env)
    # the dependencies (snakemake, pandas, ...) from this test's environment, after the wheel's own files
    (venv / purelib.stdout.strip() / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv, {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}


def test_a_new_team_starts_a_review_from_the_installed_wheel(venv, tmp_path):
    venv, env = venv
    where = run(venv / "bin/python", "-c", "import review.snakemake as s; print(s.WORKFLOW)", cwd=tmp_path, env=env)
    assert where.stdout.strip().startswith(str(venv)), where  # the installed package's workflow, not this checkout
    folder = tmp_path / "green-roofs"
    new = run(venv / "bin/review", "new", folder, "--title", "Green roofs and urban heat", cwd=tmp_path, env=env)
    assert new.returncode == 0, new.stderr

    snakemake = (venv / "bin/python", "-m", "snakemake", "--cores", "1")
    empty = run(*snakemake, cwd=folder, env=env)
    assert empty.returncode == 1 and "Traceback" not in empty.stderr
    assert empty.stderr.strip().splitlines() == [
        "Error: protocols/review.yaml: no sources yet; put an export (RIS, BibTeX, "
        "CSV, CSL-JSON or EndNote XML) in protocols/library/ and list it under 'sources:' in the protocol, as its "
        "commented example shows, or add a Zotero library there"]

    # what the team does: the export into protocols/library/, a source and a reviewer into the protocol
    shutil.copy(RIS, folder / "protocols/library/trials.ris")
    text = (folder / "protocols/review.yaml").read_text(encoding="utf-8")
    text = text.replace("sources: []", "sources:\n  - {name: trials, file: protocols/library/trials.ris}")
    text = text.replace("reviewers: []", "reviewers: [alice]")
    (folder / "protocols/review.yaml").write_text(text, encoding="utf-8")
    first = run(*snakemake, cwd=folder, env=env)
    assert first.returncode == 0, first.stderr

    sheet = load_workbook(folder / "extracts/screening-alice.xlsx", read_only=True)["title-abstract"]
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]) == [
        "Ashworth2017", "Grant2016", "Lindqvist2019", "Moreno2021"]
    counts = pd.read_csv(folder / "results/prisma/counts.csv", dtype=str, keep_default_na=False)
    n = dict(zip(counts.data, counts.n))
    assert n["database_results"] == "4" and n["records_screened"] == "4"
    summary = (folder / "results/report/executive_summary.md").read_text(encoding="utf-8")
    assert "Green roofs and urban heat" in summary
    assert (folder / "results/report/executive_summary.html").exists()
    # the refresh recorded the version that made it, in the review's state; the team's files are as written
    assert f'"version": "{__version__}"' in (folder / "extracts/.state/tool.json").read_text()
    assert (folder / "protocols/review.yaml").read_text(encoding="utf-8") == text
    again = run(*snakemake, cwd=folder, env=env)  # the sheets the first refresh made rerun nothing
    assert again.returncode == 0 and "Nothing to be done" in again.stderr, again.stderr
    # a teammate whose installed version is older than the one that last refreshed is stopped before anything runs
    (folder / "extracts/.state/tool.json").write_text('{"version": "999.0"}', encoding="utf-8")
    older = run(*snakemake, cwd=folder, env=env)
    assert older.returncode == 1 and older.stderr.startswith(
        "Error: extracts/.state/tool.json: this review was last refreshed by review 999.0, newer than the installed")
