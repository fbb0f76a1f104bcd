# careledger: `make run` serves the demo, `make test` runs everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-16)
PG_URL ?= postgres://postgres@127.0.0.1:5432/careledger
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run test lint fmt check-openapi openapi bench bench-quick pg chromium disk-for-bench disk-for-bench-quick

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

run: $(STAMP) ## create .venv, install, migrate, load the demo and serve on http://127.0.0.1:8000
	@$(BIN)/careledger migrate --no-input -v0
	@$(BIN)/careledger createcachetable
	@$(BIN)/careledger demo
	@echo ""
	@echo "careledger is serving on http://127.0.0.1:8000 (demo logins above; password: demo)"
	@$(BIN)/careledger runserver 127.0.0.1:8000

pg: ## start the local PostgreSQL 15 if it is down
	@bash .ci/ensure-postgres

chromium: ## install Debian's chromium for the browser tests if missing
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP) ## ruff, mypy, import-linter, migrations check, OpenAPI snapshot check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy careledger
	$(BIN)/lint-imports
	$(BIN)/careledger makemigrations --check --dry-run
	$(BIN)/python -m careledger.api.snapshot --check

fmt: $(STAMP) ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: $(STAMP) ## rewrite the committed OpenAPI snapshot (docs/openapi.json)
	$(BIN)/python -m careledger.api.snapshot --write

test: $(STAMP) pg chromium lint ## everything CI runs: lint, types, contracts, pytest on SQLite and PostgreSQL, browser tests
	$(BIN)/pytest tests/rules -p no:django -q -o addopts=""
	$(BIN)/pytest -m "not browser"
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser" --create-db
	$(BIN)/pytest -m browser

bench: disk-for-bench $(STAMP) pg ## the 100,000-patient health system on SQLite and PostgreSQL, ratios to raw SQL (JSON last)
	@$(BIN)/python bench/health_system.py

bench-quick: disk-for-bench-quick $(STAMP) pg ## the same at 10,000 patients, under 5 minutes, data set cached (JSON last)
	@$(BIN)/python bench/health_system.py --quick

# The benchmarks stop before they start when the disk cannot hold their data sets.
disk-for-bench:
	@bash bench/need-disk 10 bench

disk-for-bench-quick:
	@bash bench/need-disk 2 bench-quick
