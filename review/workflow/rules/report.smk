# Stage 5: evidence tables (results/tables/) and the executive summary (results/report/).
# extracts/synthesis.xlsx (key messages, findings per question with GRADE-CERQual, recommendations) is the
# team's file: created once, never an output; a digest of what the team wrote in it is a parameter, as are the
# templates (team overrides included). Its evidence sheet is the pipeline's, rewritten at each refresh.
# The tables are the ones the codebook declares (tables:).


rule write_report:
    input:
        evidence=rules.read_extractions.output.evidence,
        validation=rules.read_extractions.output.validation,
        disagreements=rules.read_extractions.output.disagreements,
        counts=rules.count_prisma.output.counts,
        flow=rules.count_prisma.output.flow,
        included=rules.screen_records.output.included,
        unique=rules.find_duplicates.output.unique,
        ids=rules.find_duplicates.output.ids,
        changes=rules.report_changes.output.csv,
        screening_agreement=rules.screen_records.output.agreement,
        prioritisation=rules.screen_records.output.prioritisation,
        extraction_agreement=rules.read_extractions.output.agreement,
        codebook=config["extraction"]["codebook"],
    output:
        **OUTPUTS["write_report"],
        **report_tables(config),
    params:
        version=VERSION,
        config=stage_config(config, "write_report"),
        paths=stage_paths("write_report"),
        typed=typed(config, "write_report"),
        templates=template_digest(config, "write_report"),
    log:
        "results/logs/write_report.log",
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review report {params.paths} --config {params.config:q} > {log} 2>&1'
        " || {{ cat {log} >&2; exit 1; }}"
