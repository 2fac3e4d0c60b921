"""The bundled sample's quotations are word for word from the studies they are credited to.

The sample (extracts/) quotes the review's five source texts (../shared/domain/sources/, beside the project as
the team and CI have it: third parties' texts are not copied into the repository) and, for the other studies,
the review's domain notes. A quotation credited to a source text's study must appear in that
text; a quotation credited to any other study must not come from one of the five texts (that would credit a
study with another's words). Only white space, typographic quotes and dashes are normalised.
"""

from __future__ import annotations

import re

import pytest
from conftest import PROJECT
from openpyxl import load_workbook

SHARED = PROJECT.parent / "shared" / "domain"
SOURCES = SHARED / "sources"
pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="the review's source texts are not beside the project")
# each source text's study, by its study id in the sample: Sanderson et al. 2023 is the publication of the PRUComm
# ICS study whose page (methods, fieldwork dates, key themes) is the fifth text
SOURCE_OF = {
    "Lorne2019": ["lorne_2019_prucomm_review_exec_summary.txt"],
    "Sanderson2023": ["sanderson_2023_bmj_open.txt", "prucomm_ics_study_protocol.txt"],
    "Charles2018": ["kings_fund_2018_a_year_of_ics.txt"],
    "Sanderson2024": ["prucomm_blog_2024_still_early_days.txt"],
}
# "quote" (Citation, locator): how the synthesis credits each quotation
QUOTE = re.compile(r'"([^"]+)"\s*\(([^(),]+),\s*([^()]+)\)')
TYPOGRAPHIC = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def normal(text: str) -> str:
    return " ".join(str(text).translate(TYPOGRAPHIC).split())


def source_texts() -> dict[str, str]:
    return {p.name: normal(p.read_text(encoding="utf-8")) for p in sorted(SOURCES.glob("*.txt"))}


def sheet_rows(name: str, sheet: str) -> list[dict]:
    ws = load_workbook(PROJECT / "extracts" / name, read_only=True)[sheet]
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row)) for row in rows if any(v not in (None, "") for v in row)]


def lesson_rows() -> list[tuple[str, dict]]:
    """(workbook, row) for every lesson typed on the reviewers' and the consensus lessons sheets."""
    return [(name, row) for name in ("reviewer_a.xlsx", "reviewer_b.xlsx", "consensus.xlsx")
            for row in sheet_rows(name, "lessons") if row.get("study_id") and row.get("lessons_for_ics")]


def extraction_quotes() -> list[tuple[str, str, str]]:
    """(where, study id, quote) for every lesson's quote typed in the reviewers' and the consensus sheets."""
    return [(f"{name} {row['study_id']} {row['tier']}", row["study_id"], row["key_quote"])
            for name, row in lesson_rows() if row.get("key_quote")]


def citations() -> dict[str, str]:
    """A study's citation as the sheets show it -> its study id."""
    return {row["citation"]: row["study_id"] for row in sheet_rows("reviewer_a.xlsx", "extraction")
            if row.get("study_id") and row.get("citation")}


def synthesis_quotes() -> list[tuple[str, str, str, str]]:
    """(finding, study id, quote, locator) for every quotation of the synthesis; a quotation not in the
    "quote" (Citation, locator) form, or whose citation names no study of the sample, fails here."""
    cited = citations()
    out = []
    for row in sheet_rows("synthesis.xlsx", "findings"):
        text = normal(row.get("quotes") or "")
        contributing = {s.strip() for s in str(row.get("contributing_studies") or "").split(";")}
        for quote, citation, locator in QUOTE.findall(text):
            assert citation.strip() in cited, f"{row['finding_id']}: {citation!r} is not a study of the sample"
            study = cited[citation.strip()]
            assert study in contributing, f"{row['finding_id']} quotes {study}, which is not among its studies"
            out.append((row["finding_id"], study, quote, locator.strip()))
        rest = QUOTE.sub("", text)
        assert '"' not in rest, f"{row['finding_id']}: a quotation without its study and locator: {rest!r}"
    return out


def misattributed(study: str, quote: str, texts: dict[str, str]) -> str | None:
    """Why ``quote`` may not be credited to ``study`` (None when it may)."""
    quote = normal(quote).strip(" .")
    if study in SOURCE_OF:
        if not any(quote in texts[name] for name in SOURCE_OF[study]):
            found = [name for name, text in texts.items() if quote in text]
            return f"not in {SOURCE_OF[study]}" + (f" but in {found}" if found else "")
        return None
    found = [name for name, text in texts.items() if quote in text]
    return f"from {found}, not {study}'s source" if found else None


def test_every_quotation_is_word_for_word_from_the_study_it_is_credited_to():
    texts = source_texts()
    quotes = [(where, study, quote) for where, study, quote in extraction_quotes()]
    quotes += [(finding, study, quote) for finding, study, quote, _ in synthesis_quotes()]
    assert {study for _, study, _ in quotes} >= set(SOURCE_OF)  # every source text is quoted somewhere
    wrong = [(where, study, quote[:60], why) for where, study, quote in quotes
             if (why := misattributed(study, quote, texts))]
    assert wrong == []


def test_every_quotation_of_the_synthesis_has_a_locator():
    assert all(locator for *_, locator in synthesis_quotes())
    # every lesson of the sheets has the page of the passage it rests on
    assert [(name, row["study_id"], row["lessons_for_ics"][:40]) for name, row in lesson_rows()
            if not row.get("lesson_locator")] == []


def test_the_check_finds_a_quotation_credited_to_the_wrong_study():
    texts = source_texts()
    kings_fund = "organisations are working more collaboratively to manage finances and performance"
    assert misattributed("Charles2018", kings_fund, texts) is None
    assert "but in ['kings_fund" in misattributed("Sanderson2023", kings_fund, texts)
    assert misattributed("Hammond2017", kings_fund, texts).startswith("from ['kings_fund")
    # words the domain notes give as a key message, but not in the report's text the review holds
    assert misattributed("Charles2018", "Having willed the ends, national bodies must provide the means.", texts)
    # typographic quotes and white space are all that is normalised
    assert misattributed("Sanderson2023", "allowing a 'retreat' from  the confrontation", texts) is None
    assert misattributed("Sanderson2023", "allowing a retreat from the confrontation", texts)


@pytest.mark.skipif(not (SHARED / "README.md").is_file(), reason="the review's domain notes are not beside the project")
def test_quotations_of_the_other_studies_are_in_the_domain_notes():
    notes = normal((SHARED / "README.md").read_text(encoding="utf-8"))
    quotes = [(where, study, quote) for where, study, quote in extraction_quotes() if study not in SOURCE_OF]
    quotes += [(finding, study, quote) for finding, study, quote, _ in synthesis_quotes() if study not in SOURCE_OF]
    assert quotes  # the sample quotes studies beyond the five texts (Checkland et al. 2017, Hammond et al. 2017)
    assert [(where, quote) for where, _, quote in quotes if normal(quote).strip(" .") not in notes] == []
