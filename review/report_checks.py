"""Checks of what the team wrote in the synthesis workbook against what it rests on: pure, each a list of
warnings (the team may have a reason; the report prints their text and ratings as typed).

* a key message rated above the weakest finding it links (``message-above-its-findings``);
* a key message or recommendation that cites, in brackets, a study none of its linked findings rests on
  (``citation-outside-its-findings``): a reader following "Based on finding F3 (...)" would not find it there.
"""

from __future__ import annotations

from typing import Any

from .certainty import LEVELS
from .citations import cited
from .errors import WARNING, Problem

SYNTHESIS = "extracts/synthesis.xlsx"


def confidence_problems(messages: list[dict[str, Any]], findings: list[dict[str, Any]]) -> list[Problem]:
    """A key message rated above the lowest rating of the findings it rests on (its ``confidence`` against their
    ``overall_confidence``, on the frameworks' scale high, moderate, low, very low): a message cannot be surer
    than the weakest finding it needs. A warning for the team, who may have a reason; the report prints their
    rating as typed."""
    rank = {level: k for k, level in enumerate(LEVELS)}
    by_id = {f.get("finding_id", ""): f for f in findings if f.get("finding_id")}
    out = []
    for m in messages:
        given = str(m.get("confidence") or "").strip().lower()
        rated = [(str(by_id[i].get("overall_confidence") or "").strip().lower(), i)
                 for i in m.get("source_findings", [])]
        rated = [(level, i) for level, i in rated if level in rank]
        if given not in rank or not rated:
            continue
        lowest, finding = max(rated, key=lambda r: rank[r[0]])
        if rank[given] < rank[lowest]:
            out.append(Problem(code="message-above-its-findings", severity=WARNING, file=SYNTHESIS,
                               sheet="key messages", row=str(m.get("row", "")), column="confidence", value=given,
                               record_id=str(m.get("message_id", "")),
                               expected=f"at most {lowest}, the rating of {finding}",
                               hint=f"the message rests on {', '.join(i for _, i in rated)}; rate it no higher "
                                    "than the weakest of them, or link only the findings it needs"))
    return out


def citation_problems(items: list[dict[str, Any]], sheet: str, references: set[str]) -> list[Problem]:
    """Each key message or recommendation (``sourced``: with ``source_citations``) whose text cites in brackets
    a study of the review that none of its linked findings rests on. A citation the references lack is the
    synthesis workbook's own warning (``citation-not-in-references``), not repeated here."""
    text_column = "key_message" if sheet == "key messages" else "recommendation"
    id_column = "message_id" if sheet == "key messages" else "recommendation_id"
    out = []
    for item in items:
        linked = set(item.get("source_citations", []))
        if not item.get("source_findings"):
            continue  # no finding linked: the status line already says so
        for citation in dict.fromkeys(cited(str(item.get(text_column) or ""))):
            if citation in references and citation not in linked:
                out.append(Problem(code="citation-outside-its-findings", severity=WARNING, file=SYNTHESIS,
                                   sheet=sheet, row=str(item.get("row", "")), column=text_column, value=citation,
                                   record_id=str(item.get(id_column, "")),
                                   expected=f"a study of {', '.join(item['source_findings'])}: "
                                            f"{'; '.join(sorted(linked)) or 'none'}",
                                   hint="link the finding that rests on this study (finding_ids), or add the study "
                                        "to the finding's contributing_studies"))
    return out
