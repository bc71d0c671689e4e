# The two commands of the README are the contract: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Stamps record which extras the venv holds; they are refreshed when pyproject.toml changes.
BASE_STAMP  := $(VENV)/.stamp-base
DEV_STAMP   := $(VENV)/.stamp-dev
BENCH_STAMP := $(VENV)/.stamp-bench

.PHONY: demo test test-all bench lint clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BASE_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@ $(BASE_STAMP)

$(BENCH_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@touch $@ $(DEV_STAMP) $(BASE_STAMP)

demo: $(BASE_STAMP)
	$(BIN)/jaxlab repro --demo --out runs/demo

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]: the layers of
# ARCHITECTURE.md).
lint: $(DEV_STAMP)
	$(BIN)/ruff check jaxlab tests benchmarks notebooks
	$(BIN)/lint-imports --no-cache

# Tests run in parallel worker processes (pytest-xdist). `worksteal` gives each worker a
# contiguous half of the (reordered, see tests/conftest.py) tests, so a file's tests mostly
# share one process and its compilations, and an idle worker takes tests from a busy one:
# with whole files per worker (`loadfile`) one worker ran alone for the last ~3 minutes.
# `make test PYTEST_WORKERS=1` runs serially.
PYTEST_WORKERS ?= auto

test: $(DEV_STAMP) lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

test-all: $(DEV_STAMP) lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal -m "not benchmark"

bench: $(BENCH_STAMP)
	$(BIN)/python -m pytest benchmarks -m benchmark -p no:randomly --benchmark-columns=min,median,mean,rounds --benchmark-sort=name

clean:
	rm -rf $(VENV) runs .pytest_cache .benchmarks
