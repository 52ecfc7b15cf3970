"""Brute-force PDQ matching: every query compares against every entry.

Exact and simple: XOR the query with all hashes (as four 64-bit words each) and
count bits. About 3 ms per query per 100,000 entries; a proper index
replaces it for large banks (see ``vigil.signals.pdq_matching``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from vigil.signals.pdq_matching import PDQ_BYTES


class BruteForcePdqMatcher:
    def __init__(self, ids: npt.NDArray[np.int64], words: npt.NDArray[np.uint64]) -> None:
        self._ids = ids
        self._words = words

    @classmethod
    def build(cls, ids: Sequence[int], hashes: Sequence[bytes]) -> BruteForcePdqMatcher:
        if len(ids) != len(hashes):
            raise ValueError("one id per hash")
        if any(len(h) != PDQ_BYTES for h in hashes):
            raise ValueError(f"every PDQ hash has {PDQ_BYTES} bytes")
        words = np.frombuffer(b"".join(hashes), dtype=np.uint64).reshape(len(hashes), 4)
        return cls(np.asarray(ids, dtype=np.int64), words)

    def __len__(self) -> int:
        return len(self._ids)

    def match(self, hash_bytes: bytes, radius: int) -> list[tuple[int, int]]:
        if len(self._ids) == 0:
            return []
        query = np.frombuffer(hash_bytes, dtype=np.uint64)
        distances = np.bitwise_count(self._words ^ query).sum(axis=1, dtype=np.int64)
        hits = np.flatnonzero(distances <= radius)
        return [(int(self._ids[i]), int(distances[i])) for i in hits]
