# The review pipeline: a table of contents. Each stage lives in rules/<stage>.smk and calls one
# `review` command; the protocol (protocols/review.yaml) is the configuration.
from review.snakemake import PROTOCOL, REVIEW, checked_protocol, source_inputs, sync_zotero

configfile: PROTOCOL
config.update(checked_protocol(config))


include: "rules/records.smk"


rule all:
    default_target: True
    input:
        rules.import_records.output,
