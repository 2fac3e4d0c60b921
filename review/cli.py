"""The ``review`` command (also ``python -m review``): each pipeline stage, and tools for work outside it.

User errors end as ``Error: ...`` on stderr and exit code 2 (1 for a stage whose data had errors);
never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

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
    from . import codebook as codebooks
    from . import protocol

    config = protocol.load(args.protocol)
    missing = protocol.missing_sources(config)
    if missing:  # as the refresh would stop on it
        raise ReviewError(f"{args.protocol}: a source file it names is missing ({'; '.join(missing)}): "
                          f"{protocol.MISSING_SOURCES_HINT}")
    names = ", ".join(s.name for s in protocol.sources(config))
    path = config["extraction"]["codebook"]
    book = codebooks.load(path)  # the Snakefile reads it too: a codebook that cannot be read is named here first
    print(f"{args.protocol}: valid protocol '{config['title']}' with sources: {names}; "
          f"codebook {path} version {book.version}, {len(book.fields)} fields")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from . import protocol, zotero

    config = protocol.load(args.protocol, {"zotero_full": True} if args.full else None)
    outcomes, problems = zotero.sync_all(config, Path(args.results))
    if not outcomes:
        print("No Zotero source in the protocol: nothing to sync.")
    return 1 if problems else 0


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
    from .fileio import write_csv
    from .stages.dedup import groups_for_file

    path = Path(args.file)
    rows = groups_for_file(path, _format(path, args.format))
    write_csv(args.out, ["ID", "group"], rows)
    groups = len({r["group"] for r in rows})
    print(f"{len(rows)} records in {groups} groups ({len(rows) - groups} duplicates) written to {args.out}")
    return 0


def read_labelled(path: Path, model: Any = None) -> tuple[list[str], list[int]]:
    """A labelled screening set: columns ``title``, ``abstract``, ``label_included`` (0 or 1); record ``R<n>``
    is data row n. A missing column or a label that is not 0 or 1 is an error naming the row. The texts are
    as ``model`` (a ``ranking.Model``; the default one if not given) reads them."""
    import csv

    from .ranking import Model

    document = (model or Model()).document

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("title", "abstract", "label_included") if c not in (reader.fieldnames or [])]
            if missing:
                raise ReviewError(f"{path}: no {', '.join(missing)} column (a labelled set has title, abstract, "
                                  "label_included)")
            texts, labels = [], []
            for number, row in enumerate(reader, start=1):
                label = (row["label_included"] or "").strip()
                if label not in ("0", "1"):
                    raise ReviewError(f"{path}, record R{number} (line {reader.line_num}): label_included is "
                                      f"{label!r}; expected 0 or 1")
                texts.append(document(row["title"] or "", row["abstract"] or ""))
                labels.append(int(label))
    except OSError as exc:
        raise ReviewError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return texts, labels


def cmd_simulate(args: argparse.Namespace) -> int:
    """Screen a labelled set in the order the model proposes, retraining after each batch, from the priors."""
    from . import stopping
    from .fileio import write_csv
    from .ranking import Model, metrics, refreshes, simulate

    texts, labels = read_labelled(Path(args.dataset))
    priors = []
    for prior in args.prior:
        if not (prior[:1] in "Rr" and prior[1:].isdigit() and 1 <= int(prior[1:]) <= len(labels)):
            raise ReviewError(f"--prior {prior}: expected R<row> with a row from 1 to {len(labels)}")
        priors.append(int(prior[1:]) - 1)
    if {labels[i] for i in priors} != {0, 1}:
        raise ReviewError("the priors must hold at least one included and one excluded record "
                          f"(given: {', '.join(args.prior)})")
    for name in ("stop_recall", "stop_confidence"):
        if not 0 < getattr(args, name) < 1:
            raise ReviewError(f"--{name.replace('_', '-')} {getattr(args, name)}: expected a number between 0 and 1")
    order = simulate(texts, labels, priors, Model(seed=args.seed), step=args.step)
    write_csv(args.out, ["record_id", "label_included"],
              ({"record_id": f"R{i + 1}", "label_included": labels[i]} for i in order))
    m = metrics(order, labels, priors)
    # the stopping test as a refresh computes it: on the order screened, at each retraining
    stop = stopping.stop_at([labels[i] for i in order], len(order), args.stop_recall, args.stop_confidence,
                            refreshes(len(order), len(set(priors)), args.step))
    print(f"{len(order)} records screened in the model's order, written to {args.out}: WSS@95 {m['wss95']:.3f}, "
          f"recall after 10% {m['recall10']:.3f}, every inclusion found after {m['last_inclusion']} records")
    print(f"stop_at={stop}")
    return 0


def _ask(question: str) -> list[str]:
    """Words typed at a prompt (a terminal's user starting a review); none on an empty line or end of input."""
    try:
        return input(question).split()
    except EOFError:
        return []


def cmd_new(args: argparse.Namespace) -> int:
    """Start a review in a new folder; reviewers and exports not given as options are asked on a terminal."""
    from .start import create

    title, reviewers, sources = args.title, list(args.reviewer), list(args.source)
    if sys.stdin.isatty() and not (reviewers or sources):
        title = title or " ".join(_ask("Title of the review: "))
        reviewers = _ask("Reviewers (short names: lower case, digits, - and _; separated by spaces): ")
        sources = _ask("Exported files to read (RIS, BibTeX, CSV, CSL-JSON, EndNote XML; paths separated by "
                       "spaces, none for later): ")
    folder = Path(args.dir)
    written = create(folder, title or folder.resolve().name, reviewers, sources)
    print(f"New review in {folder}: {', '.join(p.as_posix() for p in written if p.name != '.gitkeep')}")
    print(f"Next: cd {folder}, " + ("put an export in protocols/library/ and list it in protocols/review.yaml, "
                                    if not sources else "") + "then run snakemake --cores all.")
    return 0


# --- the pipeline's stages ----------------------------------------------------------------------------
# Each stage command takes the configuration Snakemake has (--config, JSON: the protocol's keys the stage
# reads, after --config/--configfile overrides) or reads --protocol itself when run by hand, and one
# option per input and output file of its rule, named as the rule names them.

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


def _stage(name: str) -> Any:
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
    stage = _stage(args.command)
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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``command`` (the one being run), only that stage's module is imported for
    its paths. Importing all eight cost every stage about half a second before it read anything."""
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

    for stage_name, (_, help_text) in STAGES.items():
        p = add(stage_name, cmd_stage, help_text)
        if command is not None and stage_name != command:
            continue  # not the one being run: listed in the help, its module not imported
        p.add_argument("--config", help="the stage's configuration as JSON (what snakemake passes); "
                                        "without it --protocol is read")
        stage = _stage(stage_name)
        for name, default in {**stage.INPUTS, **stage.OUTPUTS}.items():
            p.add_argument(f"--{name.replace('_', '-')}", dest=name, default=default, metavar="PATH",
                           help=f"default: {default}")
        if stage_name == "changes":
            p.add_argument("--since", metavar="REV|DATE",
                           help="compare the state of the last refresh with a git revision (a tag, a commit) or a "
                                "date (2026-01-31); print the report instead of writing the stage's outputs")
        if stage_name == "records":
            p.add_argument("--results", default="results", help="where the Zotero snapshots are")
            p.add_argument("--root", default=".", help="folder that source paths are relative to")
            p.add_argument("--jobs", type=int, default=1, metavar="N",
                           help="sources read at once, each in a process of its own (snakemake passes its threads)")

    p = add("new", cmd_new, "start a review in a new folder: protocol, codebook, Snakefile, README", protocol=False)
    p.add_argument("dir", metavar="DIR", help="a new or empty folder")
    p.add_argument("--title", help="the review's title (default: the folder's name)")
    p.add_argument("--reviewer", action="append", default=[], metavar="NAME",
                   help="a reviewer (lower case, digits, - and _); give it once per reviewer")
    p.add_argument("--source", action="append", default=[], metavar="PATH",
                   help="an exported file to read (copied into protocols/library/); once per file")

    p = add("dedup", cmd_dedup, "deduplicate one exported file: ID,group per record", protocol=False)
    p.add_argument("file")
    p.add_argument("--out", required=True, help="CSV to write (columns ID, group)")
    p.add_argument("--format", choices=["bibtex", "ris", "csljson", "csv", "endnote-xml", "zotero-json"])

    p = add("simulate", cmd_simulate, "simulate prioritised screening on a labelled set (title, abstract, "
                                      "label_included): the order screened", protocol=False)
    p.add_argument("dataset", metavar="DATASET.csv")
    p.add_argument("--prior", action="append", required=True, metavar="R<row>",
                   help="a record known at the start (give one included and one excluded)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--step", type=float, default=0.025,
                   help="retrain after each batch of this fraction of the records screened so far (default 0.025)")
    p.add_argument("--out", required=True, metavar="ORDER.csv", help="the order screened: record_id per row")
    p.add_argument("--stop-recall", type=float, default=0.95, metavar="R",
                   help="the stopping rule's target recall (default 0.95); prints stop_at=N, the records screened "
                        "when the rule first says stop (the total when it never does)")
    p.add_argument("--stop-confidence", type=float, default=0.95, metavar="C",
                   help="the stopping rule's confidence (default 0.95)")

    p = add("import", cmd_import, "preview what one exported file would contribute", protocol=False)
    p.add_argument("file")
    p.add_argument("--format", choices=["bibtex", "ris", "csljson", "csv", "endnote-xml", "zotero-json"])
    p.add_argument("--source", help="source name used in record ids (default: the file name)")
    p.add_argument("--encoding", default="utf-8-sig")
    p.add_argument("--limit", type=int, default=10, help="how many records to show")
    p.add_argument("--out", help="also write the records as CSV here")
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    command = next((w for w in words if not w.startswith("-")), None)
    args = build_parser(command if command in STAGES else None).parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except ReviewError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system refused what no stage expected to fail: said, not a traceback
        from .atomic import os_error_text

        print(f"Error: {os_error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
