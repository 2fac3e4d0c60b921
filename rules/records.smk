# Stage 1: sources -> results/records/records.csv (+ issues.csv, sources.csv).

# Snakemake cannot see that a Zotero library changed, so Zotero is asked now, before the DAG is
# built; a snapshot is rewritten only when its content changed, so an unchanged library reruns nothing.
sync_zotero(config, workflow)


rule import_records:
    input:
        protocol=PROTOCOL,
        sources=source_inputs(config),
    output:
        records="results/records/records.csv",
        issues="results/records/issues.csv",
        sources="results/records/sources.csv",
    params:
        review=REVIEW,
        version=VERSION,
    log:
        "results/logs/import_records.log",
    conda:
        "../envs/review.yaml"
    shell:
        "{params.review} records --protocol {input.protocol} --out results/records > {log} 2>&1"
        " || {{ cat {log} >&2; exit 1; }}"
