"""``review new``: a folder holding only the team's things, whose protocol and codebook the pipeline reads,
refused where it would write over anything, and nothing written when a name or an export is wrong."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest
from conftest import PROJECT

from review import codebook, protocol
from review.errors import ProtocolError, ReviewError
from review.fileio import safe_yaml
from review.start import create

RIS = PROJECT / "tests/scenarios/school_meals/protocols/library/trials.ris"
TEAM_FILES = {".gitignore", "README.md", "Snakefile", "extracts/.gitkeep", "protocols/codebook.yaml",
              "protocols/library/.gitkeep", "protocols/review.yaml", "templates/README.md"}


def files_in(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def run_new(*args, cwd):
    return subprocess.run([sys.executable, "-m", "review", "new", *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


def test_a_new_review_holds_the_teams_files_and_its_protocol_and_codebook_are_valid(tmp_path, monkeypatch):
    title = 'Green roofs: "cooling" & heat # not a comment'
    written = create(tmp_path / "roofs", title, ["alice", "bob"], [str(RIS)])
    folder = tmp_path / "roofs"
    assert files_in(folder) == TEAM_FILES | {"protocols/library/trials.ris"}
    assert {p.as_posix() for p in written} == files_in(folder)
    assert (folder / "protocols/library/trials.ris").read_bytes() == RIS.read_bytes()
    monkeypatch.chdir(folder)  # the protocol's paths are the review folder's
    config = protocol.load("protocols/review.yaml")
    assert config["title"] == title and config["reviewers"] == ["alice", "bob"]
    assert [(s.name, s.file, s.format) for s in protocol.sources(config)] == [
        ("trials", "protocols/library/trials.ris", "ris")]
    form = codebook.load(config["extraction"]["codebook"])
    assert form.version == "1.0" and not any("tier" in f.name for f in form.fields)
    # the same Snakefile as this repository's: the installed package's workflow, no copy of it
    assert (folder / "Snakefile").read_text() == (PROJECT / "Snakefile").read_text()
    assert (folder / "templates/README.md").read_text() == (PROJECT / "templates/README.md").read_text()
    assert "/results/" in (folder / ".gitignore").read_text().splitlines()
    assert title in (folder / "README.md").read_text()


def test_without_sources_the_protocol_says_in_one_line_what_to_add(tmp_path, monkeypatch):
    create(tmp_path / "r", "A review", [], [])
    assert files_in(tmp_path / "r") == TEAM_FILES
    monkeypatch.chdir(tmp_path / "r")
    with pytest.raises(ProtocolError) as caught:
        protocol.load("protocols/review.yaml")
    assert str(caught.value).startswith("protocols/review.yaml: no sources yet; put an export")
    assert "\n" not in str(caught.value)


def test_a_folder_with_anything_in_it_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old/notes.txt").write_text("ours", encoding="utf-8")
    result = run_new(str(tmp_path / "old"), "--reviewer", "alice", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("Error: ") and "not an empty folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_in(tmp_path / "old") == {"notes.txt"}


@pytest.mark.parametrize(("args", "message"), [
    (["--reviewer", "Alice Smith"], "reviewers[0]: 'Alice Smith' does not match"),
    (["--reviewer", "consensus"], "'consensus' is the name of a file the team shares"),
    (["--source", "missing.ris"], "--source missing.ris: no such file"),
    (["--source", "export.txt"], "cannot tell the format from the suffix '.txt'"),
])
def test_a_wrong_name_or_export_is_an_error_and_nothing_is_written(tmp_path, args, message):
    (tmp_path / "export.txt").write_text("TY  - JOUR\nER  - \n", encoding="utf-8")
    result = run_new("new-review", *args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert not (tmp_path / "new-review").exists()


def test_not_on_a_terminal_nothing_is_asked_and_the_title_is_the_folders_name(tmp_path):
    result = run_new("school-meals", "--source", str(RIS), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'title: "school-meals"' in (tmp_path / "school-meals/protocols/review.yaml").read_text()
    assert "school-meals" in result.stdout and "Traceback" not in result.stderr
    assert "No reviewers yet: list them under 'reviewers:'" in result.stdout  # else the first run writes no sheet
    named = run_new("with-team", "--source", str(RIS), "--reviewer", "alice", cwd=tmp_path)
    assert named.returncode == 0 and "No reviewers yet" not in named.stdout


def test_two_exports_of_one_name_are_refused_and_source_names_are_made_valid(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a/trials.ris").write_bytes(RIS.read_bytes())
    with pytest.raises(ReviewError, match="another export is also named trials.ris"):
        create(tmp_path / "r", "R", [], [str(RIS), str(tmp_path / "a/trials.ris")])
    (tmp_path / "My Scopus Export (2).ris").write_bytes(RIS.read_bytes())
    create(tmp_path / "r", "R", [], [str(tmp_path / "My Scopus Export (2).ris")])
    config = protocol.validate(safe_yaml((tmp_path / "r/protocols/review.yaml").read_text()))
    assert config["sources"][0]["name"] == "my-scopus-export-2"


def test_on_a_terminal_the_title_reviewers_and_exports_are_asked(tmp_path):
    leader, follower = pty.openpty()  # the command's stdin is a terminal, as when a person types it
    answers = f"Play streets\nalice bob\n{RIS}\n"
    os.write(leader, answers.encode())
    result = subprocess.run([sys.executable, "-m", "review", "new", "streets"], cwd=tmp_path, stdin=follower,
                            capture_output=True, text=True, timeout=60)
    os.close(leader)
    os.close(follower)
    assert result.returncode == 0, result.stderr
    assert "Title of the review: " in result.stdout and "Reviewers" in result.stdout
    data = safe_yaml((tmp_path / "streets/protocols/review.yaml").read_text())
    assert (data["title"], data["reviewers"]) == ("Play streets", ["alice", "bob"])
    assert data["sources"][0]["file"] == "protocols/library/trials.ris"
