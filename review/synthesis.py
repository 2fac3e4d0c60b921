"""What the synthesis starts from, and what the executive summary says of it. Pure: plain data in and out.

``candidate_evidence`` lists, for each review question, the evidence the codebook declares for it
(``report.synthesis.questions``: the fields whose values answer it), one row per field x value x tier x
study, with the study's summary text and page locator, labels never codes. ``gaps`` lists the key x code
cells of the evidence map with no evidence, and the included studies not yet extracted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from . import certainty
from .codebook import Codebook
from .tables import KEY, key_order
from .team import Team


def audiences(codebook: Codebook) -> tuple[str, ...]:
    """Who the recommendations are for, as the review declares them (``report.synthesis.audiences`` in its
    codebook): one review's audiences, never the package's."""
    return tuple(codebook.report.get("synthesis", {}).get("audiences", []))


def framework(codebook: Codebook) -> certainty.Framework:
    """How the review rates its findings, as its codebook declares it (``report.synthesis.certainty``;
    validated on load), GRADE-CERQual when it declares none."""
    return certainty.FRAMEWORKS[codebook.report.get("synthesis", {}).get("certainty", certainty.DEFAULT)]


def _question_fields(codebook: Codebook) -> list[list[str]]:
    return [list(q) for q in codebook.report.get("synthesis", {}).get("questions", [])]


def candidate_evidence(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook,
                       n_questions: int) -> list[dict[str, str]]:
    """The evidence sheet's rows: question, field, value, tier (labels), study, citation, summary, locator."""
    spec = codebook.report.get("synthesis", {})
    if evidence.empty:
        return []
    records = [{str(k): str(v) for k, v in r.items()} for r in evidence.to_dict("records")]
    cite = dict(zip(studies["study_id"], studies["citation"]))
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name in spec.get("summary", []):
        for r in records:
            if r["field"] == name:
                texts[(r["study_id"], r[KEY])].append(f"{codebook[name].label}: {r['value']}")
    places: dict[tuple[str, str], set[str]] = defaultdict(set)  # each reviewer's locator, when they differ
    for r in records:
        if r["field"] == spec.get("locator"):
            places[(r["study_id"], r[KEY])].add(r["value"])
    where = {k: " / ".join(sorted(v)) for k, v in places.items()}
    key = codebook.key_fields[0]
    order = {code: k for k, code in enumerate(key_order(codebook))}
    rows = []
    for number, fields in enumerate(_question_fields(codebook)[:n_questions], start=1):
        for name in fields:
            f = codebook[name]
            position = {code: k for k, code in enumerate(f.codes)}
            given = sorted((r for r in records if r["field"] == name),
                           key=lambda r: (position.get(r["value"], 999), r["value"], order.get(r[KEY], 999),
                                          r["study_id"]))
            for r in given:
                rows.append({"question": f"Q{number}", "field": f.label,
                             "value": f.label_of(r["value"]) if f.choices else r["value"],
                             "tier": key.label_of(r[KEY]), "study_id": r["study_id"],
                             "citation": cite.get(r["study_id"], ""),
                             "summary": " | ".join(texts.get((r["study_id"], r[KEY]), [])),
                             "locator": where.get((r["study_id"], r[KEY]), "")})
    return rows


def by_question(questions: Sequence[str], findings: list[dict[str, Any]],
                candidates: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each review question with the findings the team wrote for it and how much candidate evidence it has."""
    out = []
    for number, question in enumerate(questions, start=1):
        code = f"Q{number}"
        mine = [f for f in findings if f["question"] == code]
        studies = sorted({c["study_id"] for c in candidates if c["question"] == code})
        out.append({"code": code, "question": question, "findings": mine, "candidate_studies": len(studies)})
    other = [f for f in findings if not f["question"]]
    if other:
        out.append({"code": "", "question": "Other findings", "findings": other, "candidate_studies": 0})
    return out


def by_audience(recommendations: list[dict[str, Any]], declared: Sequence[str]) -> list[dict[str, Any]]:
    """Recommendations grouped by audience, in the declared order (none declared: as the team first typed
    them); unassigned last."""
    order = list(declared) or list(dict.fromkeys(r["audience"] for r in recommendations if r["audience"]))
    groups = [{"audience": a, "recommendations": [r for r in recommendations if r["audience"].lower() == a.lower()]}
              for a in order]
    rest = [r for r in recommendations if r["audience"].lower() not in {a.lower() for a in order}]
    if rest:
        groups.append({"audience": "audience not given", "recommendations": rest})
    return [g for g in groups if g["recommendations"]]


def gaps(matrix: pd.DataFrame, studies: pd.DataFrame, evidence: pd.DataFrame,
         disputed: Mapping[str, list[str]] | None = None, catch_all: Collection[str] = ()) -> dict[str, Any]:
    """What the evidence does not cover: empty cells of the evidence map (rows with no evidence at all named
    apart), and the included studies nobody has extracted yet. ``disputed`` maps a row of the map to the
    citations whose values for the mapped field wait for the consensus: such a row is not a gap, and is
    listed as disputed rather than empty. Rows and columns named in ``catch_all`` ("Other") are left out: no
    evidence on whatever the list lacks is no gap."""
    disputed = dict(disputed or {})
    extracted = set(evidence["study_id"]) if not evidence.empty else set()
    waiting = sorted(studies[~studies["study_id"].isin(extracted)]["citation"]) if len(studies) else []
    pending = [{"row": row, "citations": sorted(set(cites))} for row, cites in disputed.items()]
    if matrix.empty:  # no map to read gaps from: the section says why rather than stand empty under its heading
        note = ("No study has been included yet." if not len(studies) else "" if waiting else
                "The codebook declares no evidence map (report: evidence_map), so gaps are not mapped.")
        return {"cells": 0, "empty_cells": 0, "empty_rows": [], "thin_rows": [], "not_extracted": waiting,
                "disputed_rows": pending, "note": note}
    matrix = matrix.drop(index=[i for i in matrix.index if i in catch_all],
                         columns=[c for c in matrix.columns if c in catch_all])
    values = matrix.to_numpy()
    order = [str(i) for i in matrix.index]
    pending.sort(key=lambda d: order.index(d["row"]) if d["row"] in order else len(order))
    empty_rows = [str(i) for i, row in zip(matrix.index, values) if not row.any() and str(i) not in disputed]
    thin = [{"row": str(i), "columns": [str(c) for c, v in zip(matrix.columns, row) if v]}
            for i, row in zip(matrix.index, values) if row.any() and (row > 0).sum() <= 2]
    return {"cells": int(values.size), "empty_cells": int((values == 0).sum()), "empty_rows": empty_rows,
            "thin_rows": thin, "not_extracted": waiting, "disputed_rows": pending, "note": ""}


def prioritisation(summary: Mapping[str, str]) -> str:
    """The methods' sentences on screening prioritisation and stopping, from ``results/screening/prioritisation.csv``
    ({measure: value}); empty when prioritisation is off."""
    if not summary.get("model"):
        return ""
    trained = [summary.get(k) or "0" for k in ("trained_on_included", "trained_on_excluded")]
    if not all(t.isdigit() and int(t) for t in trained):  # no model learned yet: nothing was ranked
        return ("Records not yet screened at title and abstract are to be presented in order of predicted relevance "
                "once at least one inclusion and one exclusion have been decided; no ranking has been made yet.")
    text = (f"Records not yet screened at title and abstract were presented in order of predicted relevance, "
            f"relearned at each refresh from the decisions so far ({summary['model']}). "
            # records, as the PRISMA flow calls what is screened (each a study once duplicates are merged)
            f"{summary['screened']} of the {summary['studies']} records had been screened on title and abstract and "
            f"{summary['found']} of them kept for full text. "
            # the method's own reference in full: the reference list holds the review's studies, not its methods
            f"Stopping was judged by the hypergeometric test of Callaghan and Müller-Hansen (2020, Statistical "
            f"stopping criteria for automated screening in systematic reviews, Systematic Reviews 9:273, "
            f"https://doi.org/10.1186/s13643-020-01521-4): "
            f"{summary['sentence'][:1].lower()}{summary['sentence'][1:]}")
    if summary.get("stopped_on"):
        note = f" ({summary['stop_note']})" if summary.get("stop_note") else ""
        text += (f" The team stopped screening on {summary['stopped_on']}{note}; the {summary['not_screened']} "
                 "records not screened are counted in the PRISMA flow as marked ineligible by automation tools "
                 "(the stopping rule above).")
    return text


def _interface(database: str, interface: str) -> str:
    """The interface searched, unless the database's name already says it ("HMIC (Ovid)" via Ovid)."""
    return "" if interface and interface.casefold() in database.casefold() else interface


def methods(config: Mapping[str, Any], screening_agreement: pd.DataFrame,
            extraction_agreement: pd.DataFrame) -> dict[str, Any]:
    """The methods box: each source's search (database, interface, date, search string, records), and the
    agreement between reviewers at screening and extraction."""
    sources = [{"name": s["name"], "database": s.get("database") or s["name"],
                "interface": _interface(s.get("database") or s["name"], s.get("search", {}).get("interface", "")),
                "date": s.get("search", {}).get("date", ""),
                "search_string": s.get("search", {}).get("search_string", ""),
                # a search log's records left empty (null) say nothing, not "None records"
                "records": "" if s.get("search", {}).get("records") is None else s["search"]["records"]}
               for s in config.get("sources", [])]
    screening = [{"stage": STAGES.get(r["stage"], r["stage"].replace("_", " ")), "compared": r["items_compared"],
                  "agreement": r["agreement"], "kappa": r["kappa"], "single": _whole(r.get("screened_by_one"))}
                 for r in screening_agreement.to_dict("records")] if len(screening_agreement) else []
    kappas = pd.to_numeric(extraction_agreement.get("kappa", pd.Series(dtype=str)), errors="coerce")
    fields = list(extraction_agreement.get("field", pd.Series("", index=extraction_agreement.index)).astype(str))
    rated = [(float(k), f) for k, f in zip(kappas, fields) if pd.notna(k)]
    kappas = kappas.dropna()
    weakest = min(rated) if rated else None
    team = Team.from_config(dict(config))
    return {"sources": sources, "screening": screening, "prioritisation": "",
            "reviewers": list(team.readers), "team": team.describe() if team.former else "",
            "extraction_fields": int(len(extraction_agreement)), "extraction_kappa_fields": int(len(kappas)),
            "extraction_kappa_median": f"{kappas.median():.2f}" if len(kappas) else "",
            # the weakest field, which a median of mostly perfect fields would hide (its label set by the report)
            "extraction_kappa_lowest": ({"field": weakest[1], "kappa": f"{weakest[0]:.2f}"}
                                        if weakest and weakest[0] < kappas.median() else None)}


def _whole(value: Any) -> int | None:
    """A count from a CSV cell; None where the file has no such column or leaves it empty (older outputs)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


STAGES = {"title_abstract": "title and abstract", "full_text": "full text"}


def count(n: int, noun: str, plural: str = "") -> str:
    """``n`` and the noun in the number it takes: "1 reviewer", "0 reviewers", "2 studies"."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def _signed(number: object) -> str:
    """A number as prose prints it: a negative one with the minus sign, which no line breaks after (a hyphen
    let Word and LibreOffice print "kappa -" on one line and "0.100" on the next)."""
    text = str(number)
    return "\u2212" + text[1:] if text.startswith("-") else text


def kappa_meaning(kappa: str, agreement: str = "") -> str:
    """What a Cohen's kappa says, in Landis and Koch's (1977) words; a kappa far below the raw agreement
    says that nearly every decision was the same, where kappa tells little."""
    try:
        k = float(kappa)
    except ValueError:
        return ""
    # Landis and Koch's bands include their upper bound: 0.00-0.20 slight ... 0.61-0.80 substantial, 0.81-1.00 almost
    # perfect (a kappa of exactly 0.800 is substantial, not almost perfect)
    bands = ((0.2, "slight agreement"), (0.4, "fair agreement"), (0.6, "moderate agreement"),
             (0.8, "substantial agreement"))
    words = ("less than chance agreement" if k < 0 else "perfect agreement" if k >= 1 - 1e-9 else
             next((w for top, w in bands if k <= top + 1e-9), "almost perfect agreement"))
    try:
        share = float(agreement)
    except ValueError:
        return words
    if share >= 0.8 and k < 0.4:  # the prevalence paradox: agreement on one common decision, kappa near or below 0
        words += (f": the reviewers agreed on {share:.1%} of them, nearly all on the common decision, but not on "
                  "the rare one, which is what kappa weighs")
    return words


def studies_sentence(n: Mapping[str, int]) -> str:
    """The flow in one sentence, every number from ``review.report_counts.numbers``."""
    parts = [f"{count(n['identified'], 'record')} {'was' if n['identified'] == 1 else 'were'} identified",
             f"{count(n['duplicates'], 'duplicate')} removed"]
    if n["automatic"]:
        parts.append(f"{count(n['automatic'], 'record')} marked ineligible by the stopping rule")
    if n["screened"] and n["awaiting_ta"] == n["screened"]:  # before any decision: not "35 screened (35 awaiting)"
        parts.append(f"{count(n['screened'], 'record')} to screen on title and abstract, none decided yet")
    else:
        screened = f"{count(n['screened'], 'record')} screened on title and abstract"
        if n["awaiting_ta"]:
            screened += f" ({n['awaiting_ta']} still awaiting a decision)"
        parts.append(f"{screened}, of which {n['excluded_ta']} excluded")
    full = [f"{n['not_retrieved']} not retrieved" if n["not_retrieved"] else "",
            f"{n['awaiting_ft']} awaiting a decision" if n["awaiting_ft"] else "",
            f"{n['assessed']} assessed, of which {n['excluded_ft']} excluded with reasons"]
    if n["sought"]:  # none sought yet: not "of the 0 reports sought, 0 assessed, of which 0 excluded"
        parts.append(f"of the {count(n['sought'], 'report')} sought as full text, " + ", ".join(f for f in full if f))
    else:
        parts.append("no report sought as full text yet")
    if not n["included"]:
        return "; ".join(parts) + ". No study is included yet."
    return ("; ".join(parts) + f". {count(n['included'], 'study', 'studies')} "
            f"{'is' if n['included'] == 1 else 'are'} included, {n['studies_extracted']} of them extracted so far.")


def limitation_lines(numbers: Mapping[str, int], open_disagreements: int, validation_errors: int,
                     low_quality: list[str], key_label: str = "key") -> list[str]:
    """The limitations the data shows, one sentence each, right for 0, 1 and many; the one source every format
    prints."""
    included, extracted = numbers.get("studies_included", 0), numbers.get("studies_extracted", 0)
    lines = []
    if not included:
        lines.append("No study has been included yet.")
    elif not extracted:
        lines.append("The one included study has not been extracted yet." if included == 1
                     else f"None of the {included} included studies has been extracted yet.")
    elif extracted < included:
        lines.append(f"{extracted} of {count(included, 'included study', 'included studies')} "
                     f"{'has' if extracted == 1 else 'have'} been extracted so far.")
    if open_disagreements:
        lines.append(f"{count(open_disagreements, 'disagreement')} between reviewers "
                     f"{'is' if open_disagreements == 1 else 'are'} not yet resolved.")
    if validation_errors:
        lines.append(f"{count(validation_errors, 'validation error')} {'is' if validation_errors == 1 else 'are'} "
                     "outstanding in the extraction sheets.")
    alone, rows = numbers.get("rows_one_reviewer", 0), numbers.get("rows_extracted", 0)
    if alone:
        lines.append(f"{alone} of {count(rows, f'study x {key_label} row')} extracted "
                     f"{'rests' if alone == 1 else 'rest'} on one reviewer alone.")
    fields_alone = numbers.get("values_one_reviewer", 0)
    if fields_alone:
        lines.append(f"{count(fields_alone, 'entry', 'entries')} {'in other rows ' if alone else ''}(a field of a "
                     f"row) {'was' if fields_alone == 1 else 'were'} given by one reviewer only.")
    if low_quality:
        lines.append(f"Studies appraised as low quality: {'; '.join(low_quality)}.")
    return lines or ["None that the review's own records show: every included study is extracted, and no "
                     "disagreement or validation error is open."]


def agreement_sentence(methods: Mapping[str, Any], open_disagreements: int) -> str:
    """Screening and extraction by the reviewers: how many, how far they agreed and what that means, and
    whether their disagreements are settled (none said settled while any is open)."""
    out = []
    for s in methods["screening"]:
        meaning = kappa_meaning(str(s["kappa"]), str(s["agreement"]))
        compared, decided = int(s["compared"]), methods.get("decided", {}).get(s["stage"])
        # the screening stage counts them; from older outputs, decided minus compared (an open conflict is in both)
        alone = s.get("single") if s.get("single") is not None else (
            decided - compared if decided is not None and decided > compared else 0)
        single = (f"; the other {count(alone, 'record')} {'was' if alone == 1 else 'were'} screened by one reviewer"
                  if alone else "")
        # compared but not decided: the reviewers' conflicts still open (11 compared + 67 alone, 77 decided: 1)
        open_ = compared + alone - decided if s.get("single") is not None and decided is not None else 0
        if open_ > 0:
            single += (f"; {open_} of the records compared {'is' if open_ == 1 else 'are'} still in conflict, "
                       "awaiting a decision")
        if compared < 20 and meaning:  # a kappa on a handful of records is a rough figure
            meaning += f"; on {count(compared, 'record')}, a rough estimate"
        out.append(f"Screening at {s['stage']}: {count(compared, 'record')} screened by both reviewers independently "
                   f"{'was' if compared == 1 else 'were'} compared, agreement {s['agreement']}, "
                   f"Cohen's kappa {_signed(s['kappa'])}"
                   + (f" ({meaning})" if meaning else "") + single + ".")
    paired = {s["stage"] for s in methods["screening"]}
    alone_at = [(stage, decided) for stage, decided in methods.get("decided", {}).items()
                if decided and stage not in paired and methods["reviewers"]]  # stages no two reviewers shared
    if alone_at:
        parts = [f"{count(decided, 'report' if stage == 'full text' else 'record')} decided at {stage}"
                 for stage, decided in alone_at]
        one = len(alone_at) == 1 and alone_at[0][1] == 1
        out.append(f"{' and '.join(parts)[:1].upper()}{' and '.join(parts)[1:]} {'was' if one else 'were each'} "
                   "screened by one reviewer, so no agreement between reviewers is measured "
                   f"{'there' if paired else 'in screening'}.")
    reviewers = len(methods["reviewers"])
    if not reviewers:
        out.append("No reviewer is listed in the protocol yet, so no study has been extracted.")
    elif methods.get("studies_extracted", 1) == 0:  # nothing extracted yet: no agreement and nothing settled to tell
        out.append(f"Data extraction by {count(reviewers, 'reviewer')} has not started yet.")
    elif reviewers == 1:
        out.append("Data were extracted by 1 reviewer, so no agreement between reviewers is measured.")
    elif reviewers:
        fields = int(methods["extraction_fields"])
        text = f"Data were extracted independently by {reviewers} reviewers"
        alone, rows = int(methods.get("rows_one_reviewer", 0)), int(methods.get("rows_extracted", 0))
        fields_alone = int(methods.get("values_one_reviewer", 0))
        if alone:  # "independently by 2 reviewers" is not true of every row
            text += (f", except {count(alone, 'study x ' + methods.get('key_label', 'key') + ' row')} of {rows} "
                     f"extracted by one reviewer only")
        if fields_alone:
            text += (f"{' and' if alone else ', except'} {count(fields_alone, 'entry', 'entries')} (a field of a row) "
                     f"{'in other rows ' if alone else ''}given by one reviewer only (the other left it blank, or "
                     "theirs was set aside by validation)")
        if fields and methods["extraction_kappa_median"]:
            meaning = kappa_meaning(str(methods["extraction_kappa_median"]))
            with_kappa = int(methods.get("extraction_kappa_fields", fields))
            over = (f"over {count(fields, 'field')} compared" if with_kappa == fields else
                    f"over the {with_kappa} of {count(fields, 'field')} compared that have one (free text and "
                    "fields where every value was the same have none)")
            text += (f"; {over}, the median Cohen's kappa was {_signed(methods['extraction_kappa_median'])}"
                     + (f" ({meaning})" if meaning else ""))
            lowest = methods.get("extraction_kappa_lowest")
            if lowest:
                text += (f", the lowest {_signed(lowest['kappa'])} ({lowest.get('label') or lowest['field']}, "
                         f"{kappa_meaning(lowest['kappa'])})")
        settled = ("Their disagreements were settled in the consensus workbook." if not open_disagreements else
                   f"{count(open_disagreements, 'disagreement')} {'is' if open_disagreements == 1 else 'are'} still "
                   "open in the consensus workbook.")
        out.append(f"{text}. {settled}")
    if methods.get("team"):  # someone left: who did the work, and that theirs still counts
        out.append(f"Reviewers: {methods['team']}.")
    return " ".join(out)
