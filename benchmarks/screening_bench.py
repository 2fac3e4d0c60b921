"""Screening prioritisation on the labelled sets: candidate models compared leave-one-dataset-out beside
ASReview LAB, and the stopping rule measured on the default model's runs.

    python benchmarks/screening_bench.py ../shared/screening/*.csv --seeds 5 --compare-seeds 3 \
        --asreview /tmp/asr/bin/asreview --cache /tmp/screening-cache

For each set and seed, the priors are one included and one excluded record drawn with that seed (left out of
the metrics), and ``review.ranking.simulate`` screens the rest in each candidate model's order (``CANDIDATES``),
retraining after each batch. With ``--asreview``, ASReview LAB's ``asreview simulate`` (its default model,
ELAS u4) runs on the same set with the same priors and seed, and its order is read from the project file it
writes (``results.db``, records in the order labelled) and measured the same way. ASReview pins its own
versions of pandas and Flask: install it in a separate environment (``python -m venv /tmp/asr &&
/tmp/asr/bin/pip install asreview==3.0.8``).

Printed (Markdown): WSS@95 of every candidate and ASReview on every set (seeds below ``--compare-seeds``); the
leave-one-dataset-out table (for each set, the candidate with the best mean WSS@95 on the other sets, measured
on the one left out); the stopping rule (``review.stopping.stop_at``, computed at each retraining as a refresh
would) on the default model's runs (``--seeds``): work saved at the stop beside WSS@95, recall at the stop and
how many runs reached the target; and the seconds of one retraining (features already built) at 2,000 and
20,000 records. ``--cache`` keeps every order (ASReview's take minutes each and do not depend on our model;
ours are keyed by the set, settings, priors and the source of the functions they depend on), so that a rerun
computes only what changed.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from review import stopping
from review.cli_tools import read_labelled
from review.ranking import Model, document, metrics, ranked, refreshes, simulate


def priors(labels: list[int], seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    return [int(rng.choice(np.flatnonzero(y == 1))), int(rng.choice(np.flatnonzero(y == 0)))]


def asreview_order(asreview: str, dataset: Path, chosen: list[int], seed: int, cache: Path | None = None
                   ) -> list[int]:
    """The order ``asreview simulate`` screens ``dataset`` in (0-based rows), priors first; the records it left
    unlabelled (after the last inclusion) follow in row order, as they change no metric. With ``cache``, an
    order is kept there (a file per set, content, priors and seed) and read back on the next run: ASReview's
    orders do not depend on our model, and take minutes to compute."""
    kept = None
    if cache is not None:
        digest = hashlib.sha256(dataset.read_bytes()).hexdigest()[:12]
        kept = cache / f"{dataset.stem}-{digest}-{'-'.join(map(str, chosen))}-seed{seed}.txt"
        if kept.exists():
            return [int(line) for line in kept.read_text().split()]
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "sim.asreview"
        # run in the temporary folder: asreview leaves a cache file (synergy_cache.sqlite) where it runs
        subprocess.run([asreview, "simulate", str(dataset.resolve()), "--prior-idx", *map(str, chosen), "--seed",
                        str(seed), "-o", str(project)], check=True, capture_output=True, cwd=folder)
        with zipfile.ZipFile(project) as archive:
            archive.extract("results.db", folder)
        with sqlite3.connect(Path(folder) / "results.db") as db:
            labelled = [int(r) for (r,) in db.execute("SELECT record_id FROM results ORDER BY rowid")]
    seen = set(labelled)
    order = labelled + [i for i in range(len(read_labelled(dataset)[1])) if i not in seen]
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.with_suffix(".tmp").write_text("\n".join(map(str, order)) + "\n")
        kept.with_suffix(".tmp").replace(kept)
    return order


CANDIDATES = {  # the settings compared leave-one-dataset-out; Model() (the default) must be one of them
    "title once (ELAS u4's text)": Model(titles=1),
    "title counted twice": Model(titles=2),
    "title counted three times": Model(titles=3),
    "title counted four times": Model(titles=4),
}
CODE = hashlib.sha256("".join(inspect.getsource(f) for f in (
    document, Model.document, Model.features, Model.weights, Model.scores, ranked, refreshes, simulate,
)).encode()).hexdigest()[:12]  # what a kept order of ours depends on besides the settings


def our_order(path: Path, model: Model, chosen: list[int], seed: int, cache: Path | None) -> tuple[list[int], float]:
    """``simulate``'s order for one set, model and seed, and the seconds it took; kept in ``cache`` (by the
    set's content, the settings, the priors and the code) and read back on the next run."""
    kept = None
    if cache is not None:
        key = hashlib.sha256(repr((path.read_bytes(), replace(model, seed=seed), chosen, CODE)).encode()).hexdigest()
        kept = cache / f"{path.stem}-review-{key[:16]}.json"
        if kept.exists():
            saved = json.loads(kept.read_text())
            return saved["order"], saved["seconds"]
    texts, labels = read_labelled(path, model)
    start = time.perf_counter()
    order = simulate(texts, labels, chosen, replace(model, seed=seed))
    seconds = time.perf_counter() - start
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.with_suffix(".tmp").write_text(json.dumps({"order": order, "seconds": seconds}))
        kept.with_suffix(".tmp").replace(kept)
    return order, seconds


def retraining_seconds(texts: list[str], labels: list[int], n: int, model: Model) -> float:
    """One retraining and scoring with half of ``n`` records known: a set's texts and labels repeated to reach
    ``n`` (a copy keeps its record's label, as a review's decisions would agree); the best of three, as the
    machine is shared."""
    many = (texts * (n // len(texts) + 1))[:n]
    y = np.asarray((labels * (n // len(labels) + 1))[:n])
    features = model.features(many)
    known = list(range(0, n, 2))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model.scores(features, known, y[known])
        times.append(time.perf_counter() - start)
    return min(times)


def mean(values: Any) -> float:
    return float(np.mean(list(values)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the default model's runs (the stopping table)")
    parser.add_argument("--compare-seeds", type=int, default=3,
                        help="seeds of the comparison (every candidate and ASReview): the first ones of --seeds")
    parser.add_argument("--asreview", help="the asreview command, to run ASReview LAB beside ours")
    parser.add_argument("--cache", type=Path, help="a folder keeping every order computed (ASReview's and ours)")
    parser.add_argument("--target", type=float, default=0.95, help="the stopping rule's recall (default 0.95)")
    parser.add_argument("--confidence", type=float, default=0.95, help="the stopping rule's confidence (0.95)")
    args = parser.parse_args(argv)
    chosen_name = next(name for name, model in CANDIDATES.items() if model == Model())
    tools = [*CANDIDATES, *(["ASReview"] if args.asreview else [])]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for seed in range(args.seeds):  # seeds outermost: a run cut short has every set for the first seeds
        for path in args.datasets:
            _, labels = read_labelled(path)
            sizes[path.stem] = (len(labels), sum(labels))
            chosen = priors(labels, seed)
            for tool in tools:
                if tool != chosen_name and seed >= args.compare_seeds:
                    continue
                if tool == "ASReview":
                    start = time.perf_counter()
                    order = asreview_order(args.asreview, path, chosen, seed, args.cache)
                    seconds = time.perf_counter() - start
                else:
                    order, seconds = our_order(path, CANDIDATES[tool], chosen, seed, args.cache)
                m: dict[str, Any] = {**metrics(order, labels, chosen), "seconds": seconds}
                if tool == chosen_name:  # the stopping rule, as a refresh computes it: at each retraining
                    screened = [labels[i] for i in order]
                    stop = stopping.stop_at(screened, len(labels), args.target, args.confidence,
                                            refreshes(len(labels), len(chosen)))
                    m.update(stop_at=stop, saved=(len(labels) - stop) / len(labels),
                             stop_recall=sum(screened[:stop]) / sum(labels))
                runs.setdefault((tool, path.stem), []).append({**m, "seed": seed})
            print(f"seed {seed} {path.stem} done", file=sys.stderr, flush=True)
    sets = [p.stem for p in args.datasets]
    # the comparison on the seeds every tool ran with
    wss = {(t, s): mean(r["wss95"] for r in runs[t, s] if r["seed"] < args.compare_seeds) for t, s in runs}
    rec = {(t, s): mean(r["recall10"] for r in runs[t, s] if r["seed"] < args.compare_seeds) for t, s in runs}

    print(f"### Every candidate on every set (WSS@95, mean of seeds 0-{args.compare_seeds - 1})\n")
    print("| set | records | inclusions | " + " | ".join(tools) + " |")
    print("|---|---:|---:|" + "---:|" * len(tools))
    for s in sets:
        print(f"| {s} | {sizes[s][0]:,} | {sizes[s][1]} | " + " | ".join(f"{wss[t, s]:.3f}" for t in tools) + " |")
    print("| **mean** | | | " + " | ".join(f"**{mean(wss[t, s] for s in sets):.3f}**" for t in tools) + " |")
    if args.asreview:
        print("| worst set against ASReview | | | " + " | ".join(
            f"{min(wss[t, s] - wss['ASReview', s] for s in sets):+.3f}" for t in CANDIDATES) + " | |")

    print("\n### Leave one dataset out: the setting chosen on the other sets, measured on the one left out\n")
    print("| set left out | chosen on the other sets | WSS@95 | recall@10% | ASReview WSS@95 | ASReview recall@10% "
          "| difference in WSS@95 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    held: dict[str, float] = {}
    for s in sets:
        others = [o for o in sets if o != s]
        pick = max(CANDIDATES, key=lambda t: mean(wss[t, o] for o in others))  # ties: the first listed
        held[s] = wss[pick, s]
        asr = (f"{wss['ASReview', s]:.3f} | {rec['ASReview', s]:.3f} | {wss[pick, s] - wss['ASReview', s]:+.3f}"
               if args.asreview else " | | ")
        print(f"| {s} | {pick} | {wss[pick, s]:.3f} | {rec[pick, s]:.3f} | {asr} |")
    line = f"\nLeft-out sets: mean WSS@95 {mean(held.values()):.3f}"
    if args.asreview:
        diffs = {s: held[s] - wss["ASReview", s] for s in sets}
        worst = min(diffs, key=lambda s: diffs[s])
        line += (f" against ASReview's {mean(wss['ASReview', s] for s in sets):.3f}; worst set {worst} "
                 f"{diffs[worst]:+.3f}; more than 0.02 below on {sum(d < -0.02 for d in diffs.values())} of {len(sets)}; "
                 f"recall@10% {mean(rec[t, s] for t in [chosen_name] for s in sets):.3f} (the default) against "
                 f"{mean(rec['ASReview', s] for s in sets):.3f}")
    print(line + f". Default model: {chosen_name}.")

    print(f"\n### The stopping rule (recall {args.target:.0%}, confidence {args.confidence:.0%}) on the default "
          "model's runs\n")
    print(f"Seeds 0-{args.seeds - 1}.\n")
    print("| set | WSS@95 | work saved at the stop, mean (min-max) | recall at the stop, mean (min) "
          "| runs reaching the target |")
    print("|---|---:|---|---|---:|")
    kept = 0
    for s in sets:
        r = runs[chosen_name, s]
        reached = sum(x["stop_recall"] >= args.target for x in r)
        kept += reached
        print(f"| {s} | {mean(x['wss95'] for x in r):.3f} | {mean(x['saved'] for x in r):.3f} "
              f"({min(x['saved'] for x in r):.3f}-{max(x['saved'] for x in r):.3f}) | "
              f"{mean(x['stop_recall'] for x in r):.3f} ({min(x['stop_recall'] for x in r):.3f}) | {reached} of {len(r)} |")
    every = [x for s in sets for x in runs[chosen_name, s]]
    print(f"| **all** | **{mean(x['wss95'] for x in every):.3f}** | **{mean(x['saved'] for x in every):.3f}** | "
          f"{mean(x['stop_recall'] for x in every):.3f} ({min(x['stop_recall'] for x in every):.3f}) | "
          f"**{kept} of {len(every)}** ({kept / len(every):.0%}) |")
    print("\nSeconds per run of ours, mean over sets and seeds, as timed when the order was computed (a kept order "
          "keeps its time): " + ", ".join(f"{t} {mean(x['seconds'] for s in sets for x in runs[t, s]):.1f}"
                                          for t in CANDIDATES))
    texts, labels = read_labelled(args.datasets[-1])
    for n in (2_000, 20_000):
        print(f"one retraining of the default model at {n:,} records ({args.datasets[-1].stem} repeated): "
              f"{retraining_seconds(texts, labels, n, Model()):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
