"""The ``review`` command (also ``python -m review``): each pipeline stage, and tools for work outside it.

User errors end as ``Error: ...`` on stderr and exit code 2 (1 for a stage whose data had errors);
never as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from . import __version__
from .errors import ERROR, ReviewError

log = logging.getLogger("review")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s: %(message)s",
                        stream=sys.stderr, force=True)
    # httpx2 logs each request URL at INFO; keep that (and any query string) out of our logs
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def cmd_check(args: argparse.Namespace) -> int:
    from . import protocol

    config = protocol.load(args.protocol)
    names = ", ".join(s.name for s in protocol.sources(config))
    print(f"{args.protocol}: valid protocol '{config['title']}' with sources: {names}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from . import protocol, zotero

    config = protocol.load(args.protocol, {"zotero_full": True} if args.full else None)
    outcomes, problems = zotero.sync_all(config, Path(args.results))
    if not outcomes:
        print("No Zotero source in the protocol: nothing to sync.")
    return 1 if problems else 0


def cmd_records(args: argparse.Namespace) -> int:
    from . import protocol, records

    config = protocol.load(args.protocol)
    outcome = records.run(config, Path(args.out), root=Path(args.root), results=Path(args.results))
    errors = sum(p.severity == ERROR for p in outcome.problems)
    print(f"{len(outcome.records)} records from {len(outcome.summary)} sources; "
          f"{len(outcome.problems)} issues ({errors} errors) in {Path(args.out) / 'issues.csv'}")
    return 0


def _format(path: Path, declared: str | None) -> str:
    from .protocol import format_of

    fmt = format_of(path, declared)
    if fmt is None:
        raise ReviewError(f"{path}: cannot tell the format from the suffix; give --format")
    return fmt


def cmd_import(args: argparse.Namespace) -> int:
    """Preview what one file would contribute, without touching the pipeline's outputs."""
    from rich.console import Console
    from rich.table import Table

    from .fileio import write_csv
    from .model import RECORD_COLUMNS
    from .readers import read_file

    path = Path(args.file)
    fmt = _format(path, args.format)
    result = read_file(path, fmt, source=args.source or path.stem, encoding=args.encoding)
    console = Console(highlight=False, soft_wrap=True)
    types = Counter(r.item_type for r in result.records)
    with_doi = sum(bool(r.doi) for r in result.records)
    console.print(f"[bold]{path}[/] ({fmt}): {len(result.records)} records, {with_doi} with a DOI; "
                  f"{len(result.problems)} issues")
    console.print("types: " + ", ".join(f"{t} {n}" for t, n in sorted(types.items())))
    table = Table("record_id", "year", "first author", "title", show_lines=False)
    for record in result.records[: args.limit]:
        first = record.creators[0].display() if record.creators else ""
        table.add_row(record.record_id, record.year, first, record.title[:70])
    console.print(table)
    for problem in result.problems:
        console.print(f"[{'red' if problem.severity == ERROR else 'yellow'}]{problem.describe()}[/]")
    if args.out:
        write_csv(args.out, RECORD_COLUMNS, (r.as_row() for r in result.records))
        console.print(f"records written to {args.out}")
    return 0


def cmd_dedup(args: argparse.Namespace) -> int:
    """Deduplicate one file: one row per input record with its own ``ID`` and its ``group``."""
    from . import dedup
    from .fileio import write_csv

    path = Path(args.file)
    rows = dedup.groups_for_file(path, _format(path, args.format))
    write_csv(args.out, ["ID", "group"], rows)
    groups = len({r["group"] for r in rows})
    print(f"{len(rows)} records in {groups} groups ({len(rows) - groups} duplicates) written to {args.out}")
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    """Stage 2 of the pipeline: find duplicates in the records table."""
    from . import dedup, protocol

    config = protocol.load(args.protocol)
    settings = dedup.Settings.from_config(config.get("dedup"))
    sheet = config.get("dedup", {}).get("sheet")
    outcome = dedup.run_stage(Path(args.records), Path(args.out), Path(sheet) if sheet else None, settings)
    print(f"{outcome.records} records -> {outcome.unique} unique; {outcome.for_review} pairs for review"
          + (f" ({outcome.appended} new in {sheet})" if outcome.appended else ""))
    return 0


def cmd_sheets(args: argparse.Namespace) -> int:
    """Stage 3: create or refresh every reviewer's extraction sheet."""
    from . import codebook, protocol, sheets

    config = protocol.load(args.protocol)
    form = codebook.load(config["extraction"]["codebook"])
    included = Path(args.included) if config["screening"].get("enabled", True) else None
    outcomes = sheets.run_stage(config, Path(args.unique), Path(args.summary), form, included)
    for o in outcomes:
        print(f"{o.path}: {o.outcome} ({o.rows} rows, {o.appended} new, {o.dropped} no longer included)")
    return 0


def cmd_evidence(args: argparse.Namespace) -> int:
    """Stage 4: read the sheets back, validate, compare reviewers, write the evidence tables."""
    from . import codebook, evidence, protocol

    config = protocol.load(args.protocol)
    form = codebook.load(config["extraction"]["codebook"])
    included = Path(args.included) if config["screening"].get("enabled", True) else None
    outcome = evidence.run_stage(config, form, Path(args.unique), Path(args.out), included)
    errors = sum(p.severity == ERROR for p in outcome.problems)
    print(f"{outcome.rows} extraction rows; {outcome.evidence} evidence values; {errors} validation errors, "
          f"{len(outcome.problems) - errors} warnings; {outcome.disputed} disputed rows"
          + (f" ({outcome.consensus_added} new in the consensus workbook)" if outcome.consensus_added else ""))
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    """Screening: decisions from Zotero tags and workbooks, resolved per study."""
    from collections import Counter

    from . import protocol, screening

    config = protocol.load(args.protocol)
    outcome = screening.run_stage(config, Path(args.records), Path(args.groups), Path(args.unique), Path(args.out))
    status = Counter(r["status"] for r in outcome.table)
    print(f"{len(outcome.table)} studies: " + ", ".join(f"{n} {s}" for s, n in sorted(status.items()))
          + f"; {sum(not c['resolved_by'] for c in outcome.conflicts)} open conflicts")
    return 0


def cmd_prisma(args: argparse.Namespace) -> int:
    """PRISMA 2020 counts and flow diagram."""
    from . import prisma, protocol

    config = protocol.load(args.protocol)
    flow = prisma.build(config, Path(args.sources), Path(args.dedup_counts), Path(args.screening), Path(args.unique))
    prisma.write(flow, config, Path(args.out), templates=config["output"]["templates"])
    problems = [p for p in flow.problems if p.severity == ERROR]
    print(f"{flow.identified_total} identified, {flow.screened} screened, {flow.included} included"
          + (f"; {len(problems)} inconsistencies (see {Path(args.out) / 'issues.csv'})" if problems else ""))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Evidence tables and the executive summary."""
    from . import codebook, protocol, report

    config = protocol.load(args.protocol)
    form = codebook.load(config["extraction"]["codebook"])
    folder = Path(config["extraction"].get("folder", "extracts"))
    outcome = report.run_stage(config, form, Path(args.results), Path(args.out), Path(args.tables),
                               folder / "findings.xlsx", templates=args.templates or config["output"]["templates"])
    print(f"executive summary in {args.out}: {len(outcome.context['findings'])} themes, "
          f"{len(outcome.context['references'])} references, {len(outcome.problems)} problems in the findings sheet")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="review", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"review {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail in the log")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn, help_text: str, protocol: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn)
        if protocol:  # every stage reads the protocol
            p.add_argument("--protocol", default="protocols/review.yaml")
        return p

    p = add("check", cmd_check, "validate the protocol and list its sources")

    p = add("sync", cmd_sync, "fetch what changed in the protocol's Zotero libraries")
    p.add_argument("--results", default="results")
    p.add_argument("--full", action="store_true", help="refetch everything instead of what changed")

    p = add("records", cmd_records, "stage 1: read every source into results/records/")
    p.add_argument("--out", default="results/records")
    p.add_argument("--results", default="results", help="where the Zotero snapshots are")
    p.add_argument("--root", default=".", help="folder that source paths are relative to")

    p = add("duplicates", cmd_duplicates, "stage 2: find duplicate records, into results/dedup/")
    p.add_argument("--records", default="results/records/records.csv")
    p.add_argument("--out", default="results/dedup")

    p = add("screen", cmd_screen, "screening: resolve decisions from tags and workbooks, into results/screening/")
    p.add_argument("--records", default="results/records/records.csv")
    p.add_argument("--groups", default="results/dedup/groups.csv")
    p.add_argument("--unique", default="results/dedup/unique_records.csv")
    p.add_argument("--out", default="results/screening")

    p = add("prisma", cmd_prisma, "PRISMA 2020 counts and flow diagram, into results/prisma/")
    p.add_argument("--sources", default="results/records/sources.csv")
    p.add_argument("--dedup-counts", default="results/dedup/counts.csv")
    p.add_argument("--screening", default="results/screening/screening.csv")
    p.add_argument("--unique", default="results/dedup/unique_records.csv")
    p.add_argument("--out", default="results/prisma")

    p = add("sheets", cmd_sheets, "stage 3: create or refresh the reviewers' extraction sheets")
    p.add_argument("--unique", default="results/dedup/unique_records.csv")
    p.add_argument("--included", default="results/screening/included.csv")
    p.add_argument("--summary", default="results/sheets/sheets.csv")

    p = add("evidence", cmd_evidence, "stage 4: validate the extraction sheets into results/evidence/")
    p.add_argument("--unique", default="results/dedup/unique_records.csv")
    p.add_argument("--included", default="results/screening/included.csv")
    p.add_argument("--out", default="results/evidence")

    p = add("report", cmd_report, "evidence tables and the executive summary (md, html, docx)")
    p.add_argument("--results", default="results")
    p.add_argument("--out", default="results/report")
    p.add_argument("--tables", default="results/tables")
    p.add_argument("--templates", help="the team's template folder (default: output.templates of the protocol)")

    p = add("dedup", cmd_dedup, "deduplicate one exported file: ID,group per record", protocol=False)
    p.add_argument("file")
    p.add_argument("--out", required=True, help="CSV to write (columns ID, group)")
    p.add_argument("--format", choices=["bibtex", "ris", "csljson", "csv", "endnote-xml", "zotero-json"])

    p = add("import", cmd_import, "preview what one exported file would contribute", protocol=False)
    p.add_argument("file")
    p.add_argument("--format", choices=["bibtex", "ris", "csljson", "csv", "endnote-xml", "zotero-json"])
    p.add_argument("--source", help="source name used in record ids (default: the file name)")
    p.add_argument("--encoding", default="utf-8-sig")
    p.add_argument("--limit", type=int, default=10, help="how many records to show")
    p.add_argument("--out", help="also write the records as CSV here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except ReviewError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
