# Two commands for a new user: `make demo` and `make test`. Both build .venv on first use.
# PYTHON is the interpreter that builds .venv (3.11 or newer), e.g. `make PYTHON=python3.12 test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# "3.11" for an interpreter, empty when it does not run; "1" when it is 3.11 or newer.
version_of = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
new_enough = $(shell $(1) -c 'import sys; print(int(sys.version_info >= (3, 11)))' 2>/dev/null)

# .venv is rebuilt when its Python is missing, broken or too old, or when PYTHON= (given on the command
# line or in the environment) names another version than the one that made it.
VENV_OK := $(call new_enough,$(PY))
ifneq ($(VENV_OK),1)
  VENV_STALE := yes
else ifneq ($(filter command line environment,$(origin PYTHON)),)
  ifneq ($(call version_of,$(PY)),$(call version_of,$(PYTHON)))
    VENV_STALE := yes
  endif
endif

.PHONY: venv test test-pythons unit lint bench demo clean mutate FORCE

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt $(if $(VENV_STALE),FORCE)
	@if [ "$(VENV_STALE)" = yes ] && [ "$(call new_enough,$(PYTHON))" != 1 ]; then \
	  found="$$($(PYTHON) -c 'import sys; print("Python %d.%d found" % sys.version_info[:2])' 2>/dev/null \
	    || echo '$(PYTHON) not found')"; \
	  echo "make: $$found; need 3.11+: run \`make PYTHON=python3.12 $(or $(MAKECMDGOALS),venv)\`" >&2; \
	  exit 1; \
	fi
	@if [ "$(VENV_STALE)" = yes ] && [ -e $(VENV) ]; then \
	  echo "make: $(VENV) was made by $$($(PY) -V 2>&1 || echo 'a Python that no longer runs'); rebuilding it with $(PYTHON) (Python $(call version_of,$(PYTHON)))"; \
	  rm -rf $(VENV); \
	fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

FORCE:

lint: $(STAMP)  # ruff, mypy and the import rules, all configured in pyproject.toml
	$(VENV)/bin/ruff check . && $(VENV)/bin/mypy && $(VENV)/bin/lint-imports --no-cache --no-logo

test: lint
	$(PY) -m pytest

# The fast loop: the tests not marked `slow` (no Pulumi program, zip, local pipeline or command), the
# same selection mutmut runs; no lint. Narrow it further with ARGS, e.g. `make unit ARGS=-x`.
unit: $(STAMP)
	$(PY) -m pytest -m "not slow" $(ARGS)

# `make test` again with each other Python the README names (3.11, 3.12, 3.13) that this machine has, each
# in a venv of its own under build/ (never .venv); a Python that is missing is named and skipped.
test-pythons: $(STAMP)
	$(PY) -m tools.pythons

bench: $(STAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(PY) -m local demo

# Read-only checks of the account and a stack's settings before `pulumi up` (docs/architecture.md, Preflight).
.PHONY: preflight
ifneq ($(filter preflight,$(MAKECMDGOALS)),)
  ifeq ($(STACK),)
    $(error name the stack: make preflight STACK=dev)
  endif
endif
preflight: $(STAMP)
	$(PY) -m preflight --stack $(STACK)

# Mutation testing (mutmut, configured in pyproject.toml): slow, so not part of `make test`. Starts
# afresh each time (mutmut would keep old verdicts of unchanged code even after the tests improved).
# Narrow it with MUTANTS, e.g. `make mutate MUTANTS='transform.reingest.*'`.
MUTATE_CHILDREN ?= 2
MUTANTS ?=
mutate: $(STAMP)
	rm -rf mutants
	set -f; $(VENV)/bin/mutmut run --max-children $(MUTATE_CHILDREN) $(MUTANTS)
	$(PY) -m tools.mutation_report

CLEANED := local-run .local-run.partial-* .local-run.old-* build mutants .pytest_cache .ruff_cache .mypy_cache .hypothesis
clean:
	rm -rf $(CLEANED)
	@echo "make clean: removed the demo's output (local-run/), the Lambda builds and test-pythons' venvs (build/) and the tool caches; kept $(VENV)/ (remove it with rm -rf $(VENV) to rebuild it)"
