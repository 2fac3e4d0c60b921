"""Stage ``write_sheets``: create or refresh every reviewer's extraction sheet from the included studies."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .. import codebook as codebooks
from ..errors import ReviewError
from ..extraction import CONSENSUS
from ..fileio import write_csv
from ..team import Team
from ..workbooks import changes as cell_changes
from ..workbooks import extraction as sheets
from ..workbooks import registry
from ..workbooks.base import WorkbookError
from .common import included_studies, screening_on

log = logging.getLogger(__name__)

CONFIG_KEYS = ("reviewers", "extraction", "screening", "former_reviewers")
INPUTS = {"unique": "results/dedup/unique_records.csv", "included": "results/screening/included.csv",
          "ids": "results/dedup/ids.csv"}
OUTPUTS = {"summary": "results/sheets/sheets.csv"}
SUMMARY_COLUMNS = ["reviewer", "file", "rows", "appended", "dropped", "codebook_version", "outcome"]


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> list[sheets.SheetOutcome]:
    """Create or refresh every reviewer's sheet; write a summary; a sheet left alone is an error at the end."""
    settings = config["extraction"]
    codebook = codebooks.load(settings["codebook"])
    folder, fmt = Path(settings.get("folder", "extracts")), settings.get("format", "xlsx")
    studies = included_studies(inputs["unique"], inputs["included"] if screening_on(config) else None)
    outcomes = []
    ids = cell_changes.Ids.read(inputs.get("ids"))
    team = Team.from_config(config)
    # the consensus values, and the values of those who left (no new rows for them), follow their study and the
    # codebook's version, as every reviewer's sheet does
    for name, since in [(CONSENSUS, "it was written"), *((n, f"{n} left") for n in team.former_names)]:
        path = sheets.sheet_path(folder, name, fmt)
        try:
            cell_changes.record(folder, cell_changes.follow_ids(path, [sheets.SHEET], ["study_id"], ids))
            if fmt == "xlsx":
                cell_changes.record(folder, sheets.upgrade_file(path, codebook, name))
        except WorkbookError as exc:
            raise ReviewError(f"{exc} It must follow the studies merged and the codebook changed since "
                              f"{since}.") from exc
    kept = registry.read(folder, "extraction")
    for reviewer in team.current:
        path = sheets.sheet_path(folder, reviewer, fmt)
        gone = registry.missing(path, reviewer, kept, "extraction sheet", "extraction")
        if gone is not None:  # never a blank sheet in place of one that held typed work
            raise gone
        try:
            # rows follow their study when it was merged into another, before new rows are appended
            followed = cell_changes.follow_ids(path, [sheets.SHEET], ["study_id"], ids)
            cell_changes.record(folder, followed)
            outcome = sheets.update(path, reviewer, codebook, studies, settings.get("spare_rows", 200))
            cell_changes.record(folder, outcome.changes)
            if outcome.upgraded_from:
                log.info("%s: upgraded from codebook %s to %s, %d cells changed (see %s)", path,
                         outcome.upgraded_from, codebook.version, len(outcome.changes), cell_changes.log_path(folder))
        except WorkbookError as exc:
            log.error("%s", exc)
            outcome = sheets.SheetOutcome(reviewer, path, 0, 0, 0, f"left alone: {exc}")
        outcomes.append(outcome)
        log.info("%s: %s (%d rows, %d new, %d no longer included)", path, outcome.outcome, outcome.rows,
                 outcome.appended, outcome.dropped)
    if not config.get("reviewers"):
        log.warning("no reviewers in the protocol: no extraction sheets written")
    write_csv(outputs["summary"], SUMMARY_COLUMNS, [{
        "reviewer": o.reviewer, "file": str(o.path), "rows": o.rows, "appended": o.appended, "dropped": o.dropped,
        "codebook_version": codebook.version, "outcome": o.outcome.split(":")[0]} for o in outcomes])
    busy = [o for o in outcomes if o.outcome.startswith("left alone")]
    if busy:
        raise ReviewError("; ".join(o.outcome.removeprefix("left alone: ") for o in busy))
    return outcomes
