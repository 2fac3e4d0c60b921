"""PRISMA 2020 flow: counts that reconcile, in the PRISMA2020 tool's CSV field names, and an SVG diagram.

Pure logic (the stage is ``review.stages.prisma``). Counts come from the records stage (identified per source), the dedup (duplicates removed) and the
screening (screened, excluded, sought, not retrieved, assessed, excluded with reasons, included).
Records not yet screened are counted as awaiting. Every identity the diagram implies is checked;
an inconsistency is reported in ``issues.csv``, never hidden.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .errors import ERROR, WARNING, Problem
from .protocol import sources
from .screening import STOPPED

CSV_COLUMNS = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
# PRISMA2020 template field -> (node, box, description); descriptions in our own words
FIELDS = {
    "previous_studies": ("node5", "box1", "Studies included in previous version of review"),
    "previous_reports": ("NA", "box1", "Reports of studies included in previous version of review"),
    "database_results": ("node7", "box2", "Records identified from databases"),
    "register_results": ("NA", "box2", "Records identified from registers"),
    "website_results": ("node17", "box11", "Records identified from websites"),
    "organisation_results": ("NA", "box11", "Records identified from organisations"),
    "citations_results": ("NA", "box11", "Records identified from citation searching"),
    "duplicates": ("node8", "box3", "Duplicate records removed"),
    "excluded_automatic": ("NA", "box3", "Records marked ineligible by automation tools"),
    "excluded_other": ("NA", "box3", "Records removed for other reasons"),
    "records_screened": ("node9", "box4", "Records screened"),
    "records_excluded": ("node10", "box5", "Records excluded at title and abstract"),
    "dbr_sought_reports": ("node11", "box6", "Reports sought for retrieval"),
    "dbr_notretrieved_reports": ("node12", "box7", "Reports not retrieved"),
    "dbr_assessed": ("node13", "box8", "Reports assessed for eligibility"),
    "dbr_excluded": ("node14", "box9", "Reports excluded, with reasons"),
    "new_studies": ("node15", "box10", "New studies included in review"),
    "new_reports": ("NA", "box10", "Reports of new included studies"),
    "total_studies": ("node22", "box16", "Total studies included in review"),
    "total_reports": ("NA", "box16", "Reports of total included studies"),
    # not in the PRISMA2020 tool's template (which reads its own fields by name and passes over these): the
    # flow's awaiting boxes, so that the file balances as the diagram does (screened = excluded + sought +
    # awaiting; sought = not retrieved + assessed + awaiting)
    "records_awaiting": ("NA", "NA", "Records awaiting a screening decision"),
    "reports_awaiting": ("NA", "NA", "Reports awaiting a full-text decision"),
}
CATEGORY_FIELD = {"databases": "database_results", "registers": "register_results", "websites": "website_results",
                  "organisations": "organisation_results", "citations": "citations_results"}


@dataclass
class Flow:
    identified: dict[str, int]  # source name -> records
    categories: dict[str, str]  # source name -> PRISMA category
    duplicates: int
    automatic: int  # not screened: the team stopped by the protocol's stopping rule
    screened: int
    excluded_ta: int
    awaiting_ta: int
    sought: int
    not_retrieved: int
    awaiting_ft: int
    assessed: int
    excluded_ft: dict[str, int]  # reason label -> reports
    included: int  # studies included now (for an updated review, those of the previous version among them)
    reports_included: int
    problems: list[Problem] = field(default_factory=list)
    # an updated review (PRISMA 2020's flow for updated reviews): the previous version's studies and reports,
    # and of the studies included now, those new since it (None: not an update, every study is new)
    previous: str = ""  # the previous version, as the protocol names it
    previous_studies: int = 0
    previous_reports: int = 0
    new_studies: int | None = None
    new_reports: int | None = None

    @property
    def new(self) -> tuple[int, int]:
        """(studies, reports) included that the previous version did not include."""
        if self.new_studies is None or self.new_reports is None:
            return self.included, self.reports_included
        return self.new_studies, self.new_reports

    @property
    def total(self) -> tuple[int, int]:
        """(studies, reports) included in this version of the review: the previous version's and the new."""
        new_studies, new_reports = self.new
        return self.previous_studies + new_studies, self.previous_reports + new_reports

    @property
    def identified_total(self) -> int:
        return sum(self.identified.values())

    def field_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: 0 for name in FIELDS}
        for source, n in self.identified.items():
            values[CATEGORY_FIELD[self.categories[source]]] += n
        values.update({
            "duplicates": self.duplicates, "excluded_automatic": self.automatic, "records_screened": self.screened, "records_excluded": self.excluded_ta,
            "dbr_sought_reports": self.sought, "dbr_notretrieved_reports": self.not_retrieved,
            "dbr_assessed": self.assessed, "records_awaiting": self.awaiting_ta, "reports_awaiting": self.awaiting_ft,
            # the PRISMA2020 tool reads "Reason, n; Reason, n": commas inside a reason would split it
            "dbr_excluded": "; ".join(f"{reason.replace(',', '')}, {n}"
                                      for reason, n in sorted(self.excluded_ft.items())) or 0,
            "previous_studies": self.previous_studies, "previous_reports": self.previous_reports,
            "new_studies": self.new[0], "new_reports": self.new[1], "total_studies": self.total[0],
            "total_reports": self.total[1]})
        return values


def check(flow: Flow) -> list[Problem]:
    """Every identity the diagram shows; each one that fails is an error naming both sides."""
    problems = []

    def require(name: str, left: int, right: int, formula: str) -> None:
        if left != right:
            problems.append(Problem(code="prisma-inconsistent", severity=ERROR, file="results/prisma/counts.csv",
                                    column=name, value=f"{left} != {right}", expected=formula,
                                    hint="a count upstream is wrong or a decision is missing"))

    excluded_ft = sum(flow.excluded_ft.values())
    require("records_screened", flow.identified_total - flow.duplicates - flow.automatic, flow.screened,
            "records identified - duplicates - marked ineligible by automation tools = records screened")
    require("records_excluded", flow.screened, flow.excluded_ta + flow.sought + flow.awaiting_ta,
            "records screened = excluded + sought for retrieval + awaiting screening")
    require("dbr_sought_reports", flow.sought, flow.not_retrieved + flow.assessed + flow.awaiting_ft,
            "reports sought = not retrieved + assessed + awaiting full-text decision")
    require("dbr_assessed", flow.assessed, excluded_ft + flow.included,
            "reports assessed = excluded with reasons + included")
    require("total_studies", flow.total[0], flow.previous_studies + flow.new[0],
            "total studies = studies of the previous version + new studies")
    require("total_reports", flow.total[1], flow.previous_reports + flow.new[1],
            "total reports = reports of the previous version + reports of new studies")
    return problems


def previous_version(config: dict[str, Any], previous: pd.DataFrame | None, reports: dict[str, int],
                     included_ids: Iterable[str]) -> dict[str, Any]:
    """The previous version of an updated review (``previous_version`` in the protocol, its ``included`` file:
    the study ids it included, and how many reports each had): its counts, and the new studies since."""
    spec = config.get("previous_version")
    if not spec or previous is None:
        return {}
    before = {str(s): int(n) if str(n).strip().isdigit() else reports.get(str(s), 1)
              for s, n in zip(previous["study_id"], previous["n_reports"] if "n_reports" in previous
                              else [""] * len(previous))}
    new = [s for s in included_ids if s not in before]
    return {"previous": spec.get("label", ""), "previous_studies": len(before),
            "previous_reports": sum(before.values()), "new_studies": len(new),
            "new_reports": sum(reports.get(s, 1) for s in new)}


def build(config: dict[str, Any], summary: pd.DataFrame, counts: pd.DataFrame, screened: pd.DataFrame,
          unique: pd.DataFrame, previous: pd.DataFrame | None = None) -> Flow:
    """The flow from the stages' tables: records per source (``sources.csv``), the dedup's counts, each
    study's screening outcome, and the unique records (how many reports each study has)."""
    identified = {row["source"]: int(row["records"]) for row in summary.to_dict("records")}
    categories = {s.name: (next(e for e in config["sources"] if e["name"] == s.name).get("prisma", "databases"))
                  for s in sources(config)}
    overall = dict(zip(counts[counts["source"] == ""]["measure"], counts[counts["source"] == ""]["value"]))
    reports = dict(zip(unique["study_id"], unique["n_reports"].astype(int)))
    labels = {r["code"]: r["label"] for r in config.get("screening", {}).get("exclusion_reasons", [])}
    status = Counter(screened["status"])
    ft_excluded = screened[screened["status"] == "excluded at full text"]
    included_ids = screened[screened["status"] == "included"]["study_id"]
    flow = Flow(
        identified=identified, categories=categories, duplicates=int(overall.get("duplicates_removed", 0)),
        automatic=status[STOPPED], screened=len(screened) - status[STOPPED], excluded_ta=status["excluded at title/abstract"],
        awaiting_ta=status["awaiting screening"],
        sought=sum(screened["ta_decision"] == "include"), not_retrieved=status["not retrieved"],
        awaiting_ft=status["awaiting full text"],
        assessed=status["excluded at full text"] + status["included"],
        excluded_ft=dict(Counter(labels.get(r, r or "no reason given") for r in ft_excluded["ft_reason"])),
        # PRISMA 2020: a record is an entry in a database; a report is a document about a study. Copies of one
        # report from several sources are records of one report; a study has as many reports as documents
        # among its records (a reviewer linked the article and the report it came from)
        included=status["included"], reports_included=sum(reports.get(s, 1) for s in included_ids),
        **previous_version(config, previous, reports, included_ids),
    )
    flow.problems = check(flow) + search_log_problems(config, identified)
    return flow


def search_log_problems(config: dict[str, Any], identified: dict[str, int]) -> list[Problem]:
    """The PRISMA-S log's 'records retrieved' against what was imported from each source."""
    problems = []
    for entry in config["sources"]:
        expected = (entry.get("search") or {}).get("records")
        got = identified.get(entry["name"])
        if expected is not None and got is not None and expected != got:
            problems.append(Problem(code="search-count-mismatch", severity=WARNING, file="protocols/review.yaml",
                                    column=f"sources.{entry['name']}.search.records", value=str(got),
                                    expected=f"{expected} records, as the search log says",
                                    hint="an export may be incomplete, or entries were skipped (see records/issues.csv)"))
    return problems


def csv_rows(flow: Flow) -> list[dict[str, Any]]:
    """The rows of ``counts.csv``, in the PRISMA2020 tool's template layout."""
    values = flow.field_values()
    return [{"data": name, "node": node, "box": box, "description": description, "boxtext": description,
             "tooltips": description, "url": "NA", "n": values[name]} for name, (node, box, description) in FIELDS.items()]


def search_log(flow: Flow, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The PRISMA-S search log: per source, its category, records imported, interface, date, search string."""
    return [{"source": s, "prisma": flow.categories.get(s, ""), "records": n,
             **{k: (next(e for e in config["sources"] if e["name"] == s).get("search") or {}).get(k, "")
                for k in ("interface", "date", "search_string")}} for s, n in flow.identified.items()]


def flow_context(flow: Flow, config: dict[str, Any]) -> dict[str, Any]:
    """Plain data for the diagram template."""
    databases = [(s, n) for s, n in flow.identified.items() if flow.categories[s] in ("databases", "registers")]
    others = [(s, n) for s, n in flow.identified.items() if flow.categories[s] not in ("databases", "registers")]
    names = {e["name"]: e.get("database") or e["name"] for e in config["sources"]}

    def wrapped(text: str, width: int) -> list[str]:
        return textwrap.wrap(text, width=width, subsequent_indent="  ") or [""]

    return {
        "title": config.get("title", ""),
        "databases": [line for s, n in databases for line in wrapped(f"{names.get(s, s)} (n = {n})", 52)],
        "others": [line for s, n in others for line in wrapped(f"{names.get(s, s)} (n = {n})", 52)],
        "identified": flow.identified_total, "duplicates": flow.duplicates, "automatic": flow.automatic, "screened": flow.screened,
        "excluded_ta": flow.excluded_ta, "awaiting_ta": flow.awaiting_ta, "sought": flow.sought,
        "not_retrieved": flow.not_retrieved, "awaiting_ft": flow.awaiting_ft, "assessed": flow.assessed,
        "excluded_ft": [line for r, n in sorted(flow.excluded_ft.items()) for line in wrapped(f"{r} (n = {n})", 46)],
        "excluded_ft_total": sum(flow.excluded_ft.values()), "included": flow.included,
        "reports_included": flow.reports_included, "consistent": not any(p.severity == ERROR for p in flow.problems),
        "previous": flow.previous, "previous_studies": flow.previous_studies,
        "previous_reports": flow.previous_reports, "new_studies": flow.new[0], "new_reports": flow.new[1],
        "total_studies": flow.total[0], "total_reports": flow.total[1],
    }
