"""The bank index on SQLite and PostgreSQL: thresholds, roll-out, withdrawn entries, provenance."""

from __future__ import annotations

import random

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.banks import load_index, make_bank
from vigil.banks.formats import RawEntry
from vigil.banks.models import BankEntry
from vigil.banks.services import set_bank_enabled, set_entry_enabled, update_bank
from vigil.signals.matchers import BankIndex, MediaHashes, ScanInput
from vigil.signals.pdq_bruteforce import BruteForcePdqMatcher
from vigil.signals.pdq_index import PdqIndex
from vigil.unit_of_work import unit_of_work

H = "ab" * 32


def pdq_near(base: str, bits: int, seed: int = 0) -> str:
    """``base`` with ``bits`` distinct bits flipped: a hash exactly that far away."""
    value = int(base, 16)
    for bit in random.Random(seed).sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def media_item(item_id: int, *, sha256: str | None = None, pdq: str | None = None) -> ScanInput:
    return ScanInput(item_id, None, [], [MediaHashes(0, None, sha256, pdq)])


def text_item(item_id: int, text: str) -> ScanInput:
    return ScanInput(item_id, text, [], [])


def test_pdq_applies_each_banks_threshold_and_reports_the_distance(engine: Engine) -> None:
    base = pdq_near("0" * 64, 128, seed=1)
    make_bank(engine, "strict", "pdq", "child_sexual_exploitation", [base], threshold=10)
    make_bank(engine, "default", "pdq", "terrorism", [base])
    index = load_index(engine)
    near = index.scan(media_item(1, pdq=pdq_near(base, 8)))
    assert sorted((s.entry.bank, s.distance) for s in near.signals if s.entry) == [
        ("default", 8),
        ("strict", 8),
    ]
    far = index.match(media_item(2, pdq=pdq_near(base, 20)))
    assert [(s.kind, s.entry.bank if s.entry else None, s.distance) for s in far] == [
        ("pdq", "default", 20)
    ]
    assert (
        far[0].reason
        == f"PDQ of media #0 is 20 bits from entry {far[0].entry.entry_id if far[0].entry else ''} in bank default (threshold 31)"
    )
    assert index.match(media_item(3, pdq=pdq_near(base, 32))) == []


def test_the_index_carries_each_banks_settings(engine: Engine) -> None:
    pdq_id = make_bank(engine, "p", "pdq", "terrorism", [H], match_transforms=True, rollout=0.3)
    term_id = make_bank(engine, "t", "term", "hate", ["zorblax"], negative=True)
    banks = load_index(engine).banks
    assert (banks[pdq_id].threshold, banks[pdq_id].rollout, banks[pdq_id].match_transforms) == (
        31,
        0.3,
        True,
    )
    assert (banks[term_id].negative, banks[term_id].threshold) == (True, None)


def test_threshold_changes_apply_from_the_next_index(engine: Engine) -> None:
    base = pdq_near("0" * 64, 100, seed=2)
    make_bank(engine, "p", "pdq", "terrorism", [base])
    item = media_item(1, pdq=pdq_near(base, 25))
    assert len(load_index(engine).match(item)) == 1
    with unit_of_work(engine) as uow:
        update_bank(uow, "p", threshold=24)
    assert load_index(engine).match(item) == []


def test_signals_carry_provenance(engine: Engine) -> None:
    make_bank(
        engine,
        "hashes",
        "sha256",
        "terrorism",
        [RawEntry(1, H, external_id="gifct-42", tags=["video", "tco"], source="GIFCT")],
    )
    (signal,) = load_index(engine).match(media_item(7, sha256=H))
    assert signal.entry is not None
    assert (signal.entry.source, signal.entry.external_id, signal.entry.tags) == (
        "GIFCT",
        "gifct-42",
        ("video", "tco"),
    )
    assert signal.reason == "SHA256 of media #0 equals entry gifct-42 in bank hashes"


def test_rollout_zero_matches_nothing(engine: Engine) -> None:
    make_bank(engine, "dark", "sha256", "terrorism", [H], rollout=0.0)
    index = load_index(engine)
    assert not any(index.match(media_item(i, sha256=H)) for i in range(1, 2001))


def test_rollout_half_matches_about_half_and_the_same_half_again(engine: Engine) -> None:
    make_bank(engine, "half", "sha256", "terrorism", [H], rollout=0.5)
    items = [media_item(i, sha256=H) for i in range(1, 2001)]

    def matched() -> set[int]:
        index = load_index(engine)
        return {i.item_id for i in items if index.match(i)}

    first = matched()
    assert 900 <= len(first) <= 1100
    assert matched() == first  # a re-scan picks the same items
    with unit_of_work(engine) as uow:
        update_bank(uow, "half", rollout=0.75)
    wider = matched()
    assert first < wider  # raising the share only adds items
    assert 1400 <= len(wider) <= 1600


def test_two_banks_at_half_see_different_halves(engine: Engine) -> None:
    make_bank(engine, "a", "sha256", "terrorism", [H], rollout=0.5)
    make_bank(engine, "b", "sha256", "spam", [H], rollout=0.5)
    index = load_index(engine)
    seen: dict[str, set[int]] = {"a": set(), "b": set()}
    for i in range(1, 2001):
        for s in index.match(media_item(i, sha256=H)):
            assert s.entry is not None
            seen[s.entry.bank].add(i)
    overlap = len(seen["a"] & seen["b"])
    assert 400 <= overlap <= 600  # independent halves overlap by about a quarter


def test_withdrawn_entries_never_match_and_restored_ones_do(engine: Engine) -> None:
    make_bank(engine, "threats", "term", "threat_to_life", ["i will hurt you", "meet me at dawn"])
    with Session(engine) as s:
        first_id = s.scalars(select(BankEntry.id).order_by(BankEntry.id)).first()
    assert first_id is not None
    item = text_item(1, "[SYNTHETIC] I will hurt you. Meet me at dawn.")
    assert {s.matched for s in load_index(engine).match(item)} == {
        "i will hurt you",
        "meet me at dawn",
    }
    with unit_of_work(engine) as uow:
        set_entry_enabled(uow, "threats", first_id, False, reason="too broad")
    assert {s.matched for s in load_index(engine).match(item)} == {"meet me at dawn"}
    with unit_of_work(engine) as uow:
        set_entry_enabled(uow, "threats", first_id, True)
    assert len(load_index(engine).match(item)) == 2
    with unit_of_work(engine) as uow:
        set_bank_enabled(uow, "threats", False)
    assert load_index(engine).match(item) == []


def test_one_signal_per_distinct_term_and_entry(engine: Engine) -> None:
    make_bank(engine, "t1", "term", "hate", ["zorblax", "zorblax gang"])
    make_bank(engine, "t2", "term", "harassment", ["zorblax"])
    found = load_index(engine).match(text_item(1, "ZORBLAX! zorblax gang, zorblax again"))
    assert sorted((s.matched, s.entry.bank if s.entry else "") for s in found) == [
        ("zorblax", "t1"),
        ("zorblax", "t2"),
        ("zorblax gang", "t1"),
    ]


def test_patterns_and_exact_text(engine: Engine) -> None:
    make_bank(engine, "spam-re", "regex", "spam", [r"\bbuy\W{1,3}now\b", r"\d{3}-\d{4}"])
    make_bank(engine, "spam-text", "text", "spam", ["Win a FREE   cruise today"])
    index = load_index(engine)
    found = index.match(text_item(1, "BUY!! NOW, call 555-0100"))
    assert sorted(s.matched for s in found) == [r"\bbuy\W{1,3}now\b", r"\d{3}-\d{4}"]
    assert all(s.kind == "regex" for s in found)
    (exact,) = index.match(text_item(2, "win a free cruise TODAY"))
    assert exact.kind == "text"
    assert exact.reason.startswith("normalised text equals entry")
    assert index.match(text_item(3, "win a free cruise today!")) == []


def test_the_default_pdq_matcher_is_the_index_and_agrees_with_brute_force(engine: Engine) -> None:
    values = [pdq_near("0" * 64, 128, seed=s) for s in range(300)]
    make_bank(engine, "wide", "pdq", "terrorism", values, threshold=40)  # over 31: the scan path
    make_bank(engine, "narrow", "pdq", "hate", values[:50], threshold=12)
    with Session(engine) as session:
        default = BankIndex.load(session)
        brute = BankIndex.load(session, pdq_builder=BruteForcePdqMatcher.build)
    assert default.pdq_banks
    assert all(isinstance(b.matcher, PdqIndex) for b in default.pdq_banks.values())
    for d in (0, 5, 12, 13, 31, 32, 40, 41):
        item = media_item(d, pdq=pdq_near(values[d], d, seed=d + 1))
        assert default.match(item) == brute.match(item)
        assert default.match(item) or d > 40
