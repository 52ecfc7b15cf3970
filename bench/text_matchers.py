"""Term and pattern matching speed: which design the scan uses, and why.

Run: ``.venv/bin/python bench/text_matchers.py`` (about a minute). Prints a
table and writes ``bench/results/text_matchers.json``. The combined
alternation is timed on the first 300 posts only: it is that slow.

Patterns (1,000, over 3,000 synthetic posts):
  combined   one alternation of named groups, ``finditer`` + ``lastgroup``
  loop       each pattern compiled alone, ``search`` in turn
  prefilter  the loop, run only for patterns whose required literal occurs
             (``vigil.signals.text_matchers.RegexMatcher``, what the scan uses)
Terms (1,000 and 10,000):
  regex      one ``(?<!\\w)(?:t1|t2|...)(?!\\w)`` alternation, longest first (before)
  automaton  pyahocorasick with whole-word checks (``TermMatcher``, what the scan uses)
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vigil.banks.normalize import normalise_text
from vigil.banks.patterns import FLAGS, check_pattern
from vigil.signals.text_matchers import RegexMatcher, TermMatcher

RESULTS = Path(__file__).parent / "results" / "text_matchers.json"
# fmt: off
COMMON = [
    "the", "a", "and", "to", "of", "in", "is", "it", "you", "that", "was", "for", "on", "are",
    "with", "as", "i", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had",
    "by", "not", "word", "but", "what", "some", "we", "can", "out", "other", "were", "all",
    "there", "when", "up", "use", "your", "how", "said", "an", "each", "she", "which", "do",
    "their", "time", "if", "will", "way", "about", "many", "then", "them", "write", "would",
    "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look",
    "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most", "people", "my",
    "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been",
    "now", "find",
]
# fmt: on


def vocabulary(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(size)]


def make_patterns(rng: random.Random, vocab: list[str], count: int) -> list[str]:
    def w() -> str:
        return rng.choice(vocab)

    shapes: list[Callable[[], str]] = [
        lambda: rf"\b{w()}\W{{1,3}}{w()}\b",
        lambda: rf"\b{w()}s?\b",
        lambda: rf"{w()}\d{{2,4}}",
        lambda: rf"\b(?:{w()}|{w()})\s{{1,3}}{w()}\b",
        lambda: rf"[a-z0-9._]{{1,30}}@{w()}\.(?:com|net)",
        lambda: rf"\+?{rng.randint(10, 99)}[ -]?\d{{3}}[ -]?\d{{4}}\b",
        lambda: rf"{w()}[^a-z]{{0,3}}{w()}",
    ]
    patterns: list[str] = []
    while len(patterns) < count:
        pattern = rng.choice(shapes)()
        check_pattern(pattern, probe=False)
        patterns.append(pattern)
    return patterns


def make_texts(rng: random.Random, vocab: list[str], count: int) -> list[str]:
    texts = []
    for _ in range(count):
        words = [
            rng.choice(COMMON) if rng.random() < 0.8 else rng.choice(vocab)
            for _ in range(rng.randint(10, 60))
        ]
        texts.append(normalise_text(" ".join(words)))
    return texts


def per_text_us(texts: list[str], scan: Callable[[str], object]) -> float:
    scan(texts[0])
    started = time.perf_counter()
    for text in texts:
        scan(text)
    return (time.perf_counter() - started) / len(texts) * 1e6


def bench_patterns(
    rng: random.Random, count: int, texts: list[str], vocab: list[str]
) -> dict[str, float]:
    patterns = make_patterns(rng, vocab, count)
    compiled = [re.compile(p, FLAGS) for p in patterns]
    combined = re.compile("|".join(f"(?P<p{i}>{p})" for i, p in enumerate(patterns)), FLAGS)
    matcher = RegexMatcher(patterns)
    loop = {i for t in texts[:200] for i, c in enumerate(compiled) if c.search(t)}
    assert loop, "the synthetic patterns should match some posts"
    return {
        "combined": per_text_us(texts[:300], lambda t: {m.lastgroup for m in combined.finditer(t)}),
        "loop": per_text_us(texts, lambda t: [c for c in compiled if c.search(t)]),
        "prefilter": per_text_us(texts, matcher.occurrences),
    }


def bench_terms(count: int, texts: list[str], vocab: list[str]) -> dict[str, float]:
    terms = sorted(set(vocab[:count]), key=len, reverse=True)
    alternation = "|".join(re.escape(t) for t in terms)
    pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
    matcher = TermMatcher(terms)
    return {
        "regex": per_text_us(texts, lambda t: {m.group(0) for m in pattern.finditer(t)}),
        "automaton": per_text_us(texts, matcher.occurrences),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocab = vocabulary(rng, 12_000)
    texts = make_texts(rng, vocab[:3000], args.texts)
    results: dict[str, Any] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "texts": len(texts),
        "mean_text_chars": sum(map(len, texts)) / len(texts),
        "patterns_1000_us_per_text": bench_patterns(rng, 1000, texts, vocab[:3000]),
        "terms_1000_us_per_text": bench_terms(1000, texts, vocab),
        "terms_10000_us_per_text": bench_terms(10_000, texts, vocab),
    }
    table = Table("what", "design", "µs per post")
    for key in ("patterns_1000_us_per_text", "terms_1000_us_per_text", "terms_10000_us_per_text"):
        for design, us in results[key].items():
            table.add_row(key.removesuffix("_us_per_text").replace("_", " "), design, f"{us:,.1f}")
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
