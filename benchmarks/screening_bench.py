"""Screening prioritisation on the labelled sets: WSS@95, recall after 10%, records to the last inclusion.

    python benchmarks/screening_bench.py ../shared/screening/*.csv --seeds 5 [--asreview PATH/TO/asreview]

For each set and seed, the priors are one included and one excluded record drawn with that seed (left
out of the metrics), and ``review.ranking.simulate`` screens the rest in the model's order, retraining
after each batch. With ``--asreview``, ASReview LAB's ``asreview simulate`` (its default model, ELAS u4)
runs on the same set with the same priors and seed, and its order is read from the project file it writes
(``results.db``, records in the order labelled) and measured the same way. ASReview pins its own versions of
pandas and Flask: install it in a separate environment (``python -m venv /tmp/asr && /tmp/asr/bin/pip
install asreview``) and pass ``--asreview /tmp/asr/bin/asreview``. Without it, ASReview's figure is the one
quoted in ../shared/screening/README.md (one seed). Also prints the seconds of one retraining (features
already built) at 2,000 and 20,000 records.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from review.cli import read_labelled
from review.ranking import Model, metrics, simulate

ASREVIEW_WSS95 = {"kitchenham_2010": 0.674, "bannach_brown_2019": 0.412, "cohen_2006_ace_inhibitors": 0.752}


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


def retraining_seconds(texts: list[str], n: int) -> float:
    """One retraining and scoring with half of ``n`` records known (texts repeated to reach ``n``)."""
    many = (texts * (n // len(texts) + 1))[:n]
    rng = np.random.default_rng(0)
    labels = (rng.random(n) < 0.05).astype(int)
    model = Model()
    features = model.features(many)
    known = list(range(0, n, 2))
    start = time.perf_counter()
    model.scores(features, known, labels[known])
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--asreview", help="the asreview command, to run ASReview LAB beside ours")
    args = parser.parse_args(argv)
    print("| set | records | inclusions | tool | WSS@95 mean (min-max) | recall@10% | records to last inclusion "
          "| seconds per run |")
    print("|---|---:|---:|---|---|---:|---:|---:|")
    texts: list[str] = []
    for path in args.datasets:
        texts, labels = read_labelled(path)
        tools = {"review": lambda chosen, seed, texts=texts, labels=labels: simulate(texts, labels, chosen,
                                                                                   Model(seed=seed))}
        if args.asreview:
            tools["ASReview (ELAS u4)"] = lambda chosen, seed, path=path: asreview_order(args.asreview, path, chosen,
                                                                                         seed)
        for tool, run in tools.items():
            runs = []
            for seed in range(args.seeds):
                start = time.perf_counter()
                chosen = priors(labels, seed)
                runs.append({**metrics(run(chosen, seed), labels, chosen), "seconds": time.perf_counter() - start})
            wss = [r["wss95"] for r in runs]
            print(f"| {path.stem} | {len(labels):,} | {sum(labels)} | {tool} | {np.mean(wss):.3f} "
                  f"({min(wss):.3f}-{max(wss):.3f}) | {np.mean([r['recall10'] for r in runs]):.3f} | "
                  f"{np.mean([r['last_inclusion'] for r in runs]):.0f} | {np.mean([r['seconds'] for r in runs]):.1f} |",
                  flush=True)
        if not args.asreview:
            print(f"| {path.stem} | | | ASReview (ELAS u4), quoted | {ASREVIEW_WSS95.get(path.stem, float('nan')):.3f} "
                  "| | | |", flush=True)
    for n in (2_000, 20_000):
        print(f"one retraining at {n:,} records: {retraining_seconds(texts, n):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
