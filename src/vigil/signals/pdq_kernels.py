"""Compiled loops behind :mod:`vigil.signals.pdq_index`.

They live apart so the index module stays readable and so numba's on-disk cache
(``cache=True``) keys on this file alone: a process that loads a saved index
reuses the machine code instead of compiling for seconds. Every kernel is
single-threaded and releases the GIL (``nogil``), so matches from several
Python threads run side by side.

Layout of one segment (``pdq_segment`` says what each array costs):

- ``rows[i]``: chunks 1..7 of entry ``i`` (a chunk is a little-endian uint32 of
  the hash); entries are sorted by chunk 0.
- ``low0[i]``: the low 16 bits of chunk 0; its top ``p0 >= 16`` bits are the
  entry's bucket in table 0's directory.
- tables 1..7, each sorted by its chunk, entry ``k = (t - 1) * n + j``:
  ``filt[k]`` is the chunk's low 8 bits and ``pos24[3k:3k + 3]`` the entry's
  position in ``rows`` (24 bits, little-endian). The kept bytes sit apart from
  the positions so that scanning a bucket touches one cache line, not four.
- directories: bucket ``b`` of table ``t`` starts at
  ``base[bo + (b >> s)] + rel[ro + b]``, with ``geo[t] = (p, s, ro, bo)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic as _intrinsic

# numba's code-generation helpers carry no usable type information.
cgutils: Any = _cgutils
intrinsic: Callable[[Callable[..., Any]], Any] = _intrinsic

POS_BITS = 24
LOW_BITS = 8
LOW_MASK = (1 << LOW_BITS) - 1
PAD = 64  # entries after each table's end, so a 64-byte vector load stays in bounds
MAX_VARIANTS = 2600  # buckets within 3 flips of 24 bits: C(24, <=3) = 2325


@intrinsic
def _ctpop(typingctx: Any, x: Any) -> Any:
    """LLVM's population count: one POPCNT instruction on x86."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return x(x), codegen


@intrinsic
def _prefetch(typingctx: Any, arr: Any, idx: Any) -> Any:
    """Ask the CPU to start loading ``arr[idx]`` into cache (``llvm.prefetch``)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
        ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@intrinsic
def _near_mask(typingctx: Any, arr: Any, idx: Any, q: Any, bits: Any, budget: Any) -> Any:
    """Bit ``i`` set when ``popcount((arr[idx + i] ^ q) & bits) <= budget``, for 64 bytes.

    One vector load, XOR, AND, population count and compare: 64 uint8 or 32
    uint16 entries in a handful of AVX-512 instructions (LLVM lowers the same
    code for narrower CPUs).
    """
    width = arr.dtype.bitwidth
    lanes_n = 512 // width

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
        ity = ir.IntType(width)
        vty = ir.VectorType(ity, lanes_n)
        lanes = ir.Constant(ir.VectorType(ir.IntType(32), lanes_n), [0] * lanes_n)

        def splat(value: Any) -> Any:
            one = builder.insert_element(
                ir.Constant(vty, ir.Undefined), builder.trunc(value, ity), ir.IntType(32)(0)
            )
            return builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), lanes)

        vec = builder.load(builder.bitcast(ptr, vty.as_pointer()), align=width // 8)
        diff = builder.and_(builder.xor(vec, splat(args[2])), splat(args[3]))
        fnty = ir.FunctionType(vty, [vty])
        ctpop = cgutils.get_or_insert_function(
            builder.module, fnty, f"llvm.ctpop.v{lanes_n}i{width}"
        )
        ok = builder.icmp_unsigned("<=", builder.call(ctpop, [diff]), splat(args[4]))
        return builder.zext(builder.bitcast(ok, ir.IntType(lanes_n)), ir.IntType(64))

    return types.uint64(arr, idx, q, bits, budget), codegen


@njit(inline="always")
def _pc(x: Any) -> Any:
    return np.int64(_ctpop(np.uint64(x)))


@njit(inline="always")
def _start(rel: Any, base: Any, ro: Any, bo: Any, s: Any, b: Any) -> Any:
    return np.int64(base[bo + (b >> s)]) + np.int64(rel[ro + b])


@njit(inline="always")
def _room(out: Any, count: Any, more: Any) -> Any:
    """``out`` ((cap, 3) int64), reallocated if ``more`` rows may not fit after ``count``.

    Called before a loop, never inside one: a call in a hot loop stops numba
    from pruning reference counting there, which costs ~100 ns per iteration.
    """
    if count + more <= out.shape[0]:
        return out
    bigger = np.empty((max(2 * out.shape[0], count + more), 3), np.int64)
    bigger[:count] = out[:count]
    return bigger


@njit(inline="always")
def _grow(arr: Any, count: Any) -> Any:
    if count < arr.shape[0]:
        return arr
    bigger = np.empty(arr.shape[0] * 2, dtype=arr.dtype)
    bigger[:count] = arr[:count]
    return bigger


@njit(cache=True, nogil=True)
def _variants(qb: Any, p: Any, r: Any, bk: Any, bb: Any) -> Any:
    """Every bucket within ``r`` flips of ``qb`` over ``p`` bits, with the budget left."""
    n = 0
    bk[n] = qb
    bb[n] = r
    n += 1
    if r >= 1:
        for i in range(p):
            b1 = qb ^ (np.int64(1) << i)
            bk[n] = b1
            bb[n] = r - 1
            n += 1
            if r >= 2:
                for j in range(i):
                    b2 = b1 ^ (np.int64(1) << j)
                    bk[n] = b2
                    bb[n] = r - 2
                    n += 1
                    if r >= 3:
                        for k in range(j):
                            bk[n] = b2 ^ (np.int64(1) << k)
                            bb[n] = r - 3
                            n += 1
    return n


@njit(cache=True, nogil=True)
def _chunk0(pos: Any, low0: Any, rel: Any, base: Any, geo: Any) -> Any:
    """Chunk 0 of the entry at ``pos``: its bucket by binary search, then the stored low bits."""
    p0 = geo[0, 0]
    s0 = geo[0, 1]
    ro = geo[0, 2]
    bo = geo[0, 3]
    lo = np.int64(0)
    hi = np.int64(1) << p0
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if _start(rel, base, ro, bo, s0, mid) <= pos:
            lo = mid
        else:
            hi = mid
    shift = 32 - p0
    return (lo << shift) | (np.int64(low0[pos]) & ((np.int64(1) << shift) - 1))


@njit(cache=True, nogil=True)
def _verify(
    q: Any,
    qi: Any,
    radius: Any,
    thr: Any,
    rows: Any,
    low0: Any,
    rel: Any,
    base: Any,
    geo: Any,
    cq: Any,
    nc: Any,
    out: Any,
    count: Any,
) -> Any:
    """Append ``(qi, position, distance)`` to ``out`` for each queued candidate within ``radius``.

    A candidate from table ``t >= 1`` is dropped when an earlier table would
    report it too, or when it passed the kept-bits test but its chunk ``t`` is
    beyond budget. Chunk 0 is rebuilt (a binary search) only for the rare
    candidate still within the radius on the other 240 bits. The loop calls
    no helper that takes arrays: numba would count references on every pass.
    """
    q0 = np.int64(q[0])
    mask0 = (np.int64(1) << (32 - geo[0, 0])) - 1
    for c in range(nc):
        pos = cq[c, 0]
        t = cq[c, 1]
        if t == 0:
            # chunk 0 exactly: flips in the bucket's bits, then in the low bits
            d = thr[0] - cq[c, 2] + _pc((np.int64(low0[pos]) ^ q0) & mask0)
            for j in range(1, 8):
                d += _pc(rows[pos, j - 1] ^ q[j])
                if d > radius:
                    break
        else:
            d = 0
            for j in range(1, 8):
                dj = _pc(rows[pos, j - 1] ^ q[j])
                if (j < t and dj <= thr[j]) or (j == t and dj > thr[t]) or d + dj > radius:
                    d = radius + 1  # reported by an earlier table, or too far
                    break
                d += dj
            if d <= radius and d + _pc((np.int64(low0[pos]) ^ q0) & 0xFFFF) <= radius:
                d0 = _pc(_chunk0(pos, low0, rel, base, geo) ^ q0)
                d = radius + 1 if d0 <= thr[0] else d + d0
            else:
                d = radius + 1
        if d <= radius:
            out[count, 0] = qi
            out[count, 1] = pos
            out[count, 2] = d
            count += 1
    return count


@njit(cache=True, nogil=True)
def _probe(
    table: Any,
    off: Any,
    qc: Any,
    bits: Any,
    t: Any,
    nv: Any,
    bb: Any,
    bs: Any,
    be: Any,
    cq: Any,
    nc: Any,
) -> Any:
    """Queue every entry of table ``t``'s listed buckets whose kept bits fit the bucket's budget.

    ``cq`` rows are (index into ``table``, table, budget the bucket left).
    Returns the queue length, or -1 when ``cq`` may be too small (the caller
    grows it and starts the query again).
    """
    lanes = 64 // table.itemsize
    for v in range(nv):
        if be[v] - bs[v] + nc > cq.shape[0]:
            return -1
        budget = bb[v]
        i0 = off + bs[v]
        end = off + be[v]
        while i0 < end:  # not range(): a runtime step would cost a division per bucket
            m = _near_mask(table, i0, qc, bits, budget)
            if end - i0 < lanes:
                m &= (np.uint64(1) << np.uint64(end - i0)) - np.uint64(1)
            while m:
                lowest = m & (~m + np.uint64(1))
                m ^= lowest
                cq[nc, 0] = i0 + _pc(lowest - np.uint64(1))
                cq[nc, 1] = t
                cq[nc, 2] = budget
                nc += 1
            i0 += lanes
    return nc


@njit(cache=True, nogil=True)
def _bounds(
    g: Any, rel: Any, base: Any, table: Any, off: Any, nv: Any, bk: Any, bs: Any, be: Any
) -> None:
    """Start and end of each listed bucket, prefetching the bucket's first and last entries."""
    s, ro, bo = g[1], g[2], g[3]
    for v in range(nv):
        start = _start(rel, base, ro, bo, s, bk[v])
        end = _start(rel, base, ro, bo, s, bk[v] + 1)
        bs[v] = start
        be[v] = end
        _prefetch(table, off + start)
        _prefetch(table, off + end)


@njit(cache=True, nogil=True)
def search_segment(
    queries: Any,
    radius: Any,
    thr: Any,
    rows: Any,
    low0: Any,
    filt: Any,
    pos24: Any,
    rel: Any,
    base: Any,
    geo: Any,
    work: Any,
    cq: Any,
) -> Any:
    """Multi-index search of one segment: ``(query index, position, distance)`` per match.

    ``work`` ((4, 8, MAX_VARIANTS) int64) and ``cq`` ((k, 3) int64) are scratch
    space the caller keeps per thread: allocating them on every call would
    cost more than a small query. The possibly grown ``cq`` is returned fourth.

    Table ``t`` is probed within ``thr[t]`` bits of the query's chunk ``t``; the
    thresholds satisfy ``sum(thr + 1) > radius``, so every entry within
    ``radius`` has a chunk within its threshold (pigeonhole). An entry is kept
    only by the first table that can claim it, so nothing is reported twice.

    The search is bound by memory latency: a query touches ten thousand
    scattered cache lines. So it runs in stages, each computing all the
    addresses the next needs and prefetching them, so they load in parallel:
    bucket lists (prefetch the directory), bucket bounds (prefetch the
    buckets), kept-bits tests 64 bytes at a time (prefetch positions),
    positions (prefetch rows), and finally verification on all 256 bits.
    """
    out = np.empty((64, 3), np.int64)
    count = 0
    bk = work[0]
    bb = work[1]
    bs = work[2]
    be = work[3]
    nv = np.zeros(8, np.int64)
    n = rows.shape[0]
    flat = rows.reshape(-1)
    mask0 = (np.int64(1) << (32 - geo[0, 0])) - 1
    qi = 0
    while qi < queries.shape[0]:
        q = queries[qi]
        for t in range(8):
            nv[t] = 0
            if thr[t] >= 0:
                p = geo[t, 0]
                nv[t] = _variants(np.int64(q[t]) >> (32 - p), p, thr[t], bk[t], bb[t])
                for v in range(nv[t]):
                    _prefetch(rel, geo[t, 2] + bk[t, v])
        for t in range(8):
            if t == 0:
                _bounds(geo[0], rel, base, low0, 0, nv[0], bk[0], bs[0], be[0])
            else:
                _bounds(geo[t], rel, base, filt, (t - 1) * n, nv[t], bk[t], bs[t], be[t])
        nc = 0
        for t in range(8):
            if nc < 0 or nv[t] == 0:
                continue
            qc = np.int64(q[t])
            if t == 0:
                nc = _probe(low0, 0, qc, mask0, 0, nv[0], bb[0], bs[0], be[0], cq, nc)
            else:
                off = (t - 1) * n
                nc = _probe(filt, off, qc, LOW_MASK, t, nv[t], bb[t], bs[t], be[t], cq, nc)
        if nc < 0:
            cq = np.empty((cq.shape[0] * 2, 3), np.int64)
            continue  # the same query again, with room for every candidate
        for c in range(nc):
            if cq[c, 1] == 0:
                _prefetch(flat, cq[c, 0] * 7)
                _prefetch(flat, cq[c, 0] * 7 + 6)
            else:
                _prefetch(pos24, cq[c, 0] * 3)
        for c in range(nc):
            if cq[c, 1] != 0:
                k = cq[c, 0] * 3
                pos = (
                    np.int64(pos24[k]) | np.int64(pos24[k + 1]) << 8 | np.int64(pos24[k + 2]) << 16
                )
                cq[c, 0] = pos
                _prefetch(flat, pos * 7)
                _prefetch(flat, pos * 7 + 6)
        out = _room(out, count, nc)
        count = _verify(q, qi, radius, thr, rows, low0, rel, base, geo, cq, nc, out, count)
        qi += 1
    return out[:count, 0].copy(), out[:count, 1].copy(), out[:count, 2].copy(), cq


@njit(cache=True, nogil=True)
def scan_segment(
    queries: Any, radius: Any, rows: Any, low0: Any, rel: Any, base: Any, geo: Any
) -> Any:
    """Every entry of a segment against every query: the exact path for radii over 31."""
    out = np.empty((64, 3), np.int64)
    count = 0
    p0 = geo[0, 0]
    s0 = geo[0, 1]
    ro = geo[0, 2]
    bo = geo[0, 3]
    shift = 32 - p0
    mask0 = (np.int64(1) << shift) - 1
    for qi in range(queries.shape[0]):
        q = queries[qi]
        for b in range(np.int64(1) << p0):
            top = b << shift
            start = _start(rel, base, ro, bo, s0, b)
            end = _start(rel, base, ro, bo, s0, b + 1)
            out = _room(out, count, end - start)
            for i in range(start, end):
                d = _pc((top | (np.int64(low0[i]) & mask0)) ^ np.int64(q[0]))
                for j in range(7):
                    d += _pc(rows[i, j] ^ q[j + 1])
                if d <= radius:
                    out[count, 0] = qi
                    out[count, 1] = i
                    out[count, 2] = d
                    count += 1
    return out[:count, 0].copy(), out[:count, 1].copy(), out[:count, 2].copy()


@njit(cache=True, nogil=True)
def scan_flat(queries: Any, radius: Any, words: Any) -> Any:
    """Brute force over plain hashes (the delta): ``words`` is ``(n, 4)`` uint64."""
    out = np.empty((64, 3), np.int64)
    count = 0
    for qi in range(queries.shape[0]):
        q = queries[qi]
        out = _room(out, count, words.shape[0])
        for i in range(words.shape[0]):
            d = (
                _pc(words[i, 0] ^ q[0])
                + _pc(words[i, 1] ^ q[1])
                + _pc(words[i, 2] ^ q[2])
                + _pc(words[i, 3] ^ q[3])
            )
            if d <= radius:
                out[count, 0] = qi
                out[count, 1] = i
                out[count, 2] = d
                count += 1
    return out[:count, 0].copy(), out[:count, 1].copy(), out[:count, 2].copy()


@njit(cache=True, nogil=True)
def positions_of(stored: Any, offset: Any, wanted: Any) -> Any:
    """Positions ``i`` where ``stored[i] + offset`` is in ``wanted`` (sorted int64)."""
    out = np.empty(64, np.int64)
    count = 0
    n = wanted.shape[0]
    if n == 0:
        return out[:0].copy()
    for i in range(stored.shape[0]):
        v = np.int64(stored[i]) + offset
        k = np.searchsorted(wanted, v)
        if k < n and wanted[k] == v:
            out = _grow(out, count)
            out[count] = i
            count += 1
    return out[:count].copy()
