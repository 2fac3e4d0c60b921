# Screening and PRISMA: decisions from Zotero tags and screening workbooks -> results/screening/;
# counts and the flow diagram -> results/prisma/. As for every reviewers' file, the workbooks are not
# declared outputs; a digest of the decisions typed in them is a parameter of screen_records.


rule screen_records:
    input:
        records=rules.import_records.output.records,
        groups=rules.find_duplicates.output.groups,
        unique=rules.find_duplicates.output.unique,
    output:
        decisions="results/screening/decisions.csv",
        screening="results/screening/screening.csv",
        conflicts="results/screening/conflicts.csv",
        agreement="results/screening/agreement.csv",
        included="results/screening/included.csv",
        issues="results/screening/issues.csv",
    params:
        review=REVIEW,
        version=VERSION,
        settings=config["screening"],
        reviewers=config["reviewers"],
        decisions=screening_decisions(config),
    log:
        "results/logs/screen_records.log",
    conda:
        "../envs/review.yaml"
    shell:
        "{params.review} screen --records {input.records} --groups {input.groups} --unique {input.unique}"
        " --out results/screening > {log} 2>&1 || {{ cat {log} >&2; exit 1; }}"


rule count_prisma:
    input:
        sources=rules.import_records.output.sources,
        dedup=rules.find_duplicates.output.counts,
        unique=rules.find_duplicates.output.unique,
        screening=rules.screen_records.output.screening,
    output:
        counts="results/prisma/counts.csv",
        flow="results/prisma/flow.svg",
        search_log="results/prisma/search_log.csv",
        issues="results/prisma/issues.csv",
    params:
        review=REVIEW,
        version=VERSION,
        sources=config["sources"],
        screening=config["screening"],
        template=template_digest(config, "prisma_flow.svg.j2"),
    log:
        "results/logs/count_prisma.log",
    conda:
        "../envs/review.yaml"
    shell:
        "{params.review} prisma --sources {input.sources} --dedup-counts {input.dedup} --screening {input.screening}"
        " --unique {input.unique} --out results/prisma > {log} 2>&1 || {{ cat {log} >&2; exit 1; }}"
