# The two set-up commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGES := api surveys mapping web

.PHONY: install run test lint typecheck layering contracts pytest serve clean bench soak serve-prod

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve the app on an embedded SQLite database with the demo data, at http://127.0.0.1:8000
run: install
	$(BIN)/accessgap db upgrade
	$(BIN)/accessgap demo load
	$(BIN)/accessgap serve --host 127.0.0.1 --port 8000

## Every quality gate, then the whole test suite (SQLite, PostgreSQL, Node, Chromium)
test: install lint typecheck layering contracts pytest

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## (Plain ast checks: without the suite's conftest and the plugins they need nothing of, it starts in a second.)
layering: install
	$(BIN)/pytest -q -p no:cacheprovider --noconftest -p no:schemathesis -p no:hypothesispytest -p no:anyio tests/test_layering.py

## The import contracts between api, web, mapping and surveys ([tool.importlinter] in pyproject.toml)
contracts: install
	$(BIN)/lint-imports --no-cache

## The suite on two workers (pytest-xdist); the 15 slowest tests are listed at the end
PYTEST_WORKERS ?= 2
pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15

## Benchmarks side by side (submission, export, map): one table, figures in bench/results/
bench: install
	$(BIN)/python bench/run_all.py

## Soak: scenario 24 (5 min) and 27 (30 min at ~5 req/s) per database, then the fault tests at full length (ACCESSGAP_SOAK=1); bench/results/soak.json
soak: install
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

## Production server: gunicorn, 2 uvicorn workers, PostgreSQL from ACCESSGAP_DATABASE_URL
serve-prod: install
	@case "$$ACCESSGAP_DATABASE_URL" in postgresql*) ;; \
	  *) echo "Set ACCESSGAP_DATABASE_URL=postgresql://... (see docs/deploy.md)"; exit 1;; esac
	$(BIN)/accessgap db upgrade
	$(BIN)/gunicorn -c api/gunicorn_conf.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
