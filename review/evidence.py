"""Stage 4: read the reviewers' sheets back, check every cell against the codebook, build the evidence.

Problems are collected, never thrown: each is a row (workbook, sheet, row as the spreadsheet shows it,
study, column, value, expected, hint) in ``validation.csv`` and ``validation.md``; an invalid cell is
left out of the evidence, never coerced. Where two reviewers extracted the same study x tier, fields
are compared (percent agreement and Cohen's kappa in ``agreement.csv``; disagreements side by side),
and disputed studies get rows in ``extracts/consensus.xlsx``, whose values win.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.styles import Font, PatternFill, Protection
from rapidfuzz import fuzz, process

from .codebook import FALSE_WORDS, MULTI_SEPARATOR, TRUE_WORDS, Codebook, Field
from .errors import ERROR, WARNING, Problem, ReviewError
from .fileio import write_csv, write_if_changed
from .sheets import INCLUDED, SHEET, STUDY_COLUMNS, columns, sheet_path
from .workbook import WorkbookBusy, neutralise, open_for_update, read_only, save

log = logging.getLogger(__name__)

CONSENSUS = "consensus"
TIDY_COLUMNS = ["study_id", "tier", "field", "value", "reviewer", "codebook_version"]
AGREEMENT_COLUMNS = ["field", "type", "items_compared", "agreement", "kappa"]
DISAGREEMENT_COLUMNS = ["study_id", "tier", "field", "reviewer_a", "value_a", "reviewer_b", "value_b", "resolved_by"]
EVIDENCE_COLUMNS = ["study_id", "tier", "field", "value", "basis", "codebook_version"]


@dataclass
class Row:
    """One extraction row as read: where it is, and its valid values (lists for multiple choice)."""

    reviewer: str
    file: str
    row: int
    study_id: str
    values: dict[str, Any] = field(default_factory=dict)

    def key(self, codebook: Codebook) -> tuple[str, str]:
        key_field = codebook.key_fields[0].name if codebook.key_fields else ""
        return self.study_id, str(self.values.get(key_field, "") or "")


# --- one cell ----------------------------------------------------------------------------------------


def _did_you_mean(text: str, field: Field) -> str:
    options = list(field.codes) + [c.label for c in field.choices]
    match = process.extractOne(text, options, scorer=fuzz.WRatio, score_cutoff=70)
    if not match:
        return ""
    code = match[0] if match[0] in field.codes else field.codes[[c.label for c in field.choices].index(match[0])]
    return f"did you mean {code!r}?"


def _code(text: str, field: Field) -> str | None:
    """The code a reviewer meant, tolerant of case, spaces and the label instead of the code."""
    wanted = " ".join(text.split()).casefold()
    for choice in field.choices:
        if wanted in (choice.code.casefold(), choice.label.casefold()):
            return choice.code
    return None


def check_cell(value: Any, field: Field) -> tuple[Any, tuple[str, str, str] | None]:
    """(clean value or None, problem (code, expected, hint) or None) for one cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    text = str(value).strip()
    if field.type == "single":
        code = _code(text, field)
        if code is None:
            return None, ("not-in-codebook", field.describe_allowed(), _did_you_mean(text, field))
        return code, None
    if field.type == "multiple":
        parts = [p for p in (x.strip() for x in text.replace("\n", ";").replace(",", ";").split(";")) if p]
        codes, bad = [], []
        for part in parts:
            code = _code(part, field)
            (codes if code else bad).append(code or part)
        if bad:
            hint = "; ".join(h for h in (_did_you_mean(b, field) for b in bad) if h)
            return None, ("not-in-codebook", field.describe_allowed(), f"not codes: {', '.join(bad)}. {hint}".strip())
        return sorted(set(codes), key=field.codes.index), None
    if field.type in ("integer", "year"):
        try:
            number = float(text)
        except ValueError:
            return None, ("wrong-type", field.describe_allowed(), "write the number only")
        if number != int(number):
            return None, ("wrong-type", field.describe_allowed(), "a whole number")
        number = int(number)
        if (field.min is not None and number < field.min) or (field.max is not None and number > field.max):
            return None, ("out-of-range", field.describe_allowed(), "")
        return number, None
    if field.type == "boolean":
        word = text.casefold()
        if word in TRUE_WORDS or value is True:
            return "yes", None
        if word in FALSE_WORDS or value is False:
            return "no", None
        return None, ("wrong-type", "yes or no", "")
    if field.max_length and len(text) > field.max_length:
        return None, ("too-long", field.describe_allowed(), f"{len(text)} characters")
    return text, None


# --- reading sheets ----------------------------------------------------------------------------------


def _table_rows(path: Path) -> tuple[list[str], list[tuple[int, tuple]]]:
    """Header and (row number, values) of the extraction sheet (xlsx) or file (csv)."""
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            return header, [(k, tuple(r)) for k, r in enumerate(reader, start=2)]
    workbook = read_only(path)
    try:
        if SHEET not in workbook.sheetnames:
            raise WorkbookBusy(f"{path} has no '{SHEET}' sheet")
        rows = workbook[SHEET].iter_rows(values_only=True)
        header = [str(h or "") for h in next(rows, ())]
        return header, [(k, r) for k, r in enumerate(rows, start=2)]
    finally:
        workbook.close()


def _codebook_version(path: Path) -> str:
    """The codebook version recorded in a workbook's ``about`` sheet ("" for CSV or when absent)."""
    if path.suffix != ".xlsx":
        return ""
    try:
        workbook = read_only(path)
    except WorkbookBusy:
        return ""
    try:
        if "about" not in workbook.sheetnames:
            return ""
        return next((str(v) for k, v in workbook["about"].iter_rows(max_col=2, values_only=True)
                     if k == "codebook_version"), "")
    finally:
        workbook.close()


def read_sheet(path: Path, reviewer: str, codebook: Codebook, included: set[str],
               require: bool = True) -> tuple[list[Row], list[Problem]]:
    """Rows a reviewer started, checked cell by cell; ``require=False`` for the consensus workbook, which
    holds only the values that settle a disagreement."""
    rows: list[Row] = []
    problems: list[Problem] = []
    shown = str(path)
    sheet = "" if path.suffix == ".csv" else SHEET

    def problem(code, severity, row, column="", value="", expected="", hint="", study=""):
        problems.append(Problem(code=code, severity=severity, file=shown, sheet=sheet, row=str(row), column=column,
                                value=str(value)[:200], expected=expected, hint=hint, record_id=study))

    try:
        header, table = _table_rows(path)
    except (WorkbookBusy, OSError, csv.Error) as exc:
        problem("unreadable-workbook", ERROR, "", value=str(exc), expected="a readable sheet",
                hint="nothing from this file was used")
        return rows, problems
    made_with = _codebook_version(path)
    if made_with and made_with != codebook.version:
        problem("codebook-version-changed", WARNING, "", "codebook_version", made_with, codebook.version,
                "the sheet was made with another codebook version: check its codes against the codebook sheet")
    index = {name: k for k, name in enumerate(header)}
    if "study_id" not in index:
        problem("missing-column", ERROR, 1, "study_id", expected="a study_id column", hint="nothing was read")
        return rows, problems
    for name in codebook.names:
        if name not in index:
            problem("missing-column", WARNING, 1, name, expected=f"a column for every codebook field ({codebook.version})",
                    hint="this field is read as empty")
    seen: dict[tuple[str, str], int] = {}
    def cell(values: tuple, name: str) -> Any:
        k = index.get(name)
        return values[k] if k is not None and k < len(values) else None

    for number, values in table:
        study = str(cell(values, "study_id") or "").strip()
        if not study:
            continue
        raw = {name: cell(values, name) for name in codebook.names}
        if all(v is None or str(v).strip() == "" for name, v in raw.items()
               if not any(name == f.name for f in codebook.key_fields)):
            continue  # a row nobody has started: nothing to check yet
        row = Row(reviewer=reviewer, file=shown, row=number, study_id=study)
        for f in codebook.fields:
            clean, issue = check_cell(raw[f.name], f)
            if issue:
                code, expected, hint = issue
                problem(code, ERROR, number, f.name, raw[f.name], expected, hint or "left out of the evidence", study)
            elif clean is None and f.required and require:
                problem("missing-required", ERROR, number, f.name, "", f.describe_allowed(), "required field", study)
            elif clean is not None:
                row.values[f.name] = clean
        _check_row(row, codebook, problem)
        if study not in included:
            problem("unknown-study", WARNING, number, "study_id", study, "a study id of the current included studies",
                    "kept, but the study is no longer included (or the id was edited)", study)
        key = row.key(codebook)
        if key in seen:
            problem("duplicate-row", ERROR, number, codebook.key_fields[0].name if codebook.key_fields else "study_id",
                    key[1], "one row per study and tier", f"same as row {seen[key]}; this row was left out", study)
            continue
        seen[key] = number
        rows.append(row)
    return rows, problems


def _check_row(row: Row, codebook: Codebook, problem) -> None:
    """Checks across fields: period start <= end, and a period the tier existed in."""
    start, end = row.values.get("period_start"), row.values.get("period_end")
    if start is not None and end is not None and start > end:
        problem("period-order", ERROR, row.row, "period_end", end, f"a year not before period_start ({start})",
                "both years left out of the evidence", row.study_id)
        row.values.pop("period_start")
        row.values.pop("period_end")
        return
    key = codebook.key_fields[0] if codebook.key_fields else None
    if key is None or not row.values.get(key.name):
        return
    choice = next((c for c in key.choices if c.code == row.values[key.name]), None)
    if choice and choice.period and start is not None and end is not None:
        first, last = choice.period
        if end < first - 2 or start > last + 2:  # a study may look at the years just before or after
            problem("period-outside-tier", WARNING, row.row, "period_start", f"{start}-{end}",
                    f"years around {first}-{last}, when {choice.code} existed", "check the tier or the period",
                    row.study_id)


def typed_digest(config: dict[str, Any], codebook: Codebook) -> str:
    """A digest of what reviewers typed in every sheet (started rows' codebook cells), not of the rows
    and styles the pipeline writes: a parameter of the evidence rule, so typing reruns it and appending
    rows for new studies does not."""
    import hashlib

    settings = config.get("extraction", {})
    folder, fmt = Path(settings.get("folder", "extracts")), settings.get("format", "xlsx")
    key_names = {f.name for f in codebook.key_fields}
    digest = hashlib.sha256(codebook.version.encode())
    for name in [*config.get("reviewers", []), CONSENSUS]:
        path = sheet_path(folder, name, fmt)
        if not path.exists():
            continue
        try:
            header, table = _table_rows(path)
        except (WorkbookBusy, OSError, csv.Error):
            digest.update(f"{name}:unreadable".encode())
            continue
        index = {h: k for k, h in enumerate(header)}
        for number, values in table:
            cells = [values[index[n]] if n in index and index[n] < len(values) else None for n in codebook.names]
            typed = [c for n, c in zip(codebook.names, cells) if n not in key_names and c not in (None, "")]
            if typed:
                sid = values[index["study_id"]] if "study_id" in index else ""
                digest.update(repr((name, number, sid, cells)).encode())
    return digest.hexdigest()[:16]


# --- agreement ---------------------------------------------------------------------------------------


def cohen_kappa(pairs: list[tuple[Any, Any]]) -> float | None:
    """Cohen's kappa for two raters' labels (``None`` when undefined: no items, or one label only)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    counts_a: dict[Any, int] = defaultdict(int)
    counts_b: dict[Any, int] = defaultdict(int)
    for a, b in pairs:
        counts_a[a] += 1
        counts_b[b] += 1
    expected = sum(counts_a[k] * counts_b.get(k, 0) for k in counts_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return MULTI_SEPARATOR.join(value) if isinstance(value, list) else str(value)


def agreement(codebook: Codebook, by_key: dict[tuple[str, str], dict[str, Row]]) -> tuple[list[dict], list[dict]]:
    """Per-field agreement over study x tier rows extracted by two reviewers, and the disagreements."""
    stats, disagreements = [], []
    doubles = {key: rows for key, rows in by_key.items() if len(rows) >= 2}
    for f in codebook.fields:
        if f.key:
            continue
        pairs: list[tuple[Any, Any]] = []
        binary: list[tuple[int, int]] = []
        for key in sorted(doubles):
            (ra, a), (rb, b) = list(sorted(doubles[key].items()))[:2]
            va, vb = a.values.get(f.name), b.values.get(f.name)
            if va is None or vb is None:
                continue  # not (validly) extracted by both: nothing to compare (validation lists invalid cells)
            pairs.append((_shown(va), _shown(vb)))
            if f.type == "multiple":  # kappa per code: each code chosen or not by each reviewer
                binary += [(int(c in (va or [])), int(c in (vb or []))) for c in f.codes]
            if _shown(va) != _shown(vb):
                disagreements.append({"study_id": key[0], "tier": key[1], "field": f.name, "reviewer_a": ra,
                                      "value_a": _shown(va), "reviewer_b": rb, "value_b": _shown(vb)})
        if not pairs:
            continue
        kappa = None
        if f.type in ("single", "boolean", "year", "integer"):
            kappa = cohen_kappa(pairs)
        elif f.type == "multiple":
            kappa = cohen_kappa(binary)
        stats.append({"field": f.name, "type": f.type, "items_compared": len(pairs),
                      "agreement": f"{sum(a == b for a, b in pairs) / len(pairs):.3f}",
                      "kappa": "" if kappa is None else f"{kappa:.3f}"})
    order = {name: k for k, name in enumerate(codebook.names)}
    disagreements.sort(key=lambda d: (d["study_id"], d["tier"], order[d["field"]]))
    return stats, disagreements


# --- consensus workbook ------------------------------------------------------------------------------


def update_consensus(path: Path, codebook: Codebook, disputed: dict[tuple[str, str], list[dict]],
                     studies: dict[str, dict[str, str]]) -> int:
    """Append a row for each disputed study x tier not yet in the consensus workbook (never overwritten).

    The row shows each disagreement in ``disputed`` and leaves the fields empty for the consensus values."""
    from .sheets import _new_workbook  # the same layout as a reviewer's sheet

    workbook = open_for_update(path)
    names = columns(codebook) + ["disputed"]
    if workbook is None:
        workbook = _new_workbook(codebook, CONSENSUS, len(disputed), 50)
        ws = workbook[SHEET]
        ws.cell(row=1, column=len(names), value="disputed").font = Font(bold=True)
    ws = workbook[SHEET]
    header = {str(c.value): c.column for c in ws[1] if c.value}
    if "disputed" not in header:
        header["disputed"] = ws.max_column + 1
        ws.cell(row=1, column=header["disputed"], value="disputed").font = Font(bold=True)
    key_name = codebook.key_fields[0].name if codebook.key_fields else ""
    present = set()
    for row in ws.iter_rows(min_row=2, values_only=True):
        sid = row[header["study_id"] - 1]
        if sid:
            tier = row[header[key_name] - 1] if key_name in header else ""
            present.add((str(sid), str(tier or "")))
    new = [key for key in sorted(disputed) if key not in present]
    if not new:
        return 0
    number = max([2] + [c.row + 1 for c in ws["A"] if c.value not in (None, "")])
    for study_id, tier in new:
        info = studies.get(study_id, {})
        values = {"study_id": study_id, "citation": info.get("citation", ""), "title": info.get("title", ""),
                  "year": info.get("year", ""), "doi": info.get("doi", ""), "status": INCLUDED, key_name: tier,
                  "disputed": "; ".join(f"{d['field']}: {d['reviewer_a']}={d['value_a'] or '-'} / "
                                        f"{d['reviewer_b']}={d['value_b'] or '-'}" for d in disputed[(study_id, tier)])}
        for name, value in values.items():
            if name not in header or value in ("", None):
                continue
            cell = ws.cell(row=number, column=header[name], value=neutralise(value))
            cell.data_type = "s" if isinstance(cell.value, str) else cell.data_type
            if name in STUDY_COLUMNS or name == "disputed":
                cell.fill = PatternFill("solid", fgColor="F2F2F2")
                cell.protection = Protection(locked=name != "disputed")
        number += 1
    save(workbook, path)
    return len(new)


# --- the stage ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    rows: int
    problems: list[Problem]
    evidence: int
    disputed: int
    consensus_added: int


def run_stage(config: dict[str, Any], codebook: Codebook, unique_records: Path, out_dir: Path,
              included: Path | None = None) -> Outcome:
    import pandas as pd

    from .sheets import studies_from

    settings = config.get("extraction", {})
    folder = Path(settings.get("folder", "extracts"))
    fmt = settings.get("format", "xlsx")
    studies = studies_from(unique_records, included)
    included_ids = {s.study_id for s in studies}
    info = {s.study_id: {"citation": s.citation, "title": s.title, "year": s.year, "doi": s.doi} for s in studies}
    all_rows: list[Row] = []
    problems: list[Problem] = []
    for reviewer in config.get("reviewers", []):
        path = sheet_path(folder, reviewer, fmt)
        if not path.exists():
            problems.append(Problem(code="missing-workbook", severity=WARNING, file=str(path),
                                    expected="the reviewer's sheet", hint="run the sheets stage to create it"))
            continue
        rows, found = read_sheet(path, reviewer, codebook, included_ids)
        all_rows += rows
        problems += found
    consensus_path = folder / f"{CONSENSUS}.{fmt}"
    consensus_rows: dict[tuple[str, str], Row] = {}
    if consensus_path.exists():
        rows, found = read_sheet(consensus_path, CONSENSUS, codebook, included_ids, require=False)
        problems += found
        consensus_rows = {r.key(codebook): r for r in rows}

    by_key: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
    for row in all_rows:
        by_key[row.key(codebook)][row.reviewer] = row
    stats, disagreements = agreement(codebook, by_key)

    disputed: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for d in disagreements:
        key = (d["study_id"], d["tier"])
        resolved = key in consensus_rows and d["field"] in consensus_rows[key].values
        d["resolved_by"] = CONSENSUS if resolved else ""
        if not resolved:
            disputed[key].append(d)

    tidy, evidence = [], []
    for key in sorted(by_key):
        reviewers = by_key[key]
        for f in codebook.fields:
            if f.key:
                continue  # the tier is part of the row's key, not one of its values
            per_reviewer = {name: row.values.get(f.name) for name, row in sorted(reviewers.items())}
            for name, value in per_reviewer.items():
                for v in (value if isinstance(value, list) else [value] if value is not None else []):
                    tidy.append({"study_id": key[0], "tier": key[1], "field": f.name, "value": v,
                                 "reviewer": name, "codebook_version": codebook.version})
            consensus_value = consensus_rows.get(key).values.get(f.name) if key in consensus_rows else None
            given = {_shown(v) for v in per_reviewer.values() if v is not None}
            if consensus_value is not None:
                value, basis = consensus_value, CONSENSUS
            elif len(given) == 1:
                value = next(v for v in per_reviewer.values() if v is not None)
                basis = "agreed" if sum(v is not None for v in per_reviewer.values()) > 1 else "single reviewer"
            else:
                continue  # disputed and not yet resolved: left out, listed in disagreements.csv
            for v in value if isinstance(value, list) else [value]:
                evidence.append({"study_id": key[0], "tier": key[1], "field": f.name, "value": v, "basis": basis,
                                 "codebook_version": codebook.version})

    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / "extractions.csv", TIDY_COLUMNS, tidy)
    write_csv(out_dir / "evidence.csv", EVIDENCE_COLUMNS, evidence)
    wide = pd.DataFrame(evidence)
    if len(wide):
        wide = (wide.groupby(["study_id", "tier", "field"], sort=True)["value"]
                .agg(lambda s: MULTI_SEPARATOR.join(map(str, s))).unstack("field").reset_index())
        wide = wide.reindex(columns=["study_id", "tier", *[n for n in codebook.names if n != "tier"]])
    write_if_changed(out_dir / "extractions_wide.csv", wide.to_csv(index=False, lineterminator="\n").encode("utf-8")
                     if len(wide) else ("study_id,tier\n").encode())
    write_csv(out_dir / "agreement.csv", AGREEMENT_COLUMNS, stats)
    write_csv(out_dir / "disagreements.csv", DISAGREEMENT_COLUMNS, disagreements)
    write_csv(out_dir / "validation.csv", Problem.columns(), (p.as_row() for p in problems))
    write_if_changed(out_dir / "validation.md", validation_markdown(problems, codebook).encode("utf-8"))

    added = 0
    if disputed and fmt == "xlsx":
        try:
            added = update_consensus(consensus_path, codebook, disputed, info)
        except WorkbookBusy as exc:
            log.error("%s", exc)
    for p in problems:
        (log.error if p.severity == ERROR else log.warning)("%s", p.describe())
    errors = sum(p.severity == ERROR for p in problems)
    if settings.get("strict") and errors:
        raise ReviewError(f"{errors} validation errors in the extraction sheets; see {out_dir / 'validation.md'}")
    return Outcome(len(all_rows), problems, len(evidence), len(disputed), added)


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

    def esc(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    for file in sorted(by_file):
        lines += [f"## {file}", "", "| row | study | column | value | problem | expected | hint |",
                  "|---:|---|---|---|---|---|---|"]
        for p in sorted(by_file[file], key=lambda p: (int(p.row) if p.row.isdigit() else 0, p.column)):
            lines.append(f"| {p.row} | {esc(p.record_id)} | {esc(p.column)} | {esc(p.value)} | "
                         f"{p.severity}: {p.code} | {esc(p.expected)[:120]} | {esc(p.hint)} |")
        lines.append("")
    return "\n".join(lines)
