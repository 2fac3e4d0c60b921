# What this refresh changed: results/changes/ (Markdown and CSV), against the previous refresh.
# The state compared is kept in extracts/.state/ (beside the reviewers' files, committed with them), not in
# an output: Snakemake deletes a job's outputs before it runs. `review changes --since REV` compares with
# the state at a git revision or date.


rule report_changes:
    input:
        records=rules.import_records.output.records,
        groups=rules.find_duplicates.output.groups,
        screening=rules.screen_records.output.screening,
        tidy=rules.read_extractions.output.tidy,
        evidence=rules.read_extractions.output.evidence,
        validation=rules.read_extractions.output.validation,
        screening_issues=rules.screen_records.output.issues,
        records_issues=rules.import_records.output.issues,
        decisions=rules.screen_records.output.decisions,
        unique=rules.find_duplicates.output.unique,
    output:
        **OUTPUTS["report_changes"],
    params:
        version=VERSION,
        config=stage_config(config, "report_changes"),
        paths=stage_paths("report_changes"),
        typed=typed(config, "report_changes"),
    log:
        "results/logs/report_changes.log",
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review changes {params.paths} --config {params.config:q} > {log} 2>&1'
        " || {{ cat {log} >&2; exit 1; }}"
