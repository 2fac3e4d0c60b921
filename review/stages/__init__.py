"""One module per Snakemake rule: read the inputs, call the decision logic, write the outputs.

Each stage declares the protocol keys it reads (``CONFIG_KEYS``), its input and output files with their
default paths (``INPUTS``, ``OUTPUTS``: the rule's ``{input}`` and ``{output}`` names), and ``run(config,
inputs, outputs)``. The Snakefile passes the stage exactly the configuration Snakemake has (the protocol
with ``--config``/``--configfile`` overrides) and the rule's own paths; no stage imports another.
"""
