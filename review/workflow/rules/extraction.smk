# Stages 3 and 4: extraction sheets for reviewers, and the evidence read back from them.
# The workbooks in extracts/ are reviewers' files, never outputs (Snakemake deletes a job's outputs
# before it runs). write_sheets appends rows to them; read_extractions has a digest of what reviewers
# typed as a parameter, so typing reruns the evidence stage (and nothing before it), while rows the
# pipeline appends do not.


rule write_sheets:
    input:
        unique=rules.find_duplicates.output.unique,
        ids=rules.find_duplicates.output.ids,
        included=rules.screen_records.output.included,
        codebook=config["extraction"]["codebook"],
    output:
        **OUTPUTS["write_sheets"],
    params:
        version=VERSION,
        config=stage_config(config, "write_sheets"),
        paths=stage_paths("write_sheets"),
        missing=missing_sheets(config),
    log:
        "results/logs/write_sheets.log",
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review sheets {params.paths} --config {params.config:q} > {log} 2>&1'
        " || {{ cat {log} >&2; exit 1; }}"


rule read_extractions:
    input:
        sheets=rules.write_sheets.output.summary,
        unique=rules.find_duplicates.output.unique,
        ids=rules.find_duplicates.output.ids,
        included=rules.screen_records.output.included,
        codebook=config["extraction"]["codebook"],
    output:
        **OUTPUTS["read_extractions"],
    params:
        version=VERSION,
        config=stage_config(config, "read_extractions"),
        paths=stage_paths("read_extractions"),
        typed=typed(config, "read_extractions"),
    log:
        "results/logs/read_extractions.log",
    conda:
        "../envs/review.yaml"
    shell:
        '"$REVIEW_PYTHON" -m review evidence {params.paths} --config {params.config:q} > {log} 2>&1'
        " || {{ cat {log} >&2; exit 1; }}"
