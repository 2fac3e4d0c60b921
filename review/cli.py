"""The ``review`` command (also ``python -m review``): each pipeline stage, and tools for work outside it.

User errors end as ``Error: ...`` on stderr and exit code 2 (1 for a stage whose data had errors);
never as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__
from .cli_stages import STAGES, cmd_stage, stage_module
from .cli_tools import cmd_check, cmd_dedup, cmd_import, cmd_new, cmd_simulate, cmd_sync
from .errors import ReviewError

log = logging.getLogger("review")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s: %(message)s",
                        stream=sys.stderr, force=True)
    # httpx2 logs each request URL at INFO; keep that (and any query string) out of our logs
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


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
        stage = stage_module(stage_name)
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
