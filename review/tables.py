"""Evidence tables: each a pure function of the evidence data frame (and the studies and codebook).

``evidence`` is ``results/evidence/evidence.csv`` as a data frame: one row per study x tier x field x
value (``study_id, tier, field, value, basis``). ``studies`` has one row per included study
(``study_id, citation, year, title``). Tiers are ordered as the codebook lists them (historically,
RHB to ICB), functions and themes as the codebook lists their codes.
"""

from __future__ import annotations

import pandas as pd

from .codebook import Codebook

KEY = "tier"


def _field(evidence: pd.DataFrame, name: str) -> pd.DataFrame:
    return evidence[evidence["field"] == name][["study_id", KEY, "value"]]


def _citations(study_ids, studies: pd.DataFrame) -> str:
    cite = dict(zip(studies["study_id"], studies["citation"]))
    return "; ".join(sorted({cite.get(s, s) for s in study_ids}))


def _tier_order(codebook: Codebook) -> list[str]:
    return list(codebook[KEY].codes) if KEY in codebook.names else []


def characteristics(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """One row per included study: citation, year, evidence type, design, tiers, period, quality."""
    def values(study: str, name: str) -> str:
        rows = evidence[(evidence["study_id"] == study) & (evidence["field"] == name)]
        return "; ".join(sorted(set(rows["value"])))

    tiers = _tier_order(codebook)
    rows = []
    for study in studies.sort_values(["year", "citation"]).itertuples(index=False):
        ev = evidence[evidence["study_id"] == study.study_id]
        if ev.empty:
            continue
        study_tiers = sorted(set(ev[KEY]) - {""}, key=lambda t: tiers.index(t) if t in tiers else len(tiers))
        starts = pd.to_numeric(ev[ev["field"] == "period_start"]["value"], errors="coerce").dropna()
        ends = pd.to_numeric(ev[ev["field"] == "period_end"]["value"], errors="coerce").dropna()
        period = f"{int(starts.min())}-{int(ends.max())}" if len(starts) and len(ends) else ""
        rows.append({"citation": study.citation, "year": study.year,
                     "evidence_type": values(study.study_id, "evidence_type"),
                     "design": values(study.study_id, "study_design"), "tiers": "; ".join(study_tiers),
                     "period": period, "quality": values(study.study_id, "qa_overall")})
    return pd.DataFrame(rows, columns=["citation", "year", "evidence_type", "design", "tiers", "period", "quality"])


def cross(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, field: str) -> pd.DataFrame:
    """Long table tier x code of a field: number of studies and their citations (tiers in codebook order)."""
    data = _field(evidence, field)
    tiers = _tier_order(codebook)
    codes = list(codebook[field].codes)
    rows = []
    for (tier, code), group in data.groupby([KEY, "value"], sort=False):
        rows.append({"tier": tier, "code": code, "studies": group["study_id"].nunique(),
                     "citations": _citations(group["study_id"], studies)})
    table = pd.DataFrame(rows, columns=["tier", "code", "studies", "citations"])
    if table.empty:
        return table
    table["_t"] = table["tier"].map(lambda t: tiers.index(t) if t in tiers else len(tiers))
    table["_c"] = table["code"].map(lambda c: codes.index(c) if c in codes else len(codes))
    return table.sort_values(["_t", "_c"]).drop(columns=["_t", "_c"]).reset_index(drop=True)


def matrix(long: pd.DataFrame, codebook: Codebook, field: str) -> pd.DataFrame:
    """The counts of ``cross`` as a tier x code matrix (rows and columns that have evidence only)."""
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot_table(index="tier", columns="code", values="studies", aggfunc="sum", fill_value=0)
    tiers = [t for t in _tier_order(codebook) if t in wide.index]
    codes = [c for c in codebook[field].codes if c in wide.columns]
    return wide.reindex(index=tiers, columns=codes).astype(int)


def tier_function(evidence, studies, codebook) -> pd.DataFrame:
    return cross(evidence, studies, codebook, "functions")


def theme_tier(evidence, studies, codebook) -> pd.DataFrame:
    return cross(evidence, studies, codebook, "themes")


def lg_relations(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Relations with local government by tier: mechanisms and the distribution of strength."""
    tiers = _tier_order(codebook)
    rows = []
    for tier in [t for t in tiers if t in set(evidence[KEY])]:
        ev = evidence[evidence[KEY] == tier]
        mechanisms = ev[ev["field"] == "lg_mechanisms"]["value"].value_counts()
        strength = ev[ev["field"] == "lg_strength"]["value"].value_counts()
        if mechanisms.empty and strength.empty:
            continue
        rows.append({"tier": tier,
                     "mechanisms": "; ".join(f"{k} ({v})" for k, v in sorted(mechanisms.items())),
                     "strength": "; ".join(f"{k} ({v})" for k, v in sorted(strength.items())),
                     "studies": ev["study_id"].nunique(), "citations": _citations(ev["study_id"], studies)})
    return pd.DataFrame(rows, columns=["tier", "mechanisms", "strength", "studies", "citations"])


def lessons(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Lessons for ICSs grouped by theme, with stance and the supporting studies."""
    lesson = evidence[evidence["field"] == "lessons_for_ics"][["study_id", KEY, "value"]]
    stance = evidence[evidence["field"] == "lesson_stance"][["study_id", KEY, "value"]].rename(
        columns={"value": "stance"})
    themes = _field(evidence, "themes").rename(columns={"value": "theme"})
    merged = lesson.merge(stance, on=["study_id", KEY], how="left").merge(themes, on=["study_id", KEY], how="left")
    labels = {c.code: c.label for c in codebook["themes"].choices}
    order = list(codebook["themes"].codes)
    rows = []
    for (theme, text, stance_value), group in merged.fillna("").groupby(["theme", "value", "stance"]):
        rows.append({"theme": theme, "theme_label": labels.get(theme, theme), "lesson": text,
                     "stance": stance_value, "citations": _citations(group["study_id"], studies)})
    table = pd.DataFrame(rows, columns=["theme", "theme_label", "lesson", "stance", "citations"])
    table["_o"] = table["theme"].map(lambda t: order.index(t) if t in order else len(order))
    return table.sort_values(["_o", "lesson"]).drop(columns="_o").reset_index(drop=True)


def enablers_barriers(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """King's Fund 2018 enablers (KF_E_) and barriers (KF_B_) tallied across studies."""
    themes = _field(evidence, "themes")
    labels = {c.code: c.label for c in codebook["themes"].choices}
    rows = []
    for code in codebook["themes"].codes:
        if not code.startswith(("KF_E_", "KF_B_")):
            continue
        ids = themes[themes["value"] == code]["study_id"]
        if ids.empty:
            continue
        rows.append({"kind": "enabler" if code.startswith("KF_E_") else "barrier", "code": code,
                     "label": labels[code], "studies": ids.nunique(), "citations": _citations(ids, studies)})
    return pd.DataFrame(rows, columns=["kind", "code", "label", "studies", "citations"])


def timeline(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The tiers with their years (from the codebook) and the evidence behind each."""
    rows = []
    for choice in codebook[KEY].choices:
        if not choice.period:
            continue
        ids = evidence[evidence[KEY] == choice.code]["study_id"]
        rows.append({"tier": choice.code, "label": choice.label, "from": choice.period[0], "to": choice.period[1],
                     "studies": ids.nunique(), "citations": _citations(ids, studies) if len(ids) else ""})
    return pd.DataFrame(rows, columns=["tier", "label", "from", "to", "studies", "citations"])


def quality(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Quality appraisal per tool: how many study x tier rows rated high, moderate, low."""
    tool = _field(evidence, "qa_tool").rename(columns={"value": "tool"})
    overall = _field(evidence, "qa_overall").rename(columns={"value": "overall"})
    merged = tool.merge(overall, on=["study_id", KEY], how="left").fillna({"overall": "not rated"})
    if merged.empty:
        return pd.DataFrame(columns=["tool", "high", "moderate", "low", "not rated"])
    table = merged.groupby(["tool", "overall"])["study_id"].nunique().unstack(fill_value=0)
    table = table.reindex(columns=["high", "moderate", "low", "not rated"], fill_value=0)
    return table.reset_index().rename_axis(columns=None)


TABLES = {
    "characteristics": ("Characteristics of included studies", characteristics),
    "tier_function": ("Functions by tier: studies and citations", tier_function),
    "theme_tier": ("Themes by tier: studies and citations", theme_tier),
    "lg_relations": ("Relations with local government by tier", lg_relations),
    "lessons": ("Lessons for ICSs by theme", lessons),
    "enablers_barriers": ("Enablers and barriers (King's Fund 2018)", enablers_barriers),
    "timeline": ("Timeline of the tiers and the evidence behind each", timeline),
    "quality": ("Quality appraisal by tool", quality),
}
