"""Screening decisions: Zotero tags read, decisions resolved per study, agreement between reviewers.

Pure logic (the workbooks are ``review.workbooks.screening``, the stage ``review.stages.screening``).
Two stages, title/abstract then full text. A decision on any copy of a study counts for the study
(its dedup group); contradictory decisions (on copies, or by two reviewers) are conflicts, listed for
the team and settled in ``extracts/screening-consensus.xlsx``, whose decisions win. ``maybe`` counts
as not yet decided. Studies included after full text are the ones the extraction sheets get.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from rapidfuzz import process

from . import agreement as agree
from .codebook import fold
from .errors import ERROR, Problem

TA, FT = "title_abstract", "full_text"
STAGES = (TA, FT)
INCLUDE, EXCLUDE, MAYBE, NOT_RETRIEVED = "include", "exclude", "maybe", "not-retrieved"
STOPPED = "not screened (screening stopped)"  # the team stopped by the protocol's stopping rule; PRISMA: automation
ALLOWED = {TA: (INCLUDE, EXCLUDE, MAYBE), FT: (INCLUDE, EXCLUDE, MAYBE, NOT_RETRIEVED)}
CONSENSUS = "consensus"


@dataclass(frozen=True)
class Decision:
    study_id: str
    stage: str
    decision: str
    reason: str
    reviewer: str
    origin: str  # "zotero tag on <record id>" or "<file> row <n>"
    rank: int | None = None  # the rank the row showed when it was decided (prioritisation), if any


@dataclass(frozen=True)
class Settings:
    reviewers: tuple[str, ...]
    reasons: dict[str, str]
    criteria: tuple[str, ...]
    key_terms: tuple[str, ...]
    prefixes: dict[str, str]
    folder: Path

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        screening = config.get("screening", {})
        reviewers = screening.get("reviewers")
        tags = screening.get("tags", {})
        return cls(
            reviewers=tuple(config.get("reviewers", []) if reviewers is None else reviewers),
            reasons={r["code"]: r["label"] for r in screening.get("exclusion_reasons", [])},
            criteria=tuple(screening.get("inclusion_criteria", [])),
            key_terms=tuple(screening.get("key_terms", [])),
            prefixes={TA: tags.get("title_abstract", "screen:"), FT: tags.get("full_text", "fulltext:")},
            folder=Path(config.get("extraction", {}).get("folder", "extracts")),
        )


    def reason_code(self, text: str) -> str:
        """The reason code a reviewer meant: the code, or its label as the workbook's dropdown shows it."""
        wanted = fold(text)
        return next((code for code, label in self.reasons.items() if wanted in (fold(code), fold(label))), wanted)


# --- decisions from tags ---------------------------------------------------------------------------


def reason_hint(reason: str, settings: Settings) -> str:
    match = process.extractOne(reason, list(settings.reasons), score_cutoff=60)
    return f"did you mean {match[0]!r}?" if match else ""


def parse_tag(tag: str, settings: Settings) -> tuple[str, str, str] | tuple[str, None, str] | None:
    """``screen:exclude:not-tier`` -> (stage, decision, reason); ``None`` if not a screening tag;
    (stage, None, why) for a screening tag that cannot be read."""
    text = tag.strip()
    for stage, prefix in settings.prefixes.items():
        if not text.lower().startswith(prefix.lower()):
            continue
        decision, _, reason = text[len(prefix):].strip().partition(":")
        decision, reason = decision.strip().lower(), reason.strip().lower()
        if decision not in ALLOWED[stage]:
            return stage, None, f"{decision!r} is not one of {', '.join(ALLOWED[stage])}"
        if decision == EXCLUDE:
            if not reason:
                return stage, None, "an exclusion needs a reason code: " + ", ".join(settings.reasons)
            if settings.reasons and reason not in settings.reasons:
                return stage, None, f"unknown reason {reason!r}; {reason_hint(reason, settings)}".strip("; ")
        return stage, decision, reason
    return None


def tag_decisions(tagged: Iterable[tuple[str, str]], group_of: dict[str, str], settings: Settings
                  ) -> tuple[list[Decision], list[Problem]]:
    """Decisions from the ``(record id, "; "-joined tags)`` of each record, counted for its study."""
    decisions, problems = [], []
    for record_id, tags in tagged:
        for tag in (t for t in tags.split("; ") if t):
            parsed = parse_tag(tag, settings)
            if parsed is None:
                continue
            stage, decision, reason = parsed
            if decision is None:
                problems.append(Problem(code="bad-screening-tag", severity=ERROR, file="zotero tags", row=record_id,
                                        column="tags", value=tag, expected=f"{settings.prefixes[stage]}include, "
                                        f"{settings.prefixes[stage]}exclude:<reason>, {settings.prefixes[stage]}maybe",
                                        hint=reason, record_id=record_id))
                continue
            decisions.append(Decision(group_of.get(record_id, record_id), stage, decision, reason, "zotero",
                                      f"tag on {record_id}"))
    return decisions, problems


# --- resolution ------------------------------------------------------------------------------------


@dataclass
class Resolved:
    decision: str  # include / exclude / not-retrieved / "" (awaiting) / "conflict"
    reason: str
    basis: str  # consensus, agreed, single, awaiting, conflict


def resolve(decisions: list[Decision]) -> Resolved:
    """One study's decisions at one stage -> the outcome. Consensus wins; maybe is no decision."""
    consensus = [d for d in decisions if d.reviewer == CONSENSUS and d.decision != MAYBE]
    if consensus:
        return Resolved(consensus[-1].decision, consensus[-1].reason, CONSENSUS)
    definite = [d for d in decisions if d.decision != MAYBE]
    if not definite:
        return Resolved("", "", "awaiting")
    kinds = {d.decision for d in definite}
    if len(kinds) > 1:
        return Resolved("conflict", "", "conflict")
    decision = kinds.pop()
    reasons = Counter(d.reason for d in definite if d.reason)
    reason = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[0][0] if reasons else ""
    return Resolved(decision, reason, "agreed" if len({d.reviewer for d in definite}) > 1 else "single")


@dataclass
class Outcome:
    table: list[dict[str, str]]
    decisions: list[Decision]
    conflicts: list[dict[str, str]]
    agreement: list[dict[str, str]]
    problems: list[Problem]

    def included(self) -> list[str]:
        return [r["study_id"] for r in self.table if r["status"] == "included"]


def status_of(ta: Resolved, ft: Resolved) -> str:
    if ta.decision in ("", "conflict"):
        return "awaiting screening"
    if ta.decision == EXCLUDE:
        return "excluded at title/abstract"
    if ft.decision in ("", "conflict"):
        return "awaiting full text"
    if ft.decision == NOT_RETRIEVED:
        return "not retrieved"
    if ft.decision == EXCLUDE:
        return "excluded at full text"
    return "included"


def agreement(decisions: list[Decision], table: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """Per stage and pair of reviewers: the records both screened, their agreement and kappa; with the
    resolved ``table``, ``screened_by_one``: the records of the stage decided on one reviewer's word (what the
    methods say of the records not compared: not "decided minus compared", which counts an open conflict)."""
    rows = []
    for stage in STAGES:
        prefix = "ta" if stage == TA else "ft"
        single = "" if table is None else str(sum(r.get(f"{prefix}_basis") == "single" for r in table))
        by_reviewer: dict[str, dict[str, str]] = defaultdict(dict)
        for d in decisions:
            if d.stage == stage and d.reviewer not in ("zotero", CONSENSUS) and d.decision != MAYBE:
                by_reviewer[d.reviewer][d.study_id] = d.decision
        for a, b in combinations(sorted(by_reviewer), 2):
            common = sorted(set(by_reviewer[a]) & set(by_reviewer[b]))
            if not common:
                continue
            pairs = [(by_reviewer[a][s], by_reviewer[b][s]) for s in common]
            rows.append({"stage": stage, "reviewer_a": a, "reviewer_b": b, **agree.summary(pairs),
                         "screened_by_one": single})
    return rows


def screen(studies: list[str], decisions: list[Decision]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Resolve every study at both stages; full-text decisions count only for title/abstract inclusions."""
    by: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for d in decisions:
        by[(d.study_id, d.stage)].append(d)
    table, conflicts = [], []
    for study in studies:
        ta = resolve(by[(study, TA)])
        ft = resolve(by[(study, FT)]) if ta.decision == INCLUDE else Resolved("", "", "")
        for stage, outcome in ((TA, ta), (FT, ft)) if ta.decision == INCLUDE else ((TA, ta),):
            clashing = [d for d in by[(study, stage)] if d.decision != MAYBE and d.reviewer != CONSENSUS]
            if len({d.decision for d in clashing}) > 1:
                conflicts.append({"study_id": study, "stage": stage,
                                  "decisions": "; ".join(sorted(f"{d.reviewer}: {d.decision}"
                                                                + (f" ({d.reason})" if d.reason else "")
                                                                for d in clashing)),
                                  "resolved_by": CONSENSUS if outcome.basis == CONSENSUS else ""})
        table.append({"study_id": study, "ta_decision": ta.decision, "ta_reason": ta.reason, "ta_basis": ta.basis,
                      "ft_decision": ft.decision, "ft_reason": ft.reason, "ft_basis": ft.basis,
                      "status": status_of(ta, ft)})
    return table, conflicts
