# Stage 5: evidence tables (results/tables/) and the executive summary (results/report/).
# extracts/findings.xlsx (GRADE-CERQual findings) is a reviewers' file: created once, never an output;
# a digest of the findings written in it is a parameter, as are the templates (team overrides included).


rule write_report:
    input:
        evidence=rules.read_extractions.output.evidence,
        validation=rules.read_extractions.output.validation,
        disagreements=rules.read_extractions.output.disagreements,
        counts=rules.count_prisma.output.counts,
        flow=rules.count_prisma.output.flow,
        included=rules.screen_records.output.included,
        unique=rules.find_duplicates.output.unique,
    output:
        markdown="results/report/executive_summary.md",
        html="results/report/executive_summary.html",
        docx="results/report/executive_summary.docx",
        evidence_map="results/report/evidence_map.svg",
        issues="results/report/issues.csv",
        workbook="results/tables/tables.xlsx",
        tables=expand("results/tables/{table}.csv", table=REPORT_TABLES),
    params:
        review=REVIEW,
        version=VERSION,
        protocol={key: config.get(key) for key in ("title", "review_questions", "scope", "output", "screening")},
        findings=findings_written(config),
        templates=template_digest(config, "executive_summary.md.j2", "executive_summary.html.j2", "_table.md.j2"),
    log:
        "results/logs/write_report.log",
    conda:
        "../envs/review.yaml"
    shell:
        "{params.review} report --results results --out results/report --tables results/tables > {log} 2>&1"
        " || {{ cat {log} >&2; exit 1; }}"
