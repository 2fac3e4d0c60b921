"""Each normalisation step on its own."""

from __future__ import annotations

import pytest

from review import normalise as nz
from review.model import Creator


def test_strip_html_tags_keeps_the_words():
    assert nz.strip_html_tags("Effect of <i>H. pylori</i> on CO<sub>2</sub>") == "Effect of H. pylori on CO2"
    assert nz.strip_html_tags("a < b and c > d") == "a < b and c > d"  # not markup


def test_unescape_html():
    assert nz.unescape_html("Health &amp; Social Care Act&#8217;s reach") == "Health & Social Care Act\u2019s reach"


def test_decode_latex():
    assert nz.decode_latex(r"Osipovi{\v{c}}") == "Osipovič"
    assert nz.decode_latex(r"Social Science \& Medicine") == "Social Science & Medicine"
    assert nz.decode_latex(r"{English NHS} 2015--2018") == "English NHS 2015–2018"
    assert nz.decode_latex("No markup here") == "No markup here"


def test_decode_latex_keeps_unparseable_text():
    assert nz.decode_latex(r"broken \textit{") .startswith("broken")


def test_tex_quotes_become_the_typographic_marks_they_stand_for():
    assert nz.tex_quotes("commissioning in the `new NHS' in England") == "commissioning in the \u2018new NHS\u2019 in England"
    assert nz.tex_quotes("`The World's Biggest Quango': the first") == "\u2018The World's Biggest Quango\u2019: the first"
    assert nz.tex_quotes("From `Market Umpires' to `Relationship Managers'?") == (
        "From \u2018Market Umpires\u2019 to \u2018Relationship Managers\u2019?")
    assert nz.tex_quotes("a ``quoted'' word") == "a \u201cquoted\u201d word"
    assert nz.tex_quotes("a `stray backtick and it's fine") == "a `stray backtick and it's fine"  # no closing mark


def test_collapse_whitespace_folds_no_break_spaces_and_newlines():
    assert nz.collapse_whitespace("  Part\u00a01:\n  the   tiers ") == "Part 1: the tiers"


def test_nfc_composes_accents():
    assert nz.nfc("Osipovic\u030c") == "Osipovič"


def test_clean_text_runs_the_steps_in_order():
    assert nz.clean_text(None) == ""
    assert nz.clean_text(" <i>Primary</i>  care &amp; CCGs ") == "Primary care & CCGs"
    assert nz.clean_text(r"{CCG}s \& PCTs", latex=True) == "CCGs & PCTs"


@pytest.mark.parametrize(("raw", "doi"), [
    ("10.1136/bmj.i1495", "10.1136/bmj.i1495"),
    ("https://doi.org/10.1136/BMJ.I1495", "10.1136/bmj.i1495"),
    ("http://dx.doi.org/10.1097/MOL.0b013e3282ffaf82", "10.1097/mol.0b013e3282ffaf82"),
    ("doi:10.1017/S0047279417000587.", "10.1017/s0047279417000587"),
    ("DOI: 10.1111/tran.12421;", "10.1111/tran.12421"),
    ("https://doi.org/10.1136%2Fbmj.n248", "10.1136/bmj.n248"),
    ("an online labor market", ""),
    ("", ""),
])
def test_normalise_doi(raw, doi):
    assert nz.normalise_doi(raw) == doi


def test_doi_from_extra():
    assert nz.doi_from_extra("PMID: 27009059\nDOI: 10.1136/BMJ.i1495") == "10.1136/bmj.i1495"
    assert nz.doi_from_extra("Type: Technical report") == ""


@pytest.mark.parametrize(("raw", "year"), [
    ("2019-11-05", "2019"), ("Nov 2019", "2019"), ("2023///", "2023"), ("1948", "1948"),
    ("Spring", ""), ("12345", ""), ("", ""),
])
def test_year_from_date(raw, year):
    assert nz.year_from_date(raw) == year


@pytest.mark.parametrize(("raw", "pages"), [
    ("217--226", "217-226"), ("376 -- 383", "376-383"), ("217 – 226", "217-226"), ("221-8", "221-8"),
    ("e065993", "e065993"), ("i1495", "i1495"), ("", ""),
])
def test_normalise_pages(raw, pages):
    assert nz.normalise_pages(raw) == pages


def test_normalise_isbn_and_issn():
    assert nz.normalise_isbn("978-1-909029-99-0 (pbk.); 1909029998") == "9781909029990; 1909029998"
    assert nz.normalise_issn("2044-6055 (Linking) 20446055") == "2044-6055"
    assert nz.normalise_issn("0277-953x") == "0277-953X"


@pytest.mark.parametrize(("raw", "family", "given", "name"), [
    ("Lorne, Colin", "Lorne", "Colin", ""),
    ("Colin Lorne", "Lorne", "Colin", ""),
    ("Lorne C", "Lorne", "C", ""),
    ("Lorne CJ", "Lorne", "CJ", ""),
    ("Lewis G. F.", "Lewis", "G. F.", ""),
    ("Ludwig van Beethoven", "van Beethoven", "Ludwig", ""),
    ("WHO", "", "", "WHO"),
])
def test_split_name(raw, family, given, name):
    assert nz.split_name(raw) == Creator(family=family, given=given, name=name)


# --- laws: a normalised value is a fixed point ---------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MESSY = st.text(alphabet=st.sampled_from(list("abcAB é-–—  \n\t<i></i>&amp;{}\\'`0123456789:/.x")), max_size=40)


@given(MESSY)
def test_cleaning_text_twice_changes_nothing(text):
    once = nz.clean_text(text)
    assert nz.clean_text(once) == once


@pytest.mark.parametrize("step", [nz.normalise_pages, nz.normalise_doi, nz.normalise_isbn, nz.normalise_issn,
                                  nz.collapse_whitespace, nz.nfc, nz.strip_html_tags, nz.tex_quotes])
@given(text=MESSY)
def test_each_normalising_step_is_idempotent(step, text):
    once = step(text)
    assert step(once) == once
