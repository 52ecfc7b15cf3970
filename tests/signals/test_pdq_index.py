"""The PDQ index answers exactly what brute force answers, through updates, merges and disk."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from vigil.signals.pdq_bruteforce import BruteForcePdqMatcher
from vigil.signals.pdq_index import PdqIndex, PdqIndexFormatError, thresholds
from vigil.signals.pdq_matching import PdqMatcher

Hashes = npt.NDArray[np.uint8]


def random_hashes(rng: np.random.Generator, n: int) -> Hashes:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def flip(h: Hashes, bits: list[int] | npt.NDArray[np.int64]) -> Hashes:
    """``h`` with the given bit positions (0..255, chunk c = bits 32c..32c+31) flipped."""
    words = h.copy().view("<u4")
    for b in bits:
        words[b // 32] ^= np.uint32(1 << (b % 32))
    return words.view(np.uint8)


def near(rng: np.random.Generator, h: Hashes, d: int) -> Hashes:
    return flip(h, rng.choice(256, d, replace=False))


def oracle(ids: list[int], hashes: Hashes) -> BruteForcePdqMatcher:
    return BruteForcePdqMatcher.build(ids, [bytes(h) for h in hashes])


def planted(seed: int, n: int) -> tuple[list[int], Hashes, list[bytes]]:
    """Random hashes, some near-copies of each other, and queries at distances 0..40 of them."""
    rng = np.random.default_rng(seed)
    hashes = random_hashes(rng, n)
    for i in range(0, n // 10):  # a tenth are near-copies of other entries
        hashes[n - 1 - i] = near(rng, hashes[i], int(rng.integers(0, 32)))
    ids = [10_000 + 3 * i for i in range(n)]
    queries = [bytes(near(rng, hashes[int(rng.integers(n))], d)) for d in range(41)]
    queries += [bytes(near(rng, hashes[int(rng.integers(n))], 31)) for _ in range(40)]
    queries += [bytes(h) for h in random_hashes(rng, 10)]
    return ids, hashes, queries


def test_thresholds_cover_every_radius_by_pigeonhole() -> None:
    for radius in range(32):
        thr = thresholds(radius)
        assert int((thr + 1).sum()) > radius
        assert thr.max() <= 3


@pytest.mark.parametrize("radius", [31, 30, 24, 17, 8, 1, 0, 40])
def test_same_answers_as_brute_force(radius: int) -> None:
    ids, hashes, queries = planted(seed=radius, n=30_000)
    index: PdqMatcher = PdqIndex.build(ids, hashes)
    truth = oracle(ids, hashes)
    found = 0
    for q in queries:
        expected = sorted(truth.match(q, radius))
        assert index.match(q, radius) == expected
        found += len(expected)
    assert found > min(radius, 40)  # each planted query finds at least its source


def test_batched_answers_equal_single_answers() -> None:
    ids, hashes, queries = planted(seed=5, n=20_000)
    index = PdqIndex.build(np.array(ids), hashes)
    batch = np.frombuffer(b"".join(queries), dtype=np.uint8).reshape(-1, 32)
    qi, got_ids, dist = index.match_many(batch, 31)
    for i, q in enumerate(queries):
        rows = qi == i
        assert list(zip(got_ids[rows].tolist(), dist[rows].tolist(), strict=True)) == index.match(
            q, 31
        )


@pytest.mark.parametrize("where", ["top", "low", "middle", "spread"])
def test_exactly_31_bits_match_and_32_do_not(where: str) -> None:
    """4 bits flipped in seven chunks and 3 in the eighth: 31 apart, every chunk over budget but one."""
    rng = np.random.default_rng(11)
    background = random_hashes(rng, 5_000)
    target = random_hashes(rng, 1)[0]
    index = PdqIndex.build([*range(5_000), 99_999], np.vstack([background, target]))

    def picks(chunk: int, k: int) -> list[int]:
        offsets = {
            "top": [31, 30, 29, 28],  # in the directory's bits
            "low": [0, 1, 2, 3],  # in the kept byte
            "middle": [8, 9, 10, 11],  # in the bits no table keeps
            "spread": [2, 9, 17, 30],
        }[where]
        return [32 * chunk + o for o in offsets[:k]]

    for light in range(8):
        bits = [b for c in range(8) for b in picks(c, 3 if c == light else 4)]
        assert len(bits) == 31
        assert (99_999, 31) in index.match(bytes(flip(target, bits)), 31)
    far = flip(target, [b for c in range(8) for b in picks(c, 4)])
    assert all(i != 99_999 for i, _ in index.match(bytes(far), 31))
    assert (99_999, 32) in index.match(bytes(far), 32)


def test_duplicate_hashes_return_every_id() -> None:
    rng = np.random.default_rng(2)
    same = random_hashes(rng, 1)[0]
    hashes = np.vstack([random_hashes(rng, 1_000), np.repeat(same[None], 5, axis=0)])
    index = PdqIndex.build(list(range(1_005)), hashes)
    assert index.match(bytes(same), 0) == [(i, 0) for i in range(1_000, 1_005)]


def test_a_crowded_bucket_still_answers_exactly() -> None:
    """70,000 copies of one hash overflow 16-bit bucket offsets; the directory adapts."""
    rng = np.random.default_rng(4)
    zero = np.zeros((70_000, 32), np.uint8)
    hashes = np.vstack([zero, random_hashes(rng, 2_000)])
    index = PdqIndex.build(np.arange(72_000), hashes)
    got = index.match(bytes(flip(zero[0], [1, 40, 77])), 31)
    assert [i for i, _ in got[:70_000]] == list(range(70_000))
    assert got == sorted(
        oracle(list(range(72_000)), hashes).match(bytes(flip(zero[0], [1, 40, 77])), 31)
    )


def test_empty_index() -> None:
    index = PdqIndex.build([], np.empty((0, 32), np.uint8))
    assert len(index) == 0
    assert index.nbytes == 0
    assert index.match(bytes(32), 31) == []
    qi, ids, dist = index.match_many(np.zeros((3, 32), np.uint8), 31)
    assert len(qi) == len(ids) == len(dist) == 0


def test_ids_far_apart_and_bad_input() -> None:
    rng = np.random.default_rng(6)
    hashes = random_hashes(rng, 100)
    ids = [i * (1 << 40) - 7 for i in range(100)]  # span over 2**32: stored as int64
    index = PdqIndex.build(ids, hashes)
    assert index.match(bytes(hashes[57]), 0) == [(ids[57], 0)]
    with pytest.raises(ValueError, match="one id per hash"):
        PdqIndex.build([1, 2], hashes[:1])
    with pytest.raises(ValueError, match="32 bytes"):
        PdqIndex.build([1], [b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        index.match(b"short", 31)


def test_memory_is_at_most_64_bytes_per_hash_at_a_million() -> None:
    rng = np.random.default_rng(8)
    index = PdqIndex.build(np.arange(1_000_000), random_hashes(rng, 1_000_000))
    assert len(index) == 1_000_000
    assert index.nbytes / len(index) <= 64


def test_many_tombstones_are_dropped_so_memory_stays_in_budget() -> None:
    rng = np.random.default_rng(13)
    hashes = random_hashes(rng, 200_000)
    index = PdqIndex.build(np.arange(200_000), hashes)
    per_hash = index.nbytes / len(index)
    index.disable(np.arange(0, 200_000, 20))  # 5%: over the limit, so the segment is rewritten
    assert len(index) == 190_000
    assert index.segment_sizes == (190_000,)
    assert index.nbytes / len(index) <= per_hash + 0.5
    assert index.match(bytes(hashes[20]), 0) == []
    assert index.match(bytes(hashes[21]), 0) == [(21, 0)]


def test_disable_enable_and_add_take_effect_at_once() -> None:
    ids, hashes, _ = planted(seed=9, n=5_000)
    index = PdqIndex.build(ids, hashes, delta_limit=64)
    q = bytes(hashes[10])
    assert (ids[10], 0) in index.match(q, 31)
    assert index.disable([ids[10], 123]) == 1
    assert all(i != ids[10] for i, _ in index.match(q, 31))
    assert len(index) == 4_999
    assert index.enable([ids[10]]) == 1
    assert (ids[10], 0) in index.match(q, 31)
    extra = near(np.random.default_rng(1), hashes[10], 5)
    index.add([7], extra[None])
    assert (7, 5) in index.match(q, 31)
    assert len(index) == 5_001


def test_compaction_and_merges_keep_answers_identical() -> None:
    ids, hashes, queries = planted(seed=3, n=12_000)
    index = PdqIndex.build(ids[:2_000], hashes[:2_000], delta_limit=500)
    for start in range(2_000, 12_000, 700):  # folds the delta and merges small segments
        index.add(ids[start : start + 700], hashes[start : start + 700])
    assert len(index.segment_sizes) > 1
    gone = ids[::7]
    index.disable(gone)
    live = [i for i in range(12_000) if i % 7]
    truth = oracle([ids[i] for i in live], hashes[live])
    before = [index.match(q, 31) for q in queries]
    assert before == [sorted(truth.match(q, 31)) for q in queries]
    nbytes = index.nbytes
    index.compact()
    assert index.segment_sizes == (len(live),)
    assert index.delta_size == 0
    assert index.nbytes < nbytes
    assert [index.match(q, 31) for q in queries] == before
    assert index.enable(gone) == 0  # dropped at compaction: add them again instead


def test_concurrent_updates_never_disturb_matching() -> None:
    rng = np.random.default_rng(12)
    anchor = random_hashes(rng, 1)[0]
    base = random_hashes(rng, 3_000)
    index = PdqIndex.build([-1, *range(3_000)], np.vstack([anchor[None], base]), delta_limit=256)
    added = {i: near(rng, anchor, int(rng.integers(0, 40))) for i in range(10_000, 14_000)}
    distances = {i: int(np.unpackbits(h ^ anchor).sum()) for i, h in added.items()}
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                got = index.match(bytes(anchor), 31)
                assert (-1, 0) in got  # never disabled, never lost in a merge
                for i, d in got:
                    assert i in (-1, 20_000) or distances[i] == d <= 31
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    keys = list(added)
    for start in range(0, len(keys), 100):
        batch = keys[start : start + 100]
        index.add(batch, np.stack([added[i] for i in batch]))
        index.disable(batch[::3])
        index.enable(batch[::6])  # while still in the delta or a segment not yet merged
    compactor = threading.Thread(target=index.compact)
    compactor.start()
    index.disable([keys[1]])
    index.add([20_000], anchor[None])
    compactor.join()
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    disabled = {k for j, k in enumerate(keys) if j % 100 % 3 == 0 and j % 100 % 6} | {keys[1]}
    expected = sorted(
        [(-1, 0), (20_000, 0)]
        + [(i, d) for i, d in distances.items() if d <= 31 and i not in disabled]
    )
    assert index.match(bytes(anchor), 31) == expected


def test_save_and_load_give_identical_answers(tmp_path: Path) -> None:
    ids, hashes, queries = planted(seed=21, n=20_000)
    index = PdqIndex.build(ids[:15_000], hashes[:15_000], delta_limit=10_000)
    index.add(ids[15_000:], hashes[15_000:])  # stays in the delta
    index.disable(ids[::11])
    index.save(tmp_path / "idx")
    loaded = PdqIndex.load(tmp_path / "idx", mmap=True)
    assert len(loaded) == len(index)
    assert loaded.nbytes == index.nbytes
    for radius in (31, 12, 45):
        assert [loaded.match(q, radius) for q in queries] == [
            index.match(q, radius) for q in queries
        ]
    loaded.add([1], hashes[:1])
    assert (1, 0) in loaded.match(bytes(hashes[0]), 0)
    in_memory = PdqIndex.load(tmp_path / "idx", mmap=False)
    assert [in_memory.match(q, 31) for q in queries] == [index.match(q, 31) for q in queries]


def test_a_different_format_version_is_refused(tmp_path: Path) -> None:
    PdqIndex.build([1], np.zeros((1, 32), np.uint8)).save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["version"] = 99
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PdqIndexFormatError, match="format version 99; this Vigil reads version 1"):
        PdqIndex.load(tmp_path)
