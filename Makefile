# Vigil: every set-up step lives here so a fresh Debian machine with Python 3.11 and make is enough.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint pytest bench services clean models

$(STAMP): pyproject.toml requirements/lock.txt
	@scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	$(BIN)/pip install --quiet -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

## demo: generate ~50,000 synthetic items, ingest and scan them on SQLite, print a summary, write an HTML report
demo: $(STAMP)
	$(BIN)/vigil demo --out out/demo

## test: lint, type-check and run the whole test suite (SQLite and PostgreSQL)
test: $(STAMP) services lint pytest

services:
	@scripts/ensure-postgres.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(STAMP) services
	$(BIN)/python bench/ingest_scan.py

## models: retrain the shipped text classifier from ../shared/data/text and evaluate it (out/models/)
models: $(STAMP)
	$(BIN)/python scripts/build_models.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
