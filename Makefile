# Two commands: `make review` runs the pipeline on the bundled sample, `make test` runs the tests.
# Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# every core: Snakemake's jobs side by side, and the records stage's sources (make review CORES=1: one at a time)
CORES  ?= all

.PHONY: review test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

review: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check review tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/snakemake --lint

clean:
	rm -rf results .snakemake
