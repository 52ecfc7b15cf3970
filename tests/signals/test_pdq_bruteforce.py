"""The brute-force PDQ matcher agrees with counting bits by hand."""

from __future__ import annotations

import random

import pytest

from vigil.signals.pdq_bruteforce import BruteForcePdqMatcher
from vigil.signals.pdq_matching import PdqMatcher, pdq_bytes


def test_distances_match_a_plain_popcount() -> None:
    rng = random.Random(3)
    hashes = [rng.randbytes(32) for _ in range(500)]
    ids = [1000 + i for i in range(500)]
    matcher: PdqMatcher = BruteForcePdqMatcher.build(ids, hashes)
    found = 0
    for _ in range(20):
        query = rng.randbytes(32)
        radius = rng.choice([110, 128, 140])
        q = int.from_bytes(query, "big")
        distances = [bin(int.from_bytes(h, "big") ^ q).count("1") for h in hashes]
        expected = [(ids[i], d) for i, d in enumerate(distances) if d <= radius]
        assert matcher.match(query, radius) == expected
        found += len(expected)
    assert found > 1000  # random 256-bit hashes sit about 128 bits apart


def test_radius_is_inclusive_and_empty_banks_match_nothing() -> None:
    base = bytes(32)
    flipped = bytes([0b111] + [0] * 31)  # three bits away
    matcher = BruteForcePdqMatcher.build([7], [base])
    assert matcher.match(flipped, 3) == [(7, 3)]
    assert matcher.match(flipped, 2) == []
    assert BruteForcePdqMatcher.build([], []).match(base, 256) == []


def test_hashes_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        BruteForcePdqMatcher.build([1], [b"short"])
    with pytest.raises(ValueError, match="a PDQ hash has 32 bytes, not 2"):
        pdq_bytes("abcd")
