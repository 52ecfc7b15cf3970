"""threatexchange's PDQIndex, measured the way ``bench/pdq_index.py`` measures Vigil's index.

Runs under ``.venv-bench-peer`` (threatexchange and faiss stay out of Vigil's
lock), pinned to one core with one OpenMP thread. Reads the hashes and queries
from ``.npy`` files, prints one JSON object. ``--load FILE`` instead times a
cold start: deserialise a saved index and answer one query.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

import faiss  # type: ignore[import-not-found]
from threatexchange.signal_type.pdq.pdq_index import (  # type: ignore[import-not-found]
    PDQIndex,
)

RADIUS = 31  # PDQIndex's fixed match threshold


def rss_bytes() -> int:
    """Resident memory now (Linux: /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def hexes(arr: np.ndarray[Any, Any]) -> list[str]:
    return [bytes(row).hex() for row in arr]


def cold_start(path: Path, query: str) -> dict[str, float]:
    started = time.perf_counter()
    with path.open("rb") as f:
        index = PDQIndex.deserialize(f)
    loaded = time.perf_counter()
    index.query(query)
    return {"load_s": loaded - started, "first_query_s": time.perf_counter() - loaded}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=Path)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=0, help="queries whose ids are returned")
    parser.add_argument("--save", type=Path, help="serialise the index here")
    parser.add_argument("--load", type=Path, help="time a cold start from this file instead")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    queries = hexes(np.load(args.queries))
    if args.load:
        print(json.dumps(cold_start(args.load, queries[0])))
        return
    hashes = np.load(args.hashes)
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    index = PDQIndex.build((h, i) for i, h in enumerate(hexes(hashes)))
    build_s = time.perf_counter() - started
    del hashes
    gc.collect()
    per_hash = (rss_bytes() - before) / len(index)
    latencies = []
    answers: list[list[int]] = []
    for q in queries:
        t0 = time.perf_counter()
        found = index.query(q)
        latencies.append(time.perf_counter() - t0)
        answers.append(sorted(int(m.metadata) for m in found))
    started = time.perf_counter()
    for start in range(0, len(queries), 1000):
        index.index.search_with_distance_in_result(queries[start : start + 1000], RADIUS)
    batched_s = time.perf_counter() - started
    save_s = None
    if args.save:
        t0 = time.perf_counter()
        with args.save.open("wb") as f:
            index.serialize(f)
        save_s = time.perf_counter() - t0
    cuts = statistics.quantiles(latencies, n=100)
    result = {
        "n": len(index),
        "build_s": build_s,
        "bytes_per_hash_rss": per_hash,
        "qps_single": len(queries) / sum(latencies),
        "qps_batched": len(queries) / batched_s,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "save_s": save_s,
        "answers": answers[: args.sample],
        "versions": {"faiss": faiss.__version__, "python": sys.version.split()[0]},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    main()
