# On a fresh machine with Python 3.11+ and a C compiler:
#   make run    the service on embedded PostgreSQL and Redis, with a demo config (127.0.0.1:8000)
#   make test   ruff, mypy and the test suite without its slow scenarios (real servers: TEST_DATABASE_URL /
#               TEST_REDIS_URL when set, else embedded ones; the console's browser tests
#               when a Chromium is installed)
#   make test-slow  the slow fault, concurrency, pooler and import scenarios (CI runs both)
# The virtualenv is reinstalled only when pyproject.toml changes (stamp files in .venv).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python on PATH that is 3.11 or newer.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
RUN_ARGS ?= --demo
BENCH_ARGS ?=

.PHONY: help run test test-slow lint bench clean clean-data

help:
	@echo "make run      run leadgate (webhook, worker, beat) on the embedded servers, with a demo"
	@echo "make test     lint, type-check and run the tests but the slow scenarios"
	@echo "make test-slow  the slow fault, concurrency, pooler and import scenarios (pytest -m slow)"
	@echo "make lint     ruff check, ruff format --check, mypy"
	@echo "make bench    the benchmarks with their baselines (BENCH_ARGS=\"--quick\", \"--only B1,B2\", \"--soak-seconds 120\")"
	@echo "make clean    remove the virtualenv and caches (keeps .leadgate, the embedded data)"
	@echo "make clean-data  remove .leadgate, the embedded servers' data"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "make: Python 3.11 or newer is needed on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-embedded: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[embedded]'
	touch $@

# The test extra includes the embedded one, so it satisfies `make run` too.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-embedded

run: $(VENV)/.installed-embedded
	$(BIN)/leadgate run $(RUN_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# The console's browser tests need a Chromium (Debian's `chromium`; Playwright never downloads
# one). Without it they are left out, and the run says so in a line nobody can miss.
CHROMIUM ?= $(or $(LEADGATE_CHROMIUM),$(shell command -v chromium 2>/dev/null),$(shell command -v chromium-browser 2>/dev/null))

# The slow scenarios (kill -9, restarts, outages, the pooler, a 100,000-row import) are left to
# `make test-slow`, and the run says so; CI runs both, so every test runs there.
SLOW_SKIPPED := make test: the slow fault, concurrency, pooler and import scenarios are SKIPPED here (pytest -m slow): run 'make test-slow'; CI runs both

test: lint
	@echo "$(SLOW_SKIPPED)"
	@if [ -z "$(CHROMIUM)" ]; then \
	  echo "!!!!!! NO CHROMIUM FOUND: THE CONSOLE'S BROWSER TESTS ARE SKIPPED (apt-get install chromium) !!!!!!"; \
	  $(BIN)/pytest -m "not slow" --ignore=tests/console/browser; \
	else \
	  LEADGATE_CHROMIUM="$(CHROMIUM)" $(BIN)/pytest -m "not slow"; \
	fi
	@echo "$(SLOW_SKIPPED)"

test-slow: $(VENV)/.installed-test
	$(BIN)/pytest -m slow

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.leadgate -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

clean-data:
	rm -rf .leadgate
