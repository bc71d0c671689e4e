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

lint: $(DEV_STAMP)
	$(BIN)/ruff check jaxlab tests benchmarks notebooks

# Test files run in parallel worker processes (pytest-xdist), one file per worker at a time
# so each process reuses its compilations; `make test PYTEST_WORKERS=1` runs serially.
PYTEST_WORKERS ?= auto

test: $(DEV_STAMP) lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test-all: $(DEV_STAMP) lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not benchmark"

bench: $(BENCH_STAMP)
	$(BIN)/python -m pytest benchmarks -m benchmark -p no:randomly --benchmark-columns=min,median,mean,rounds --benchmark-sort=name

clean:
	rm -rf $(VENV) runs .pytest_cache .benchmarks
