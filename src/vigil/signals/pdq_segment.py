"""Immutable pieces of a :class:`~vigil.signals.pdq_index.PdqIndex`: segments and the delta.

A segment is a multi-index over at most 2**24 hashes, laid out to cost under
64 bytes per hash (see ``pdq_kernels`` for the arrays):

=================  ======================================  ===========
what               why                                     bytes/hash
=================  ======================================  ===========
``rows``           chunks 1..7, sorted by chunk 0          28
``low0``           chunk 0's low 16 bits (top bits: dir.)  2
``filt``           tables 1..7: one kept byte of the chunk  7
``pos24``          tables 1..7: 24-bit position in rows    21
``ids``            uint32 above ``id_base``                4 (8 if ids span >= 2**32)
directories        8 tables, uint16 per bucket + uint32    0.5-1 (~16 hashes per bucket)
                   per block of up to 256 buckets
=================  ======================================  ===========

Table 0 needs no positions: the rows themselves are in chunk-0 order. A small
segment pays more: table 0's directory has at least 2**16 buckets (128 KiB)
so that 16 bits of chunk 0 can stay implicit.
Segments never change after they are built; the index swaps whole objects.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.signals import pdq_kernels as kern

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
SEGMENT_CAP = 1 << kern.POS_BITS  # positions are 24 bits
BUCKET_TARGET = 16  # hashes per directory bucket: speed against directory memory
MAX_BLOCK_SHIFT = 8
_ARRAYS = ("rows", "low0", "filt", "pos24", "rel", "base", "ids")


def bucket_bits(n: int) -> int:
    """Directory bits for ``n`` hashes: about 16 hashes per bucket."""
    return min(20, max(1, round(math.log2(max(n, 1) / BUCKET_TARGET))))


def _directory(top: npt.NDArray[Any], p: int) -> tuple[npt.NDArray[np.uint16], U32, int]:
    """Bucket starts, stored as uint16 offsets from a uint32 base per block of buckets.

    The block is as large as the data allows (up to 256 buckets) while every
    offset in it fits 16 bits; heavily clustered data falls back to smaller
    blocks, at worst one uint32 per bucket.
    """
    nb = 1 << p
    starts = np.zeros(nb + 1, np.int64)
    np.cumsum(np.bincount(top.astype(np.int64), minlength=nb), out=starts[1:])
    block_of = np.arange(nb + 1)
    for s in range(min(MAX_BLOCK_SHIFT, p), -1, -1):
        base = starts[:: 1 << s]
        rel = starts - base[block_of >> s]
        if int(rel.max()) < 1 << 16:
            return rel.astype(np.uint16), base.astype(np.uint32), s
    raise AssertionError("one bucket per block always fits")  # pragma: no cover


@dataclass(frozen=True, eq=False)
class Segment:
    n: int
    rows: U32
    low0: npt.NDArray[np.uint16]
    filt: npt.NDArray[np.uint8]
    pos24: npt.NDArray[np.uint8]
    rel: npt.NDArray[np.uint16]
    base: U32
    geo: I64  # (8, 4): p, block shift, rel offset, base offset per table
    ids: npt.NDArray[Any]  # uint32 above id_base, or int64 with id_base 0
    id_base: int

    @classmethod
    def build(cls, words: U32, ids: I64) -> Segment:
        """A segment over ``words`` ((n, 8) uint32 chunks) and their entry ids."""
        n = len(words)
        if not 0 < n <= SEGMENT_CAP:
            raise ValueError(f"a segment holds 1 to {SEGMENT_CAP} hashes, not {n}")
        p = bucket_bits(n)
        p0 = max(p, 16)
        pos = np.arange(n, dtype=np.uint64)
        key = (words[:, 0].astype(np.uint64) << np.uint64(24)) | pos
        key.sort()
        order = (key & np.uint64(SEGMENT_CAP - 1)).astype(np.intp)
        rows = np.ascontiguousarray(words[order, 1:])
        low0 = np.zeros(n + kern.PAD, np.uint16)  # padded: the kernels read 64 bytes at a time
        low0[:n] = key >> np.uint64(24)  # keeps the low 16 bits
        dirs = [_directory(key >> np.uint64(56 - p0), p0)]
        filt = np.zeros(7 * n + kern.PAD, np.uint8)
        pos24 = np.zeros((7 * n + kern.PAD, 3), np.uint8)
        for t in range(1, 8):
            key = (rows[:, t - 1].astype(np.uint64) << np.uint64(24)) | pos
            key.sort()
            filt[(t - 1) * n : t * n] = key >> np.uint64(24)  # keeps the low 8 bits
            where = (key & np.uint64(SEGMENT_CAP - 1)).astype("<u4").view(np.uint8)
            pos24[(t - 1) * n : t * n] = where.reshape(n, 4)[:, :3]
            dirs.append(_directory(key >> np.uint64(56 - p), p))
        geo = np.zeros((8, 4), np.int64)
        ro = bo = 0
        for t, (rel, base, s) in enumerate(dirs):
            geo[t] = (p0 if t == 0 else p, s, ro, bo)
            ro += len(rel)
            bo += len(base)
        sorted_ids = ids[order]
        id_base = int(sorted_ids.min())
        if int(sorted_ids.max()) - id_base < 1 << 32:
            stored: npt.NDArray[Any] = (sorted_ids - id_base).astype(np.uint32)
        else:
            stored, id_base = sorted_ids.astype(np.int64), 0
        return cls(
            n,
            rows,
            low0,
            filt,
            pos24.reshape(-1),
            np.concatenate([d[0] for d in dirs]),
            np.concatenate([d[1] for d in dirs]),
            geo,
            stored,
            id_base,
        )

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, name).nbytes) for name in _ARRAYS) + int(self.geo.nbytes)

    def search(self, queries: U32, radius: int, thr: I64) -> tuple[I64, I64, I64]:
        """``(query index, position, distance)`` within ``radius``; see ``kern.search_segment``."""
        work = _SCRATCH
        qi, pos, dist, work.queue = kern.search_segment(
            queries,
            radius,
            thr,
            self.rows,
            self.low0,
            self.filt,
            self.pos24,
            self.rel,
            self.base,
            self.geo,
            work.buckets,
            work.queue,
        )
        return qi, pos, dist

    def scan(self, queries: U32, radius: int) -> tuple[I64, I64, I64]:
        """The same answer by comparing every entry: for radii the index does not cover."""
        return kern.scan_segment(  # type: ignore[no-any-return]
            queries, radius, self.rows, self.low0, self.rel, self.base, self.geo
        )

    def ids_at(self, positions: npt.NDArray[Any]) -> I64:
        ids: I64 = self.ids[positions].astype(np.int64) + self.id_base
        return ids

    def positions_of(self, ids: I64) -> I64:
        """Positions holding any of ``ids`` (sorted, unique): one pass over the ids."""
        return kern.positions_of(self.ids, self.id_base, ids)  # type: ignore[no-any-return]

    def words_at(self, positions: npt.NDArray[Any]) -> U32:
        """The (k, 8) uint32 chunks of the hashes at ``positions``, chunk 0 rebuilt."""
        p0, s0, ro, bo = (int(v) for v in self.geo[0])
        nb = 1 << p0
        starts = self.base[bo + (np.arange(nb + 1) >> s0)].astype(np.int64) + self.rel[
            ro : ro + nb + 1
        ].astype(np.int64)
        bucket = np.searchsorted(starts, positions, side="right") - 1
        shift = 32 - p0
        out = np.empty((len(positions), 8), np.uint32)
        out[:, 0] = (bucket.astype(np.uint32) << np.uint32(shift)) | (
            self.low0[positions].astype(np.uint32) & np.uint32((1 << shift) - 1)
        )
        out[:, 1:] = self.rows[positions]
        return out

    def save(self, directory: Path) -> dict[str, Any]:
        directory.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(directory / f"{name}.npy", getattr(self, name))
        return {"n": self.n, "geo": self.geo.tolist(), "id_base": self.id_base}

    @classmethod
    def load(cls, directory: Path, meta: dict[str, Any], mmap: bool) -> Segment:
        arrays = {name: load_array(directory / f"{name}.npy", mmap) for name in _ARRAYS}
        seg = cls(
            n=int(meta["n"]),
            geo=np.asarray(meta["geo"], dtype=np.int64).reshape(8, 4),
            id_base=int(meta["id_base"]),
            **arrays,
        )
        if seg.rows.shape != (seg.n, 7) or seg.filt.shape != (7 * seg.n + kern.PAD,):
            raise ValueError(f"{directory}: arrays do not match the manifest")
        return seg


class _Scratch(threading.local):
    """Per-thread scratch arrays for the search kernel (see ``kern.search_segment``)."""

    def __init__(self) -> None:
        self.buckets = np.empty((4, 8, kern.MAX_VARIANTS), np.int64)
        self.queue = np.empty((4096, 3), np.int64)


_SCRATCH = _Scratch()


def load_array(path: Path, mmap: bool) -> npt.NDArray[Any]:
    """An array from a .npy file, memory-mapped copy-on-write when ``mmap``.

    Copy-on-write keeps the array writable, so the compiled kernels see the same
    array types as for a freshly built index and reuse the cached machine code
    (a read-only map would need a second compilation). Nothing writes to it.
    """
    arr = np.load(path, mmap_mode="c" if mmap else None, allow_pickle=False)
    return np.asarray(arr)


@dataclass(frozen=True, eq=False)
class Flat:
    """Hashes compared one by one: the small delta of recent additions."""

    ids: I64
    words: npt.NDArray[np.uint64]  # (n, 4)

    @classmethod
    def empty(cls) -> Flat:
        return cls(np.empty(0, np.int64), np.empty((0, 4), np.uint64))

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.words.nbytes)

    def search(self, queries: npt.NDArray[np.uint64], radius: int) -> tuple[I64, I64, I64]:
        return kern.scan_flat(queries, radius, self.words)  # type: ignore[no-any-return]

    def positions_of(self, ids: I64) -> I64:
        return kern.positions_of(self.ids, 0, ids)  # type: ignore[no-any-return]

    def words_at(self, positions: npt.NDArray[Any]) -> U32:
        return np.ascontiguousarray(self.words[positions]).view(np.uint32)

    def extended(self, ids: I64, words: U32) -> Flat:
        return Flat(
            np.concatenate([self.ids, ids]),
            np.concatenate([self.words, np.ascontiguousarray(words).view(np.uint64)]),
        )


def build_segments(words: U32, ids: I64) -> list[Segment]:
    """Segments over any number of hashes: equal parts of at most ``SEGMENT_CAP``."""
    n = len(words)
    if n == 0:
        return []
    parts = -(-n // SEGMENT_CAP)
    bounds = [n * i // parts for i in range(parts + 1)]
    return [Segment.build(words[a:b], ids[a:b]) for a, b in itertools.pairwise(bounds)]
