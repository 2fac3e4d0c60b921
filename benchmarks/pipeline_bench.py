"""The whole pipeline at scale: seconds per stage, peak memory, and a no-change refresh.

    python benchmarks/make_large.py 100000 --out /tmp/large100k
    python benchmarks/pipeline_bench.py /tmp/large100k/records_pre_merged.csv --sizes 10000 50000 100000

For each size, the first N records of ``make_large.py`` are split in five exports (RIS, BibTeX, CSV,
CSL-JSON and EndNote XML, a fifth each, with their abstracts), put in a fresh copy of the project with a
protocol naming them, and ``snakemake --cores 2`` is run: the seconds of each rule (from Snakemake's own
job timestamps), the whole run, the peak memory of the largest process (ru_maxrss of snakemake's children,
counted by a small launcher process), then ``snakemake`` again with nothing to do (after one refresh that
settles the workbooks the first run created). Then a reviewer's decisions: one inclusion and one exclusion
typed in the title/abstract sheet (the refresh that first ranks and sorts the sheet), then one more
decision, twice (the refresh a reviewer waits for after each sitting; the second is the usual case, with
the model's features kept from the refresh before). Prints one table, and the peak memory of each stage
of the first run (the last line of its log); the figures belong in ``benchmarks/RESULTS.md``. With
``--bib-dedupe`` (the ``bench`` extra), bib-dedupe deduplicates the same records in the same run, timed
as in ``dedup_bench.py`` (prepare, block, match, cluster; reading excluded), beside the whole pipeline
(reading, dedup, screening, sheets, report).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from readers_bench import rows, write_all  # noqa: E402  (a sibling script, not a package)

PROJECT = Path(__file__).resolve().parents[1]
STAGES = ["import_records", "find_duplicates", "screen_records", "count_prisma", "write_sheets",
          "read_extractions", "report_changes", "write_report"]

PROTOCOL = """title: Scale run
review_questions: ["Does it scale?"]
sources:
  - {name: ris, file: protocols/library/part.ris, prisma: databases}
  - {name: bib, file: protocols/library/part.bib, prisma: databases}
  - {name: csv, file: protocols/library/part.csv, prisma: databases}
  - {name: json, file: protocols/library/part.json, prisma: databases}
  - {name: endnote, file: protocols/library/part.xml, prisma: databases}
screening:
  exclusion_reasons: [{code: not-tier, label: Not a tier}]
reviewers: [alice]
extraction: {codebook: protocols/codebook.yaml}
"""


def project(folder: Path, records: list[dict[str, str]]) -> None:
    shutil.copy(PROJECT / "Snakefile", folder / "Snakefile")  # the workflow is the package's
    (folder / "protocols/library").mkdir(parents=True)
    (folder / "extracts").mkdir()
    shutil.copy(PROJECT / "protocols/codebook.yaml", folder / "protocols/codebook.yaml")
    (folder / "protocols/review.yaml").write_text(PROTOCOL, encoding="utf-8")
    suffix = {"ris": "ris", "bibtex": "bib", "csv": "csv", "csljson": "json", "endnote-xml": "xml"}
    fifth = -(-len(records) // len(suffix))
    parts = {fmt: records[k * fifth:(k + 1) * fifth] for k, fmt in enumerate(suffix)}
    for fmt, part in parts.items():
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(write_all(part, Path(tmp))[fmt], folder / f"protocols/library/part.{suffix[fmt]}")


def stage_seconds(log: str) -> dict[str, float]:
    """Seconds per rule from Snakemake's ``[date]`` lines before ``rule x:`` and ``Finished ... (Rule: x)``."""
    started, seconds, stamp = {}, {}, None
    for line in log.splitlines():
        if line.startswith("[") and line.endswith("]"):
            stamp = datetime.strptime(line.strip("[]"), "%a %b %d %H:%M:%S %Y")
        elif (m := re.match(r"(?:local)?rule (\w+):", line)) and stamp:
            started[m.group(1)] = stamp
        elif (m := re.search(r"Finished job.*\(Rule: (\w+)\)", line)) and stamp and m.group(1) in started:
            seconds[m.group(1)] = (stamp - started[m.group(1)]).total_seconds()
    return seconds


def stage_peaks(folder: Path) -> dict[str, float]:
    """Peak memory in GB per rule, from the line each stage ends its log with (``review.cli_stages.cmd_stage``)."""
    peaks = {}
    for rule in STAGES:
        log = folder / "results/logs" / f"{rule}.log"
        found = re.search(r"peak memory ([\d.]+) GB", log.read_text(encoding="utf-8")) if log.exists() else None
        if found:
            peaks[rule] = float(found.group(1))
    return peaks


# snakemake started from a small process that reports its children's peak memory: started from this one,
# each child's ru_maxrss would count this benchmark's records, copied at the fork before exec
LAUNCHER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:])
print(f"PEAK_KB {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(done.returncode)
"""


def run(folder: Path) -> tuple[float, str, float]:
    """Seconds, the log, and the peak memory in GB of the largest process of one ``snakemake`` run."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-m", "snakemake", "--cores", "2"],
                          cwd=folder, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    peak = re.search(r"PEAK_KB (\d+)", done.stderr)
    return time.perf_counter() - start, done.stdout + done.stderr, int(peak.group(1)) / 1024 ** 2 if peak else 0.0


def decide(folder: Path, decisions: dict[int, str]) -> None:
    """Type decisions in alice's title/abstract sheet ({row: include / exclude}), as a reviewer would."""
    from openpyxl import load_workbook

    path = folder / "extracts/screening-alice.xlsx"
    workbook = load_workbook(path)
    ws = workbook["title-abstract"]
    header = {c.value: c.column for c in ws[1]}
    for row, decision in decisions.items():
        ws.cell(row=row, column=header["decision"], value=decision)
        if decision == "exclude":
            ws.cell(row=row, column=header["reason"], value="not-tier")
    workbook.save(path)


def bib_dedupe_seconds(records: list[dict[str, str]]) -> float:
    """bib-dedupe on the same records (abstracts included, as the exports carry them), deduplication only.
    (With the one abstract shared by every record that ``make_large.py`` gave before, bib-dedupe's blocking
    on it put all 20,000 records in one block, took all 24 GB of memory and was killed.)"""
    import bib_dedupe.bib_dedupe as bd
    import pandas as pd

    frame = pd.DataFrame(records)
    start = time.perf_counter()
    bd.cluster(bd.match(bd.block(bd.prep(frame, verbosity_level=0), verbosity_level=0), verbosity_level=0),
               verbosity_level=0)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path, help="records_pre_merged.csv of make_large.py")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--bib-dedupe", action="store_true", help="run bib-dedupe on the same records too")
    args = parser.parse_args(argv)
    everything = rows(args.records, max(args.sizes))
    print("| records | whole run s | " + " | ".join(STAGES) + " | peak GB | no-change refresh s | first ranking s "
          "| one decision changed s |")
    print("|---:|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|---:|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            project(folder, everything[:size])
            seconds, log, peak = run(folder)
            per_stage, peaks = stage_seconds(log), stage_peaks(folder)
            run(folder)  # the first refresh settles what the first run created (the screening workbooks' digest)
            again, log, _ = run(folder)
            assert "Nothing to be done" in log, log[-1000:]
            decide(folder, {2: "include", 3: "exclude"})
            ranked, _, _ = run(folder)
            decide(folder, {4: "include"})
            one, _, peak_one = run(folder)
            decide(folder, {5: "include"})
            again_one, _, _ = run(folder)
        if args.bib_dedupe:
            theirs = bib_dedupe_seconds(everything[:size])
            print(f"{size:,} records: the whole pipeline {seconds:.0f} s, bib-dedupe's deduplication alone "
                  f"{theirs:.0f} s: {seconds / theirs:.2f}x", flush=True)
        cells = " | ".join(f"{per_stage.get(s, 0):.0f}" for s in STAGES)
        print(f"| {size:,} | {seconds:.0f} | {cells} | {max(peak, peak_one):.2f} | {again:.1f} | {ranked:.0f} "
              f"| {one:.0f}, {again_one:.0f} |", flush=True)
        print(f"peak GB per stage of the first run, {size:,} records: "
              + ", ".join(f"{s} {peaks[s]:.2f}" for s in STAGES if s in peaks), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
