"""Screening prioritisation on the labelled sets: WSS@95, recall after 10%, records to the last inclusion.

    python benchmarks/screening_bench.py ../shared/screening/*.csv --seeds 5

For each set and seed, the priors are one included and one excluded record drawn with that seed (left
out of the metrics), and ``review.ranking.simulate`` screens the rest in the model's order, retraining
after each batch. Prints per set the mean and range over seeds beside ASReview LAB 3.0.8's default model
(ELAS u4) as measured from one seed (../shared/screening/README.md), and the seconds of one retraining
(features already built) at 2,000 and 20,000 records.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from review.cli import read_labelled
from review.ranking import Model, metrics, simulate

ASREVIEW_WSS95 = {"kitchenham_2010": 0.674, "bannach_brown_2019": 0.412, "cohen_2006_ace_inhibitors": 0.752}


def priors(labels: list[int], seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    return [int(rng.choice(np.flatnonzero(y == 1))), int(rng.choice(np.flatnonzero(y == 0)))]


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
    args = parser.parse_args(argv)
    print("| set | records | inclusions | WSS@95 mean (min-max) | ASReview WSS@95 | recall@10% | "
          "records to last inclusion | seconds per run |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    texts: list[str] = []
    for path in args.datasets:
        texts, labels = read_labelled(path)
        runs = []
        for seed in range(args.seeds):
            start = time.perf_counter()
            chosen = priors(labels, seed)
            order = simulate(texts, labels, chosen, Model(seed=seed))
            runs.append({**metrics(order, labels, chosen), "seconds": time.perf_counter() - start})
        wss = [r["wss95"] for r in runs]
        print(f"| {path.stem} | {len(labels):,} | {sum(labels)} | {np.mean(wss):.3f} ({min(wss):.3f}-{max(wss):.3f}) "
              f"| {ASREVIEW_WSS95.get(path.stem, float('nan')):.3f} | {np.mean([r['recall10'] for r in runs]):.3f} | "
              f"{np.mean([r['last_inclusion'] for r in runs]):.0f} | {np.mean([r['seconds'] for r in runs]):.1f} |",
              flush=True)
    for n in (2_000, 20_000):
        print(f"one retraining at {n:,} records: {retraining_seconds(texts, n):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
