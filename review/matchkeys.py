"""Normalisation for matching: small named pure steps that make two copies of a reference comparable.

Unlike ``review.normalise`` (faithful values for people to read), these steps throw away what does
not tell two works apart: case, accents, punctuation, placeholders, abbreviations, page-range styles.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PLACEHOLDERS = frozenset({
    "unknown", "anonymous", "anon", "n a", "na", "none", "null", "nan", "no title", "untitled", "not available",
    "no authorship indicated", "et al",
})


_ASCII_FOLD = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=262144)
def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics one space: ``Osipovič, D.`` -> ``osipovic d``.

    Letters of other scripts (Cyrillic, Chinese) are kept, so non-Latin titles still compare.
    """
    if not text:
        return ""
    if text.isascii():
        return " ".join(text.translate(_ASCII_FOLD).lower().split())
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower().replace("ß", "ss")
    return " ".join(_NON_WORD.sub(" ", text).split())


def drop_placeholder(text: str) -> str:
    """``""`` for values that stand for nothing (``UNKNOWN``, ``Anonymous``, ``[No title]``)."""
    return "" if fold(text) in PLACEHOLDERS else text


_NOTE_WORDS = re.compile(
    r"^(?:review|reviews|\d+ refs?|\d+ references|english|eng|abstract|provisional abstract|structured abstract|"
    r"author'?s? transl|article in [a-z ]+|in [a-z]+|letter|editorial|comment|news|erratum[^\]]*|"
    r"published erratum[^\]]*|retracted[^\]]*|see comments?|database|meta-analysis|systematic review)$",
    re.IGNORECASE)
_TRAILING_GROUP = re.compile(r"\s*[\[(]([^\[\]()]{1,60})[\])]\.?\s*$")


def strip_title_notes(title: str) -> str:
    """Drop the notes databases append to titles: ``[Review] [24 refs]``, ``(Provisional abstract)``,
    ``(author's transl)``, ``[Article in German]``; a bracket that is part of the title stays."""
    text = title.strip()
    while True:
        match = _TRAILING_GROUP.search(text)
        if not match or not _NOTE_WORDS.match(match.group(1).strip()):
            return text
        text = text[: match.start()].rstrip(" .")


def title_key(title: str) -> str:
    """A title as compared: placeholders out, database notes and translation brackets off, folded.

    ``[A study on the use of mycobacterium vaccine].`` and ``A study on the use of mycobacterium
    vaccine`` give the same key; so do ``... management. [Review] [75 refs]`` and ``... management``.
    """
    text = strip_title_notes(drop_placeholder(title or ""))
    if text.startswith("[") and text.rstrip(".").endswith("]"):
        text = text.rstrip(".")[1:-1]  # MEDLINE's translated-title brackets
    return fold(text)


_ORIGINAL_TITLE = re.compile(r"^(.{12,}?)\s*\[([^\[\]]{12,})\]\.?\s*(?:\*\*)?$")


def title_variants(title: str) -> tuple[str, str]:
    """The title key and, when a database appended the original-language title in brackets
    (``Crowdwork: ... [Arbeiten in der Crowd: ...]``), the key of that bracketed title (else ``""``)."""
    text = strip_title_notes(drop_placeholder(title or ""))
    match = _ORIGINAL_TITLE.match(text)
    if match and not _NOTE_WORDS.match(match.group(2).strip()):
        return fold(match.group(1)), fold(match.group(2))
    return title_key(title), ""


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
_PART = re.compile(r"\b(?:part|phase|study|trial|paper|volume|vol|stage|series|section|chapter)\s+"
                   r"([0-9]+|[ivx]+|one|two|three|four|five)\b")


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10,
}


def title_numbers(key: str) -> frozenset[str]:
    """What tells works in a series apart: numbers in the title (digits, ordinals, number words, roman
    numerals after ``part``/``phase``/...) as arabic numerals, and codes mixing letters and digits
    (``d2``, ``mist2``), which also contribute their digits. ``part ii`` and ``part 2`` agree;
    ``five-year`` and ``six-year``, ``(D2)`` and ``(D4)`` do not."""
    key = re.sub(r"\b\d{1,3}(?: \d{3})+\b", lambda m: m.group(0).replace(" ", ""), key)  # 10,000 -> 10000
    numbers: set[str] = set(re.findall(r"\d+", key))  # inside codes too: p16ink4a and p16 ink4a agree
    for token in key.split():
        if token in _NUMBER_WORDS:
            numbers.add(str(_NUMBER_WORDS[token]))
    for match in _PART.finditer(key):
        value = _ROMAN.get(match.group(1))
        if value:
            numbers.add(str(value))
    return frozenset(n.lstrip("0") or "0" for n in numbers)


_ERRATUM = re.compile(r"^(?:erratum|errata|corrigendum|correction|corrections|author correction|"
                      r"publisher correction|publisher s note)\b")
_RETRACTION = re.compile(r"^(?:retraction|retracted|withdrawn|expression of concern|notice of retraction)\b")
_COMMENT = re.compile(r"^(?:comment|comments|commentary|reply|response|author reply|authors reply|author s reply|"
                      r"re|letter|in reply|in response)\b")


def notice_kind(key: str) -> str:
    """What a title says the record is, when it is not the work itself: ``erratum``, ``retraction``,
    ``comment`` (comments, replies, letters about another paper) or ``""``."""
    if _RETRACTION.search(key):
        return "retraction"
    if _ERRATUM.search(key):
        return "erratum"
    if _COMMENT.search(key):
        return "comment"
    return ""


_ABSTRACT_VENUE = re.compile(r"\b(?:abstracts?|supplement|suppl|supp|meetingabstracts?|posters?|late breaking)\b")
_EMBASE_CONFERENCE = re.compile(r"[.:]\s*(?:conference|meeting|congress)\s*:", re.IGNORECASE)


def is_abstract_venue(container: str, issue: str = "", pages: str = "") -> bool:
    """Meeting abstracts and supplements (not full conference papers): a container naming abstracts or a
    supplement, Embase's ``Journal. Conference: ...``, an issue like ``21 SUPPL. 1`` or
    ``MeetingAbstracts``, or pages like ``S123``."""
    return (bool(_ABSTRACT_VENUE.search(fold(container))) or bool(_EMBASE_CONFERENCE.search(container or ""))
            or bool(_ABSTRACT_VENUE.search(fold(issue))) or bool(re.match(r"^[sS]\d", pages or "")))


_STOP = frozenset({"the", "of", "and", "in", "for", "on", "a", "an", "to", "de", "la", "le", "der", "die", "und"})
_CONFERENCE_PART = re.compile(r"[.:]\s*(?:conference|meeting|congress|symposium)\b.*$", re.IGNORECASE)


_PROCEEDINGS = re.compile(r"\b(?:conference|conf|proceedings|proc|symposium|workshop|congress|meeting|amcis|icis|"
                          r"ecis|pacis|hicss)\b")


def is_proceedings(container_key_: str) -> bool:
    """A conference's proceedings rather than a journal (on a ``container_key``)."""
    return bool(_PROCEEDINGS.search(container_key_))


def container_key(container: str) -> str:
    """A journal or proceedings name as compared: folded, without stop words, a leading ``the`` or
    the ``. Conference: ...`` tail that Embase adds to the journal of a conference abstract;
    ``Langenbeck's`` and ``Langenbecks`` agree."""
    text = _CONFERENCE_PART.sub("", drop_placeholder(container or "")).replace("'s ", "s ").replace("’s ", "s ")
    # MEDLINE's "BMJ (Clinical research ed.)", "Journal of Clinical Virology : the official publication of ..."
    text = re.sub(r"\([^)]*\)", " ", text)
    text = re.split(r"\s[:=]\s|\s\.\s", text, maxsplit=1)[0]
    return " ".join(t for t in fold(text).split() if t not in _STOP)


@lru_cache(maxsize=65536)
def containers_agree(a: str, b: str) -> bool:
    """Whether two container keys name the same venue, full or abbreviated.

    ``current opinion lipidology`` and ``curr opin lipidol`` agree: each word of the shorter is a
    prefix of the matching word of the longer, in order. ``j`` abbreviates ``journal``.
    """
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a.split(), b.split()), key=len)
    for words, other in ((short, long_), (long_, short)):
        initials = "".join(w[0] for w in words)
        if any(len(w) >= 3 and initials.startswith(w) for w in other):
            return True  # ICIS and International Conference (on) Information Systems
    if not short:
        return False
    # the abbreviated name has as many or fewer words, each shorter: try it both ways round
    return _abbreviates(short, long_) or (len(short) == len(long_) and _abbreviates(long_, short))


def _abbreviates(short: list[str], long_: list[str]) -> bool:
    """Each word of ``short`` begins a word of ``long_``, in order, covering at least half of ``long_``."""
    i = 0
    for word in long_:
        if i < len(short) and word.startswith(short[i]):
            i += 1
    return i == len(short) and len(short) >= max(1, len(long_) // 2)


def first_page(pages: str) -> str:
    """The first page as compared: ``e065993``, ``217-226`` -> ``217``, ``S12`` -> ``s12``."""
    if not pages:
        return ""
    first = re.split(r"[-–—,;.\s]+", pages.strip(), maxsplit=1)[0]  # "A175.E1638": Embase's abstract number
    first = fold(first).replace(" ", "")
    if not any(ch.isdigit() for ch in first):
        return ""  # "Suppl", "n/a": not a page
    if re.fullmatch(r"e\d{5,}", first):
        first = first[1:]  # e-locators: PLoS's e0137960 is also indexed as 137960
    return first.lstrip("0") or first


def last_page(pages: str) -> str:
    """The last page with abbreviated ranges expanded: ``221-8`` -> ``228``, ``1262-70`` -> ``1270``."""
    parts = [p for p in re.split(r"[-–—]+", (pages or "").replace(" ", "")) if p]
    if len(parts) < 2:
        return ""
    start, end = parts[0], parts[-1]
    if start.isdigit() and end.isdigit() and len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return end.lower()


def number_key(value: str) -> str:
    """Volume or issue as compared: ``Vol. 13`` -> ``13``; ``0``/placeholders -> ``""``."""
    text = fold(drop_placeholder(value or ""))
    digits = re.findall(r"\d+", text)
    if digits:
        return digits[0].lstrip("0")
    return text


def author_key(family: str) -> str:
    """A family name as compared: folded, particles kept, no spaces (``van der Berg`` -> ``vanderberg``)."""
    return fold(drop_placeholder(family)).replace(" ", "")
