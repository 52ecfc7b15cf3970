#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one short run (for a session lent one):
# CUDA-vs-CPU parity tests, then classifier throughput on the GPU. Results land in $OUT
# (or bench/results) for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
make .venv/.installed-ml >/dev/null
OUT="${OUT:-bench/results}"
.venv/bin/pytest -q tests/classifiers -k cuda -p no:cacheprovider | tee "$OUT/gpu_tests.txt"
VIGIL_DEVICE=cuda .venv/bin/python bench/classifiers.py --device cuda --neural-texts 100000 --texts 100000
VIGIL_DEVICE=cuda .venv/bin/python bench/classifier_models.py --device cuda --texts 100000
cp bench/results/classifier*.json "$OUT/" 2>/dev/null || true
