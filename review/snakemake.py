"""What the Snakefile needs from the package, so that the Snakefile itself holds no logic.

One configuration: the protocol (read here, through the guarded YAML loader), with ``--config``/``--configfile``
overrides, is validated here once, and each job gets the part of it its stage reads as ``--config JSON``
(a rule parameter, so a change reruns exactly the stages that read it). Output and input paths are the
rule's own, passed as options named like the rule's ``{input}`` and ``{output}``.

Reviewers' files are never inputs or outputs of a rule: Snakemake deletes a job's outputs before it
runs, and a workbook's modification time changes whenever a reviewer widens a column. A digest of what
reviewers typed in each (``typed``) is a parameter instead, so typing reruns the stage that reads it.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import logging
import os
import shlex
import sys
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from . import __version__, protocol, versions
from . import codebook as codebooks
from .atomic import atomic_write_bytes
from .errors import ReviewError, WriteError
from .extraction import CONSENSUS
from .fileio import json_bytes
from .stages import changes, dedup, evidence, prisma, records, report, screening, sheets
from .synthesis import count
from .team import Team
from .workbooks import duplicates as duplicates_sheet
from .workbooks import extraction as extraction_sheets
from .workbooks import screening as screening_sheets
from .workbooks import synthesis as synthesis_sheet
from .workbooks.reading import sheet_names
from .zotero import snapshot_path, sync_all

PROTOCOL = "protocols/review.yaml"
# The workflow, part of the package: a review's Snakefile includes it, so a team's folder holds no copy of the
# tool and an upgrade of the package is an upgrade of the workflow. Its includes and conda environments are
# found beside it; every other path (the protocol, results/, logs, extracts/) is the review's own.
WORKFLOW = str(Path(__file__).parent / "workflow" / "Snakefile")
RESULTS = Path("results")
# The interpreter running Snakemake is the one with `review` installed, activated or not. Jobs find it in
# the environment rather than in their command, so a venv reached by another path reruns nothing.
os.environ["REVIEW_PYTHON"] = sys.executable
# a new version of the package may compute differently: its rules rerun (nothing else can tell them)
VERSION = __version__
STAGES = {"import_records": records, "find_duplicates": dedup, "screen_records": screening,
          "count_prisma": prisma, "write_sheets": sheets, "read_extractions": evidence, "report_changes": changes,
          "write_report": report}
OUTPUTS = {rule: dict(stage.OUTPUTS) for rule, stage in STAGES.items()}


def _stop(message: str) -> NoReturn:
    """End the snakemake call with the user's error and no traceback (Snakemake prints one for exceptions)."""
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(1)


def checked_protocol(config: dict[str, Any], path: str = PROTOCOL, workflow: Any = None) -> dict[str, Any]:
    """The protocol file, read through the package's guarded loader (not Snakemake's ``configfile:``, which
    would expand a YAML alias bomb and name neither file nor line), with what ``--configfile``/``--config``
    gave Snakemake (``config``) merged over it as Snakemake merges, then validated with defaults filled.
    Values given on the command line as text (``--config dedup='{title_maybe: 0.5}'`` arrives as "0.5")
    take the schema's type. With the ``workflow``, the version that last refreshed the review is checked
    first: a protocol a newer version wrote may not pass this one's validation."""
    from snakemake.utils import update_config

    try:
        data = protocol.read(path)
        update_config(data, copy.deepcopy(dict(config)))
        if workflow is not None:
            check_version(data, workflow)
        origin = f"{path} with the command line's --config" if config else path
        return protocol.validate(protocol.coerce(data), origin=origin)
    except ReviewError as exc:
        _stop(str(exc))


def stage_config(config: dict[str, Any], rule: str) -> str:
    """The part of the configuration a rule's stage reads, as the JSON its job receives."""
    keys = STAGES[rule].CONFIG_KEYS
    return json.dumps({key: config[key] for key in keys if key in config}, sort_keys=True, ensure_ascii=False)


def stage_paths(rule: str) -> Any:
    """A rule parameter: the job's ``--name path`` options, from the rule's own named inputs and outputs."""
    stage = STAGES[rule]

    def paths(wildcards: Any, input: Any, output: Any) -> str:  # noqa: A002 (Snakemake passes them by these names)
        names = [(n, p) for n, p in input.items() if n in stage.INPUTS]
        names += [(n, p) for n, p in output.items() if n in stage.OUTPUTS]
        return " ".join(f"--{name.replace('_', '-')} {shlex.quote(str(path))}" for name, path in names)

    return paths


@cache
def _codebook(path: str) -> codebooks.Codebook:
    """The codebook, read once per Snakefile parse (several rules' parameters need it)."""
    try:
        return codebooks.load(path)
    except ReviewError as exc:
        _stop(str(exc))


def report_tables(config: dict[str, Any]) -> dict[str, str]:
    """The table CSVs the report writes: one per table the codebook declares."""
    codebook = _codebook(config["extraction"]["codebook"])
    folder = str(Path(report.OUTPUTS["workbook"]).parent)
    return report.table_outputs(codebook, folder)


def source_inputs(config: dict[str, Any]) -> list[str]:
    """Files the records stage reads: exported files, and each Zotero source's snapshot. A source file the
    protocol names that is not there stops the run here: Snakemake would otherwise keep the records read from
    it last time, or leave the source out, and the review would quietly change."""
    missing = protocol.missing_sources(config)
    if missing:
        _stop(f"a source file the protocol names is missing ({'; '.join(missing)}): {protocol.MISSING_SOURCES_HINT}")
    return [source.file if source.kind == "file" and source.file else str(snapshot_path(RESULTS, source.name))
            for source in protocol.sources(config)]


def previous_inputs(config: dict[str, Any]) -> list[str]:
    """The studies the previous version of an updated review included (an input of the PRISMA counts: an edit
    reruns them); a file the protocol names that is missing stops the run here, naming it."""
    spec = config.get("previous_version") or {}
    if spec and not Path(spec["included"]).is_file():
        _stop(f"{spec['included']}: the studies of the previous version (previous_version.included in the "
              "protocol) are missing: put the file back, or correct the path")
    return [spec["included"]] if spec else []


def _folder(config: dict[str, Any]) -> Path:
    return Path(config.get("extraction", {}).get("folder", "extracts"))


# digests of reviewers' files, remembered between runs by each file's size, modification time and inode:
# a refresh where nobody typed opens no workbook (a 100,000-row screening workbook takes seconds to read)
DIGEST_CACHE = Path(".snakemake/review/digests.json")


def _stamp(paths: list[Path]) -> str:
    parts = []
    for path in paths:
        try:
            st = path.stat()
            parts.append(f"{path}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}")
        except FileNotFoundError:
            parts.append(f"{path}|missing")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _cached(name: str, paths: list[Path], compute: Callable[[], str]) -> str:
    """``compute()``, or what it gave last time if none of ``paths`` changed since (one entry per name)."""
    stamp = _stamp(paths)
    try:
        cache = json.loads(DIGEST_CACHE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    if isinstance(cache, dict) and isinstance(cache.get(name), dict) and cache[name].get("stamp") == stamp:
        return str(cache[name]["digest"])
    digest = compute()
    cache = cache if isinstance(cache, dict) else {}
    cache[name] = {"stamp": stamp, "digest": digest}
    try:
        DIGEST_CACHE.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(DIGEST_CACHE, json_bytes(cache))
    except (OSError, WriteError):  # a read-only folder: the digest is still right, only not remembered
        pass
    return digest


def typed(config: dict[str, Any], rule: str) -> str:
    """Digest of what reviewers typed in the files a rule reads (a rule parameter: typing reruns the rule);
    remembered by the files' stamps, so that an untouched workbook is not read again."""
    folder = _folder(config)
    compute: Callable[[], str]
    if rule == "find_duplicates":
        sheet = config.get("dedup", {}).get("sheet")
        paths = [Path(sheet)] if sheet else []
        compute = (lambda: duplicates_sheet.typed_digest(paths[0])) if paths else (lambda: "")
    elif rule == "screen_records":
        names = [*Team.from_config(config, "screening").readers, "consensus"]
        named = [(n, screening_sheets.workbook_path(folder, n)) for n in names]
        paths = [path for _, path in named]
        compute = lambda: screening_sheets.typed_digest(named)
    elif rule == "read_extractions":
        fmt = config["extraction"].get("format", "xlsx")
        named = [(n, extraction_sheets.sheet_path(folder, n, fmt)) for n in [*Team.from_config(config).readers,
                                                                               "consensus"]]
        codebook = config["extraction"]["codebook"]  # how the sheets are read: its edits count too
        paths = [Path(codebook), *(path for _, path in named)]
        compute = lambda: extraction_sheets.typed_digest(named, _codebook(codebook))
    elif rule in ("write_report", "report_changes"):
        paths = [report.synthesis_path(config)]
        compute = lambda: _synthesis_digest(paths[0])
    else:
        raise ValueError(f"no reviewers' file is read by {rule}")
    return _cached(f"{rule}:{VERSION}", paths, compute)


@cache
def _synthesis_digest(path: Path) -> str:
    """The synthesis workbook's digest, read once per Snakefile parse (two rules' parameters need it)."""
    return synthesis_sheet.typed_digest(path)


def missing_sheets(config: dict[str, Any]) -> str:
    """The reviewers whose extraction sheet is not there (a rule parameter: a sheet deleted makes write_sheets
    run, which creates it when it never held typed work, and stops naming it when it did; the run after that
    reruns it once more, to no effect).
    None before the stage's first run, which makes every sheet anyway: a new review's second refresh has
    nothing to do."""
    if not Path(sheets.OUTPUTS["summary"]).exists():
        return ""
    folder = _folder(config)
    fmt = config["extraction"].get("format", "xlsx")
    out = [name for name in config.get("reviewers", []) if not extraction_sheets.sheet_path(folder, name, fmt).exists()]
    # a workbook without a sheet the codebook's repeats need (made before the repeat was declared, or put back from
    # an older copy) is upgraded by the sheets stage before its values are read
    repeats = [r.name for r in _codebook(config["extraction"]["codebook"]).repeats] if fmt == "xlsx" else []
    for name in [*config.get("reviewers", []), *([CONSENSUS] if repeats else [])]:
        path = extraction_sheets.sheet_path(folder, name, fmt)
        try:
            lacking = path.exists() and bool(set(repeats) - set(sheet_names(path)))
        except ReviewError:
            lacking = False  # unreadable: the stages name it
        if lacking:
            out.append(f"{name}:{'+'.join(repeats)}")
    return ",".join(out)


def template_digest(config: dict[str, Any], rule: str) -> str:
    """Digest of the templates a rule renders, the team's or the package's (a rule parameter: edits rerun it)."""
    from .templating import environment

    env = environment(config.get("output", {}).get("templates", "templates"))
    assert env.loader is not None
    digest = hashlib.sha256()
    for name in STAGES[rule].TEMPLATES:
        source, _, _ = env.loader.get_source(env, name)
        digest.update(source.encode())
    for name in getattr(STAGES[rule], "FILES", ()):  # the team's non-Jinja templates (a house Word style)
        path = Path(config.get("output", {}).get("templates", "templates")) / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]


def _dry_run(argv: list[str]) -> bool:
    """Whether this snakemake call only shows what would run (``-n``, ``--dry-run``; ``-np`` and the like)."""
    return any(a in ("--dry-run", "--dryrun", "--just-print") or (a.startswith("-") and not a.startswith("--")
                                                                   and "n" in a[1:]) for a in argv[1:])


def sync_zotero(config: dict[str, Any], workflow: Any, argv: list[str] | None = None) -> None:
    """Refresh the Zotero snapshots once per ``snakemake`` call (not in job subprocesses, not in a dry run).

    Snakemake cannot see that a Zotero library changed, so the library is asked while the Snakefile is
    read, before the job graph is built; a dry run shows what would run with the snapshots already here."""
    if not getattr(workflow, "is_main_process", True):
        return
    if not any(s.kind == "zotero" for s in protocol.sources(config)):
        return
    if _dry_run(sys.argv if argv is None else argv):
        print("Dry run: Zotero was not asked; the plan uses the snapshots in results/zotero/.", file=sys.stderr)
        return
    log_file = RESULTS / "logs" / "sync_zotero.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(log_file, mode="w", encoding="utf-8"),
                                       logging.StreamHandler(sys.stderr)]
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("review")
    logger.setLevel(logging.INFO)
    for handler in handlers:
        logger.addHandler(handler)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    try:
        sync_all(config, RESULTS)
    except ReviewError as exc:
        _stop(f"Zotero sync failed: {exc}")
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()


def check_version(config: dict[str, Any], workflow: Any) -> None:
    """Stop a refresh by an older version of the package than the one that last refreshed the review; say so
    when this one is newer (once per ``snakemake`` call, not in job subprocesses)."""
    if not getattr(workflow, "is_main_process", True):
        return
    try:
        notice = versions.check(config)
    except ReviewError as exc:
        _stop(str(exc))
    if notice:
        print(notice, file=sys.stderr)


def problems_summary(outputs: dict[str, dict[str, str]] | None = None) -> list[str]:
    """One line per problem table of the refresh that holds an error or warning (a decision not used, a value
    left out of the evidence): the terminal says where to look, not only the logs."""
    lines = []
    for rule, named in sorted((outputs or OUTPUTS).items()):
        for name in ("issues", "validation"):
            path = Path(named.get(name, ""))
            if not named.get(name) or path.suffix != ".csv" or not path.is_file():
                continue
            with open(path, encoding="utf-8", newline="") as handle:
                counts = Counter(row.get("severity", "") for row in csv.DictReader(handle))
            if counts["error"] or counts["warning"]:
                lines.append(f"{path}: {count(counts['error'], 'error')}, "
                             f"{count(counts['warning'], 'warning')} ({rule})")
    return lines


def record_version(config: dict[str, Any]) -> None:
    """After a refresh that succeeded: the version that made it, in the review's state (extracts/.state/)."""
    try:
        versions.record(config)
    except OSError as exc:  # a read-only folder: the refresh itself succeeded
        print(f"Could not record the tool version in {versions.state_file(config)}: {exc}", file=sys.stderr)

