# The review pipeline, run on this folder's review (protocols/review.yaml, extracts/, templates/). The
# workflow is the installed package's own: review/workflow/Snakefile is its table of contents (the protocol
# loaded and checked, one rules/<stage>.smk per stage), so that upgrading the package upgrades the workflow
# and this folder holds only the review. Every review started with `review new` has this same file.
from review.snakemake import WORKFLOW


include: WORKFLOW


# `snakemake` refreshes the review; `snakemake sheets`, `evidence` or `report` goes as far as that stage.
rule all:
    input:
        REFRESH,
