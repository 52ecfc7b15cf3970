"""Estimating rotated and mirrored hashes from a hash alone (for hashes-only platforms)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.hashing.pdq import DIHEDRAL_ORDER, dihedral_from_hash, hash_image_dihedral, usable


def _distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@pytest.fixture(scope="module")
def reference_images(shared_dir: Path) -> list[bytes]:
    root = shared_dir / "data" / "pdq" / "data"
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    assert len(files) >= 20
    return [p.read_bytes() for p in files]


def test_estimates_are_close_to_the_hashes_of_the_transformed_images(
    reference_images: list[bytes],
) -> None:
    per_orientation: dict[str, list[int]] = {name: [] for name in DIHEDRAL_ORDER}
    for data in reference_images:
        exact = hash_image_dihedral(data)
        if not usable(exact[0]):
            continue
        estimated = dihedral_from_hash(exact[0].bits())
        for name, guess, truth in zip(DIHEDRAL_ORDER, estimated, exact, strict=True):
            per_orientation[name].append(_distance(guess, truth.bits()))
    assert len(per_orientation["original"]) >= 20
    # The identity and the two transposes only move bits: exact.
    for name in ("original", "flip_plus1"):
        assert set(per_orientation[name]) == {0}, name
    # The others flip bits around a moving median: close, and well inside PDQ's threshold.
    for name, found in per_orientation.items():
        assert sum(found) / len(found) <= 12, (name, found)
        assert max(found) <= 31, (name, found)


def test_a_random_hash_is_not_its_own_rotation() -> None:
    # Guards against an estimate that returns the input unchanged for every orientation.
    original = bytes(range(32))
    estimated = dihedral_from_hash(original)
    assert estimated[0] == original
    assert all(_distance(e, original) > 40 for e in estimated[1:3])


def test_rejects_a_short_hash() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        dihedral_from_hash(b"\x00" * 31)


def test_the_batch_estimate_equals_one_at_a_time() -> None:
    import numpy as np

    from vigil.hashing.pdq import dihedral_from_hashes

    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 256, size=(50, 32), dtype=np.uint8)
    batch = dihedral_from_hashes(hashes)
    assert batch.shape == (50, 8, 32)
    for row, estimates in zip(hashes, batch, strict=True):
        assert [e.tobytes() for e in estimates] == dihedral_from_hash(row.tobytes())
    assert dihedral_from_hashes(hashes[:0]).shape == (0, 8, 32)
    with pytest.raises(ValueError, match="expected an"):
        dihedral_from_hashes(hashes[:, :31])
