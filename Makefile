# The two quick-start commands (see README.md):
#   make demo   set up a virtual environment and run the end-to-end demo
#   make test   set up a virtual environment with the test extras and run lint, all
#               tests and the documentation build (make docs), which runs every example
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TEST_EXTRAS ?= dev,torch,jax,parquet,docs

.PHONY: demo test test-oldest lint docs bench clean

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
	$(BIN)/ruff check sktraceprop tests benchmarks examples doc
	$(BIN)/ruff format --check sktraceprop tests benchmarks examples doc

# The documentation, then the tests, each run even if the other fails; the test
# suite's summary stays the last line of the output.
test: lint
	@$(MAKE) --no-print-directory docs; docs=$$?; \
	$(BIN)/python -m pytest -n 2 -q -p no:cacheprovider --doctest-modules sktraceprop tests; \
	tests=$$?; [ $$docs -eq 0 ] || echo "make docs failed (see above)"; \
	[ $$docs -eq 0 ] && [ $$tests -eq 0 ]

# User guide, API reference and the example gallery (every example runs), offline;
# any warning fails the build, and so do a public name missing from doc/api.rst and
# an example that draws no figure (doc/conf.py).
docs: $(VENV)/.test
	$(BIN)/sphinx-build -W --keep-going -q -b html -d doc/_build/doctrees doc doc/_build/html

# The tests again at the oldest versions pyproject.toml allows (.ci/oldest-constraints.txt),
# in their own virtual environment; .ci/run runs this after `make test`.
OLDEST ?= .venv-oldest
$(OLDEST)/.test: pyproject.toml .ci/oldest-constraints.txt
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install -q --upgrade pip
	$(OLDEST)/bin/pip install -q -e ".[dev,torch,parquet]" -c .ci/oldest-constraints.txt
	touch $@

test-oldest: $(OLDEST)/.test
	$(OLDEST)/bin/python -m pytest -n 2 -q -p no:cacheprovider tests

bench: $(VENV)/.test
	cd benchmarks && for b in bench_*.py; do ../$(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(OLDEST) sktraceprop-demo.db* .pytest_cache .ruff_cache
	rm -rf doc/_build doc/auto_examples doc/generated doc/gen_modules doc/sg_execution_times.rst
