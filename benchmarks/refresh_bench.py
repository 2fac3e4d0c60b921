"""Time a refresh of the bundled sample that has nothing to do: how long `snakemake` takes to say so.

    python benchmarks/refresh_bench.py [--runs 5]

Copies the project's Snakefile, protocols and extracts into a temporary folder (the workflow is the package's), runs the
pipeline once to build everything, then times ``--runs`` further calls of ``snakemake --cores 1`` that
find nothing to do (reading the protocol, the codebook and the reviewers' workbooks for their digests,
building the job graph). Prints one JSON line: runs, seconds per run (min, median, max), and whether each
call really did nothing. The target (issue 9) is under 3 s on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def snakemake(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1"], cwd=folder, capture_output=True,
                          text=True, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("Snakefile", "protocols", "extracts"):
            source = PROJECT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / name)
        first = snakemake(folder)
        if first.returncode != 0:
            print(first.stderr, file=sys.stderr)
            return 1
        seconds, idle = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = snakemake(folder)
            seconds.append(time.perf_counter() - start)
            idle.append("Nothing to be done" in result.stdout + result.stderr)
    print(json.dumps({"benchmark": "no-change refresh of the sample", "runs": args.runs,
                      "seconds_min": round(min(seconds), 2), "seconds_median": round(statistics.median(seconds), 2),
                      "seconds_max": round(max(seconds), 2), "nothing_to_do": all(idle)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
