"""The ``review`` commands of the pipeline's stages, one per Snakemake rule (``review records``,
``review duplicates``, ...): the stage's configuration, its run, and the lines its log gets.

Each stage command takes the configuration Snakemake has (--config, JSON: the protocol's keys the stage
reads, after --config/--configfile overrides) or reads --protocol itself when run by hand, and one
option per input and output file of its rule, named as the rule names them (``review.cli`` adds them).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .errors import ERROR, ReviewError

STAGES = {
    "records": ("records", "stage 1: read every source into the records table"),
    "duplicates": ("dedup", "stage 2: find duplicate records (reviewers' pairs in the duplicates workbook)"),
    "screen": ("screening", "screening: resolve decisions from tags and workbooks"),
    "prisma": ("prisma", "PRISMA 2020 counts and flow diagram"),
    "sheets": ("sheets", "stage 3: create or refresh the reviewers' extraction sheets"),
    "evidence": ("evidence", "stage 4: validate the extraction sheets into the evidence tables"),
    "changes": ("changes", "what this refresh changed, against the previous refresh (or --since a git revision "
                           "or date)"),
    "report": ("report", "evidence tables and the executive summary (md, html, docx)"),
}


def stage_module(name: str) -> Any:
    """The module of a stage command (``review.stages.<name>``), imported when it is asked for."""
    return importlib.import_module(f".stages.{STAGES[name][0]}", __package__)


def stage_config(args: argparse.Namespace) -> dict[str, Any]:
    """The stage's configuration: as Snakemake passed it, or the protocol file read and validated here."""
    from . import protocol

    if args.config is not None:
        try:
            config = json.loads(args.config)
        except json.JSONDecodeError as exc:
            raise ReviewError(f"--config is not JSON ({exc})") from exc
        if not isinstance(config, dict):
            raise ReviewError("--config must be a JSON object of protocol keys")
        return config
    return protocol.load(args.protocol)


def cmd_stage(args: argparse.Namespace) -> int:
    stage = stage_module(args.command)
    config = stage_config(args)
    inputs = {name: Path(getattr(args, name)) for name in stage.INPUTS}
    outputs = {name: Path(getattr(args, name)) for name in stage.OUTPUTS}
    extra = ({"root": Path(args.root), "results": Path(args.results), "jobs": args.jobs}
             if args.command == "records" else {})
    if args.command == "changes" and args.since:
        from .changes import markdown

        rows, against = stage.since(config, args.since)
        print(markdown(rows, against))
        return 0
    started = time.perf_counter()
    outcome = stage.run(config, inputs, outputs, **extra)
    from .stages.common import failed_run_issues

    for path in outputs.values():  # the problems a failed run kept: stale once the stage has run through
        failed_run_issues(path).unlink(missing_ok=True)
    print(describe(args.command, outcome, outputs))
    # for the stage's log (not an output): what a research engineer sizing a review looks for first
    peak = peak_memory_gb()
    print(f"{args.command}: {time.perf_counter() - started:.1f} s"
          + (f", peak memory {peak:.2f} GB" if peak is not None else ""))
    return 0


def peak_memory_gb() -> float | None:
    """The peak resident memory of this process or of the largest of its worker processes (ru_maxrss:
    kilobytes on Linux, bytes on macOS); None on Windows."""
    try:
        import resource
    except ImportError:
        return None
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return peak / (1024 ** 3 if sys.platform == "darwin" else 1024 ** 2)


def describe(command: str, outcome: Any, outputs: dict[str, Path]) -> str:
    """One line on what a stage did, for its log."""
    if command == "records":
        errors = sum(p.severity == ERROR for p in outcome.problems)
        return (f"{sum(s['records'] for s in outcome.summary)} records from {len(outcome.summary)} sources; "
                f"{len(outcome.problems)} issues ({errors} errors) in {outputs['issues']}")
    if command == "duplicates":
        return (f"{outcome.records} records -> {outcome.unique} unique; {outcome.for_review} pairs for review"
                + (f" ({outcome.appended} new in the duplicates workbook)" if outcome.appended else ""))
    if command == "screen":
        status = Counter(r["status"] for r in outcome.table)
        return (f"{len(outcome.table)} studies: " + ", ".join(f"{n} {s}" for s, n in sorted(status.items()))
                + f"; {sum(not c['resolved_by'] for c in outcome.conflicts)} open conflicts")
    if command == "prisma":
        errors = [p for p in outcome.problems if p.severity == ERROR]
        return (f"{outcome.identified_total} identified, {outcome.screened} screened, {outcome.included} included"
                + (f"; {len(errors)} inconsistencies (see {outputs['issues']})" if errors else ""))
    if command == "sheets":
        return "\n".join(f"{o.path}: {o.outcome} ({o.rows} rows, {o.appended} new, {o.dropped} no longer included)"
                         for o in outcome)
    if command == "changes":
        return f"{len(outcome)} changes since the previous refresh in {outputs['markdown']}"
    if command == "evidence":
        errors = sum(p.severity == ERROR for p in outcome.problems)
        return (f"{outcome.rows} extraction rows; {outcome.evidence} evidence values; {errors} validation errors, "
                f"{len(outcome.problems) - errors} warnings; {outcome.disputed} disputed rows"
                + (f" ({outcome.consensus_added} new in the consensus workbook)" if outcome.consensus_added else ""))
    return (f"executive summary in {outputs['markdown'].parent}: {len(outcome.context['findings'])} key findings, "
            f"{len(outcome.context['references'])} references, {len(outcome.problems)} problems in the findings sheet")
