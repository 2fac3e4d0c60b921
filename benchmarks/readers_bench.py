"""Records per second and peak memory of each reader, on the same records written in each format.

    python benchmarks/make_large.py 100000 --out /tmp/large100k
    python benchmarks/readers_bench.py /tmp/large100k/records_pre_merged.csv [--limit 100000]

The CSV of ``make_large.py`` is written out as BibTeX, RIS, CSL-JSON, CSV and EndNote XML (with the records'
abstracts; a CSV of an older ``make_large.py`` without them gets one shared abstract) and each file is read by ``review.readers.read_file`` in a fresh process, so that
peak memory (ru_maxrss) is the reader's own. Prints one line per format: records, seconds, records per
second, peak MB, and how many times slower per record than the fastest format.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

ABSTRACT = ("Intermediate tiers of the English NHS have been reorganised repeatedly; this study examines "
            "their functions, governance and relations with local government. ") * 3


def rows(path: Path, limit: int) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [r for _, r in zip(range(limit), csv.DictReader(handle))]


def _styled(text: str) -> str:
    """Text as EndNote's XML export wraps it."""
    return f'<style face="normal" font="default" size="100%">{escape(text)}</style>'


def endnote_record(number: int, r: dict[str, str], authors: list[str], abstract: str) -> str:
    people = "".join(f"<author>{_styled(a)}</author>" for a in authors)
    return (f'<record><rec-number>{number}</rec-number><ref-type name="Journal Article">17</ref-type>'
            f"<contributors><authors>{people}</authors></contributors>"
            f"<titles><title>{_styled(r['title'])}</title><secondary-title>{_styled(r['journal'])}</secondary-title>"
            f"</titles><pages>{_styled(r['pages'])}</pages><volume>{_styled(r['volume'])}</volume>"
            f"<dates><year>{_styled(r['year'])}</year></dates>"
            f"<electronic-resource-num>{_styled(r['doi'])}</electronic-resource-num>"
            f"<abstract>{_styled(abstract)}</abstract></record>")


def write_all(records: list[dict[str, str]], folder: Path) -> dict[str, Path]:
    """The records in each of the five file formats; each record's own abstract (``make_large.py``'s)."""
    bib, ris, items, endnote = [], [], [], []
    for number, r in enumerate(records, start=1):
        abstract = r.get("abstract", ABSTRACT)
        authors = [a.strip() for a in r["author"].split(" and ") if a.strip()]
        bib.append(f"@article{{{r['ID']},\n  author = {{{r['author']}}},\n  title = {{{r['title']}}},\n"
                   f"  journal = {{{r['journal']}}},\n  year = {{{r['year']}}},\n  volume = {{{r['volume']}}},\n"
                   f"  pages = {{{r['pages']}}},\n  doi = {{{r['doi']}}},\n  abstract = {{{abstract}}}\n}}\n")
        ris.append("TY  - JOUR\n" + "".join(f"AU  - {a}\n" for a in authors)
                   + f"TI  - {r['title']}\nT2  - {r['journal']}\nPY  - {r['year']}\nVL  - {r['volume']}\n"
                   f"SP  - {r['pages']}\nDO  - {r['doi']}\nAB  - {abstract}\nID  - {r['ID']}\nER  - \n")
        items.append({"id": r["ID"], "type": "article-journal", "title": r["title"],
                      "author": [{"literal": a} for a in authors], "container-title": r["journal"],
                      "issued": {"date-parts": [[int(r["year"])]]} if r["year"].isdigit() else {},
                      "volume": r["volume"], "page": r["pages"], "DOI": r["doi"], "abstract": abstract})
        endnote.append(endnote_record(number, r, authors, abstract))
    paths = {"bibtex": folder / "records.bib", "ris": folder / "records.ris", "csljson": folder / "records.json",
             "csv": folder / "records.csv", "endnote-xml": folder / "records.xml"}
    paths["bibtex"].write_text("\n".join(bib), encoding="utf-8")
    paths["ris"].write_text("\n".join(ris), encoding="utf-8")
    paths["csljson"].write_text(json.dumps(items), encoding="utf-8")
    paths["endnote-xml"].write_text('<?xml version="1.0" encoding="UTF-8" ?><xml><records>' + "".join(endnote)
                                    + "</records></xml>", encoding="utf-8")
    with open(paths["csv"], "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*(k for k in records[0] if k != "abstract"), "abstract"])
        writer.writeheader()
        writer.writerows({**r, "abstract": r.get("abstract", ABSTRACT)} for r in records)
    return paths


PROBE = """
import resource, sys, time
from review.readers import read_file
start = time.perf_counter()
result = read_file(sys.argv[1], sys.argv[2], source="bench")
seconds = time.perf_counter() - start
# the high-water mark of this program's own memory: ru_maxrss would count the benchmark's memory, copied at
# the fork before this program was started
try:
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(result.records), len(result.problems), seconds, peak)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path, help="records_pre_merged.csv of make_large.py")
    parser.add_argument("--limit", type=int, default=100_000)
    args = parser.parse_args(argv)
    records = rows(args.records, args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_all(records, Path(tmp))
        figures = {}
        for fmt, path in paths.items():
            out = subprocess.run([sys.executable, "-c", PROBE, str(path), fmt], capture_output=True, text=True,
                                 check=True).stdout.split()
            figures[fmt] = (int(out[0]), int(out[1]), float(out[2]), float(out[3]), path.stat().st_size / 1e6)
    fastest = min(seconds / max(n, 1) for n, _, seconds, _, _ in figures.values())
    print(f"{'format':11} {'MB':>6} {'records':>8} {'problems':>8} {'seconds':>8} {'rec/s':>8} {'peak MB':>8} {'x fastest':>9}")
    for fmt, (n, problems, seconds, peak, size) in figures.items():
        print(f"{fmt:11} {size:6.1f} {n:8d} {problems:8d} {seconds:8.1f} {n / seconds:8.0f} {peak:8.0f} "
              f"{seconds / max(n, 1) / fastest:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
