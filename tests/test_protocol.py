from __future__ import annotations

import pytest
from conftest import PROJECT

from review import protocol
from review.errors import ProtocolError


def minimal(**extra):
    return {"title": "T", "sources": [{"name": "lib", "file": "lib.bib"}], **extra}


def test_the_bundled_protocol_is_valid_and_every_schema_key_is_described():
    config = protocol.load(PROJECT / "protocols/review.yaml")
    assert [s.name for s in protocol.sources(config)] == ["zotero", "hmic", "scopus"]

    def walk(node, where):
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                assert sub.get("description") or "$ref" in sub, f"{where}.{key} has no description"
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")

    walk(protocol.schema(), "schema")


def test_defaults_are_filled():
    config = protocol.validate(minimal())
    assert config["zotero_full"] is False
    assert config["network"]["max_retries"] == 5
    assert config["sources"][0]["encoding"] == "utf-8-sig"
    assert protocol.sources(config)[0].format == "bibtex"


def test_unknown_key_is_named_with_a_suggestion():
    with pytest.raises(ProtocolError) as info:
        protocol.validate({"title": "T", "sources": [{"name": "lib", "file": "a.ris", "fromat": "ris"}]})
    assert "unknown key 'sources[0].fromat' (did you mean 'format'?)" in str(info.value)


def test_mistyped_top_level_key_and_bad_enum_are_both_reported():
    with pytest.raises(ProtocolError) as info:
        protocol.validate(minimal(titel="x", sources=[{"name": "lib", "file": "a.txt", "format": "word"}]))
    message = str(info.value)
    assert "unknown key 'titel' (did you mean 'title'?)" in message
    assert "sources[0].format: 'word' is not one of the allowed values: bibtex, ris" in message


def test_source_needs_exactly_one_of_file_or_zotero():
    with pytest.raises(ProtocolError, match="give exactly one of 'file' or 'zotero'"):
        protocol.validate({"title": "T", "sources": [{"name": "lib"}]})


def test_unknown_suffix_asks_for_a_format():
    with pytest.raises(ProtocolError, match="cannot tell the format of 'export.txt'"):
        protocol.validate({"title": "T", "sources": [{"name": "lib", "file": "export.txt"}]})


def test_duplicate_source_names_are_refused():
    with pytest.raises(ProtocolError, match="used by another source"):
        protocol.validate({"title": "T", "sources": [{"name": "a", "file": "x.ris"}, {"name": "a", "file": "y.ris"}]})


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "review.yaml"
    path.write_text("title: T\nsources:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"review\.yaml: line \d+, column \d+: not valid YAML"):
        protocol.load(path)


def test_missing_protocol_file(tmp_path):
    with pytest.raises(ProtocolError, match="protocol file not found"):
        protocol.load(tmp_path / "nope.yaml")


# --- hostile or careless protocols (issue 13): each refused with the key named, before any stage runs ----------

def test_attack_yaml_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    path = tmp_path / "review.yaml"
    path.write_text("title: T\nreview_questions:\n  " + "\n  ".join(f"- {line}" for line in levels) + "\n")
    with pytest.raises(ProtocolError) as info:
        protocol.load(path)
    assert "refused" in str(info.value) and "at most 100,000" in str(info.value) and len(str(info.value)) < 300
    # a few aliases, as a team may use them, still load
    path.write_text("title: T\nx: &src {name: lib, file: lib.bib}\nsources: [*src]\n")
    with pytest.raises(ProtocolError, match="unknown key 'x'"):
        protocol.load(path)


def test_attack_bogus_encoding_is_named_at_check_time():
    with pytest.raises(ProtocolError, match=r"sources\[0\].encoding: 'bogus' is not a text encoding"):
        protocol.validate({"title": "T", "sources": [{"name": "lib", "file": "lib.bib", "encoding": "bogus"}]})


@pytest.mark.parametrize("path", ["/etc/passwd", "../../etc/passwd", "protocols/../../secret.bib"])
def test_attack_a_source_file_outside_the_project_is_refused_unless_the_team_opts_in(path):
    with pytest.raises(ProtocolError, match="outside the project folder.*outside_project: true"):
        protocol.validate({"title": "T", "sources": [{"name": "lib", "file": path, "format": "bibtex"}]})
    opted = protocol.validate({"title": "T", "sources": [{"name": "lib", "file": path, "format": "bibtex",
                                                          "outside_project": True}]})
    assert opted["sources"][0]["outside_project"] is True


@pytest.mark.parametrize("key, value", [("extraction", {"folder": "/tmp/elsewhere"}),
                                        ("extraction", {"folder": "../.."}),
                                        ("extraction", {"codebook": "/etc/hosts"}),
                                        ("output", {"templates": "../templates"}),
                                        ("dedup", {"ledger": "/tmp/studies.csv"})])
def test_attack_folders_and_files_the_pipeline_writes_or_reads_stay_in_the_project(key, value):
    name = next(iter(value))
    with pytest.raises(ProtocolError, match=f"{key}.{name}: .* is outside the project folder"):
        protocol.validate(minimal(**{key: value}))


def test_attack_the_same_file_listed_as_two_sources_is_refused():
    with pytest.raises(ProtocolError, match=r"sources\[1\].file: './lib.bib' is already sources\[0\] \(lib\)"):
        protocol.validate({"title": "T", "sources": [{"name": "lib", "file": "lib.bib"},
                                                     {"name": "again", "file": "./lib.bib"}]})


def test_prioritisation_settings_are_checked():
    with pytest.raises(ProtocolError) as info:
        protocol.validate(minimal(screening={"prioritisation": {"model": "bert", "confidence": 1.5,
                                                                "stopped": {"date": "30 Nov"}}}))
    message = str(info.value)
    assert "bert" in message and "1.5" in message and "30 Nov" in message
    config = protocol.validate(minimal(screening={"prioritisation": {"stopped": {"date": "2026-11-30"}}}))
    assert config["screening"]["prioritisation"]["model"] == "tfidf-svm"


# --- hostile protocols, round two (issue 29) ---------------------------------------------------------------------

def test_attack_a_codec_that_is_no_text_encoding_is_refused_at_check_time():
    with pytest.raises(ProtocolError, match=r"sources\[0\].encoding: 'rot13' is not a text encoding"):
        protocol.validate({"title": "T", "sources": [{"name": "lib", "file": "lib.bib", "encoding": "rot13"}]})
    protocol.validate({"title": "T", "sources": [{"name": "lib", "file": "lib.bib", "encoding": "utf-16"}]})


def test_attack_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "review.yaml"
    path.write_text("title: T\nreviewers: [a, b]\nsources: [{name: lib, file: lib.bib}]\nreviewers: [c]\n")
    with pytest.raises(ProtocolError, match=r"review\.yaml: line 4, column 1: not valid YAML: the key 'reviewers' "
                                            r"is given twice \(first at line 2\)"):
        protocol.load(path)


@pytest.mark.parametrize("text, expected", [("", "the protocol is empty"), ("- a\n", "must be a mapping"),
                                            ("title: caf\xe9\n".encode("latin-1"), "is not UTF-8 text")])
def test_attack_an_empty_or_unreadable_protocol_is_named(tmp_path, text, expected):
    path = tmp_path / "review.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ProtocolError, match=expected):
        protocol.load(path)
    path.unlink()
    path.mkdir()
    with pytest.raises(ProtocolError, match="cannot read the protocol"):
        protocol.load(path)
