# Stages 3 and 4: extraction sheets for reviewers, and the evidence read back from them.
# The workbooks in extracts/ are reviewers' files, never outputs (Snakemake deletes a job's outputs
# before it runs). write_sheets appends rows to them; read_extractions has a digest of what reviewers
# typed as a parameter, so typing reruns the evidence stage (and nothing before it), while rows the
# pipeline appends do not.


rule write_sheets:
    input:
        unique=rules.find_duplicates.output.unique,
        included=rules.screen_records.output.included,
        codebook=config["extraction"]["codebook"],
    output:
        summary="results/sheets/sheets.csv",
    params:
        review=REVIEW,
        version=VERSION,
        reviewers=config["reviewers"],
    log:
        "results/logs/write_sheets.log",
    conda:
        "../envs/review.yaml"
    shell:
        "{params.review} sheets --unique {input.unique} --included {input.included} --summary {output.summary}"
        " > {log} 2>&1"
        " || {{ cat {log} >&2; exit 1; }}"


rule read_extractions:
    input:
        sheets=rules.write_sheets.output.summary,
        unique=rules.find_duplicates.output.unique,
        included=rules.screen_records.output.included,
        codebook=config["extraction"]["codebook"],
    output:
        evidence="results/evidence/evidence.csv",
        tidy="results/evidence/extractions.csv",
        wide="results/evidence/extractions_wide.csv",
        agreement="results/evidence/agreement.csv",
        disagreements="results/evidence/disagreements.csv",
        validation="results/evidence/validation.csv",
        report="results/evidence/validation.md",
    params:
        review=REVIEW,
        version=VERSION,
        extraction=config["extraction"],
        typed=typed_in_sheets(config),
    log:
        "results/logs/read_extractions.log",
    conda:
        "../envs/review.yaml"
    shell:
        "{params.review} evidence --unique {input.unique} --included {input.included} --out results/evidence"
        " > {log} 2>&1"
        " || {{ cat {log} >&2; exit 1; }}"
