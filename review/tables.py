"""Evidence tables: a few generic kinds, each a pure function of the evidence, declared per review.

Which tables a review shows, and over which fields, is declared in its codebook (``tables:``; see
``review/schemas/codebook.schema.json``); this module knows no review's fields or codes.

``evidence`` is ``results/evidence/evidence.csv`` as a data frame: one row per study x key x field x
value (``study_id, tier, field, value, basis``; the ``tier`` column holds the codebook's key field,
whatever it is called). ``studies`` has one row per included study (``study_id, citation, year,
title``). Key codes and codes are ordered as the codebook lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from . import repeats
from .codebook import Codebook, TableSpec
from .extraction import KEY_COLUMN as KEY


def _field(evidence: pd.DataFrame, name: str) -> pd.DataFrame:
    return evidence[evidence["field"] == name][["study_id", KEY, "value"]]


def _item_field(evidence: pd.DataFrame, name: str) -> pd.DataFrame:
    """A field's values with the item they belong to (a repeat's lesson; "" for a row's own field)."""
    items = evidence["item"] if "item" in evidence.columns else pd.Series("", index=evidence.index)
    frame = evidence.assign(item=items.fillna("").astype(str))
    return frame[frame["field"] == name][["study_id", KEY, "item", "value"]]


def _citations(study_ids: Iterable[str], studies: pd.DataFrame) -> str:
    cite = dict(zip(studies["study_id"], studies["citation"]))
    return "; ".join(sorted({cite.get(s, s) for s in study_ids}))


# a value the reviewers gave differently and no one has settled yet: a cell says so rather than stay blank
DISPUTED = "disputed"
NOT_GIVEN = "not given"  # a study of the row that left the field blank (not required, or not reported)


def open_disputes(disagreements: pd.DataFrame | None) -> pd.DataFrame:
    """The disagreements not settled yet (``study_id``, key, ``field``): those whose ``resolved_by`` is blank."""
    columns = ["study_id", KEY, "field"]
    if disagreements is None or disagreements.empty or not set(columns) <= set(disagreements.columns):
        return pd.DataFrame(columns=columns)
    settled = disagreements.get("resolved_by", pd.Series("", index=disagreements.index)).fillna("").astype(str)
    return disagreements[settled.str.strip() == ""][columns].astype(str).drop_duplicates()


def key_order(codebook: Codebook) -> list[str]:
    """The key field's codes in codebook order (``[]`` for a codebook without a key)."""
    return list(codebook.key_fields[0].codes) if codebook.key_fields else []


def _position(order: list[str]) -> Callable[[str], int]:
    return lambda code: order.index(code) if code in order else len(order)


def studies_table(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, spec: TableSpec,
                  disputed: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per extracted study (by year, then citation): citation, year and the declared columns; a column
    with no value because the reviewers still disagree on it says ``disputed``, not nothing."""
    columns = spec.options["columns"]
    open_ = open_disputes(disputed)
    position = _position(key_order(codebook))
    rows = []
    for study in studies.sort_values(["year", "citation"]).itertuples(index=False):
        ev = evidence[evidence["study_id"] == study.study_id]
        if ev.empty:
            continue
        row = {"citation": study.citation, "year": study.year}
        for column in columns:
            if column.get("key"):
                row[column["name"]] = "; ".join(sorted(set(ev[KEY]) - {""}, key=position))
            elif "span" in column:
                first, last = column["span"]
                starts = pd.to_numeric(ev[ev["field"] == first]["value"], errors="coerce").dropna()
                ends = pd.to_numeric(ev[ev["field"] == last]["value"], errors="coerce").dropna()
                row[column["name"]] = f"{int(starts.min())}-{int(ends.max())}" if len(starts) and len(ends) else ""
            else:
                given = "; ".join(sorted(set(ev[ev["field"] == column["field"]]["value"])))
                argued = ((open_["study_id"] == study.study_id) & (open_["field"] == column["field"])).any()
                row[column["name"]] = given or (DISPUTED if argued else "")
        rows.append(row)
    return pd.DataFrame(rows, columns=["citation", "year", *[c["name"] for c in columns]])


def by_key(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, spec: TableSpec) -> pd.DataFrame:
    """Long table key code x code of a field: number of studies and their citations."""
    field = spec.options["field"]
    data = _field(evidence, field)
    rows = [{KEY: tier, "code": code, "studies": group["study_id"].nunique(),
             "citations": _citations(group["study_id"], studies)}
            for (tier, code), group in data.groupby([KEY, "value"], sort=False)]
    table = pd.DataFrame(rows, columns=[KEY, "code", "studies", "citations"])
    if table.empty:
        return table
    table["_t"] = table[KEY].map(_position(key_order(codebook)))
    table["_c"] = table["code"].map(_position(list(codebook[field].codes)))
    return table.sort_values(["_t", "_c"]).drop(columns=["_t", "_c"]).reset_index(drop=True)


def key_summary(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, spec: TableSpec,
                disputed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per key code: how often each code of each declared field was given, and the studies behind it. Every
    study of the row is accounted for in each column: one whose value is still disputed as ``disputed (n)``,
    one that gave none as ``not given (n)``, so that the counts meet the studies column."""
    fields: dict[str, str] = spec.options["fields"]
    present = set(evidence[KEY])
    open_ = open_disputes(disputed)
    rows = []
    for tier in [t for t in key_order(codebook) if t in present]:
        ev = evidence[evidence[KEY] == tier]
        given = {name: ev[ev["field"] == field] for name, field in fields.items()}
        counts = {name: rows["value"].value_counts() for name, rows in given.items()}
        argued = {name: set(open_[(open_[KEY] == tier) & (open_["field"] == field)]["study_id"])
                  for name, field in fields.items()}
        if all(c.empty for c in counts.values()) and not any(argued.values()):
            continue
        everyone = set(ev["study_id"])
        silent = {name: everyone - set(given[name]["study_id"]) - argued[name] for name in fields}
        rows.append({KEY: tier, **{name: "; ".join([*(f"{k} ({v})" for k, v in sorted(c.items())),
                                                    *([f"{DISPUTED} ({len(argued[name])})"] if argued[name] else []),
                                                    *([f"{NOT_GIVEN} ({len(silent[name])})"] if silent[name] else [])])
                                   for name, c in counts.items()},
                     "studies": len(everyone), "citations": _citations(ev["study_id"], studies)})
    return pd.DataFrame(rows, columns=[KEY, *fields, "studies", "citations"])


def statements(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, spec: TableSpec) -> pd.DataFrame:
    """Each distinct statement (a text field) with its qualifier, under each code of its grouping field, and the
    studies that made it. Text, qualifier and group are joined item by item: a lesson of a repeat is printed
    under its own audiences only (and a row's own statement under the row's codes); an item whose group is not
    given, or still disputed, is shown once under ``NOT_GROUPED``, never under another item's."""
    o = spec.options
    keys = ["study_id", KEY, "item"]
    merged = _item_field(evidence, o["text"]).rename(columns={"value": "text"})
    qualifier = "qualifier" in o
    if qualifier:
        merged = merged.merge(_item_field(evidence, o["qualifier"]).rename(columns={"value": "qualifier"}), on=keys,
                              how="left")
    merged = merged.merge(_item_field(evidence, o["group"]).rename(columns={"value": "group"}), on=keys, how="left")
    agreement = "basis" in evidence.columns  # who stands behind each statement, in words (repeats.in_words)
    if agreement:
        bases = evidence[evidence["field"] == o["text"]].assign(
            item=lambda f: f["item"].fillna("").astype(str) if "item" in f.columns else "")
        bases = bases[["study_id", KEY, "item", "basis"]].drop_duplicates(subset=keys)
        merged = merged.merge(bases.assign(basis=bases["basis"].map(repeats.in_words)), on=keys, how="left")
    group_field = codebook[o["group"]]
    labels = {c.code: c.label for c in group_field.choices} | {"": NOT_GROUPED}
    by = ["group", "text", *(["qualifier"] if qualifier else [])]
    rows = []
    for values, found in merged.fillna("").groupby(by):
        row: dict[str, str] = dict(zip(by, map(str, values)))
        rows.append({"group": row["group"], "group_label": labels.get(row["group"], row["group"]), "text": row["text"],
                     **({"qualifier": row["qualifier"]} if qualifier else {}),
                     **({"agreement": "; ".join(sorted(set(found["basis"]) - {""}))} if agreement else {}),
                     "citations": _citations(found["study_id"], studies)})
    columns = ["group", "group_label", "text", *(["qualifier"] if qualifier else []),
               *(["agreement"] if agreement else []), "citations"]
    table = pd.DataFrame(rows, columns=columns)
    table["_o"] = table["group"].map(_position(list(group_field.codes)))
    return table.sort_values(["_o", "text"]).drop(columns="_o").reset_index(drop=True)


# the group of a statement whose grouping code is not given, or is disputed until the consensus settles it
NOT_GROUPED = "not given or disputed"


def code_groups(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, spec: TableSpec) -> pd.DataFrame:
    """The codes of a field that belong to declared groups (by prefix), each with its studies."""
    field = codebook[spec.options["field"]]
    data = _field(evidence, field.name)
    rows = []
    for choice in field.choices:
        group = next((g["name"] for g in spec.options["groups"] if choice.code.startswith(g["prefix"])), None)
        ids = data[data["value"] == choice.code]["study_id"]
        if group is None or ids.empty:
            continue
        rows.append({"kind": group, "code": choice.code, "label": choice.label, "studies": ids.nunique(),
                     "citations": _citations(ids, studies)})
    return pd.DataFrame(rows, columns=["kind", "code", "label", "studies", "citations"])


def key_periods(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, spec: TableSpec) -> pd.DataFrame:
    """The key codes that have a period in the codebook, with their years and the evidence behind each."""
    rows = []
    for choice in codebook.key_fields[0].choices:
        if not choice.period:
            continue
        ids = evidence[evidence[KEY] == choice.code]["study_id"]
        last = choice.period[1]
        rows.append({KEY: choice.code, "label": choice.label, "from": choice.period[0],
                     "to": "present" if last is None else last,
                     # no evidence yet is not evidence of nothing: said as such, not as 0
                     "studies": ids.nunique() if len(ids) else "none extracted yet",
                     "citations": _citations(ids, studies) if len(ids) else ""})
    return pd.DataFrame(rows, columns=[KEY, "label", "from", "to", "studies", "citations"])


def ratings(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, spec: TableSpec) -> pd.DataFrame:
    """Per code of ``by``: how many study x key rows got each level of ``rating`` (or none)."""
    o = spec.options
    missing = o.get("missing", "not rated")
    levels = [*o["levels"], missing]
    by = _field(evidence, o["by"]).rename(columns={"value": "by"})
    rating = _field(evidence, o["rating"]).rename(columns={"value": "rating"})
    merged = by.merge(rating, on=["study_id", KEY], how="left").fillna({"rating": missing})
    if merged.empty:
        return pd.DataFrame(columns=["by", *levels])
    table = merged.groupby(["by", "rating"])["study_id"].nunique().unstack(fill_value=0)
    table = table.reindex(columns=levels, fill_value=0)
    return table.reset_index().rename_axis(columns=None)


KINDS: dict[str, Callable[[pd.DataFrame, pd.DataFrame, Codebook, TableSpec], pd.DataFrame]] = {
    "studies": studies_table, "by_key": by_key, "key_summary": key_summary, "statements": statements,
    "code_groups": code_groups, "key_periods": key_periods, "ratings": ratings,
}


# the kinds that print one value per cell, where a value still disputed would otherwise leave a silent blank
SHOW_DISPUTES = {"studies": studies_table, "key_summary": key_summary}


def compute(spec: TableSpec, evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook,
            disputed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The table ``spec`` declares, with its columns renamed as declared; ``disputed`` is the disagreements
    list (``results/evidence/disagreements.csv``), whose open disputes the tables that print values show."""
    if spec.kind in SHOW_DISPUTES:
        table = SHOW_DISPUTES[spec.kind](evidence, studies, codebook, spec, disputed)
    else:
        table = KINDS[spec.kind](evidence, studies, codebook, spec)
    rename: dict[str, Any] = spec.options.get("rename", {})
    return table.rename(columns=rename) if rename else table


def compute_all(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook,
                disputed: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every table the codebook declares, by name, in the declared order."""
    return {spec.name: compute(spec, evidence, studies, codebook, disputed) for spec in codebook.tables}


def matrix(long: pd.DataFrame, codebook: Codebook, field: str) -> pd.DataFrame:
    """The counts of a ``by_key`` table as a key x code matrix: every key code and every code of ``field`` in
    the codebook's order, 0 where there is no evidence (a gap is shown as one, never left out)."""
    tiers, codes = key_order(codebook), list(codebook[field].codes)
    if long.empty:
        return pd.DataFrame(0, index=tiers, columns=codes)
    wide = long.pivot_table(index=KEY, columns="code", values="studies", aggfunc="sum", fill_value=0)
    return wide.reindex(index=tiers, columns=codes, fill_value=0).astype(int)
