"""Write an N-record labelled deduplication set (for scale runs) by perturbing real records.

    python benchmarks/make_large.py 100000 --seeds ../shared/dedup/digital_work --out /tmp/large100k

Works are drawn from the seed set's records; beyond the seeds, further distinct works are made by
swapping a few title words with words of other titles and giving them other authors and years (so
that they look alike without being duplicates, as real sets do). Each work then gets 1 to 4 copies
with the variation exports show: typos, case, initials for first names, missing fields, DOI forms,
volume and page styles. Every work has its own abstract, as real records do: the seed's where it has one,
otherwise sentences drawn from the seeds' abstracts after its title (copies share it; some copies lack it, as
some databases' exports do). Output is the ``../shared/dedup`` format: ``records_pre_merged.csv`` and
``merged_record_ids.csv``. The same N and seed give the same files.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

COLUMNS = ["ID", "ENTRYTYPE", "author", "title", "year", "journal", "volume", "number", "pages", "doi", "abstract"]


def load_seeds(folder: Path) -> list[dict[str, str]]:
    with open(folder / "records_pre_merged.csv", encoding="utf-8", newline="") as handle:
        rows = [{c: (r.get(c) or "").strip() for c in COLUMNS} for r in csv.DictReader(handle)]
    return [r for r in rows if len(r["title"]) > 20 and r["author"]]


def sentences(seeds: list[dict[str, str]]) -> list[str]:
    """Every sentence of the seeds' abstracts, the stock that abstracts are drawn from."""
    return [s.strip() + "." for r in seeds for s in r["abstract"].split(". ") if len(s.split()) > 5]


def abstract_for(work: dict[str, str], stock: list[str], number: int) -> str:
    """The seed's abstract, or the title then five sentences of other abstracts. Its own random stream
    (by work number), so that the records themselves are the same as before abstracts were added."""
    if work.get("abstract"):
        return work["abstract"]
    rng = random.Random(number)
    return " ".join([work["title"].rstrip(".") + ".", *rng.sample(stock, 5)])


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 5:
        return text
    k = rng.randrange(1, len(text) - 1)
    op = rng.choice("dsi")
    if op == "d":
        return text[:k] + text[k + 1:]
    if op == "s":
        return text[:k] + text[k + 1] + text[k] + text[k + 2:]
    return text[:k] + rng.choice("aeioust") + text[k:]


def initials(authors: str) -> str:
    out = []
    for name in authors.split(" and "):
        family, _, given = name.partition(",")
        letters = " ".join(f"{p[0]}." for p in given.split() if p[:1].isalpha())
        out.append(f"{family.strip()}, {letters}".strip(", "))
    return " and ".join(out)


def copy_of(work: dict[str, str], rng: random.Random) -> dict[str, str]:
    row = dict(work)
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        change = rng.choice(("typo", "case", "initials", "drop", "doi", "pages", "volume", "year"))
        if change == "typo":
            row["title"] = typo(row["title"], rng)
        elif change == "case":
            row["title"] = row["title"].upper() if rng.random() < 0.5 else row["title"].lower()
        elif change == "initials":
            row["author"] = initials(row["author"])
        elif change == "drop":
            row[rng.choice(("doi", "volume", "number", "pages", "journal"))] = ""
        elif change == "doi" and row["doi"]:
            row["doi"] = "https://doi.org/" + row["doi"].upper()
        elif change == "pages" and "-" in row["pages"]:
            start, _, end = row["pages"].partition("-")
            row["pages"] = f"{start} -- {end}" if rng.random() < 0.5 else f"{start}-{end[-2:]}"
        elif change == "volume" and row["volume"]:
            row["volume"] = f"Vol. {row['volume']}"
        elif change == "year" and row["year"].isdigit() and rng.random() < 0.3:
            row["year"] = str(int(row["year"]) + 1)  # online-first
    return row


def new_work(seeds: list[dict[str, str]], rng: random.Random, n: int) -> dict[str, str]:
    base = dict(rng.choice(seeds))
    donor = rng.choice(seeds)
    words, other = base["title"].split(), donor["title"].split()
    for _ in range(3):
        words[rng.randrange(len(words))] = rng.choice(other)
    base["title"] = " ".join(words)
    base["author"] = rng.choice(seeds)["author"]
    base["year"] = str(rng.randint(1990, 2024))
    base["doi"] = f"10.9999/synthetic.{n}" if base["doi"] else ""
    base["pages"] = f"{rng.randint(1, 900)}-{rng.randint(901, 1200)}" if base["pages"] else ""
    return base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of records to write")
    parser.add_argument("--seeds", type=Path, default=Path("../shared/dedup/digital_work"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    seeds = load_seeds(args.seeds)
    stock = sentences(seeds)
    lacking = random.Random(args.seed + 1)
    records, groups, works = [], [], 0
    while len(records) < args.n:
        work = dict(seeds[works]) if works < len(seeds) else new_work(seeds, rng, works)
        work["abstract"] = abstract_for(work if works < len(seeds) else {**work, "abstract": ""}, stock, works)
        works += 1
        ids = []
        for _ in range(min(rng.choice((1, 1, 1, 2, 2, 3, 4)), args.n - len(records))):
            row = copy_of(work, rng)
            row["ID"] = f"r{len(records):07d}"
            if lacking.random() < 0.1:  # a copy in ten without its abstract (its own stream, as above)
                row["abstract"] = ""
            records.append(row)
            ids.append(row["ID"])
        if len(ids) > 1:
            groups.append(";".join(ids))
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "records_pre_merged.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(records)
    with open(args.out / "merged_record_ids.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["merged_ids"])
        writer.writerows([g] for g in groups)
    print(f"{len(records)} records, {works} works, {len(groups)} duplicate groups in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
