"""Faithful normalisation of imported values: small named pure steps, each tested on its own.

These steps make values comparable without changing what they say (a title keeps its case and
words; pages keep their numbers). Matching-oriented normalisation (lower case, no punctuation,
journal abbreviations) belongs to deduplication, not here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from urllib.parse import unquote

from .model import Creator

# --- text -------------------------------------------------------------------------------------

_TAG = re.compile(r"</?(?:i|b|em|strong|sup|sub|span|p|br|scp|sc|u|inf)\b[^>]*>", re.IGNORECASE)
_LATEX_MARK = re.compile(r"[\\{}]|--|~")
_LATEX_MARKUP = re.compile(r"[\\{}$%]")


def strip_html_tags(text: str) -> str:
    """Drop the inline markup exports carry in titles (``<i>``, ``<sup>``, ``<scp>``)."""
    return _TAG.sub("", text)


def unescape_html(text: str) -> str:
    """``&amp;`` -> ``&``, ``&#8217;`` -> ``'`` (the right single quote character)."""
    return html.unescape(text) if "&" in text else text


@cache
def _latex_converter():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


def decode_latex(text: str) -> str:
    """BibTeX's LaTeX to Unicode: ``Osipovi{\\v{c}}`` -> ``Osipovič``, ``{NHS}`` -> ``NHS``."""
    if not _LATEX_MARK.search(text):
        return text
    if not _LATEX_MARKUP.search(text):  # only dashes and ties (page ranges): as pylatexenc would, 50 times faster
        return text.replace("---", "\u2014").replace("--", "\u2013").replace("~", "\u00a0")
    try:
        return _latex_converter().latex_to_text(text)
    except Exception:  # pylatexenc gives up on some unbalanced input: keep the value, lose nothing
        return text.replace("{", "").replace("}", "")


# C0 control characters but tab, line feed and carriage return (white space, folded below), and DEL: a NUL in
# an export's title stops openpyxl from writing the screening workbook, and no reader can see them
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_TEX_DOUBLE = re.compile(r"``(.+?)''")
_TEX_SINGLE = re.compile(r"`(.+?)'(?!\w)")


def tex_quotes(text: str) -> str:
    """TeX's quotation marks as the typographic ones they stand for: ```new NHS'`` -> ``‘new NHS’``,
    ````x''`` -> ``“x”`` (databases pass them on from BibTeX; a reference list would print the backtick).
    An apostrophe inside (``World's``) is not taken for the closing mark."""
    if "`" not in text:
        return text
    return _TEX_SINGLE.sub("\u2018\\1\u2019", _TEX_DOUBLE.sub("\u201c\\1\u201d", text))


def strip_control(text: str) -> str:
    """Drop control characters (``A ti\\x00tle`` -> ``A title``); the readers report each value that had any."""
    return CONTROL.sub("", text) if CONTROL.search(text) else text


def collapse_whitespace(text: str) -> str:
    """Trim and fold runs of white space (incl. no-break spaces and line breaks) into one space."""
    return " ".join(text.split())


def nfc(text: str) -> str:
    """Compose Unicode so that 'é' typed two ways compares equal."""
    return unicodedata.normalize("NFC", text)


TEXT_STEPS: tuple[Callable[[str], str], ...] = (strip_control, strip_html_tags, unescape_html, tex_quotes, nfc,
                                               collapse_whitespace)
LATEX_TEXT_STEPS: tuple[Callable[[str], str], ...] = (decode_latex, *TEXT_STEPS)


def clean_text(value: object, latex: bool = False) -> str:
    if value is None:
        return ""
    text = str(value)
    for step in LATEX_TEXT_STEPS if latex else TEXT_STEPS:
        text = step(text)
    return text


# --- identifiers and numbers -------------------------------------------------------------------

_DOI = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)


def normalise_doi(text: str) -> str:
    """The bare DOI in lower case, from any form exports use; ``""`` when there is none.

    ``https://doi.org/10.1136/BMJ.i1495.`` and ``doi:10.1136/bmj.i1495`` -> ``10.1136/bmj.i1495``.
    DOIs are case-insensitive by definition, so lower case loses nothing.
    """
    match = _DOI.search(unquote(text))
    if not match:
        return ""
    return match.group(0).rstrip(".,;:)]}>\"'").lower()


_EXTRA_DOI = re.compile(r"^\s*DOI:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def doi_from_extra(extra: str) -> str:
    """Zotero keeps the DOI of reports and books in ``extra`` as a ``DOI: ...`` line."""
    match = _EXTRA_DOI.search(extra or "")
    return normalise_doi(match.group(1)) if match else ""


_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|2100)(?!\d)")


def year_from_date(text: str) -> str:
    """The first plausible four-digit year in a date: ``2019-11-05``, ``Nov 2019``, ``2019/11//``."""
    match = _YEAR.search(text or "")
    return match.group(1) if match else ""


_DASHES = re.compile(r"\s*(?:(?:--|[\u2010-\u2015\u2212-])\s*)+")  # a run of dashes, spaced or not


def normalise_pages(text: str) -> str:
    """One hyphen between page numbers: ``217--226``, ``217 – 226`` -> ``217-226``; numbers kept."""
    text = collapse_whitespace(text)
    return _DASHES.sub("-", text).strip("-")


def normalise_isbn(text: str) -> str:
    """Each ISBN as its digits (and X), several joined by ``; ``: ``978-1-85717-...`` -> ``9781857...``."""
    found = re.findall(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]", text or "")
    out = []
    for isbn in found:
        compact = re.sub(r"[\s-]", "", isbn).upper()
        if compact not in out:
            out.append(compact)
    return "; ".join(out)


def normalise_issn(text: str) -> str:
    """Each ISSN as ``NNNN-NNNC``, several joined by ``; ``."""
    found = re.findall(r"\b(\d{4})-?(\d{3}[\dXx])\b", text or "")
    out = []
    for first, second in found:
        issn = f"{first}-{second.upper()}"
        if issn not in out:
            out.append(issn)
    return "; ".join(out)


# --- names ---------------------------------------------------------------------------------------

_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_ORGANISATION_WORDS = re.compile(
    r"\b(?:department|ministry|office|commission|council|committee|authority|agency|board|trust|fund|"
    r"institute|institution|association|society|university|college|centre|center|group|service|services|"
    r"organisation|organization|foundation|unit|nhs|parliament|house|government|secretary|executive|"
    r"collaboration|consortium|network|team|programme|program|partnership)\b", re.IGNORECASE)


def looks_like_organisation(text: str) -> bool:
    """``Department of Health``, ``National Audit Office``, ``The King's Fund``: a corporate author,
    not a person, so it is kept whole instead of being split into family and given names."""
    words = text.replace(",", " ").split()
    if len(words) >= 3:
        return bool(_ORGANISATION_WORDS.search(text)) or any(w in ("of", "and", "for", "the", "on") for w in words)
    # two words: only "NHS England"-like names; "Jane House" and "House, Jane" are people
    return len(words) == 2 and "," not in text and bool(_ORGANISATION_WORDS.fullmatch(words[0]))


def split_name(text: str, role: str = "author") -> Creator:
    """Split one personal name as exports write it into family and given parts.

    ``Lorne, Colin`` / ``Colin Lorne`` / ``Lorne C`` / ``Lorne CJ`` (Medline style) -> family Lorne.
    A name with no space or comma stays whole as a single-field name (``WHO``).
    """
    text = collapse_whitespace(text).strip(" ,;")
    if not text:
        return Creator(role=role)
    if looks_like_organisation(text):
        return Creator(role=role, name=text)
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        # "Jr." after a comma is a suffix, not a given name
        if given and family:
            return Creator(role=role, family=family, given=given)
        return Creator(role=role, name=family or given)
    parts = text.split(" ")
    if len(parts) == 1:
        return Creator(role=role, name=text)
    # "Lewis G. F." / "Lorne CJ": the initials come last (Medline, Vancouver)
    first_initial = len(parts)
    while first_initial > 1 and _INITIALS.match(parts[first_initial - 1]):
        first_initial -= 1
    if first_initial < len(parts) and not _INITIALS.match(parts[0]):
        return Creator(role=role, family=" ".join(parts[:first_initial]), given=" ".join(parts[first_initial:]))
    # "First Middle von Last": particles stay with the family name
    i = len(parts) - 1
    while i > 1 and parts[i - 1][:1].islower():
        i -= 1
    return Creator(role=role, family=" ".join(parts[i:]), given=" ".join(parts[:i]))
