# Screening and PRISMA: decisions from Zotero tags and screening workbooks -> results/screening/;
# counts and the flow diagram -> results/prisma/. As for every reviewers' file, the workbooks are not
# declared outputs; a digest of the decisions typed in them is a parameter of screen_records.


rule screen_records:
    input:
        records=rules.import_records.output.records,
        groups=rules.find_duplicates.output.groups,
        unique=rules.find_duplicates.output.unique,
        ids=rules.find_duplicates.output.ids,
    output:
        **OUTPUTS["screen_records"],
    params:
        version=VERSION,
        config=stage_config(config, "screen_records"),
        paths=stage_paths("screen_records"),
        typed=typed(config, "screen_records"),
    log:
        "results/logs/screen_records.log",
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review screen {params.paths} --config {params.config:q} > {log} 2>&1'
        " || {{ cat {log} >&2; exit 1; }}"


rule count_prisma:
    input:
        sources=rules.import_records.output.sources,
        dedup=rules.find_duplicates.output.counts,
        unique=rules.find_duplicates.output.unique,
        screening=rules.screen_records.output.screening,
        previous=previous_inputs(config),
    output:
        **OUTPUTS["count_prisma"],
    params:
        version=VERSION,
        config=stage_config(config, "count_prisma"),
        paths=stage_paths("count_prisma"),
        templates=template_digest(config, "count_prisma"),
    log:
        "results/logs/count_prisma.log",
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review prisma {params.paths} --config {params.config:q} > {log} 2>&1'
        " || {{ cat {log} >&2; exit 1; }}"
