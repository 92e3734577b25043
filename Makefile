# Two commands for a new user: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test lint bench demo clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

lint: $(STAMP)  # ruff, mypy and the import rules, all configured in pyproject.toml
	$(VENV)/bin/ruff check . && $(VENV)/bin/mypy && $(VENV)/bin/lint-imports --no-cache --no-logo

test: lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(PY) -m local demo

clean:
	rm -rf local-run build .pytest_cache .ruff_cache
