# The two quick-start commands (see README.md):
#   make demo   set up a virtual environment and run the end-to-end demo
#   make test   set up a virtual environment with the test extras and run lint + all tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TEST_EXTRAS ?= dev,torch,jax,parquet

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[$(TEST_EXTRAS)]"
	touch $@ $(VENV)/.base

demo: $(VENV)/.base
	$(BIN)/sktraceprop demo --db sktraceprop-demo.db

lint: $(VENV)/.test
	$(BIN)/ruff check sktraceprop tests benchmarks examples
	$(BIN)/ruff format --check sktraceprop tests benchmarks examples

test: lint
	$(BIN)/python -m pytest -n 2 -q -p no:cacheprovider --doctest-modules sktraceprop tests

bench: $(VENV)/.test
	cd benchmarks && for b in bench_*.py; do ../$(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) sktraceprop-demo.db* .pytest_cache .ruff_cache
