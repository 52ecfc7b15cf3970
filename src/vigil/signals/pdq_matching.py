"""The interface the scan uses for PDQ look-ups, so the index behind it can change.

The bank index builds one matcher over every enabled PDQ entry and asks it for
entries within the largest threshold of any PDQ bank; each bank's own threshold
is applied afterwards. The default is the exact multi-index
:class:`~vigil.signals.pdq_index.PdqIndex`; the brute-force matcher stays as the
tests' oracle, and any other exact matcher plugs in through :data:`PdqMatcherBuilder`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

PDQ_BYTES = 32


class PdqMatcher(Protocol):
    def match(self, hash_bytes: bytes, radius: int) -> list[tuple[int, int]]:
        """``(entry id, Hamming distance)`` of every entry within ``radius`` of ``hash_bytes``."""
        ...


class UpdatablePdqMatcher(PdqMatcher, Protocol):
    """A matcher that takes added and withdrawn entries while others keep matching."""

    def add(self, ids: Sequence[int], hashes: Sequence[bytes]) -> None: ...

    def disable(self, ids: Sequence[int]) -> None: ...


# Builds a matcher from entry ids and their 32-byte hashes, in the same order.
PdqMatcherBuilder = Callable[[Sequence[int], Sequence[bytes]], PdqMatcher]


def pdq_bytes(hex_hash: str) -> bytes:
    """The 32 bytes of a 64-hex-digit PDQ hash."""
    raw = bytes.fromhex(hex_hash)
    if len(raw) != PDQ_BYTES:
        raise ValueError(f"a PDQ hash has {PDQ_BYTES} bytes, not {len(raw)}")
    return raw
