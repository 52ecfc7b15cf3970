"""Brute-force PDQ matching: every query compares against every entry.

Exact and simple: XOR the query with all hashes (as four 64-bit words each) and
count bits. About 3 ms per query per 100,000 entries; a proper index
replaces it for large banks (see ``vigil.signals.pdq_matching``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vigil.signals.pdq_matching import PDQ_BYTES, Hashes, Ids


class BruteForcePdqMatcher:
    """Also the oracle the tests compare faster indexes with.

    Updates build new arrays and swap them in as one tuple, so a ``match`` running
    in another thread sees either the old entries or the new ones, never a mix.
    """

    def __init__(self, ids: npt.NDArray[np.int64], words: npt.NDArray[np.uint64]) -> None:
        self._state = (ids, words)

    @classmethod
    def build(cls, ids: Ids, hashes: Hashes) -> BruteForcePdqMatcher:
        if len(ids) != len(hashes):
            raise ValueError("one id per hash")
        if isinstance(hashes, np.ndarray):
            raw = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, PDQ_BYTES).tobytes()
        else:
            if any(len(h) != PDQ_BYTES for h in hashes):
                raise ValueError(f"every PDQ hash has {PDQ_BYTES} bytes")
            raw = b"".join(hashes)
        words = np.frombuffer(raw, dtype=np.uint64).reshape(len(ids), 4).copy()
        return cls(np.asarray(ids, dtype=np.int64), words)

    def __len__(self) -> int:
        return len(self._state[0])

    def add(self, ids: Ids, hashes: Hashes) -> None:
        more = BruteForcePdqMatcher.build(ids, hashes)
        old_ids, old_words = self._state
        self._state = (
            np.concatenate([old_ids, more._state[0]]),
            np.concatenate([old_words, more._state[1]]),
        )

    def disable(self, ids: Ids) -> None:
        old_ids, old_words = self._state
        keep = ~np.isin(old_ids, np.asarray(ids, dtype=np.int64))
        self._state = (old_ids[keep], old_words[keep])

    def match(self, hash_bytes: bytes, radius: int) -> list[tuple[int, int]]:
        ids, words = self._state
        if len(ids) == 0:
            return []
        query = np.frombuffer(hash_bytes, dtype=np.uint64)
        distances = np.bitwise_count(words ^ query).sum(axis=1, dtype=np.int64)
        hits = np.flatnonzero(distances <= radius)
        return [(int(ids[i]), int(distances[i])) for i in hits]
