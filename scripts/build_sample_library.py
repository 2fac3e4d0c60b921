"""Build the bundled sample library (``protocols/library/``) from the review's corpus.

The corpus (``../shared/corpus/nhs_tiers_corpus.bib``: 79 real references on the intermediate tiers
of the English NHS) is turned into the three exports a review team really has:

* ``zotero_library.json``: the team's Zotero library as Zotero's CSL-JSON export (most references);
* ``hmic_ovid.ris``: a search of HMIC through Ovid (journal articles and reports, RIS);
* ``scopus.bib``: a search of Scopus (journal articles, Scopus-style BibTeX).

The database exports overlap with the Zotero library and with each other, with the variation real
exports show: initials instead of first names, upper-case titles or DOIs, abbreviated journal names,
a missing DOI, the online-first year. Which reference goes where is a fixed function of its key,
so the output is the same on every run.

Two things differ from the corpus, both from the review's source texts (../shared/domain/sources/):
the PRUComm blog of November 2024 (GREY_LITERATURE), grey literature the team saved to Zotero from the
unit's website, which the corpus does not hold; and the publisher of Lorne et al. 2019's executive
summary, which its record gives as the London School of Hygiene and Tropical Medicine (PUBLISHERS; the
corpus names the research unit, PRUComm, which is kept in the Zotero note). Run from the project folder:

    python scripts/build_sample_library.py ../shared/corpus/nhs_tiers_corpus.bib
"""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from pathlib import Path

import rispy

from review.readers import read_file

OUT = Path("protocols/library")
ZOTERO_ALPHABET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
ABBREVIATIONS = {
    "Social Science & Medicine": "Soc Sci Med",
    "BMJ Open": "BMJ Open",
    "Journal of Social Policy": "J Soc Policy",
    "Health Economics, Policy and Law": "Health Econ Policy Law",
    "Sociology of Health & Illness": "Sociol Health Illn",
    "BMC Public Health": "BMC Public Health",
    "Public Administration": "Public Adm",
    "Journal of Health Services Research & Policy": "J Health Serv Res Policy",
}
# studies the sample's extraction sheets fill (and Checkland et al. 2013, which they used to): always included at
# both screening stages. Checkland et al. 2017 and the Health and Social Care Committee's report come only from
# HMIC, so their decisions are in the screening workbooks (scripts/fill_sample_screening.py), not in tags.
EXTRACTED = {"lorne2019ics", "sanderson2023architecture", "charles2018year", "hammond2017spatial",
             "checkland2013accountable", "moran2021accountability", "sanderson2020ostrom", "walshe2016devolution",
             "sanderson2024blog", "edwards2020sha", "hewitt2023review", "dhss1972reorganisation"}
# the publisher the source text's record gives (lorne_2019_prucomm_review_exec_summary.txt: "London School of
# Hygiene and Tropical Medicine, UK, London"); the corpus gives the unit, which goes to the note
PUBLISHERS = {"lorne2019ics": "London School of Hygiene and Tropical Medicine"}
UNIT_NOTES = {"lorne2019ics": "Research unit: Policy Research Unit in Health and Social Care Systems and "
                              "Commissioning (PRUComm)."}
# grey literature saved to the team's Zotero library from the web, not in the corpus: (key, CSL-JSON item
# without id and tags, tags). From prucomm_blog_2024_still_early_days.txt: author, date, title, blog; no URL
# is given there, so none is typed.
GREY_LITERATURE = [
    ("sanderson2024blog",
     {"type": "post-weblog", "title": "Still early days? The development of Integrated Care Systems",
      "author": [{"family": "Sanderson", "given": "Marie"}], "issued": {"date-parts": [[2024, 11, 8]]},
      "container-title": "PRU HSSC blog",
      "note": "Blog post of the Policy Research Unit in Health and Social Care Systems (PRU HSSC), 8 November "
              "2024: findings of the unit's study The Architecture of System Management (2022-2023)."},
     ["src-seen", "meta-full", "type-commentary", "tier-icb", "tier-icp"]),
]
# online-first years seen in the corpus notes: the database indexes the year of first publication
ONLINE_FIRST = {"lorne2021healthopolis": "2020", "osipovic2020regulation": "2019"}


def bucket(key: str, modulo: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % modulo


def zotero_key(key: str) -> str:
    digest = int(hashlib.sha256(f"zotero:{key}".encode()).hexdigest(), 16)
    return "".join(ZOTERO_ALPHABET[(digest >> (5 * i)) % len(ZOTERO_ALPHABET)] for i in range(8))


def creators_in(record, role: str) -> list:
    return [c for c in record.creators if c.role == role]


def initials(given: str) -> str:
    return "".join(part[0] for part in given.replace("-", " ").split() if part[:1].isalpha())


def screening_tags(record) -> list[str]:
    """Illustrative screening decisions as Zotero tags (the team screens in Zotero): most included, a few
    excluded with reasons, one report not retrieved; fixed by the key, never random."""
    key = record.source_key
    if key in EXTRACTED:
        return ["screen:include", "fulltext:include"]
    kind = bucket(key, 23)
    if kind == 0:
        return ["screen:exclude:not-tier"]
    if kind == 1:
        return ["screen:exclude:opinion"]
    if kind == 2:
        return ["screen:include", "fulltext:exclude:no-evidence"]
    if kind == 3:
        return ["screen:include", "fulltext:not-retrieved"]
    if kind == 4:
        return ["screen:maybe"]
    return ["screen:include", "fulltext:include"]


def csl_item(record) -> dict:
    item = {
        "id": f"http://zotero.org/users/local/kQ7vX2pL/items/{zotero_key(record.source_key)}",
        "type": record.item_type,
        "title": record.title,
    }
    for role in ("author", "editor"):
        people = [{"literal": c.name} if c.name else {"family": c.family, "given": c.given}
                  for c in creators_in(record, role)]
        if people:
            item[role] = people
    if record.date:
        item["issued"] = {"date-parts": [[int(p) for p in record.date.split("-")]]}
    for field, csl in (("container", "container-title"), ("volume", "volume"), ("issue", "issue"),
                       ("pages", "page"), ("doi", "DOI"), ("url", "URL"), ("place", "publisher-place")):
        if getattr(record, field):
            item[csl] = getattr(record, field)
    publisher = PUBLISHERS.get(record.source_key) or record.institution or record.publisher
    if publisher:
        item["publisher"] = publisher
    if record.isbn:
        item["ISBN"] = record.isbn
    tags = list(record.tags) + screening_tags(record)
    item["keyword"] = ", ".join(tags)
    note = " ".join(n for n in (record.extra, UNIT_NOTES.get(record.source_key, "")) if n)
    if note:
        item["note"] = note
    return item


def grey_item(key: str, fields: dict, tags: list[str]) -> dict:
    screening = ["screen:include", "fulltext:include"] if key in EXTRACTED else []
    return {"id": f"http://zotero.org/users/local/kQ7vX2pL/items/{zotero_key(key)}", **fields,
            "keyword": ", ".join(tags + screening)}


def ris_entry(record) -> dict:
    ty = {"article-journal": "JOUR", "report": "RPRT", "book": "BOOK", "chapter": "CHAP"}.get(record.item_type, "GEN")
    authors = [f"{c.family} {initials(c.given)}" if c.family else c.name for c in creators_in(record, "author")]
    entry = {"type_of_reference": ty, "id": f"HMIC{100000 + bucket(record.source_key, 900000)}",
             "authors": authors, "title": record.title, "year": ONLINE_FIRST.get(record.source_key, record.year),
             "name_of_database": "HMIC Health Management Information Consortium"}
    if record.container:
        entry["journal_name"] = ABBREVIATIONS.get(record.container, record.container)
    if PUBLISHERS.get(record.source_key) or record.institution:
        entry["publisher"] = PUBLISHERS.get(record.source_key) or record.institution
    for field, tag in (("volume", "volume"), ("issue", "number"), ("place", "place_published")):
        if getattr(record, field):
            entry[tag] = getattr(record, field)
    if record.pages:
        start, _, end = record.pages.partition("-")
        entry["start_page"] = start
        if end:
            entry["end_page"] = end
    # HMIC often lacks the DOI: keep it for two references in three
    if record.doi and bucket(record.source_key, 3):
        entry["doi"] = record.doi
    return entry


def bibtex_entry(record) -> str:
    authors = " and ".join(f"{c.family}, {initials(c.given)}." if c.given else c.family or c.name
                           for c in creators_in(record, "author"))
    title = record.title.upper() if bucket(record.source_key, 5) == 0 else record.title
    fields = [("author", authors), ("title", title), ("journal", record.container),
              ("year", ONLINE_FIRST.get(record.source_key, record.year)), ("volume", record.volume),
              ("number", record.issue), ("pages", record.pages.replace("-", "--")),
              ("doi", record.doi.upper() if bucket(record.source_key, 2) else record.doi),
              ("document_type", "Article"), ("source", "Scopus")]
    body = ",\n".join(f"  {name} = {{{value.replace('&', chr(92) + '&')}}}" for name, value in fields if value)
    # Scopus keys are first author + year + first page
    first = creators_in(record, "author")[0].family if creators_in(record, "author") else "Anon"
    first = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    key = f"{first.replace(' ', '')}{fields[3][1]}{record.pages.partition('-')[0] or record.volume}"
    return f"@ARTICLE{{{key},\n{body}\n}}\n"


def main(corpus: str) -> int:
    result = read_file(corpus, "bibtex", source="corpus")
    records = sorted(result.records, key=lambda r: r.source_key)
    zotero = [r for r in records if bucket(r.source_key, 10) != 0]
    hmic = [r for r in records if r.item_type in ("article-journal", "report") and bucket(r.source_key, 7) < 3
            or bucket(r.source_key, 10) == 0]
    scopus = [r for r in records if r.item_type == "article-journal" and bucket(r.source_key, 5) < 3]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "zotero_library.json").write_text(
        json.dumps([csl_item(r) for r in zotero] + [grey_item(*g) for g in GREY_LITERATURE], ensure_ascii=False,
                   indent=2) + "\n", encoding="utf-8")
    (OUT / "hmic_ovid.ris").write_text(rispy.dumps([ris_entry(r) for r in hmic]), encoding="utf-8")
    (OUT / "scopus.bib").write_text("\n".join(bibtex_entry(r) for r in scopus), encoding="utf-8")
    print(f"zotero {len(zotero) + len(GREY_LITERATURE)}, hmic {len(hmic)}, scopus {len(scopus)} from {len(records)} references")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/nhs_tiers_corpus.bib"))
