"""Stage ``count_prisma``: PRISMA 2020 counts (the PRISMA2020 tool's CSV), the search log, the flow diagram."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import prisma
from ..atomic import write_if_changed
from ..errors import Problem, ReviewError
from ..fileio import read_frame, write_csv
from ..templating import render

CONFIG_KEYS = ("title", "sources", "screening", "output", "previous_version")
INPUTS = {"sources": "results/records/sources.csv", "dedup": "results/dedup/counts.csv",
          "screening": "results/screening/screening.csv", "unique": "results/dedup/unique_records.csv"}
OUTPUTS = {"counts": "results/prisma/counts.csv", "flow": "results/prisma/flow.svg",
           "search_log": "results/prisma/search_log.csv", "issues": "results/prisma/issues.csv"}
TEMPLATES = ("prisma_flow.svg.j2",)
SEARCH_LOG_COLUMNS = ["source", "prisma", "records", "interface", "date", "search_string"]


def _csv(path: Path) -> pd.DataFrame:
    return read_frame(path)


def run(config: dict[str, Any], inputs: dict[str, Path], outputs: dict[str, Path]) -> prisma.Flow:
    previous = previous_included(config)
    flow = prisma.build(config, _csv(inputs["sources"]), _csv(inputs["dedup"]), _csv(inputs["screening"]),
                        read_frame(inputs["unique"], ["study_id", "n_reports"]), previous)
    write(flow, config, outputs)
    return flow


def previous_included(config: dict[str, Any]) -> pd.DataFrame | None:
    """The studies the previous version of an updated review included (its ``included`` file: a study_id
    column, and n_reports where a study had more than one report); ``None`` when the review is no update."""
    spec = config.get("previous_version")
    if not spec:
        return None
    path = Path(spec["included"])
    try:
        frame = read_frame(path)
    except (OSError, ValueError) as exc:
        raise ReviewError(f"{path}: the studies of the previous version (previous_version.included in the "
                          f"protocol) cannot be read: {exc}") from exc
    if "study_id" not in frame.columns:
        raise ReviewError(f"{path}: no study_id column; it lists the study ids the previous version included "
                          "(its results/screening/included.csv)")
    return frame


def write(flow: prisma.Flow, config: dict[str, Any], outputs: dict[str, Path]) -> None:
    """The counts, the search log, the problems and the diagram of a flow."""
    write_csv(outputs["counts"], prisma.CSV_COLUMNS, prisma.csv_rows(flow))
    write_csv(outputs["search_log"], SEARCH_LOG_COLUMNS, prisma.search_log(flow, config))
    write_csv(outputs["issues"], Problem.columns(), (p.as_row() for p in flow.problems))
    svg = render(TEMPLATES[0], config.get("output", {}).get("templates", "templates"),
                 flow=prisma.flow_context(flow, config))
    write_if_changed(outputs["flow"], svg.encode("utf-8"))
