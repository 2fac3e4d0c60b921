# Stage 1: sources -> results/records/records.csv (+ issues.csv, sources.csv).

# Snakemake cannot see that a Zotero library changed, so Zotero is asked now, before the DAG is
# built (not in a dry run); a snapshot is rewritten only when its content changed, so an unchanged
# library reruns nothing.
sync_zotero(config, workflow)


rule import_records:
    input:
        sources=source_inputs(config),
    output:
        **OUTPUTS["import_records"],
    params:
        version=VERSION,
        config=stage_config(config, "import_records"),
        paths=stage_paths("import_records"),
    log:
        "results/logs/import_records.log",
    # the sources are read side by side, one process each (nothing else can run before this rule ends)
    threads: workflow.cores
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review records {params.paths} --config {params.config:q} --jobs {threads}'
        " > {log} 2>&1 || {{ cat {log} >&2; exit 1; }}"
