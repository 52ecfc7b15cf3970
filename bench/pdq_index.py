"""PDQ index: Vigil's PdqIndex against threatexchange's PDQIndex, same machine, same run.

Run: ``make bench-pdq`` (``.venv/bin/python bench/pdq_index.py --sizes 100k,1m,10m``).

For each size: random 256-bit hashes (seed 7), and 2,000 queries, half of them
near-copies of stored hashes at distances 0-31 (a fifth of those exactly 31)
and half random. Both indexes run pinned to one core with one thread (numba's
and OpenMP's). Measured: queries/s one at a time and in batches of 1,000,
p50/p99 latency of single queries, bytes per hash (Vigil: ``nbytes``, every
array counted; threatexchange: growth of its process's resident memory while
it builds), build time, cold start from disk in a fresh process (Vigil: import,
``load(mmap=True)`` and the first query, timed apart, with the files in the page
cache and again after evicting them; threatexchange: deserialise and first
query), and recall at radius 31 against brute force on a sample of queries.

threatexchange (and faiss) stay out of Vigil's lock: they live in
``.venv-bench-peer``, created from ``bench/requirements-peer.txt`` on first use
and run as a subprocess fed the same hashes and queries through ``.npy`` files.
Prints a table and writes ``bench/results/pdq_index.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["NUMBA_NUM_THREADS"] = "1"  # before numba is imported

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from vigil.signals.pdq_index import PdqIndex

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "pdq_index.json"
PEER_VENV = ROOT / ".venv-bench-peer"
PEER_REQUIREMENTS = ROOT / "bench" / "requirements-peer.txt"
RADIUS = 31
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}

COLD_START = """
import json, os, sys, time
t0 = time.perf_counter()
from vigil.signals.pdq_index import PdqIndex
import numpy as np
t1 = time.perf_counter()
index = PdqIndex.load(sys.argv[1], mmap=True)
t2 = time.perf_counter()
query = np.load(sys.argv[2])[0]
index.match(bytes(query), 31)
t3 = time.perf_counter()
index.match(bytes(query), 31)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_query_s": t3 - t2,
                  "second_query_s": t4 - t3}))
"""


def make_data(n: int, count: int, seed: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Random hashes, and queries: half near-copies (0-31 bits, a fifth exactly 31), half random."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    near = count // 2
    queries = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    sources = rng.integers(0, n, near)
    distances = np.where(rng.random(near) < 0.2, 31, rng.integers(0, 32, near))
    for i, (src, d) in enumerate(zip(sources, distances, strict=True)):
        bits = np.unpackbits(hashes[src])
        bits[rng.choice(256, int(d), replace=False)] ^= 1
        queries[i] = np.packbits(bits)
    return hashes, queries


def brute_force(hashes: npt.NDArray[np.uint8], query: npt.NDArray[np.uint8]) -> list[int]:
    """Ids (row numbers) within the radius, by numpy alone: the ground truth."""
    words = hashes.view(np.uint64)
    distances = np.zeros(len(words), np.int64)
    q = query.view(np.uint64)
    for w in range(4):
        distances += np.bitwise_count(words[:, w] ^ q[w])
    return np.flatnonzero(distances <= RADIUS).tolist()


def recall(answers: list[list[int]], truth: list[list[int]]) -> dict[str, Any]:
    hits = sum(len(set(a) & set(t)) for a, t in zip(answers, truth, strict=False))
    wanted = sum(len(t) for t in truth)
    extra = sum(len(set(a) - set(t)) for a, t in zip(answers, truth, strict=False))
    return {"recall": hits / wanted if wanted else 1.0, "false_matches": extra, "truth": wanted}


def ensure_peer() -> Path:
    """The peer venv's python, creating the venv from the pinned requirements on first use."""
    python = PEER_VENV / "bin" / "python"
    stamp = PEER_VENV / ".installed"
    if not stamp.exists() or stamp.stat().st_mtime < PEER_REQUIREMENTS.stat().st_mtime:
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "-r", str(PEER_REQUIREMENTS)]
        done = subprocess.run(pip, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"installing {PEER_REQUIREMENTS.name} failed:\n{done.stderr}")
        stamp.touch()
    return python


def run_json(cmd: list[str]) -> dict[str, Any]:
    env = os.environ | {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def evict(directory: Path) -> None:
    """Drop the saved files from the page cache, so the next load reads the disk."""
    for path in directory.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def measure_vigil(
    hashes: npt.NDArray[np.uint8], queries: npt.NDArray[np.uint8], work: Path, sample: int
) -> dict[str, Any]:
    started = time.perf_counter()
    index = PdqIndex.build(np.arange(len(hashes)), hashes)
    build_s = time.perf_counter() - started
    index.match(bytes(queries[0]), RADIUS)  # compiled code loaded from numba's cache
    latencies = []
    answers = []
    for q in queries:
        t0 = time.perf_counter()
        found = index.match(bytes(q), RADIUS)
        latencies.append(time.perf_counter() - t0)
        answers.append([i for i, _ in found])
    started = time.perf_counter()
    for start in range(0, len(queries), 1000):
        index.match_many(queries[start : start + 1000], RADIUS)
    batched_s = time.perf_counter() - started
    saved = work / "vigil-index"
    t0 = time.perf_counter()
    index.save(saved)
    save_s = time.perf_counter() - t0
    cuts = statistics.quantiles(latencies, n=100)
    result = {
        "n": len(index),
        "build_s": build_s,
        "bytes_per_hash": index.nbytes / len(index),
        "qps_single": len(queries) / sum(latencies),
        "qps_batched": len(queries) / batched_s,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "save_s": save_s,
        "answers": answers[:sample],
    }
    del index
    cold = [sys.executable, "-c", COLD_START, str(saved), str(work / "queries.npy")]
    result["cold_start_cached"] = run_json(cold)
    evict(saved)
    result["cold_start_evicted"] = run_json(cold)
    return result


def measure_peer(work: Path, sample: int) -> dict[str, Any]:
    python = str(ensure_peer())
    script = str(ROOT / "bench" / "pdq_peer.py")
    saved = work / "peer-index.pickle"
    queries = str(work / "queries.npy")
    hashes = str(work / "hashes.npy")
    build = [
        "--hashes",
        hashes,
        "--queries",
        queries,
        "--sample",
        str(sample),
        "--save",
        str(saved),
    ]
    result = run_json([python, script, *build])
    result["cold_start_cached"] = run_json(
        [python, script, "--queries", queries, "--load", str(saved)]
    )
    saved.unlink()
    return result


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100k,1m,10m", help="comma-separated: 100k, 1m, 10m")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=200, help="queries checked by brute force")
    parser.add_argument("--no-peer", action="store_true", help="skip threatexchange")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    console = Console(width=None if sys.stdout.isatty() else 140)
    runs: list[dict[str, Any]] = []
    for label in args.sizes.split(","):
        n = SIZES[label.strip().lower()]
        hashes, queries = make_data(n, args.queries, seed=7)
        # every planted query and some random ones: the brute-force sample
        sample = min(args.sample, len(queries))
        picks = np.r_[0 : sample // 2, len(queries) // 2 : len(queries) // 2 + sample - sample // 2]
        order = np.r_[picks, np.setdiff1d(np.arange(len(queries)), picks)]
        queries = queries[order]
        truth = [brute_force(hashes, q) for q in queries[:sample]]
        with tempfile.TemporaryDirectory(prefix="pdq-bench-") as tmp:
            work = Path(tmp)
            np.save(work / "hashes.npy", hashes)
            np.save(work / "queries.npy", queries)
            vigil = measure_vigil(hashes, queries, work, sample)
            del hashes
            peer = None if args.no_peer else measure_peer(work, sample)
        vigil |= recall(vigil.pop("answers"), truth)
        if peer is not None:
            peer |= recall(peer.pop("answers"), truth)
        runs.append(
            {"n": n, "queries": len(queries), "sample": sample, "vigil": vigil, "peer": peer}
        )
        console.print(table(runs))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "radius": RADIUS, "runs": runs}, indent=2))
    console.print(f"wrote {RESULTS.relative_to(ROOT)}")


def table(runs: list[dict[str, Any]]) -> Table:
    out = Table(title=f"PDQ index, radius {RADIUS}, one core")
    for col in ("hashes", "index", "q/s single", "q/s batched", "p50 ms", "p99 ms", "B/hash"):
        out.add_column(col, justify="right")
    for col in ("build s", "cold start s", "recall", "false"):
        out.add_column(col, justify="right")
    for run in runs:
        for name, r in (("vigil", run["vigil"]), ("threatexchange", run["peer"])):
            if r is None:
                continue
            cold = r["cold_start_cached"]
            cold_s = cold["load_s"] + cold["first_query_s"]
            per_hash = r.get("bytes_per_hash", r.get("bytes_per_hash_rss", 0.0))
            out.add_row(
                f"{run['n']:,}",
                name,
                f"{r['qps_single']:,.0f}",
                f"{r['qps_batched']:,.0f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{per_hash:.1f}",
                f"{r['build_s']:.1f}",
                f"{cold_s:.2f}",
                f"{r['recall']:.4f}",
                str(r["false_matches"]),
            )
    return out


if __name__ == "__main__":
    main()
