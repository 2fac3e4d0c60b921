# The review pipeline: a table of contents. Each stage lives in rules/<stage>.smk and calls one
# `review` command. The protocol (protocols/review.yaml), with any --config/--configfile overrides, is the
# configuration: it is validated here once and each job is given the part its stage reads.
from review.snakemake import (
    OUTPUTS,
    PROTOCOL,
    VERSION,
    checked_protocol,
    missing_sheets,
    report_tables,
    source_inputs,
    stage_config,
    stage_paths,
    sync_zotero,
    template_digest,
    typed,
)

# not `configfile:`: Snakemake's own YAML loader expands alias bombs and keeps the last of a key given twice
config.update(checked_protocol(config))


include: "rules/records.smk"
include: "rules/dedup.smk"
include: "rules/screening.smk"
include: "rules/extraction.smk"
include: "rules/changes.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        rules.import_records.output,
        rules.find_duplicates.output,
        rules.screen_records.output,
        rules.count_prisma.output,
        rules.read_extractions.output,
        rules.report_changes.output,
        rules.write_report.output,


# Shortcuts: `snakemake sheets` refreshes the reviewers' sheets, `snakemake evidence` reads them back.
rule sheets:
    input:
        rules.write_sheets.output,


rule evidence:
    input:
        rules.read_extractions.output,


rule report:
    input:
        rules.write_report.output,
