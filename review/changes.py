"""What a refresh changed: a snapshot of the review's state, and the differences between two snapshots.

A snapshot is plain, sorted data (JSON-ready) built from the stages' tables: the records of each source,
the records of each study, each study's screening status, a digest of each reviewer's values per study and
key, a digest of the evidence that stands per study, the studies each written finding rests on, and the
open problems. ``compare`` lists every difference as a row (section, item, change, detail); ``markdown``
renders them for the team. Pure: the stage (``review.stages.changes``) reads the tables and keeps the
snapshots.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .synthesis import count

CHANGE_COLUMNS = ["section", "item", "change", "detail"]
SECTIONS = ("causes", "records", "studies", "duplicates", "screening", "extraction", "evidence", "findings",
            "problems")
TITLES = {"causes": "Why: the team, the sources, the codebook", "records": "Records", "studies": "Studies", "duplicates": "New duplicates", "screening": "Screening",
          "extraction": "Extraction rows", "evidence": "Evidence", "findings": "Findings whose evidence changed",
          "problems": "Validation problems"}
FORMAT = 1  # the snapshot's layout: a snapshot of another layout is not compared
# the columns ``snapshot`` reads of each table, and of the problem tables
SNAPSHOT_COLUMNS = {"records": ("source", "record_id"), "groups": ("study_id", "record_id"),
                    "screening": ("study_id", "status"),
                    "tidy": ("reviewer", "study_id", "tier", "field", "value", "item"),
                    "evidence": ("study_id", "tier", "field", "value", "basis", "item")}
PROBLEM_COLUMNS = ("code", "severity", "file", "sheet", "row", "column", "value")


def _digest(parts: Iterable[Any]) -> str:
    return hashlib.sha256(json.dumps(sorted(parts), ensure_ascii=False).encode("utf-8")).hexdigest()[:12]


def snapshot(records: Iterable[Mapping[str, str]], groups: Iterable[Mapping[str, str]],
             screening: Iterable[Mapping[str, str]], tidy: Iterable[Mapping[str, str]],
             evidence: Iterable[Mapping[str, str]], findings: Iterable[Mapping[str, Any]],
             problems: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """The state of the review, from its tables (each an iterable of CSV rows)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for r in records:
        by_source[r["source"]].append(r["record_id"])
    studies: dict[str, list[str]] = defaultdict(list)
    for g in groups:
        studies[g["study_id"]].append(g["record_id"])
    values: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    # a repeat's item is part of what a value is (a lesson's audience moved to another lesson is a change); a row's
    # own values are digested as before, so that a snapshot of a review without repeats compares as it did
    for t in tidy:
        values[t["reviewer"]][f"{t['study_id']} | {t['tier']}"].append(
            [t["field"], t["value"], *([t["item"]] if t.get("item") else [])])
    standing: dict[str, list[Any]] = defaultdict(list)
    for e in evidence:
        standing[e["study_id"]].append([e["tier"], e["field"], e["value"], e["basis"],
                                        *([e["item"]] if e.get("item") else [])])
    return {
        "format": FORMAT,
        "records": {s: sorted(ids) for s, ids in sorted(by_source.items())},
        "studies": {s: sorted(ids) for s, ids in sorted(studies.items())},
        "screening": {r["study_id"]: r["status"] for r in sorted(screening, key=lambda r: r["study_id"])},
        "extraction": {name: {key: _digest(v) for key, v in sorted(rows.items())}
                       for name, rows in sorted(values.items())},
        "evidence": {s: _digest(v) for s, v in sorted(standing.items())},
        "findings": {str(f.get("finding_id") or f["finding"][:60]): sorted(f["study_ids"])
                     for f in sorted(findings, key=lambda f: str(f.get("finding_id") or f["finding"]))},
        "problems": sorted({" | ".join(str(p.get(k, "")) for k in ("code", "file", "sheet", "row", "column", "value"))
                            for p in problems if p.get("severity") == "error"}),
    }


def cited(unique: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """Each study's citation and the record its row is read from, for the snapshot (``"cited"``)."""
    from .citations import citations

    rows = list(unique)
    short = citations(rows)
    return {"cited": {r["study_id"]: [short[r["study_id"]], r["record_id"]] for r in sorted(rows, key=lambda r:
                                                                                           r["study_id"])}}


def context(team: Mapping[str, Any], sources: Mapping[str, str], codebook: Mapping[str, Any],
            decisions: Iterable[Mapping[str, str]], cell_changes: int) -> dict[str, Any]:
    """What explains a change in what counts, kept in the snapshot beside it: the team (reviewers now, and
    those who left with the date), the sources (name -> file or library), the codebook (version and its
    declared changes), each reviewer's screening decisions, and how long the log of changed cells is."""
    per: dict[str, int] = defaultdict(int)
    for d in decisions:
        per[d["reviewer"]] += 1
    return {"team": {"current": list(team.get("current", [])), "former": dict(sorted(team.get("former", {}).items()))},
            "sources": dict(sorted(sources.items())), "codebook": dict(codebook),
            "decisions": dict(sorted(per.items())), "cell_changes": cell_changes}


def causes(before: Mapping[str, Any], after: Mapping[str, Any], cell_log: Sequence[Mapping[str, str]] = ()
           ) -> list[dict[str, str]]:
    """The changes that explain others: reviewers who joined or left (and what of their work still counts),
    sources added or removed, a codebook upgrade by name, and the cells rewritten since the last refresh
    (``cell_log``: the rows of ``extracts/cell-changes.csv``), grouped by why."""
    if "team" not in before:  # a state kept before these were recorded: nothing to compare them with
        return []
    out: list[dict[str, str]] = []
    old_team, new_team = before["team"], after["team"]
    was = {*old_team["current"], *old_team["former"]}
    for name in new_team["current"]:
        if name not in was:
            out.append(_row("causes", name, "reviewer joined", "their files are created with every study"))
        elif name in old_team["former"]:
            out.append(_row("causes", name, "reviewer rejoined", f"had left on {old_team['former'][name]}"))
    for name, left in new_team["former"].items():
        if name not in old_team["former"]:
            kept = len(after["extraction"].get(name, {}))
            decided = after.get("decisions", {}).get(name, 0)
            out.append(_row("causes", name, "reviewer left", f"on {left}: their {count(decided, 'screening decision')} "
                            f"and {count(kept, 'extraction row')} still count; their files get no new rows"))
    for name in sorted(set(old_team["current"]) - set(new_team["current"]) - set(new_team["former"])):
        out.append(_row("causes", name, "reviewer removed", "no longer in reviewers: nor former_reviewers:"))
    old_sources, new_sources = before["sources"], after["sources"]
    for name in sorted(set(old_sources) | set(new_sources)):
        if name not in old_sources:
            out.append(_row("causes", name, "source added", new_sources[name]))
        elif name not in new_sources:
            n = len(before["records"].get(name, ()))
            out.append(_row("causes", name, "source removed",
                            f"{old_sources[name]}: its {_records(n)} no longer {'counts' if n == 1 else 'count'}"))
        elif old_sources[name] != new_sources[name]:
            out.append(_row("causes", name, "source moved", f"{old_sources[name]} -> {new_sources[name]}"))
    old_book, new_book = before["codebook"], after["codebook"]
    if old_book.get("version") != new_book.get("version"):
        declared = [c for c in new_book.get("changes", []) if c not in old_book.get("changes", [])]
        out.append(_row("causes", f"codebook {old_book.get('version') or '(none)'} -> {new_book.get('version')}",
                        "codebook upgraded", "; ".join(declared) or "no change declared under changes:"))
    rewritten: dict[str, list[Mapping[str, str]]] = defaultdict(list)
    for row in cell_log[before.get("cell_changes", 0):after.get("cell_changes", 0)]:
        rewritten[row.get("why", "")].append(row)
    for why, rows in sorted(rewritten.items()):
        files = sorted({r.get("file", "") for r in rows})
        out.append(_row("causes", why, "cells rewritten",
                        f"{count(len(rows), 'cell')} in {', '.join(files)} "
                        "(extracts/cell-changes.csv)"))
    return out


def _row(section: str, item: str, change: str, detail: str = "") -> dict[str, str]:
    return {"section": section, "item": item, "change": change, "detail": detail}


EMPTY: dict[str, Any] = {"format": FORMAT, "records": {}, "studies": {}, "screening": {}, "extraction": {},
                         "evidence": {}, "findings": {}, "problems": []}  # no "team": the causes are not compared


def compare(before: Mapping[str, Any] | None, after: Mapping[str, Any],
            cell_log: Sequence[Mapping[str, str]] = ()) -> list[dict[str, str]]:
    """Every difference from ``before`` to ``after``, the causes first; with no ``before`` (the first
    refresh, or a state kept in another layout), everything is new."""
    out: list[dict[str, str]] = []
    if not before or before.get("format") != FORMAT:  # said first: it explains every count below
        out.append(_row("causes", "no earlier refresh kept its state, so everything is counted as new" if not before
                        else "the kept state is of an older layout, so everything is counted as new",
                        "first refresh" if not before else "earlier state not comparable", ""))
        before = EMPTY
    out += causes(before, after, cell_log)
    for source in sorted(set(before["records"]) | set(after["records"])):
        old, new = set(before["records"].get(source, ())), set(after["records"].get(source, ()))
        out += [_row("records", r, "added", source) for r in sorted(new - old)]
        out += [_row("records", r, "removed", source) for r in sorted(old - new)]
    out += _studies(before, after)
    merged_into = {row["item"]: row["detail"].removeprefix("into ") for row in out
                   if row["section"] == "studies" and row["change"] == "merged" and ", " not in row["detail"]}
    for study in sorted(set(before["screening"]) | set(after["screening"])):
        old_status, new_status = before["screening"].get(study, ""), after["screening"].get(study, "")
        if old_status != new_status:  # a study merged into another is screened as that one now
            gone = f"screened as {merged_into[study]} (merged)" if study in merged_into else "no longer screened"
            out.append(_row("screening", study, new_status or gone, f"was {old_status or 'new'}"))
    for reviewer in sorted(set(before["extraction"]) | set(after["extraction"])):
        old_rows, new_rows = before["extraction"].get(reviewer, {}), after["extraction"].get(reviewer, {})
        rekeyed = _rekeyed(old_rows, new_rows, merged_into)
        for key in sorted(set(old_rows) | set(new_rows)):
            change = ("added" if key not in old_rows else "removed" if key not in new_rows
                      else "changed" if old_rows[key] != new_rows[key] else "")
            if key in rekeyed:
                out.append(_row("extraction", key, "re-keyed", f"{reviewer}: {rekeyed[key]} (study merged)"))
            elif change and key not in rekeyed.values():
                out.append(_row("extraction", key, change, reviewer))
    changed_evidence = {s for s in set(before["evidence"]) | set(after["evidence"])
                        if before["evidence"].get(s) != after["evidence"].get(s)}
    for study in sorted(changed_evidence):
        change = ("added" if study not in before["evidence"] else "removed" if study not in after["evidence"]
                  else "changed")
        out.append(_row("evidence", study, change))
    for finding, studies in sorted(after["findings"].items()):
        touched = sorted(set(studies) & changed_evidence)
        if touched or set(studies) != set(before["findings"].get(finding, studies)):
            out.append(_row("findings", finding, "evidence changed", ", ".join(touched) or "its studies changed"))
    old_problems, new_problems = set(before["problems"]), set(after["problems"])
    out += [_row("problems", p, "opened") for p in sorted(new_problems - old_problems)]
    out += [_row("problems", p, "closed") for p in sorted(old_problems - new_problems)]
    return out


def _studies(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, str]]:
    """Studies new, split off, merged or gone; records that joined one; a citation or survivor that changed."""
    out: list[dict[str, str]] = []
    old_studies, new_studies = before["studies"], after["studies"]
    study_of = {r: s for s, ids in old_studies.items() for r in ids}
    for study in sorted(set(new_studies) - set(old_studies)):
        came_from = sorted({study_of[r] for r in new_studies[study] if r in study_of})
        out.append(_row("studies", study, "split off" if came_from else "new",
                        f"from {', '.join(came_from)}" if came_from else _records(len(new_studies[study]))))
    new_study_of = {r: s for s, ids in new_studies.items() for r in ids}
    for study in sorted(set(old_studies) - set(new_studies)):
        went = sorted({new_study_of[r] for r in old_studies[study] if r in new_study_of})
        out.append(_row("studies", study, "merged" if went else "gone",
                        f"into {', '.join(went)}" if went else "none of its records is left"))
    for study in sorted(set(new_studies) & set(old_studies)):
        joined = sorted(set(new_studies[study]) - set(old_studies[study]))
        out += [_row("duplicates", r, "joined", study) for r in joined]
    old_cited, new_cited = before.get("cited", {}), after.get("cited", {})
    for study in sorted(set(old_cited) & set(new_cited)):
        (was, was_from), (now, now_from) = old_cited[study], new_cited[study]
        if was != now:
            out.append(_row("studies", study, "citation changed", f"{was} -> {now}"))
        if was_from != now_from:
            out.append(_row("studies", study, "surviving record changed", f"{was_from} -> {now_from}"))
    return out


def _rekeyed(old_rows: Mapping[str, str], new_rows: Mapping[str, str], merged_into: Mapping[str, str]
             ) -> dict[str, str]:
    """Rows whose study was merged into another and which now stand under the survivor's id: old key -> new key
    (a merge moves a reviewer's row; it does not remove one and add another)."""
    out = {}
    for key in set(old_rows) - set(new_rows):
        study, _, rest = key.partition(" | ")
        target = f"{merged_into[study]} | {rest}" if study in merged_into else ""
        if target and target in new_rows and target not in old_rows:
            out[key] = target
    return out


def _records(n: int) -> str:
    return count(n, "record")


def summary(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Per section: counts per kind of change (for the Markdown page and the executive summary)."""
    out = []
    for section in SECTIONS:
        mine = [r for r in rows if r["section"] == section]
        if not mine:
            continue
        counts: dict[str, int] = defaultdict(int)
        for r in mine:
            counts[r["change"]] += 1
        if section == "records":
            detail = "; ".join(f"{source}: " + ", ".join(f"{n} {change}" for change, n in sorted(kinds.items()))
                               for source, kinds in sorted(_by(mine, "detail").items()))
        elif section == "causes":  # each cause named: they explain the counts below
            detail = "; ".join(f"{r['change']}: {r['item']}" for r in mine)
        elif section == "extraction":
            detail = "; ".join(f"{who}: " + ", ".join(f"{n} {change}" for change, n in sorted(kinds.items()))
                               for who, kinds in sorted(_by(mine, "detail").items()))
        else:
            detail = ", ".join(f"{n} {change}" for change, n in sorted(counts.items()))
        out.append({"section": section, "title": TITLES[section], "count": len(mine), "detail": detail,
                    "items": [f"{r['item']}" + (f" ({r['change']}{': ' + r['detail'] if r['detail'] else ''})")
                              for r in mine[:20]], "more": max(0, len(mine) - 20)})
    return out


def _by(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        out[r[key]][r["change"]] += 1
    return out


def markdown(rows: list[dict[str, str]], against: str) -> str:
    """The change report for the team: a summary per section, then the first items of each."""
    lines = ["# What changed", "", f"Compared with {against}.", ""]
    parts = summary(rows)
    if not parts:
        return "\n".join(lines + ["Nothing changed.", ""])
    lines += ["| | changes | |", "|---|---:|---|"]
    lines += [f"| {p['title']} | {p['count']} | {_cell(p['detail'])} |" for p in parts]
    lines.append("")
    for p in parts:
        lines += [f"## {p['title']}", ""]
        lines += [f"- {_cell(item)}" for item in p["items"]]
        if p["more"]:
            lines.append(f"- ... and {p['more']} more (see changes.csv)")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell and as Markdown: no HTML, link, image or TeX from data is live."""
    from .templating import markdown_text

    return str(markdown_text(text))
