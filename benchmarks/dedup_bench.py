"""Measure the deduplication on labelled sets: accuracy, seconds and peak memory, one JSON line each.

    python benchmarks/dedup_bench.py ../shared/dedup/diabetes ../shared/dedup/digital_work [--compare]
    python benchmarks/dedup_bench.py ../shared/dedup/sra_copper ../shared/dedup/respiratory/Respiratory.xml

Each DIR holds ``records_pre_merged.csv`` (column ``ID`` + bibliographic columns) and
``merged_record_ids.csv`` (column ``merged_ids``: one true duplicate group per row, ids joined by ``;``).
Metric (as in ../shared/dedup/README.md and bib-dedupe's evaluation): a record that should be removed
is a positive. Per true group, one surviving record is a true negative and each extra survivor a false
negative; a unique record (or a whole true group) lost into another group's survivor is a false positive.
Pairwise precision/recall/F1 are over the transitive closure of predicted and true pairs.
``--compare`` runs bib-dedupe (``pip install bib-dedupe``) on the same records in the same process.
The timed part is the deduplication itself (prepare, block, match, cluster), not reading the CSV;
``peak_mb`` is the process's peak resident memory (reading included), so run one tool per process
(``--compare`` runs ours first) when memory matters.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import pandas as pd

from review import dedup
from review.readers import read_file


def true_groups(folder: Path) -> list[list[str]]:
    table = pd.read_csv(folder / "merged_record_ids.csv", dtype=str)
    return [g.split(";") for g in table["merged_ids"].dropna()]


def record_metrics(ids: list[str], groups: dict[str, int], survivors: set[str], truth: list[list[str]]) -> dict:
    in_truth = {i for g in truth for i in g}
    tp = fp = fn = tn = 0
    for i in ids:
        if i not in in_truth:
            if i in survivors:
                tn += 1
            else:
                fp += 1
    for group in truth:
        kept = sum(1 for i in group if i in survivors)
        if kept == 0:
            fp += 1
            tp += len(group) - 1
        else:
            tn += 1
            fn += kept - 1
            tp += len(group) - kept
    sens = tp / (tp + fn) if tp + fn else 1.0
    spec = tn / (tn + fp) if tn + fp else 1.0
    prec = tp / (tp + fp) if tp + fp else 1.0
    f1 = 2 * prec * sens / (prec + sens) if prec + sens else 0.0
    pred_pairs = _pairs(_members(groups).values())
    true_pairs = _pairs(truth)
    inter = len(pred_pairs & true_pairs)
    pp = inter / len(pred_pairs) if pred_pairs else 1.0
    pr = inter / len(true_pairs) if true_pairs else 1.0
    pf = 2 * pp * pr / (pp + pr) if pp + pr else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "sensitivity": round(sens, 4), "specificity": round(spec, 4),
            "precision": round(prec, 4), "f1": round(f1, 4), "pair_precision": round(pp, 4),
            "pair_recall": round(pr, 4), "pair_f1": round(pf, 4)}


def _members(groups: dict[str, int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for rid, g in groups.items():
        out[g].append(rid)
    return out


def _pairs(groups) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for g in groups if len(g) > 1 for p in combinations(g, 2)}


def peak_mb() -> float:
    """Peak resident memory of this process so far (MB): reading the data included, an upper bound."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(folder: Path) -> dict:
    records = read_file(folder / "records_pre_merged.csv", "csv", source=folder.name).records
    start = time.perf_counter()
    result = dedup.run(records)
    seconds = time.perf_counter() - start
    peak = peak_mb()
    ids = [r.source_key for r in records]
    groups = dict(zip(ids, result.group))
    survivors = {i for i, s in zip(ids, result.survivor) if s}
    return {"tool": "review", "dataset": folder.name, "n": len(ids),
            **record_metrics(ids, groups, survivors, true_groups(folder)),
            "seconds": round(seconds, 3), "peak_mb": round(peak, 1),
            "review_pairs": len(dedup.review_pairs(result))}


def run_bib_dedupe(folder: Path) -> dict:
    import bib_dedupe.bib_dedupe as bd

    records_df = pd.read_csv(folder / "records_pre_merged.csv")
    start = time.perf_counter()
    prepped = bd.prep(records_df, verbosity_level=0)
    blocked = bd.block(prepped, verbosity_level=0)
    matched = bd.match(blocked, verbosity_level=0)
    clusters = bd.cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - start
    peak = peak_mb()
    ids = [str(i) for i in records_df["ID"]]
    groups = {i: k for k, i in enumerate(ids)}
    survivors = set(ids)
    for k, members in enumerate(clusters):
        members = sorted(str(m) for m in members)
        for m in members:
            groups[m] = len(ids) + k
        survivors -= set(members[1:])
    return {"tool": "bib-dedupe", "dataset": folder.name, "n": len(ids),
            **record_metrics(ids, groups, survivors, true_groups(folder)),
            "seconds": round(seconds, 3), "peak_mb": round(peak, 1)}


def run_endnote(path: Path) -> dict:
    """EndNote XML with ``<caption>Duplicate</caption>`` on every member of a duplicate set (no group ids):
    how many flagged records end in a multi-record group, and how many unflagged ones do."""
    records = read_file(path, "endnote-xml", source=path.stem).records
    start = time.perf_counter()
    result = dedup.run(records)
    seconds = time.perf_counter() - start
    sizes = defaultdict(int)
    for g in result.group:
        sizes[g] += 1
    flagged = [str(r.original.get("caption", "")).strip().lower() == "duplicate" for r in records]
    in_group = [sizes[g] > 1 for g in result.group]
    return {"tool": "review", "dataset": path.stem, "n": len(records), "flagged": sum(flagged),
            "flagged_in_groups": sum(f and g for f, g in zip(flagged, in_group)),
            "unflagged_in_groups": sum(g and not f for f, g in zip(flagged, in_group)),
            "groups": len(sizes), "seconds": round(seconds, 3), "peak_mb": round(peak_mb(), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--compare", action="store_true", help="also run bib-dedupe on the same data")
    args = parser.parse_args(argv)
    for folder in args.dirs:
        if folder.suffix.lower() == ".xml" or (folder.is_dir() and not (folder / "records_pre_merged.csv").exists()
                                               and list(folder.glob("*.xml"))):
            for xml in [folder] if folder.suffix.lower() == ".xml" else sorted(folder.glob("*.xml")):
                print(json.dumps(run_endnote(xml)), flush=True)
            continue
        if not (folder / "records_pre_merged.csv").exists():
            print(json.dumps({"dataset": folder.name, "skipped": "no records_pre_merged.csv"}))
            continue
        print(json.dumps(run_ours(folder)), flush=True)
        if args.compare:
            print(json.dumps(run_bib_dedupe(folder)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
