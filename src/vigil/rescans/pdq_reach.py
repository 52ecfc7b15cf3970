"""A first pass for PDQ rescans: which media of a chunk could lie near the job's new entries.

A PDQ rescan visits every stored hash, and asking the bank index about each one
costs a round of Python per orientation. This pass measures every query of a
chunk against every new entry in a few numpy steps. It makes the queries the
index would make (the hash; with transforms also the seven other orientations,
stored from the image or estimated from the hash) and uses the job bank's
threshold, so it can keep too much but never too little. The bank index then
decides on the items it keeps, with roll-out and known-benign banks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from vigil.banks.models import DEFAULT_PDQ_THRESHOLD
from vigil.hashing.pdq import DIHEDRAL_ORDER, HASH_BYTES, dihedral_from_hashes
from vigil.signals.matchers import BankIndex

# With more entries than this the bank index, whatever PDQ index it uses, does as well.
MAX_ENTRIES = 20_000
# Query-entry pairs per numpy step: 4 words of 8 bytes each, so about 32 MiB at a time.
_PAIRS_PER_STEP = 1 << 20
_OTHER_ORIENTATIONS = len(DIHEDRAL_ORDER) - 1

StoredPdq = tuple[int, str, Sequence[str] | None]  # item id, hash, stored orientations


class PdqReach:
    def __init__(self, entries: Sequence[str], radius: int, transforms: bool) -> None:
        raw = b"".join(bytes.fromhex(e) for e in entries)
        self._entries = np.frombuffer(raw, dtype=np.uint64).reshape(len(entries), 4)
        self._radius = radius
        self._transforms = transforms

    @classmethod
    def for_bank(cls, index: BankIndex, bank_id: int, values: Sequence[str]) -> PdqReach | None:
        """The pass for the job's entries (``values``); ``None`` when it would not pay off."""
        bank = index.banks.get(bank_id)
        if bank is None or not values or len(values) > MAX_ENTRIES:
            return None
        radius = DEFAULT_PDQ_THRESHOLD if bank.threshold is None else bank.threshold
        return cls(values, radius, bank.match_transforms)

    def near(self, media: Sequence[StoredPdq]) -> set[int]:
        """Ids of the items with a query within the threshold of some entry."""
        keep: set[int] = set()
        rows: list[bytes] = []
        owners: list[int] = []
        estimate: list[tuple[int, bytes]] = []
        for item_id, pdq, variants in media:
            try:
                original = _hash_bytes(pdq)
                stored = (
                    [_hash_bytes(v) for v in variants]
                    if self._transforms and variants and len(variants) == _OTHER_ORIENTATIONS
                    else None
                )
            except ValueError:
                keep.add(item_id)  # the index has its own view of hashes this pass cannot read
                continue
            mine = [original] + (stored or [])
            rows += mine
            owners += [item_id] * len(mine)
            if self._transforms and stored is None:
                estimate.append((item_id, original))
        queries = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), HASH_BYTES)
        owner_ids = np.asarray(owners, dtype=np.int64)
        if estimate:
            originals = np.frombuffer(b"".join(h for _, h in estimate), dtype=np.uint8)
            turned = dihedral_from_hashes(originals.reshape(len(estimate), HASH_BYTES))[:, 1:]
            queries = np.concatenate([queries, turned.reshape(-1, HASH_BYTES)])
            turned_owners = np.repeat([i for i, _ in estimate], _OTHER_ORIENTATIONS)
            owner_ids = np.concatenate([owner_ids, turned_owners])
        keep.update(int(i) for i in np.unique(owner_ids[self._within(queries)]))
        return keep

    def _within(self, queries: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
        words = np.ascontiguousarray(queries).view(np.uint64).reshape(len(queries), 4)
        hit = np.zeros(len(words), dtype=bool)
        step = max(1, _PAIRS_PER_STEP // len(self._entries))
        for start in range(0, len(words), step):
            block = words[start : start + step, None, :] ^ self._entries[None, :, :]
            nearest = np.bitwise_count(block).sum(axis=2, dtype=np.int64).min(axis=1)
            hit[start : start + step] = nearest <= self._radius
        return hit


def _hash_bytes(hex_hash: str) -> bytes:
    raw = bytes.fromhex(hex_hash)
    if len(raw) != HASH_BYTES:
        raise ValueError("not a PDQ hash")
    return raw
