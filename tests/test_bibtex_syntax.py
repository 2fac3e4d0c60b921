"""review.readers.bibtex_syntax: the fields bibtexparser 1.4 gives, read by a scanner, and faults located."""

from __future__ import annotations

import re

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser
from conftest import FIXTURES, PROJECT

from review.readers import bibtex_syntax as syntax

_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*[{(]", re.MULTILINE)


def pieces(text):
    starts = list(_START.finditer(text))
    return [(m.group(1).lower(), text[m.start(): starts[i + 1].start() if i + 1 < len(starts) else len(text)])
            for i, m in enumerate(starts)]


def bibtexparser_entry(strings_text, chunk):
    parser = BibTexParser(common_strings=True, ignore_nonstandard_types=False, interpolate_strings=True)
    parser.homogenise_fields = False
    entries = bibtexparser.loads(f"{strings_text}\n{chunk}", parser=parser).entries
    return entries[0] if entries else None


@pytest.mark.parametrize("path", [PROJECT / "protocols/library/scopus.bib", FIXTURES / "bibtex/good.bib",
                                  FIXTURES / "bibtex/broken.bib"])
def test_every_readable_entry_gives_the_fields_bibtexparser_gives(path):
    text = path.read_text(encoding="utf-8")
    strings: dict[str, str] = {}
    strings_text = "\n".join(chunk for kind, chunk in pieces(text) if kind == "string")
    compared = 0
    for kind, chunk in pieces(text):
        if kind == "string":
            name, value = syntax.string(chunk, strings)
            strings[name] = value
            continue
        expected = bibtexparser_entry(strings_text, chunk)
        if expected is None:  # bibtexparser could not read it: neither can we, and we say why
            with pytest.raises(syntax.BibSyntaxError):
                syntax.entry(chunk, strings)
            continue
        assert syntax.entry(chunk, strings)[0] == expected
        compared += 1
    assert compared >= 3


def test_values_macros_concatenation_and_parentheses():
    strings = {"kf": "The King's Fund"}
    fields, end = syntax.entry('@Book(k1, Title = "A {"}quoted{"} title\n    over lines", publisher = kf # ", London",'
                               " month = jan, year = 2001, note = {a} # {b {c}})\ntrailing", strings)
    assert fields == {"ENTRYTYPE": "book", "ID": "k1", "title": 'A {"}quoted{"} title\nover lines',
                      "publisher": "The King's Fund, London", "month": "January", "year": "2001", "note": "ab {c}"}
    assert syntax.trailing("\ntrailing"[0:]) == 1


@pytest.mark.parametrize("text, fault", [
    ("@article{k, title = {never closed, year = 2001}", "never closed"),
    ("@article{k title = {x}}", "no comma after the citation key"),
    ("@article{k, title {x}}", "no = after the field name 'title'"),
    ('@article{k, title = {x} year = 2001}', "a comma missing"),
    ('@article{k, title = "x}y"}', "closes no {"),
])
def test_faults_are_named_with_where_they_were_seen(text, fault):
    with pytest.raises(syntax.BibSyntaxError, match=re.escape(fault)) as info:
        syntax.entry(text, {})
    assert 0 <= info.value.offset <= len(text)


def test_text_after_the_closing_brace_is_found_past_comments():
    assert syntax.trailing("\n  % a comment\n\n") is None
    assert syntax.trailing("\n% note\n , author = {Lost}}\n") == len("\n% note\n ")
