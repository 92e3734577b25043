# Two commands for a new user: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test lint bench demo clean mutate

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(PY) -m local demo

# Mutation testing (mutmut, configured in pyproject.toml): slow, so not part of `make test`. Starts
# afresh each time (mutmut would keep old verdicts of unchanged code even after the tests improved).
# Narrow it with MUTANTS, e.g. `make mutate MUTANTS='transform.reingest.*'`.
MUTATE_CHILDREN ?= 2
MUTANTS ?=
mutate: $(STAMP)
	rm -rf mutants
	set -f; $(VENV)/bin/mutmut run --max-children $(MUTATE_CHILDREN) $(MUTANTS)
	$(PY) -m tools.mutation_report

clean:
	rm -rf local-run build .pytest_cache .ruff_cache
