"""The numpy first pass of PDQ rescans keeps exactly the items the bank index would match."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine

from tests.signals.test_bank_matching import pdq_near
from tests.support.banks import load_index, make_bank
from vigil.hashing.pdq import dihedral_from_hash
from vigil.rescans import pdq_reach
from vigil.rescans.pdq_reach import PdqReach, StoredPdq
from vigil.signals.matchers import MediaHashes, ScanInput


@pytest.mark.parametrize("transforms", [False, True])
def test_the_first_pass_keeps_what_the_index_matches(engine: Engine, transforms: bool) -> None:
    rng = random.Random(3)
    entries = [pdq_near("0" * 64, 128, seed=s) for s in range(20)]
    bank_id = make_bank(
        engine, "p", "pdq", "terrorism", entries, threshold=20, match_transforms=transforms
    )
    index = load_index(engine)
    reach = PdqReach.for_bank(index, bank_id, entries)
    assert reach is not None
    media: list[StoredPdq] = []
    for item_id in range(1, 600):
        query = pdq_near(rng.choice(entries), rng.randint(0, 40), seed=item_id)
        if item_id % 3 == 0:  # a turned copy, sent as a hash only
            query = dihedral_from_hash(bytes.fromhex(query))[rng.randint(1, 7)].hex()
        variants = None
        if item_id % 5 == 0:  # orientations computed from the image, a few bits off the estimate
            turned = dihedral_from_hash(bytes.fromhex(query))[1:]
            variants = [pdq_near(t.hex(), rng.randint(0, 6), seed=-item_id) for t in turned]
        media.append((item_id, query, variants))
    matched = {
        item_id
        for item_id, query, variants in media
        if index.scan(
            ScanInput(item_id, None, [], [MediaHashes(0, None, None, query, tuple(variants or ()))])
        ).signals
    }
    assert 50 < len(matched) < len(media) - 50
    assert reach.near(media) == matched
    assert reach.near([]) == set()


def test_no_first_pass_without_entries_or_with_very_many(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = make_bank(engine, "empty", "pdq", "terrorism", [])
    values = [pdq_near("0" * 64, 100, seed=s) for s in range(3)]
    few = make_bank(engine, "few", "pdq", "terrorism", values)
    index = load_index(engine)
    assert PdqReach.for_bank(index, empty, []) is None
    assert PdqReach.for_bank(index, few, values) is not None
    # Past the limit the bank index, with whatever PDQ index it has, answers alone.
    monkeypatch.setattr(pdq_reach, "MAX_ENTRIES", 2)
    assert PdqReach.for_bank(index, few, values) is None
