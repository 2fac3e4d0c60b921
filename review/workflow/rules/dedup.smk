# Stage 2: records -> duplicate groups (results/dedup/), undecided pairs -> extracts/duplicates.xlsx.
# The reviewers' workbook is not an input or output file of the rule: Snakemake deletes a job's outputs
# before it runs, and a reviewer's typing must never be at risk. Instead a digest of the decisions in
# it is a parameter, so the rule reruns exactly when a reviewer decided a pair.


rule find_duplicates:
    input:
        records=rules.import_records.output.records,
    output:
        **OUTPUTS["find_duplicates"],
    params:
        version=VERSION,
        config=stage_config(config, "find_duplicates"),
        paths=stage_paths("find_duplicates"),
        typed=typed(config, "find_duplicates"),
    log:
        "results/logs/find_duplicates.log",
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review duplicates {params.paths} --config {params.config:q} > {log} 2>&1'
        " || {{ cat {log} >&2; exit 1; }}"
