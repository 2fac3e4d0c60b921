"""The numbers the summary prints, computed once from the PRISMA counts, the included studies and the
evidence, and checked against each other and the tables when the report is built.

Pure logic. The methods, the limitations and the status read these numbers and nothing else, so a sentence
cannot say "79 screened" where the flow says 76 and 3 awaiting; a pair that should agree and does not is
an error row (``report-counts-disagree``), never a sentence.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .codebook import Codebook
from .errors import ERROR, Problem

IDENTIFIED = ("database_results", "register_results", "website_results", "organisation_results", "citations_results")
FROM_FLOW = {"duplicates": "duplicates", "automatic": "excluded_automatic", "screened": "records_screened",
             "excluded_ta": "records_excluded", "sought": "dbr_sought_reports",
             "not_retrieved": "dbr_notretrieved_reports", "assessed": "dbr_assessed", "included": "new_studies"}
COUNTS_FILE = "results/prisma/counts.csv"


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def numbers(prisma_counts: pd.DataFrame, studies: pd.DataFrame, evidence: pd.DataFrame) -> dict[str, int]:
    """Every count the summary prints: the flow's (and what it implies: records awaiting a decision at each
    stage, reports excluded at full text) and the studies included and extracted."""
    flow = dict(zip(prisma_counts["data"], prisma_counts["n"])) if not prisma_counts.empty else {}
    out = {name: _int(flow.get(field, 0)) for name, field in FROM_FLOW.items()}
    out["identified"] = sum(_int(flow.get(field, 0)) for field in IDENTIFIED)
    out["awaiting_ta"] = out["screened"] - out["excluded_ta"] - out["sought"]
    out["awaiting_ft"] = out["sought"] - out["not_retrieved"] - out["assessed"]
    # the flow's own awaiting boxes (counts.csv since they were written there), checked against the above
    out["flow_awaiting_ta"] = _int(flow.get("records_awaiting", out["awaiting_ta"]))
    out["flow_awaiting_ft"] = _int(flow.get("reports_awaiting", out["awaiting_ft"]))
    out["excluded_ft"] = out["assessed"] - out["included"]
    out["studies_included"] = len(studies)
    extracted = set(evidence["study_id"]) if not evidence.empty else set()
    out["studies_extracted"] = int(studies["study_id"].isin(extracted).sum()) if len(studies) else 0
    out["in_flow"] = int(bool(flow))
    # study x key rows whose own values stand on one reviewer alone (no value agreed, compared or settled): the
    # methods say so beside "extracted independently by two reviewers"
    rows = evidence[evidence["item"].fillna("") == ""] if "item" in evidence.columns else evidence
    if not rows.empty and "basis" in rows.columns:
        alone = rows.groupby(["study_id", "tier"])["basis"].agg(lambda b: set(b) == {"single reviewer"})
        out["rows_extracted"], out["rows_one_reviewer"] = len(alone), int(alone.sum())
        # and in the other rows, the fields one reviewer alone gave (the other left them blank, or their entry
        # was set aside by validation): "independently by two reviewers" is not true of those either
        whole = set(alone[alone].index)
        single = rows[rows["basis"] == "single reviewer"]
        single = single[[key not in whole for key in zip(single["study_id"], single["tier"])]]
        out["values_one_reviewer"] = int(len(single.drop_duplicates(["study_id", "tier", "field"])))
    else:
        out["rows_extracted"] = out["rows_one_reviewer"] = out["values_one_reviewer"] = 0
    return out


def disagreements(counts: dict[str, int], computed: dict[str, pd.DataFrame], codebook: Codebook) -> list[Problem]:
    """Each pair of numbers that should agree and does not: the flow's identities, the flow's included
    studies against the list of included studies, each table of studies against the studies extracted."""
    problems = []

    def require(column: str, left: int, right: int, expected: str, file: str = COUNTS_FILE) -> None:
        if left != right:
            problems.append(Problem(code="report-counts-disagree", severity=ERROR, file=file, column=column,
                                    value=f"{left} != {right}", expected=expected,
                                    hint="an input of the report is older than the others: run the pipeline again"))

    if counts["in_flow"]:
        require("records_screened", counts["identified"] - counts["duplicates"] - counts["automatic"],
                counts["screened"], "records identified - duplicates - marked ineligible = records screened")
        for name, what, formula in (
                ("awaiting_ta", "records_excluded", "records screened - excluded - sought for retrieval"),
                ("awaiting_ft", "dbr_assessed", "reports sought - not retrieved - assessed"),
                ("excluded_ft", "new_studies", "reports assessed - studies included")):
            if counts[name] < 0:
                problems.append(Problem(code="report-counts-disagree", severity=ERROR, file=COUNTS_FILE, column=what,
                                        value=str(counts[name]), expected=f"{formula} = 0 or more",
                                        hint="an input of the report is older than the others: run the pipeline again"))
        require("records_awaiting", counts["flow_awaiting_ta"], counts["awaiting_ta"],
                "records awaiting = records screened - excluded - sought for retrieval")
        require("reports_awaiting", counts["flow_awaiting_ft"], counts["awaiting_ft"],
                "reports awaiting = reports sought - not retrieved - assessed")
        require("new_studies", counts["included"], counts["studies_included"],
                "the flow's included studies = the studies in results/screening/included.csv")
    for spec in codebook.tables:
        if spec.kind == "studies" and spec.name in computed:
            require("studies_extracted", len(computed[spec.name]), counts["studies_extracted"],
                    f"one row of the table {spec.name!r} per included study extracted",
                    f"results/tables/{spec.name}.csv")
    return problems
