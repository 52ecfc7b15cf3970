"""Speed of the shipped lexical classifier on this machine's CPU.

Run: ``.venv/bin/python bench/classifiers.py`` (about half a minute). Prints a
table and writes ``bench/results/classifiers.json``. The texts are synthetic
posts of 10 to 60 words (common English words mixed with random tokens), so
no dataset is needed. Each batch size is timed over the same 20,000 texts;
"items/s" includes featurisation (hashing word and character n-grams), which
is most of the cost. Batch 1,000 is what one ingest batch hands the model.
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

from vigil.classifiers import registry

RESULTS = Path(__file__).parent / "results" / "classifiers.json"
WORDS = [
    "the",
    "a",
    "and",
    "to",
    "of",
    "in",
    "is",
    "it",
    "you",
    "that",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "i",
    "they",
    "be",
    "at",
    "this",
    "from",
    "or",
    "have",
    "not",
    "but",
    "what",
    "we",
    "can",
    "out",
    "all",
    "there",
    "when",
    "up",
    "your",
    "how",
    "said",
    "will",
    "about",
    "them",
    "would",
    "like",
    "so",
    "these",
    "her",
    "people",
    "know",
    "time",
    "day",
    "love",
    "hate",
    "game",
    "kill",
    "great",
    "stupid",
    "really",
]


def make_texts(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    texts = []
    for _ in range(count):
        words = [
            rng.choice(WORDS)
            if rng.random() < 0.85
            else "".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
            for _ in range(rng.randint(10, 60))
        ]
        texts.append(" ".join(words))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--model", default="vigil-lexical")
    args = parser.parse_args()
    texts = make_texts(random.Random(7), args.texts)
    started = time.perf_counter()
    registry.clear_cache()
    model = registry.load(registry.resolve(args.model))
    load_s = time.perf_counter() - started
    model.predict(texts[:100])  # warm-up
    rows: list[dict[str, Any]] = []
    for batch in (1, 64, 1_000, 4_096):
        n = min(len(texts), 2_000 if batch == 1 else len(texts))
        started = time.perf_counter()
        for i in range(0, n, batch):
            model.predict(texts[i : i + batch])
        elapsed = time.perf_counter() - started
        rows.append({"batch": batch, "texts": n, "seconds": elapsed, "items_per_s": n / elapsed})
    table = Table("batch", "texts", "seconds", "items/s", title=f"{model.name} {model.version}")
    for r in rows:
        table.add_row(
            f"{r['batch']:,}", f"{r['texts']:,}", f"{r['seconds']:.2f}", f"{r['items_per_s']:,.0f}"
        )
    console = Console()
    console.print(table)
    console.print(f"model load (hash check included): {load_s:.2f} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "model": model.name,
                "version": model.version,
                "load_s": load_s,
                "mean_chars": sum(map(len, texts)) / len(texts),
                "rows": rows,
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
