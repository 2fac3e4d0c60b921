# Stage 2: records -> duplicate groups (results/dedup/), undecided pairs -> extracts/duplicates.xlsx.
# The reviewers' workbook is not an input or output file of the rule: Snakemake deletes a job's outputs
# before it runs, and a reviewer's typing must never be at risk. Instead a digest of the decisions in
# it is a parameter, so the rule reruns exactly when a reviewer decided a pair.


rule find_duplicates:
    input:
        records=rules.import_records.output.records,
    output:
        groups="results/dedup/groups.csv",
        unique="results/dedup/unique_records.csv",
        pairs="results/dedup/pairs.csv",
        counts="results/dedup/counts.csv",
        issues="results/dedup/issues.csv",
    params:
        review=REVIEW,
        version=VERSION,
        settings=config["dedup"],
        decisions=reviewer_decisions(config),
    log:
        "results/logs/find_duplicates.log",
    conda:
        "../envs/review.yaml"
    shell:
        "{params.review} duplicates --records {input.records} --out results/dedup > {log} 2>&1"
        " || {{ cat {log} >&2; exit 1; }}"
