"""Stage ``report_changes``: what this refresh changed, against the previous one (Markdown and CSV).

The state compared is kept outside Snakemake's outputs, beside the reviewers' files, in
``extracts/.state/``: ``current.json`` (the state of the last refresh) and ``previous.json`` (the one
before). Both are committed with the reviewers' files, so that ``review changes --since REV`` can compare
with the state of any git revision (or date). A rerun on the same state reports the same changes.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import changes, protocol
from .. import codebook as codebooks
from ..atomic import atomic_write_bytes, write_if_changed
from ..errors import ReviewError
from ..fileio import frame_rows, json_bytes, read_json, write_csv
from ..team import Team
from ..workbooks import changes as cell_changes
from ..workbooks import synthesis as synthesis_sheet
from ..workbooks.base import WorkbookError
from .common import CITATION_COLUMNS, read_csv

log = logging.getLogger(__name__)

CONFIG_KEYS = ("extraction", "reviewers", "former_reviewers", "screening", "sources")
INPUTS = {"records": "results/records/records.csv", "groups": "results/dedup/groups.csv",
          "screening": "results/screening/screening.csv", "tidy": "results/evidence/extractions.csv",
          "evidence": "results/evidence/evidence.csv", "validation": "results/evidence/validation.csv",
          "screening_issues": "results/screening/issues.csv", "records_issues": "results/records/issues.csv",
          "decisions": "results/screening/decisions.csv", "unique": "results/dedup/unique_records.csv"}
OUTPUTS = {"markdown": "results/changes/changes.md", "csv": "results/changes/changes.csv"}
STATE = ".state"


def state_folder(config: dict[str, Any]) -> Path:
    return Path(config.get("extraction", {}).get("folder", "extracts")) / STATE


def _rows(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """The columns the snapshot reads (records.csv at 100,000 records is mostly abstracts it does not)."""
    frame = read_csv(path, columns)
    return frame_rows(frame)


def current_snapshot(config: dict[str, Any], inputs: dict[str, Path]) -> dict[str, Any]:
    folder = Path(config.get("extraction", {}).get("folder", "extracts"))
    try:
        findings = synthesis_sheet.contributions(folder / "synthesis.xlsx")
    except WorkbookError as exc:
        log.warning("%s", exc)
        findings = []
    problems = [_rows(inputs[name], changes.PROBLEM_COLUMNS)
                for name in ("validation", "screening_issues", "records_issues")]
    tables = {name: _rows(inputs[name], columns) for name, columns in changes.SNAPSHOT_COLUMNS.items()}
    state = changes.snapshot(tables["records"], tables["groups"], tables["screening"], tables["tidy"],
                             tables["evidence"], findings, [p for part in problems for p in part])
    unique = _rows(inputs["unique"], [*CITATION_COLUMNS, "record_id"]) if "unique" in inputs else []
    return state | changes.cited(unique) | changes.context(*_causes(config, inputs), len(cell_log(folder)))


def _causes(config: dict[str, Any], inputs: dict[str, Path]
            ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], list[dict[str, str]]]:
    """The team, the sources, the codebook and the screening decisions, as the snapshot keeps them."""
    team = Team.from_config(config)
    screening_team = Team.from_config(config, "screening")
    current = list(dict.fromkeys([*team.current, *screening_team.current]))
    former = {f.name: f.left for f in (*team.former, *screening_team.former) if f.name not in current}
    sources = {s.name: s.file or f"Zotero {s.zotero}" for s in protocol.sources(config)} if "sources" in config else {}
    book: dict[str, Any] = {}
    if config.get("extraction", {}).get("codebook"):
        codebook = codebooks.load(config["extraction"]["codebook"])
        book = {"version": codebook.version,
                "changes": [f"{c.describe()} ({c.version})" for c in codebook.changes]}
    decisions = _rows(inputs["decisions"], ["reviewer"]) if "decisions" in inputs else []
    return {"current": current, "former": former}, sources, book, decisions


def cell_log(folder: Path) -> list[dict[str, str]]:
    """The rows of the log of cells the pipeline rewrote (``[]`` before the first)."""
    path = cell_changes.log_path(folder)
    return _rows(path, cell_changes.CHANGE_COLUMNS) if path.exists() else []


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> list[dict[str, str]]:
    """Compare this refresh's state with the last one kept, keep it, write the report."""
    state = state_folder(config)
    now = current_snapshot(config, inputs)
    stored = read_json(state / "current.json")
    if stored == now:  # the same state again (a forced rerun): the report says what this state changed
        before = read_json(state / "previous.json")
    else:
        before = stored
        if stored is not None:
            atomic_write_bytes(state / "previous.json", json_bytes(stored))
        atomic_write_bytes(state / "current.json", json_bytes(now))
    rows = changes.compare(before, now, cell_log(Path(config.get("extraction", {}).get("folder", "extracts"))))
    against = ("the previous refresh" if before else
               "nothing: this is the first refresh with a record of its state, so everything is new")
    write_csv(outputs["csv"], changes.CHANGE_COLUMNS, rows)
    write_if_changed(outputs["markdown"], changes.markdown(rows, against).encode("utf-8"))
    for part in changes.summary(rows):
        log.info("%s: %s", part["title"], part["detail"])
    return rows


def since(config: dict[str, Any], baseline: str) -> tuple[list[dict[str, str]], str]:
    """``review changes --since REV``: the kept state now against the state at a git revision or date."""
    state = state_folder(config)
    now = read_json(state / "current.json")
    if now is None:
        raise ReviewError(f"{state / 'current.json'} does not exist: run snakemake once to record the state")
    revision = baseline
    if not _git("rev-parse", "--verify", "--quiet", f"{baseline}^{{commit}}"):
        revision = _git("rev-list", "-1", f"--before={baseline}", "HEAD")
        if not revision:
            raise ReviewError(f"{baseline!r} is neither a git revision nor a date with a commit before it")
    text = _git("show", f"{revision}:{(state / 'current.json').as_posix()}", strip=False)
    if not text:
        raise ReviewError(f"{state / 'current.json'} is not in revision {revision[:12]} ({baseline}): the state "
                          "was not committed then")
    import json

    return changes.compare(json.loads(text), now), f"{baseline} (revision {revision[:12]})"


def _git(*args: str, strip: bool = True) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise ReviewError("git is needed to compare with a revision or a date") from exc
    if done.returncode != 0:
        return ""
    return done.stdout.strip() if strip else done.stdout
