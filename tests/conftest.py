from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from zotero_server import ZoteroLibrary, ZoteroServer  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).parent.parent


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def zotero_server():
    with ZoteroServer() as server:
        yield server


def zotero_protocol(server: ZoteroServer, **zotero_settings) -> dict:
    """A validated protocol with one Zotero source pointed at the loopback server."""
    from review import protocol

    settings = {"library_id": server.library.library_id, "api_url": server.url, **zotero_settings}
    return protocol.validate({
        "title": "Test review",
        "sources": [{"name": "team", "database": "Zotero", "zotero": settings}],
        "network": {"max_retries": 3, "backoff_seconds": 0.01, "max_backoff_seconds": 0.05},
    })


@pytest.fixture
def api_env(zotero_server) -> dict[str, str]:
    return {"ZOTERO_API_KEY": zotero_server.library.api_key}


# --- small evidence shared by the tables and report tests; a screening protocol shared by screening and PRISMA

import pandas as pd  # noqa: E402

from review import codebook  # noqa: E402

FORM = codebook.load(PROJECT / "protocols/codebook.yaml")
STUDIES = pd.DataFrame([
    {"study_id": "s1", "citation": "Lorne et al. 2019", "year": "2019", "title": "ICSs: lessons from the past"},
    {"study_id": "s2", "citation": "Moran et al. 2021", "year": "2021", "title": "Accountability in networks"},
    {"study_id": "s3", "citation": "Ham 1981", "year": "1981", "title": "Policy-making in the NHS"},
])


def ev(rows):
    return pd.DataFrame([dict(zip(["study_id", "tier", "field", "value"], r), basis="agreed", codebook_version="1.0")
                         for r in rows])


EVIDENCE = ev([
    ("s1", "SHA", "functions", "F4_performance_oversight"), ("s1", "SHA", "functions", "F1_strategic_planning"),
    ("s1", "RHA", "functions", "F1_strategic_planning"), ("s1", "RHA", "themes", "H_meso_oversight"),
    ("s1", "SHA", "themes", "H_meso_oversight"), ("s2", "STP", "functions", "F1_strategic_planning"),
    ("s2", "STP", "themes", "S23_accountability"), ("s2", "STP", "themes", "KF_B_legislation"),
    ("s1", "RHA", "lg_mechanisms", "lg_members_on_board"), ("s1", "RHA", "lg_strength", "weak"),
    ("s2", "STP", "lg_strength", "weak"), ("s2", "STP", "lessons_for_ics", "Back horizontal accountability."),
    ("s2", "STP", "lesson_stance", "recommends_change"), ("s2", "STP", "lesson_audience", "systems"),
    ("s1", "RHA", "qa_tool", "SANRA"),
    ("s1", "RHA", "qa_overall", "moderate"), ("s2", "STP", "qa_tool", "CASP_qual"),
    ("s2", "STP", "qa_overall", "high"), ("s1", "RHA", "period_start", "1974"), ("s1", "SHA", "period_end", "2013"),
    ("s1", "RHA", "evidence_type", "think_tank_report"), ("s2", "STP", "evidence_type", "peer_empirical"),
])


SCREENING_CONFIG = {
    "title": "Test review",
    "reviewers": ["alice", "bob"],
    "sources": [{"name": "hmic", "prisma": "databases", "database": "HMIC (Ovid)", "search": {"records": 3}},
                {"name": "team", "prisma": "citations", "database": "Zotero", "search": {}}],
    "screening": {"enabled": True, "reviewers": None, "inclusion_criteria": ["About the English NHS"],
                  "exclusion_reasons": [{"code": "not-tier", "label": "Not about an intermediate tier"},
                                        {"code": "opinion", "label": "Opinion, without substance"}],
                  "key_terms": ["integrated care"], "tags": {"title_abstract": "screen:", "full_text": "fulltext:"}},
}


__all__ = ["EVIDENCE", "FORM", "SCREENING_CONFIG", "STUDIES", "ZoteroLibrary", "ZoteroServer", "ev", "zotero_protocol"]


def outputs_in(stage, folder):
    """A stage's outputs, each file named as the pipeline names it but in ``folder``."""
    return {name: folder / path.rsplit("/", 1)[1] for name, path in stage.OUTPUTS.items()}


# a citation with a letter after its year (Lorne et al. 2019a), its first author's name and its year
LETTERED = re.compile(r"([A-Z][^\s;(),]*)(?: et al\.| and [A-Z][^\s;(),]*)? (\d{4}[a-z]+)\b")


def unresolved(markdown: str) -> list[str]:
    """Each 'Author Year[a-z]' an executive summary in Markdown cites that is not one entry of its reference
    list (the References section, with its list of included studies not yet extracted)."""
    listed = [line for line in markdown.split("\n## References\n")[1].split("\n## ")[0].splitlines()
              if line.startswith("- ")]
    return sorted({f"{name} {year}" for name, year in LETTERED.findall(markdown)
                   if sum(f"({year})" in e and name in e.split("(")[0] for e in listed) != 1})
