"""Speed of the shipped text classifiers, on this machine's CPU or a CUDA GPU.

Run: ``.venv/bin/python bench/classifiers.py`` (about two minutes; ``--device
cuda`` on a GPU machine). Prints a table and writes
``bench/results/classifiers.json``. The texts are synthetic posts of 10 to 60
words (common English words mixed with random tokens), so no dataset is
needed. The lexical model is timed over 20,000 texts per batch size, neural
models over 2,000 (200 one at a time). "items/s" is the whole ``predict`` call:
featurisation or tokenisation included. Batch 1,000 is one ingest batch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from posts import make_posts
from vigil.classifiers import registry

RESULTS = Path(__file__).parent / "results" / "classifiers.json"


def make_texts(rng: random.Random, count: int) -> list[str]:
    return make_posts(rng, count, lambda r: r.randint(10, 60))


# Neural models run a few hundred texts a second on this CPU: time them on fewer texts.
NEURAL_TEXTS = 2_000
BATCHES = (1, 64, 1_000, 4_096)


def time_model(name: str, texts: list[str], neural_texts: int) -> dict[str, Any]:
    """Load one model (hash checks included) and time ``predict`` at each batch size."""
    started = time.perf_counter()
    registry.clear_cache()
    model = registry.load(registry.resolve(name))
    load_s = time.perf_counter() - started
    model.predict(texts[:64])  # warm-up: first call builds caches (and CUDA kernels)
    limit = len(texts) if model.kind == "lexical" else min(len(texts), neural_texts)
    rows: list[dict[str, Any]] = []
    for batch in BATCHES:
        n = limit if batch > 1 else min(limit // 10, 2_000)
        started = time.perf_counter()
        for i in range(0, n, batch):
            model.predict(texts[i : i + batch])
        elapsed = time.perf_counter() - started
        rows.append({"batch": batch, "texts": n, "seconds": elapsed, "items_per_s": n / elapsed})
    return {
        "model": model.name,
        "kind": model.kind,
        "version": model.version,
        "load_s": load_s,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--neural-texts", type=int, default=NEURAL_TEXTS)
    parser.add_argument(
        "--models",
        default="vigil-lexical,vigil-minilm",
        help="comma-separated shipped names or model directories",
    )
    parser.add_argument("--device", default=None, help="auto, cpu or cuda (sets VIGIL_DEVICE)")
    args = parser.parse_args()
    if args.device:
        os.environ["VIGIL_DEVICE"] = args.device
    texts = make_texts(random.Random(7), args.texts)
    console = Console()
    results = [
        time_model(name.strip(), texts, args.neural_texts)
        for name in args.models.split(",")
        if name.strip()
    ]
    table = Table("model", "kind", "load s", *(f"batch {b:,}" for b in BATCHES), title="items/s")
    for r in results:
        table.add_row(
            r["model"],
            r["kind"],
            f"{r['load_s']:.2f}",
            *(f"{row['items_per_s']:,.0f}" for row in r["rows"]),
        )
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "device": os.environ.get("VIGIL_DEVICE", "auto"),
                "mean_chars": sum(map(len, texts)) / len(texts),
                "models": results,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    console.print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
