"""Synthetic posts for the speed benchmarks: common English words mixed with random tokens.

No dataset is needed, and the random tokens keep a model from seeing only known words.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def make_posts(rng: random.Random, count: int, size: Callable[[random.Random], int]) -> list[str]:
    """``count`` posts of ``size(rng)`` words each, 85% of them common words."""
    texts = []
    for _ in range(count):
        words = [
            rng.choice(WORDS)
            if rng.random() < 0.85
            else "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9)))
            for _ in range(size(rng))
        ]
        texts.append(" ".join(words))
    return texts
