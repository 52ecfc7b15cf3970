"""The interface the scan uses for PDQ look-ups, so the index behind it can change.

The bank index builds one matcher per PDQ bank over its enabled entries (ids are
entry ids) and asks it for entries within the bank's threshold. The default is the exact multi-index
:class:`~vigil.signals.pdq_index.PdqIndex`; the brute-force matcher stays as the
tests' oracle, and any other exact matcher plugs in through :data:`PdqMatcherBuilder`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

PDQ_BYTES = 32


class PdqMatcher(Protocol):
    def match(self, hash_bytes: bytes, radius: int) -> list[tuple[int, int]]:
        """``(entry id, Hamming distance)`` of every entry within ``radius`` of ``hash_bytes``."""
        ...


class UpdatablePdqMatcher(PdqMatcher, Protocol):
    """A matcher that takes added and withdrawn entries while others keep matching."""

    def add(self, ids: Ids, hashes: Hashes) -> None: ...

    def disable(self, ids: Ids) -> object: ...


# Entry ids, and their 32-byte hashes as bytes or an (n, 32) uint8 array, in the same order.
Ids = Sequence[int] | npt.NDArray[np.integer[Any]]
Hashes = Sequence[bytes] | npt.NDArray[np.uint8]
PdqMatcherBuilder = Callable[[Ids, Hashes], PdqMatcher]


def pdq_bytes(hex_hash: str) -> bytes:
    """The 32 bytes of a 64-hex-digit PDQ hash."""
    raw = bytes.fromhex(hex_hash)
    if len(raw) != PDQ_BYTES:
        raise ValueError(f"a PDQ hash has {PDQ_BYTES} bytes, not {len(raw)}")
    return raw
