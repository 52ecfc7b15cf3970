"""A running scan's bank index follows bank changes from the log, without a rebuild."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.banks import load_index, make_bank
from tests.support.spine import context, item, write_jsonl
from vigil.banks.formats import RawEntry
from vigil.banks.models import BankEntry
from vigil.banks.services import (
    get_bank,
    import_entries,
    set_bank_enabled,
    set_entry_enabled,
    update_bank,
)
from vigil.ingest.services import ingest_file
from vigil.items.models import Item
from vigil.signals.matchers import BankIndex, MediaHashes, ScanInput
from vigil.signals.models import Signal
from vigil.signals.refresh import IndexRefresher, IndexUpdater
from vigil.unit_of_work import unit_of_work

PDQ_A = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"


def _sha(n: int) -> str:
    return hashlib.sha256(f"stand-in file {n}".encode()).hexdigest()


def _near(hex_hash: str, bits: int) -> str:
    """The hash with its first ``bits`` bits flipped."""
    value = int(hex_hash, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{value:064x}"


PROBES = [
    ScanInput(1, "[SYNTHETIC] meet at the old bridge", [], [MediaHashes(0, None, _sha(1))]),
    ScanInput(2, "[SYNTHETIC] the plan is go", ["https://bad.example/x"], []),
    ScanInput(3, None, [], [MediaHashes(0, None, _sha(2), _near(PDQ_A, 20))]),
    ScanInput(4, None, [], [MediaHashes(0, None, _sha(3), _near(PDQ_A, 5))]),
    ScanInput(5, "[SYNTHETIC] old bridge again", [], [MediaHashes(0, None, None, PDQ_A)]),
]


def _fingerprint(index: BankIndex) -> set[tuple[object, ...]]:
    out: set[tuple[object, ...]] = set()
    for probe in PROBES:
        result = index.scan(probe)
        for s in result.signals:
            assert s.entry is not None
            out.add(("signal", s.item_id, s.kind, s.entry.entry_id, s.distance))
        for x in result.suppressed:
            out.add(("suppressed", x.item_id, x.kind, x.entry.entry_id, x.by.entry_id))
    return out


def _add(engine: Engine, bank: str, values: list[str]) -> None:
    with unit_of_work(engine) as uow:
        b = get_bank(uow.session, bank)
        result = import_entries(uow, b, [RawEntry(i, v) for i, v in enumerate(values, 1)])
        assert not result.rejected


def _entry(engine: Engine, value: str) -> int:
    with Session(engine) as s:
        entry_id = s.scalar(select(BankEntry.id).where(BankEntry.value == value))
    assert entry_id is not None
    return entry_id


def test_every_kind_of_bank_change_reaches_a_running_index(engine: Engine) -> None:
    make_bank(engine, "files", "sha256", "terrorism", [_sha(1)])
    make_bank(engine, "words", "term", "threat_to_life", ["old bridge"])
    with Session(engine) as session:
        updater = IndexUpdater.load(session)

    def step(change: str) -> None:
        with Session(engine) as session:
            updater.poll(session)
        assert _fingerprint(updater.index) == _fingerprint(load_index(engine)), change

    step("nothing yet")
    _add(engine, "files", [_sha(2)])
    step("entries added to an exact bank")
    make_bank(engine, "images", "pdq", "terrorism", [PDQ_A], threshold=10)
    step("a new PDQ bank, created after the index was loaded")
    make_bank(engine, "benign-images", "pdq", "terrorism", [_near(PDQ_A, 4)], negative=True)
    step("a negative bank")
    make_bank(engine, "links", "domain", "spam", ["bad.example"])
    _add(engine, "words", ["the plan is go"])
    step("a domain bank and a new term")
    with unit_of_work(engine) as uow:
        set_entry_enabled(uow, "words", _entry(engine, "old bridge"), False, reason="too broad")
        set_entry_enabled(uow, "images", _entry(engine, PDQ_A), False, reason="stock photo")
    step("entries withdrawn")
    with unit_of_work(engine) as uow:
        set_entry_enabled(uow, "images", _entry(engine, PDQ_A), True)
        update_bank(uow, "images", threshold=31)
    step("an entry restored and a threshold widened")
    with unit_of_work(engine) as uow:
        set_bank_enabled(uow, "benign-images", False)
        set_bank_enabled(uow, "files", False)
    step("banks switched off")
    with unit_of_work(engine) as uow:
        set_bank_enabled(uow, "files", True)
    step("a bank switched back on")
    assert updater.applied >= 10
    assert updater.index.entries == load_index(engine).entries


def test_replaying_events_the_load_already_saw_changes_nothing(engine: Engine) -> None:
    make_bank(engine, "files", "sha256", "terrorism", [_sha(1), _sha(2)])
    make_bank(engine, "images", "pdq", "terrorism", [PDQ_A])
    with Session(engine) as session:
        updater = IndexUpdater(BankIndex.load(session), after_seq=0)
        before = (_fingerprint(updater.index), updater.index.entries)
        assert updater.poll(session) >= 4
    assert (_fingerprint(updater.index), updater.index.entries) == before


def test_a_background_refresh_takes_effect_while_matching_goes_on(engine: Engine) -> None:
    make_bank(engine, "files", "sha256", "terrorism", [_sha(9)])
    with Session(engine) as session:
        updater = IndexUpdater.load(session)
    probe = PROBES[0]
    scans = 0
    errors: list[BaseException] = []
    stop = threading.Event()

    def scan_forever() -> None:
        nonlocal scans
        while not stop.is_set():
            try:
                updater.index.scan(probe)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            scans += 1

    scanner = threading.Thread(target=scan_forever)
    scanner.start()
    try:
        with IndexRefresher(engine, updater, interval=0.05):
            assert not updater.index.match(probe)
            before = scans
            _add(engine, "files", [_sha(1)])
            deadline = time.monotonic() + 60  # the promise is 60 s; a loaded machine needs slack
            while not updater.index.match(probe) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert updater.index.match(probe), "the new entry never reached the index"
            while scans <= before and time.monotonic() < deadline:
                time.sleep(0.01)
            assert scans > before  # the scanner was never stuck behind the refresh
    finally:
        stop.set()
        scanner.join()
    assert errors == []


def test_entries_added_during_an_ingest_match_the_rest_of_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    make_bank(engine, "files", "sha256", "terrorism", [_sha(100)])
    records = [
        item(f"p{i}", "a photo", media=[{"sha256": _sha(1), "url": f"https://cdn.example/{i}"}])
        for i in range(6)
    ]
    path = write_jsonl(tmp_path / "items.jsonl", records)
    ctx = context(engine)
    refresher = ctx.refresher(engine, interval=0.05)

    def after_batch(summary: object) -> None:
        if refresher.updater.applied == 0:
            _add(engine, "files", [_sha(1)])
            deadline = time.monotonic() + 60  # the promise is 60 s; a loaded machine needs slack
            while refresher.updater.applied == 0 and time.monotonic() < deadline:
                time.sleep(0.01)

    with refresher:
        ingest_file(engine, path, ctx, batch_size=2, on_batch=after_batch)
    with Session(engine) as s:
        matched = set(
            s.scalars(select(Item.platform_item_id).join(Signal, Signal.item_id == Item.id))
        )
    # The first batch was scanned before the entry existed (a rescan covers it); the rest match.
    assert matched == {"p2", "p3", "p4", "p5"}
