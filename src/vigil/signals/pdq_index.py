"""An exact, compact PDQ index that takes additions and withdrawals while it serves.

**Search.** Multi-index hashing: the 256 bits are cut into eight 32-bit chunks.
Two hashes within 31 bits have some chunk within 3 bits of each other
(pigeonhole), so each chunk has a table sorted by that chunk, and a query probes
the buckets within 3 flips of its own chunk. Every candidate is verified on all
256 bits, so the answer is exact: nothing within the radius is missed and
nothing beyond it is returned. Smaller radii use smaller per-chunk budgets
(generalised pigeonhole). Radii over 31 are answered by comparing every entry.

**Memory.** About 63 bytes per hash at a million hashes and more, everything
counted; the layout is in :mod:`vigil.signals.pdq_segment`. Entry ids cost 4
bytes while a segment's ids span less than 2**32, 8 bytes otherwise.

**Updates.** Log-structured: immutable segments plus a small delta that is
compared hash by hash. ``add`` appends to the delta; a full delta becomes a
segment and small segments merge, so no call rebuilds the whole index.
``disable`` records tombstones (positions per segment) that are filtered from
results; merges and :meth:`PdqIndex.compact` drop the entries they name, after
which ``enable`` can no longer bring those back (add them again instead).
Writers build new immutable objects and swap one reference, so a ``match`` in
another thread never waits and always sees one consistent state.

**Disk.** ``save`` writes ``.npy`` files and a JSON manifest with a format
version; ``load(mmap=True)`` maps them, so a cold start costs little more than
opening files.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.signals.pdq_matching import PDQ_BYTES
from vigil.signals.pdq_segment import (
    I64,
    SEGMENT_CAP,
    U32,
    Flat,
    Segment,
    build_segments,
    load_array,
)

FORMAT = "vigil-pdq-index"
FORMAT_VERSION = 1
MAX_INDEXED_RADIUS = 31
DELTA_LIMIT = 16_384  # hashes compared one by one before they become a segment
AUTO_MERGE_LIMIT = 1 << 22  # larger merges wait for compact()
DEAD_LIMIT = 0.01  # a segment with more tombstones than this share is rewritten without them,
DEAD_MIN = 1024  # once it has this many (below that their memory does not matter)

Ids = Sequence[int] | npt.NDArray[np.integer[Any]]
Hashes = Sequence[bytes] | npt.NDArray[np.uint8]
Matches = tuple[I64, I64, I64]


class PdqIndexFormatError(ValueError):
    """A saved index this version of Vigil cannot read."""


@dataclass(frozen=True, eq=False)
class _State:
    segments: tuple[Segment, ...]
    dead: tuple[npt.NDArray[np.uint32], ...]  # sorted tombstone positions per segment
    delta: Flat
    delta_dead: npt.NDArray[np.uint32]

    @property
    def live(self) -> int:
        stored = sum(s.n for s in self.segments) + self.delta.n
        return stored - sum(len(d) for d in self.dead) - len(self.delta_dead)

    @property
    def nbytes(self) -> int:
        parts = [s.nbytes for s in self.segments] + [int(d.nbytes) for d in self.dead]
        return sum(parts) + self.delta.nbytes + int(self.delta_dead.nbytes)


_NO_DEAD = np.empty(0, np.uint32)


def thresholds(radius: int) -> I64:
    """Per-chunk bit budgets whose sum plus eight exceeds ``radius`` (-1: table unused)."""
    base, extra = divmod(radius + 1, 8)
    return np.array([base - 1 + (t < extra) for t in range(8)], dtype=np.int64)


def as_words(hashes: Hashes) -> U32:
    """``(n, 8)`` uint32 chunks from 32-byte hashes."""
    if isinstance(hashes, np.ndarray):
        if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != PDQ_BYTES:
            raise ValueError(f"hashes must be an (n, {PDQ_BYTES}) uint8 array")
        return np.ascontiguousarray(hashes).view("<u4").astype(np.uint32, copy=False)
    if any(len(h) != PDQ_BYTES for h in hashes):
        raise ValueError(f"every PDQ hash has {PDQ_BYTES} bytes")
    raw = np.frombuffer(b"".join(hashes), dtype="<u4").astype(np.uint32)
    return raw.reshape(len(hashes), 8)


def _as_ids(ids: Ids, n: int) -> I64:
    arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    if len(arr) != n:
        raise ValueError("one id per hash")
    return arr


def _drop(found: Matches, dead: npt.NDArray[np.uint32]) -> Matches:
    if len(dead) == 0 or len(found[1]) == 0:
        return found
    k = np.minimum(np.searchsorted(dead, found[1]), len(dead) - 1)
    keep = dead[k] != found[1]
    return found[0][keep], found[1][keep], found[2][keep]


class PdqIndex:
    """Exact Hamming-radius search over PDQ hashes; see the module docstring."""

    def __init__(
        self,
        segments: Sequence[Segment] = (),
        *,
        delta_limit: int = DELTA_LIMIT,
        auto_merge_limit: int = AUTO_MERGE_LIMIT,
    ) -> None:
        segs = tuple(segments)
        self._state = _State(segs, tuple(_NO_DEAD for _ in segs), Flat.empty(), _NO_DEAD)
        self.delta_limit = delta_limit
        self.auto_merge_limit = auto_merge_limit
        self._write_lock = threading.Lock()  # state swaps
        self._merge_lock = threading.Lock()  # one merge at a time

    @classmethod
    def build(cls, ids: Ids, hashes: Hashes, *, delta_limit: int = DELTA_LIMIT) -> PdqIndex:
        """An index over ``hashes`` (32 bytes each) answering with ``ids`` (same order)."""
        words = as_words(hashes)
        segments = build_segments(words, _as_ids(ids, len(words)))
        return cls(segments, delta_limit=delta_limit)

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        """Entries that can match: stored and not disabled."""
        return self._state.live

    @property
    def nbytes(self) -> int:
        """Bytes of every array the index holds: hashes, ids, tables, directories, delta, tombstones."""
        return self._state.nbytes

    @property
    def segment_sizes(self) -> tuple[int, ...]:
        return tuple(s.n for s in self._state.segments)

    @property
    def delta_size(self) -> int:
        return self._state.delta.n

    def match(self, hash_bytes: bytes, radius: int) -> list[tuple[int, int]]:
        """``(entry id, distance)`` of every live entry within ``radius``, by id."""
        if len(hash_bytes) != PDQ_BYTES:
            raise ValueError(f"a PDQ hash has {PDQ_BYTES} bytes, not {len(hash_bytes)}")
        query = np.frombuffer(hash_bytes, dtype=np.uint8).reshape(1, PDQ_BYTES)
        _, ids, dist = self.match_many(query, radius)
        return list(zip(ids.tolist(), dist.tolist(), strict=True))

    def match_many(self, queries: npt.NDArray[np.uint8], radius: int) -> Matches:
        """Matches for a ``(q, 32)`` uint8 batch: ``(query index, entry id, distance)``.

        Sorted by query, then id. One state is read for the whole batch.
        """
        q32 = as_words(queries).copy()
        state = self._state
        if radius < 0 or len(q32) == 0:
            return _empty_matches()
        found: list[Matches] = []
        thr = thresholds(radius)
        for seg, dead in zip(state.segments, state.dead, strict=True):
            if radius <= MAX_INDEXED_RADIUS:
                qi, pos, dist = _drop(seg.search(q32, radius, thr), dead)
            else:
                qi, pos, dist = _drop(seg.scan(q32, radius), dead)
            found.append((qi, seg.ids_at(pos), dist))
        if state.delta.n:
            qi, pos, dist = _drop(state.delta.search(q32.view(np.uint64), radius), state.delta_dead)
            found.append((qi, state.delta.ids[pos], dist))
        if not found:
            return _empty_matches()
        if len(found) == 1:
            qi, ids, dist = found[0]
        else:
            qi, ids, dist = (np.concatenate(col) for col in zip(*found, strict=True))
        order = np.lexsort((ids, qi))
        return qi[order], ids[order], dist[order]

    # -- writing ---------------------------------------------------------------------------

    def add(self, ids: Ids, hashes: Hashes) -> None:
        """Add entries; later matches see them at once. A full delta becomes a segment."""
        words = as_words(hashes)
        new_ids = _as_ids(ids, len(words))
        if len(words) == 0:
            return
        with self._write_lock:
            state = self._state
            delta = state.delta.extended(new_ids, words)
            if delta.n < self.delta_limit:
                self._state = replace(state, delta=delta)
                return
            live = _live_positions(delta.n, state.delta_dead)
            new = build_segments(delta.words_at(live), delta.ids[live])
            self._state = _State(
                state.segments + tuple(new),
                state.dead + tuple(_NO_DEAD for _ in new),
                Flat.empty(),
                _NO_DEAD,
            )
        if self._merge_lock.acquire(blocking=False):
            try:
                self._merge_tail()
            finally:
                self._merge_lock.release()

    def disable(self, ids: Ids) -> int:
        """Withdraw every entry with these ids from matching; returns how many were live.

        Tombstones cost memory while the entries they hide count for nothing,
        so a segment over ``DEAD_LIMIT`` (and ``DEAD_MIN``) is rewritten without
        them, in this call unless a merge is already running; matching goes on.
        """
        changed = self._mark(ids, disable=True)
        if self._merge_lock.acquire(blocking=False):
            try:
                state = self._state
                for seg, dead in zip(state.segments, state.dead, strict=True):
                    if len(dead) > max(DEAD_LIMIT * seg.n, DEAD_MIN):
                        self._merge([seg])
            finally:
                self._merge_lock.release()
        return changed

    def enable(self, ids: Ids) -> int:
        """Undo :meth:`disable` for entries still stored; returns how many came back."""
        return self._mark(ids, disable=False)

    def _mark(self, ids: Ids, *, disable: bool) -> int:
        wanted = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        with self._write_lock:
            state = self._state
            dead = [*state.dead, state.delta_dead]
            parts: list[Segment | Flat] = [*state.segments, state.delta]
            changed = 0
            for i, part in enumerate(parts):
                hit = part.positions_of(wanted).astype(np.uint32)
                if len(hit) == 0:
                    continue
                if disable:
                    updated = np.union1d(dead[i], hit).astype(np.uint32)
                else:
                    updated = np.setdiff1d(dead[i], hit).astype(np.uint32)
                changed += abs(len(updated) - len(dead[i]))
                dead[i] = updated
            self._state = _State(state.segments, tuple(dead[:-1]), state.delta, dead[-1])
        return changed

    def compact(self) -> None:
        """Fold the delta in and merge everything into as few segments as fit, dropping tombstones.

        Safe to run in a background thread: matching goes on against the old
        state, and additions or withdrawals made meanwhile are carried over.
        """
        with self._merge_lock:
            with self._write_lock:
                state = self._state
                live = _live_positions(state.delta.n, state.delta_dead)
                new = build_segments(state.delta.words_at(live), state.delta.ids[live])
                self._state = _State(
                    state.segments + tuple(new),
                    state.dead + tuple(_NO_DEAD for _ in new),
                    Flat.empty(),
                    _NO_DEAD,
                )
            state = self._state
            dirty = any(len(d) for d in state.dead)
            if dirty or len(state.segments) > -(-len(self) // SEGMENT_CAP):
                self._merge(list(state.segments))

    def _merge_tail(self) -> None:
        """Merge the newest segments while the one before is at most twice the last."""
        while True:
            state = self._state
            segs = state.segments
            if len(segs) < 2:
                return
            a, b = segs[-2], segs[-1]
            total = a.n + b.n
            if a.n > 2 * b.n or total > min(SEGMENT_CAP, self.auto_merge_limit):
                return
            self._merge([a, b])

    def _merge(self, chosen: list[Segment]) -> None:
        """Replace ``chosen`` by segments of their live entries; caller holds the merge lock."""
        snap = self._state
        snap_dead = {id(s): d for s, d in zip(snap.segments, snap.dead, strict=True)}
        words: list[U32] = []
        ids: list[I64] = []
        for seg in chosen:
            live = _live_positions(seg.n, snap_dead[id(seg)])
            words.append(seg.words_at(live))
            ids.append(seg.ids_at(live))
        merged = build_segments(np.concatenate(words), np.concatenate(ids))
        with self._write_lock:
            cur = self._state
            cur_dead = {id(s): d for s, d in zip(cur.segments, cur.dead, strict=True)}
            newly_dead: list[I64] = []
            revived_words: list[U32] = []
            revived_ids: list[I64] = []
            for seg in chosen:
                before, now = snap_dead[id(seg)], cur_dead[id(seg)]
                newly_dead.append(seg.ids_at(np.setdiff1d(now, before)))
                back = np.setdiff1d(before, now)
                revived_words.append(seg.words_at(back))
                revived_ids.append(seg.ids_at(back))
            gone = np.unique(np.concatenate(newly_dead))
            merged_dead = tuple(s.positions_of(gone).astype(np.uint32) for s in merged)
            at = min(cur.segments.index(s) for s in chosen)
            keep = [(s, d) for s, d in zip(cur.segments, cur.dead, strict=True) if s not in chosen]
            segs = [s for s, _ in keep]
            dead = [d for _, d in keep]
            segs[at:at] = merged
            dead[at:at] = merged_dead
            delta = cur.delta.extended(np.concatenate(revived_ids), np.concatenate(revived_words))
            self._state = _State(tuple(segs), tuple(dead), delta, cur.delta_dead)

    # -- disk ------------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write the current state as ``.npy`` files and ``manifest.json`` (written last)."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        state = self._state
        segments = []
        for i, (seg, dead) in enumerate(zip(state.segments, state.dead, strict=True)):
            meta = seg.save(root / f"seg-{i:04d}")
            np.save(root / f"seg-{i:04d}" / "dead.npy", dead)
            segments.append(meta)
        (root / "delta").mkdir(exist_ok=True)
        np.save(root / "delta" / "ids.npy", state.delta.ids)
        np.save(root / "delta" / "words.npy", state.delta.words)
        np.save(root / "delta" / "dead.npy", state.delta_dead)
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "segments": segments}
        tmp = root / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, root / "manifest.json")

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, mmap: bool = True) -> PdqIndex:
        """An index saved by :meth:`save`; with ``mmap`` the big arrays are mapped, not read."""
        root = Path(directory)
        manifest = json.loads((root / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise PdqIndexFormatError(f"{root} does not hold a saved PDQ index")
        if manifest.get("version") != FORMAT_VERSION:
            raise PdqIndexFormatError(
                f"{root} holds PDQ index format version {manifest.get('version')}; "
                f"this Vigil reads version {FORMAT_VERSION}: build the index again and save it"
            )
        segs: list[Segment] = []
        dead: list[npt.NDArray[np.uint32]] = []
        for i, meta in enumerate(manifest["segments"]):
            segs.append(Segment.load(root / f"seg-{i:04d}", meta, mmap))
            dead.append(np.load(root / f"seg-{i:04d}" / "dead.npy").astype(np.uint32))
        index = cls()
        index._state = _State(
            tuple(segs),
            tuple(dead),
            Flat(
                np.load(root / "delta" / "ids.npy").astype(np.int64),
                load_array(root / "delta" / "words.npy", mmap=False).astype(np.uint64),
            ),
            np.load(root / "delta" / "dead.npy").astype(np.uint32),
        )
        return index


def _live_positions(n: int, dead: npt.NDArray[np.uint32]) -> I64:
    return np.setdiff1d(np.arange(n, dtype=np.int64), dead.astype(np.int64), assume_unique=True)


def _empty_matches() -> Matches:
    empty = np.empty(0, np.int64)
    return empty, empty.copy(), empty.copy()
