"""What the reviewers' rows add up to: per-field agreement and disagreements between two reviewers, the values
that stand (agreed, single reviewer, consensus, each reviewer's own words), what is still disputed, and the
validation page. Pure: ``review.stages.evidence`` reads the sheets and writes the tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import agreement as agree
from .codebook import Codebook
from .errors import ERROR, Problem
from .extraction import CONSENSUS, OWN_WORDS, SUGGESTED, TYPED, Row, shown
from .templating import markdown_text


def agreement(codebook: Codebook, by_key: Mapping[tuple[str, str], Mapping[str, Row]]) -> tuple[list[dict], list[dict]]:
    """Per-field agreement over study x key rows extracted by two reviewers, and the disagreements."""
    stats, disagreements = [], []
    doubles = {key: rows for key, rows in by_key.items() if len(rows) >= 2}
    for f in codebook.fields:
        if f.key:
            continue
        pairs: list[tuple[Any, Any]] = []
        binary: list[tuple[int, int]] = []
        for key in sorted(doubles):
            (ra, a), (rb, b) = sorted(doubles[key].items())[:2]
            va, vb = a.values.get(f.name), b.values.get(f.name)
            if va is None or vb is None:
                continue  # not (validly) extracted by both: nothing to compare (validation lists invalid cells)
            pairs.append((shown(va), shown(vb)))
            if f.type == "multiple":  # kappa per code: each code chosen or not by each reviewer
                binary += [(int(c in (va or [])), int(c in (vb or []))) for c in f.codes]
            if shown(va) != shown(vb) and f.type != "text":  # wording is compared, not disputed (OWN_WORDS)
                disagreements.append({"study_id": key[0], "tier": key[1], "field": f.name, "reviewer_a": ra,
                                      "value_a": shown(va), "reviewer_b": rb, "value_b": shown(vb)})
        if not pairs:
            continue
        summary = agree.summary(pairs, binary if f.type == "multiple" else None)
        if f.type not in ("single", "boolean", "year", "integer", "multiple"):
            summary["kappa"] = ""  # free text: agreement of the wording only
        stats.append({"field": f.name, "type": f.type, **summary})
    order = {name: k for k, name in enumerate(codebook.names)}
    disagreements.sort(key=lambda d: (d["study_id"], d["tier"], order[d["field"]]))
    return stats, disagreements


@dataclass
class Combined:
    """Every reviewer's values (tidy), the values that stand (evidence), and what is still disputed."""

    tidy: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    agreement: list[dict[str, str]]
    disagreements: list[dict[str, str]]
    disputed: dict[tuple[str, str], list[dict[str, str]]]


def _own_conflicts(by_key: Mapping[tuple[str, str], Mapping[str, Row]]) -> list[dict[str, str]]:
    """Disagreements of a reviewer with themself: two rows for one study and key that differ (see ``_fold``)."""
    out = []
    for key in sorted(by_key):
        for name, row in sorted(by_key[key].items()):
            numbers = row.rows or (row.row,)
            for f_name, values in row.conflicts.items():
                out.append({"study_id": key[0], "tier": key[1], "field": f_name,
                            "reviewer_a": f"{name} (row {numbers[0]})", "value_a": shown(values[0]),
                            "reviewer_b": f"{name} (row {', '.join(map(str, numbers[1:]))})",
                            "value_b": " / ".join(shown(v) for v in values[1:])})
    return out


def combine(codebook: Codebook, rows: Iterable[Row], consensus: Mapping[tuple[str, str], Row]) -> Combined:
    """Reviewers' rows -> evidence: consensus values win, agreed or single-reviewer values stand, two
    reviewers' different free text stands as both wordings (``OWN_WORDS``), and a disputed code, number or
    year is left out until the consensus workbook settles it."""
    by_key: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
    for row in rows:
        by_key[row.key(codebook)][row.reviewer] = row
    stats, disagreements = agreement(codebook, by_key)
    disagreements += _own_conflicts(by_key)
    disputed: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for d in disagreements:
        key = (d["study_id"], d["tier"])
        resolved = key in consensus and d["field"] in consensus[key].values
        d["resolved_by"] = CONSENSUS if resolved else ""
        if not resolved:
            disputed[key].append(d)

    tidy, evidence = [], []
    for key in sorted(by_key):
        reviewers = by_key[key]
        for f in codebook.fields:
            if f.key:
                continue  # the key is part of the row's identity, not one of its values
            per_reviewer = {name: row.values.get(f.name) for name, row in sorted(reviewers.items())}
            for name, value in per_reviewer.items():
                entry = SUGGESTED if f.name in reviewers[name].accepted else TYPED
                for v in (value if isinstance(value, list) else [value] if value is not None else []):
                    tidy.append({"study_id": key[0], "tier": key[1], "field": f.name, "value": v,
                                 "reviewer": name, "entry": entry, "codebook_version": codebook.version})
            consensus_value = consensus[key].values.get(f.name) if key in consensus else None
            given = {shown(v) for v in per_reviewer.values() if v is not None}
            if consensus_value is not None:
                value, basis = consensus_value, CONSENSUS
            elif any(f.name in row.conflicts for row in reviewers.values()):
                continue  # one reviewer's own rows differ: left out until the consensus workbook settles it
            elif len(given) == 1:
                value = next(v for v in per_reviewer.values() if v is not None)
                basis = "agreed" if sum(v is not None for v in per_reviewer.values()) > 1 else "single reviewer"
            elif f.type == "text":
                value, basis = sorted(given), OWN_WORDS
            else:
                continue  # disputed and not yet resolved: left out, listed in disagreements.csv
            for v in value if isinstance(value, list) else [value]:
                evidence.append({"study_id": key[0], "tier": key[1], "field": f.name, "value": v, "basis": basis,
                                 "codebook_version": codebook.version})
    return Combined(tidy, evidence, stats, disagreements, dict(disputed))


def dispute_text(disputed: Iterable[Mapping[str, str]]) -> str:
    """The disagreements of one study x key, as the consensus workbook shows them."""
    def what(d: Mapping[str, str]) -> str:  # an item's field names its item; items not paired say so
        item = d.get("item", "")
        return d["field"] + (f" (item {item})" if item.isdigit() else f" ({item})" if item else "")

    return "; ".join(f"{what(d)}: {d['reviewer_a']}={d['value_a'] or '-'} / {d['reviewer_b']}={d['value_b'] or '-'}"
                     for d in disputed)


def validation_markdown(problems: list[Problem], codebook: Codebook) -> str:
    lines = [f"# Extraction sheets: validation (codebook {codebook.version})", ""]
    if not problems:
        return "\n".join(lines + ["No problems found.", ""])
    errors = sum(p.severity == ERROR for p in problems)
    lines += [f"{errors} errors and {len(problems) - errors} warnings. Invalid cells are left out of the "
              "evidence until they are corrected in the sheet.", ""]
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        by_file[p.file].append(p)

    def esc(text: str) -> str:  # a reviewer's cell is data: shown as text, never a link, an image or HTML
        return str(markdown_text(text))

    for file in sorted(by_file):
        lines += [f"## {file}", "", "| row | study | column | value | problem | expected | hint |",
                  "|---:|---|---|---|---|---|---|"]
        for p in sorted(by_file[file], key=lambda p: (int(p.row) if p.row.isdigit() else 0, p.column)):
            lines.append(f"| {p.row} | {esc(p.record_id)} | {esc(p.column)} | {esc(p.value)} | "
                         f"{p.severity}: {p.code} | {esc(p.expected)[:120]} | {esc(p.hint)} |")
        lines.append("")
    return "\n".join(lines)
