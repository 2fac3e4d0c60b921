"""The ``review`` commands for work outside the pipeline's stages: check the protocol, sync Zotero, preview or
deduplicate one exported file, simulate prioritised screening on a labelled set, start a new review.
``review.cli`` parses the command line and calls them."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from .errors import ERROR, ReviewError


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
    if not reviewers:  # the first refresh would run and write no sheet: said now, where it is fixed
        print("No reviewers yet: list them under 'reviewers:' in protocols/review.yaml (e.g. reviewers: [alice, "
              "bob]); until then no screening or extraction sheet is written.")
    print(f"Next: cd {folder}, " + ("put an export in protocols/library/ and list it in protocols/review.yaml, "
                                    if not sources else "") + "then run snakemake --cores all.")
    return 0
