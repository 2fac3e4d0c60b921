"""What the Snakefile needs from the package, so that the Snakefile itself holds no logic."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import Any, NoReturn

from . import __version__, dupsheet, protocol, tables
from .errors import ReviewError
from .zotero import snapshot_path, sync_all

PROTOCOL = "protocols/review.yaml"
RESULTS = Path("results")
# the interpreter running Snakemake is the one with `review` installed, activated or not
REVIEW = f"{shlex.quote(sys.executable)} -m review"
# a new version of the package may compute differently: its rules rerun
VERSION = __version__
REPORT_TABLES = list(tables.TABLES)


def _stop(message: str) -> NoReturn:
    """End the snakemake call with the user's error and no traceback (Snakemake prints one for exceptions)."""
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(1)


def checked_protocol(config: dict[str, Any]) -> dict[str, Any]:
    try:
        return protocol.validate(dict(config), origin=PROTOCOL)
    except ReviewError as exc:
        _stop(str(exc))


def source_inputs(config: dict[str, Any]) -> list[str]:
    """Files the records stage reads: exported files, and each Zotero source's snapshot."""
    out = []
    for source in protocol.sources(config):
        out.append(source.file if source.kind == "file" else str(snapshot_path(RESULTS, source.name)))
    return out


def reviewer_decisions(config: dict[str, Any]) -> str:
    """Digest of the decisions in the duplicates workbook (a rule parameter: changes trigger a rerun)."""
    sheet = config.get("dedup", {}).get("sheet")
    return dupsheet.fingerprint(Path(sheet)) if sheet else ""


def template_digest(config: dict[str, Any], *names: str) -> str:
    """Digest of the templates the team or the package provides (a rule parameter: edits rerun the rule)."""
    import hashlib

    from .templating import environment

    env = environment(config.get("output", {}).get("templates", "templates"))
    digest = hashlib.sha256()
    for name in names:
        source, _, _ = env.loader.get_source(env, name)
        digest.update(source.encode())
    return digest.hexdigest()[:16]


def findings_written(config: dict[str, Any]) -> str:
    """Digest of the GRADE-CERQual findings in extracts/findings.xlsx (a rule parameter)."""
    from . import report

    return report.findings_digest(Path(config.get("extraction", {}).get("folder", "extracts")) / "findings.xlsx")


def screening_decisions(config: dict[str, Any]) -> str:
    """Digest of the decisions typed in the screening workbooks (a rule parameter)."""
    from . import screening

    return screening.decisions_digest(config)


def typed_in_sheets(config: dict[str, Any]) -> str:
    """Digest of what reviewers typed in the extraction sheets (a rule parameter: typing reruns the rule)."""
    from . import codebook, evidence

    try:
        form = codebook.load(config["extraction"]["codebook"])
    except ReviewError as exc:
        _stop(str(exc))
    return evidence.typed_digest(config, form)


def sync_zotero(config: dict[str, Any], workflow: Any) -> None:
    """Refresh the Zotero snapshots once per ``snakemake`` call (not in job subprocesses)."""
    if not getattr(workflow, "is_main_process", True):
        return
    if not any(s.kind == "zotero" for s in protocol.sources(config)):
        return
    log_file = RESULTS / "logs" / "sync_zotero.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.FileHandler(log_file, mode="w", encoding="utf-8"), logging.StreamHandler(sys.stderr)]
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
