"""The executive summary's content: plain data for the templates, built from the evidence.

Pure logic (the stage is ``review.stages.report``; Word and figures are ``review.documents``). What the
summary draws on (the findings field, the lessons table, the evidence map, what counts as low quality)
is declared in the codebook's ``report:`` section, the tables in its ``tables:`` section.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from . import report_counts, synthesis, tables
from .certainty import Framework
from .citations import reference_parts
from .codebook import Codebook, TableSpec
from .figures import TimelineLayout


def table_payload(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[("" if v is None else str(v)) for v in row] for row in frame.itertuples(index=False)]}


def certainty_summary(framework: Framework, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The certainty framework's summary table, the one source every format reads: its heading ("Summary of
    findings (GRADE)"), the sentence saying how findings were rated, what the overall judgement is called
    (``word``: confidence, certainty) and a row per finding (none when the review rates nothing);
    ``overall`` is the overall judgement's column (shown in bold)."""
    columns = [("finding", "Finding"), ("studies", "Contributing studies"), *framework.headers]
    rows = [[f["finding"], "; ".join(s["citation"] for s in f["studies"]), *(f.get(c, "") for c, _ in columns[2:])]
            for f in findings] if framework.rated else []
    # nothing rated yet: the method is what the team will do, not what it did
    rated = any(f.get(framework.overall) for f in findings) if framework.overall else False
    method = framework.method if rated else framework.method.replace(" was assessed with ", " is to be assessed with ")
    return {"name": framework.name, "title": framework.title, "heading": framework.heading, "word": framework.word,
            "method": method, "columns": [label for _, label in columns] if rows else [], "rows": rows,
            "overall": [c for c, _ in columns].index(framework.overall) if framework.overall else -1}


def header(name: str, codebook: Codebook, spec: TableSpec | None = None) -> str:
    """A column's header as a reader sees it: the label of the field it shows (the codebook's, or the field
    a table declares for it), else its name in words with a capital ("citations" -> "Citations")."""
    fields = {f.name: f.label for f in codebook.all_fields}
    declared = {c["name"]: c.get("field") for c in (spec.options.get("columns", []) if spec else [])}
    field = declared.get(name) or name
    if field in fields:
        return fields[field]
    text = str(name).replace("_", " ")
    return text[:1].upper() + text[1:]


def headed(payload: dict[str, Any], codebook: Codebook, spec: TableSpec | None = None) -> dict[str, Any]:
    """A table payload whose columns are headers for readers (the CSV tables keep the names)."""
    return {**payload, "columns": [header(c, codebook, spec) for c in payload["columns"]]}


def as_year(value: Any) -> float:
    """A year (2006) or an ISO date ("2006-07-01") as a fractional year, for the timeline."""
    import datetime

    if isinstance(value, int):
        return float(value)
    day = datetime.date.fromisoformat(str(value))
    start = datetime.date(day.year, 1, 1)
    return day.year + (day - start).days / (datetime.date(day.year + 1, 1, 1) - start).days


def timeline_layout(codebook: Codebook, config: dict[str, Any]) -> TimelineLayout:
    """The timeline's panels and eras as the codebook declares them, running to the report's date."""
    spec = codebook.report.get("timeline", {})
    date = config.get("output", {}).get("document", {}).get("date")
    return TimelineLayout(panels=[(p["title"], list(p["codes"])) for p in spec.get("panels", [])],
                          eras=[{"from": as_year(e["from"]), "to": as_year(e["to"]) if "to" in e else None,
                                 "label": e["label"]} for e in spec.get("eras", [])],
                          until=as_year(date) if date else None)


# The executive summary's sections, in the order a board reader wants them: one page first (the context, the
# key messages with their confidence and sources, the ask), then the evidence, and the process (methods,
# search, prioritisation and stopping, PRISMA, what changed) in an annex before the evidence tables. A
# codebook may declare its own order (``report.sections``: an ordered list of these names, each at most
# once; the schema names the allowed ones); every format follows it.
SECTIONS = ("context", "key_messages", "recommendations", "questions", "findings", "enablers_barriers", "gaps",
            "certainty", "limitations", "references", "process", "appendix")
# the sections that make the first page, before Word's table of contents
FIRST_PAGE = ("context", "key_messages", "recommendations")
# the section each figure is shown in
FIGURE_SECTIONS = (("timeline", "questions"), ("evidence_map", "gaps"), ("flow", "process"))


def number_figures(context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figures the summary shows, numbered in the order they appear (that of their sections), with their
    captions: the same numbers in every format (a figure is there when it was drawn, whether or not Word can
    show it)."""
    captions = {"timeline": context.get("timeline_caption", "Timeline"), "flow": "PRISMA 2020 flow diagram",
                "evidence_map": context.get("evidence_map_title", "Evidence map")}
    order = list(context.get("sections", SECTIONS))
    shown = sorted((order.index(section), name) for name, section in FIGURE_SECTIONS if section in order)
    out: dict[str, dict[str, Any]] = {}
    for _, name in shown:
        if context.get(f"{name}_svg") or context.get(f"{name}_png"):
            out[name] = {"number": len(out) + 1, "caption": captions[name]}
    return out


def document_info(config: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    """Who publishes the summary and its date, as the protocol gives them, with the review's status."""
    given = config.get("output", {}).get("document", {})
    authors = list(given.get("authors", []))
    return {"authors": authors, "organisation": given.get("organisation", ""), "date": given.get("date", ""),
            "language": given.get("language", "en-GB"),
            "author": "; ".join(authors) or given.get("organisation", ""), "status": status["label"]}


def review_status(studies_extracted: int, studies_included: int, questions_without_findings: int,
                  open_disagreements: int, validation_errors: int, unsourced: int = 0,
                  awaiting: int = 0) -> dict[str, Any]:
    """Draft while anything is incomplete, final only when nothing is: what remains, in words. ``awaiting``:
    records and reports with no screening decision yet (a review that has not decided them is not final)."""
    remaining = []
    if awaiting:
        remaining.append(f"{synthesis.count(awaiting, 'record or report', 'records or reports')} still to screen")
    if studies_extracted < studies_included:
        remaining.append(f"{studies_extracted} of {studies_included} included studies extracted")
    if questions_without_findings:
        remaining.append(f"{questions_without_findings} review question{'s' if questions_without_findings > 1 else ''}"
                         " without findings")
    if open_disagreements:
        remaining.append(f"{open_disagreements} disagreement{'s' if open_disagreements > 1 else ''} between "
                         "reviewers still open")
    if validation_errors:
        remaining.append(f"{validation_errors} validation error{'s' if validation_errors > 1 else ''}")
    if unsourced:
        remaining.append(f"{synthesis.count(unsourced, 'key message or recommendation', 'key messages or recommendations')}"
                         " without a linked finding")
    line = ("; ".join(remaining) + "." if remaining else
            "Every included study extracted, every review question answered, every message sourced, "
            "no open disagreement and no validation error.")
    return {"final": not remaining, "label": "Final" if not remaining else "Draft", "remaining": remaining,
            "line": line}


def sourced(items: list[dict[str, Any]], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Key messages or recommendations, each with the findings it rests on (their ids, as the findings
    list shows them) and those findings' studies: ``sources`` in words, empty when none is linked."""
    by_id = {f.get("finding_id", ""): f for f in findings if f.get("finding_id")}
    out = []
    for item in items:
        linked = [by_id[i] for i in item.get("finding_ids", []) if i in by_id]
        citations = list(dict.fromkeys(s["citation"] for f in linked for s in f.get("studies", [])))
        text = (("finding " if len(linked) == 1 else "findings ") + ", ".join(f["finding_id"] for f in linked)
                + (f" ({'; '.join(citations)})" if citations else "")) if linked else ""
        out.append({**item, "source_findings": [f["finding_id"] for f in linked], "source_citations": citations,
                    "sources": text})
    return out


def findings_by_code(evidence: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook, field: str
                     ) -> list[dict[str, Any]]:
    """Key findings from the data: for each code of ``field``, how many studies, which key codes, which studies
    (most studies first)."""
    given = evidence[evidence["field"] == field]
    cite = dict(zip(studies["study_id"], studies["citation"]))
    order = tables.key_order(codebook)
    out = []
    for choice in codebook[field].choices:
        rows = given[given["value"] == choice.code]
        if rows.empty:
            continue
        out.append({"label": choice.label, "code": choice.code, "studies": rows["study_id"].nunique(),
                    "key_codes": sorted(set(rows[tables.KEY]), key=lambda t: order.index(t) if t in order else 99),
                    "citations": sorted({cite.get(s, s) for s in rows["study_id"]})})
    return sorted(out, key=lambda f: (-f["studies"], f["code"]))


_COUNTED = re.compile(r"^(.+?) \((\d+)\)$")


def named(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """A computed table with its key column headed by the codebook's key field (``programme``, ``tier``)
    rather than the evidence's internal column name."""
    key = codebook.key_fields[0].name if codebook.key_fields else tables.KEY
    return frame.rename(columns={tables.KEY: key}) if key != tables.KEY else frame


def for_readers(frame: pd.DataFrame, codebook: Codebook, spec: TableSpec) -> pd.DataFrame:
    """A declared table as the report shows it: labels for codes, and a ratings table's level columns
    headed by the levels' labels."""
    out = labelled(named(frame, codebook), codebook, spec.options.get("field"))
    if spec.kind == "ratings":
        rating = codebook[spec.options["rating"]]
        out = out.rename(columns={c: rating.label_of(c) for c in spec.options["levels"]})
    return out


def labelled(frame: pd.DataFrame, codebook: Codebook, field: str | None = None) -> pd.DataFrame:
    """A table as a reader sees it: every code (alone, in a list, or counted as ``code (2)``) as its label;
    a ``label`` column that only repeated a code's label is dropped; a ``code`` column is headed by the label
    of its ``field``."""
    # the tables' own words for a cell no code fills, capitalised as the labels beside them are
    names = {tables.DISPUTED: "Disputed", tables.NOT_GIVEN: "Not given",
             **{c.code: c.label for f in codebook.all_fields for c in f.choices}}

    def one(value: Any) -> Any:
        text = str(value)
        counted = _COUNTED.match(text)
        if counted and counted.group(1) in names:
            return f"{names[counted.group(1)]} ({counted.group(2)})"
        for separator in ("; ", ", "):
            parts = text.split(separator)
            if len(parts) > 1 and all(p in names or _COUNTED.match(p) for p in parts):
                return separator.join(str(one(p)) for p in parts)
        return names.get(text, value)

    out = frame.copy()
    relabelled = []
    for column in out.columns:
        mapped = out[column].map(one)
        if not mapped.equals(out[column]):
            relabelled.append(str(column))
        out[column] = mapped
    # a label column that now repeats a relabelled column says nothing more
    drop = [c for c in out.columns if (c == "label" or str(c).endswith("_label"))
            and any(out[r].astype(str).equals(out[c].astype(str)) for r in relabelled if r != c)]
    out = out.drop(columns=drop)
    if field and "code" in out.columns:
        out = out.rename(columns={"code": codebook[field].label.lower()})
    return out


def build_context(config: dict[str, Any], codebook: Codebook, evidence: pd.DataFrame, studies: pd.DataFrame,
                  prisma_counts: pd.DataFrame, flow_svg: str, validation: pd.DataFrame,
                  disagreements: pd.DataFrame, findings: list[dict[str, Any]],
                  computed: dict[str, pd.DataFrame] | None = None, written: dict[str, list[dict[str, Any]]] | None = None,
                  screening_agreement: pd.DataFrame | None = None,
                  extraction_agreement: pd.DataFrame | None = None,
                  certainty: Framework | None = None) -> dict[str, Any]:
    """Plain data for the templates; ``computed`` are the declared tables if already computed, ``written``
    what the team wrote in the synthesis workbook (key messages, findings, recommendations), ``certainty``
    the framework its findings are rated in (by default the one the codebook declares)."""
    spec = codebook.report
    computed = tables.compute_all(evidence, studies, codebook, disagreements) if computed is None else computed
    counts = dict(zip(prisma_counts["data"], prisma_counts["n"])) if not prisma_counts.empty else {}
    low_quality: list[str] = []
    if "low_quality" in spec:
        rated = evidence[(evidence["field"] == spec["low_quality"]["field"])
                         & evidence["value"].isin(spec["low_quality"]["values"])]
        low_quality = sorted({studies.set_index("study_id")["citation"].get(s, s) for s in rated["study_id"]})
    open_disagreements = disagreements[disagreements["resolved_by"] == ""] if not disagreements.empty else disagreements
    errors = validation[validation["severity"] == "error"] if not validation.empty else validation
    lessons = None
    if "lessons_table" in spec:
        name = spec["lessons_table"]
        caption = next(t.caption for t in codebook.tables if t.name == name)
        lessons = {"name": name, "heading": spec.get("lessons_heading", caption),
                   **table_payload(named(computed[name], codebook))}
    field = spec.get("findings_field")
    extracted = studies["study_id"].isin(set(evidence["study_id"]))
    parts = reference_parts(studies[extracted].to_dict("records"))  # type: ignore[arg-type]  # str columns
    # the included studies not yet extracted are cited too (the evidence gaps list them, a finding may name
    # one): the reference list holds them under their own heading, so that every citation resolves
    waiting = reference_parts(studies[~extracted].to_dict("records"))  # type: ignore[arg-type]
    written = written or {}
    questions = config.get("review_questions", [])
    candidates = synthesis.candidate_evidence(evidence, studies, codebook, len(questions))
    matrix = evidence_matrix(computed, codebook)
    barriers = spec.get("synthesis", {}).get("enablers_barriers_table")
    captions = {t.name: t.caption for t in codebook.tables}
    declared = {t.name: t for t in codebook.tables}
    by_question = synthesis.by_question(questions, written.get("findings", findings), candidates)
    numbers = report_counts.numbers(prisma_counts, studies, evidence)
    count_problems = report_counts.disagreements(numbers, computed, codebook)
    messages = sourced(written.get("key messages", []), written.get("findings", findings))
    recommendations = sourced(written.get("recommendations", []), written.get("findings", findings))
    status = review_status(numbers["studies_extracted"], numbers["studies_included"],
                           sum(1 for q in by_question if not q["findings"]), len(open_disagreements),
                           len(errors) + len(count_problems),
                           sum(1 for m in [*messages, *recommendations] if not m["source_findings"]),
                           numbers.get("awaiting_ta", 0) + numbers.get("awaiting_ft", 0))
    methods = synthesis.methods(config, screening_agreement if screening_agreement is not None else pd.DataFrame(),
                                extraction_agreement if extraction_agreement is not None else pd.DataFrame())
    methods["studies_text"] = synthesis.studies_sentence(numbers)
    methods["studies_extracted"] = numbers["studies_extracted"]
    methods["rows_extracted"], methods["rows_one_reviewer"] = numbers["rows_extracted"], numbers["rows_one_reviewer"]
    methods["values_one_reviewer"] = numbers["values_one_reviewer"]
    methods["key_label"] = codebook.key_fields[0].label.lower() if codebook.key_fields else "key"
    methods["decided"] = {"title and abstract": numbers["screened"] - numbers["awaiting_ta"],
                          "full text": numbers["assessed"]}
    lowest = methods["extraction_kappa_lowest"]
    if lowest and lowest["field"] in codebook.all_names:  # the field as the reader knows it, not its column name
        lowest["label"] = codebook[lowest["field"]].label
    methods["agreement_text"] = synthesis.agreement_sentence(methods, len(open_disagreements))
    context = {
        "key_messages": messages, "numbers": numbers, "count_problems": count_problems,
        "by_question": by_question, "status": status, "document": document_info(config, status),
        "recommendations": synthesis.by_audience(recommendations, synthesis.audiences(codebook)),
        "methods": methods,
        "gaps": {**synthesis.gaps(matrix, studies, evidence, disputed_rows(open_disagreements, studies, codebook),
                                  catch_all_labels(codebook)),
                 "axes": map_axes(codebook)},
        "enablers_barriers": ({"caption": captions[barriers],
                               **headed(table_payload(for_readers(computed[barriers], codebook, declared[barriers])),
                                        codebook, declared[barriers])}
                              if barriers else None),
        "appendix": [{"name": t.name, "caption": t.caption,
                      **headed(table_payload(for_readers(computed[t.name], codebook, t)), codebook, t)}
                     for t in codebook.tables if t.name != barriers],  # the body shows that one already
        "candidate_evidence": candidates,
        "title": config["title"], "questions": config.get("review_questions", []), "scope": config.get("scope", ""),
        "criteria": config.get("screening", {}).get("inclusion_criteria", []),
        "prisma": {k: counts.get(k, "") for k in ("records_screened", "records_excluded", "dbr_sought_reports",
                                                  "dbr_assessed", "new_studies", "duplicates", "dbr_excluded")},
        "identified": sum(int(counts.get(k, 0) or 0) for k in ("database_results", "register_results",
                                                               "website_results", "organisation_results",
                                                               "citations_results")),
        "flow_svg": flow_svg,
        "tables": [{"name": t.name, "caption": t.caption, **table_payload(named(computed[t.name], codebook))}
                   for t in codebook.tables],
        "findings_heading": spec.get("findings_heading",
                                     f"Key findings by {codebook[field].label.lower()}" if field else "Key findings"),
        "findings": findings_by_code(evidence, studies, codebook, field) if field else [],
        "lessons": lessons,
        "limitations": {"low_quality": low_quality, "open_disagreements": len(open_disagreements),
                        "validation_errors": len(errors), "studies_extracted": numbers["studies_extracted"],
                        "studies_included": numbers["studies_included"],
                        "lines": synthesis.limitation_lines(numbers, len(open_disagreements), len(errors), low_quality,
                                                            methods["key_label"])},
        "certainty": certainty_summary(certainty or synthesis.framework(codebook), written.get("findings", findings)),
        "changes": [],  # what the last refresh changed (review.changes.summary), set by the stage
        # the reference list in the style's order: plain text, and as parts with the style's italics
        "references": ["".join(p["text"] for p in entry) for entry in parts], "reference_parts": parts,
        "waiting_reference_parts": waiting, "references_note": lone_letters_note(list(studies["citation"])),
        # what the list says when the evidence cites no study yet: one wording for every format
        "references_empty": "" if parts else ("No study is cited in the evidence yet; the included studies are "
                                              "listed below." if waiting else "No study is cited yet."),
        "codebook_version": codebook.version,
        "evidence_map_title": spec.get("evidence_map", {}).get("title", "Evidence map"),
        "evidence_map_svg": "", "timeline_svg": "",  # the figures, drawn by the stage
        "timeline_caption": next((t.caption for t in codebook.tables if t.kind == "key_periods"), "Timeline"),
        "sections": list(spec.get("sections", SECTIONS)),
    }
    context["figures"] = number_figures(context)  # again by the stage once it has drawn them
    return context


_LETTERED = re.compile(r"^(.*\d{4})([a-z]+)$")


def lone_letters_note(citations: list[str]) -> str:
    """A word on a year's letter with no partner in the reference list ("Lorne et al. 2019a" with no 2019b):
    the letters tell apart studies among all the review's records, excluded ones too, so that a study is cited
    alike in the screening workbooks and in the report. Empty when every letter has its partner here."""
    bases = [m.group(1) for m in map(_LETTERED.match, citations) if m]
    lone = sorted(c for c in citations if (m := _LETTERED.match(c)) and bases.count(m.group(1)) == 1)
    if not lone:
        return ""
    return (f"A letter after the year ({'; '.join(lone)}) tells apart studies of the same authors and year "
            "among all the records the review screened, excluded ones too, so that a study is cited alike in the "
            "screening workbooks and here; its partner is not among the included studies.")


def map_axes(codebook: Codebook) -> str:
    """What the evidence map crosses, in words ("tier by functions"), for the text about its gaps."""
    spec = codebook.report.get("evidence_map")
    if not spec or not codebook.key_fields:
        return ""
    return f"{codebook.key_fields[0].label.lower()} by {codebook[spec['field']].label.lower()}"


def disputed_rows(open_disagreements: pd.DataFrame, studies: pd.DataFrame, codebook: Codebook) -> dict[str, list[str]]:
    """Rows of the evidence map (key labels) whose mapped field some study still has in dispute, with the
    citations of those studies: the map shows them empty until the consensus settles them."""
    spec = codebook.report.get("evidence_map")
    if not spec or open_disagreements.empty or not codebook.key_fields:
        return {}
    key = codebook.key_fields[0]
    cite = dict(zip(studies["study_id"], studies["citation"]))
    rows: dict[str, list[str]] = {}
    for d in open_disagreements[open_disagreements["field"] == spec["field"]].to_dict("records"):
        rows.setdefault(key.label_of(d[tables.KEY]), []).append(cite.get(d["study_id"], d["study_id"]))
    return rows


def catch_all_labels(codebook: Codebook) -> set[str]:
    """The labels of the evidence map's catch-all codes ("Other"), as its rows and columns are named."""
    spec = codebook.report.get("evidence_map")
    if not spec or not codebook.key_fields:
        return set()
    return {c.label for f in (codebook.key_fields[0], codebook[spec["field"]]) for c in f.choices if c.catch_all}


def evidence_matrix(context_tables: dict[str, pd.DataFrame], codebook: Codebook) -> pd.DataFrame:
    """The key x code counts the evidence map shows (empty when the codebook declares no map)."""
    spec = codebook.report.get("evidence_map")
    if not spec:
        return pd.DataFrame()
    counts = tables.matrix(context_tables[spec["table"]], codebook, spec["field"])
    key = codebook.key_fields[0]
    # labels, not codes: the reader of the figure has no codebook at hand
    return counts.rename(index=key.label_of, columns=codebook[spec["field"]].label_of)
