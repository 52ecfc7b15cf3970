"""Saved PDQ bank indexes: mapped back at the next start, caught up from the log, never misused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.signals.test_bank_matching import media_item, pdq_near
from tests.support.banks import make_bank
from tests.support.spine import context
from vigil.banks.formats import RawEntry
from vigil.banks.services import get_bank, import_entries, set_entry_enabled
from vigil.signals import pdq_banks
from vigil.signals.matchers import BankIndex
from vigil.signals.refresh import chain_position
from vigil.unit_of_work import unit_of_work

VALUES = [pdq_near("0" * 64, 128, seed=s) for s in range(40)]


def _load(engine: Engine, cache: Path) -> BankIndex:
    with Session(engine) as session:
        return BankIndex.load(session, after_seq=chain_position(session), cache_dir=cache)


def _hits(index: BankIndex) -> list[list[tuple[int | None, int | None]]]:
    probes = [media_item(i, pdq=pdq_near(v, 3, seed=i)) for i, v in enumerate(VALUES, 1)]
    return [
        sorted((s.entry.entry_id if s.entry else None, s.distance) for s in index.match(p))
        for p in probes
    ]


@pytest.fixture
def small_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdq_banks, "CACHE_MIN_ENTRIES", 10)


@pytest.mark.usefixtures("small_cache")
def test_a_saved_index_is_mapped_back_and_caught_up(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("VIGIL_INDEX_DIR", str(cache))
    bank_id = make_bank(engine, "big", "pdq", "terrorism", VALUES[:30])
    first = _load(engine, cache)
    assert first.replay_from is None  # built from the database, then saved
    assert (cache / f"bank-{bank_id}" / "bank.json").is_file()
    with unit_of_work(engine) as uow:
        import_entries(uow, get_bank(uow.session, "big"), [RawEntry(1, v) for v in VALUES[30:]])
    with unit_of_work(engine) as uow:
        set_entry_enabled(uow, "big", first.pdq_banks[bank_id].through_id, False, reason="test")

    again = _load(engine, cache)
    assert again.replay_from is not None  # from disk, behind the log
    with Session(engine) as session:
        fresh = BankIndex.load(session)  # no cache: the truth
    assert _hits(again) != _hits(fresh)  # not caught up yet
    ctx = context(engine)  # ScanContext.load maps the saved index and catches up
    assert ctx.index.replay_from == again.replay_from
    assert ctx.index_seq > again.replay_from
    with Session(engine) as session:
        fresh = BankIndex.load(session)
    assert _hits(ctx.index) == _hits(fresh)
    assert ctx.index.entries == fresh.entries == 39


@pytest.mark.usefixtures("small_cache")
def test_a_saved_index_of_another_database_is_not_used(tmp_path: Path, engine: Engine) -> None:
    cache = tmp_path / "cache"
    make_bank(engine, "big", "pdq", "terrorism", VALUES[:20])
    _load(engine, cache)
    manifest = cache / "bank-1" / "bank.json"
    text = manifest.read_text()
    # Another database with the same bank id but a different log: the anchor does not match.
    manifest.write_text(text.replace('"anchor": "', '"anchor": "not-this-log-'))
    index = _load(engine, cache)
    assert index.replay_from is None  # rebuilt from the database, and saved again
    assert manifest.read_text() == text


def test_small_banks_are_not_saved(engine: Engine, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    make_bank(engine, "small", "pdq", "terrorism", VALUES[:5])
    _load(engine, cache)
    assert not cache.exists()


def test_the_cache_sits_next_to_a_sqlite_file_and_in_the_user_cache_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VIGIL_INDEX_DIR", raising=False)
    assert pdq_banks.cache_dir_for("sqlite:////data/vigil.db") == Path("/data/vigil.db.pdq-index")
    assert pdq_banks.cache_dir_for("sqlite://") is None
    pg = pdq_banks.cache_dir_for("postgresql+psycopg://vigil:***@db/vigil")
    assert pg is not None
    assert "pdq-index" in str(pg)
    assert pg != pdq_banks.cache_dir_for("postgresql+psycopg://vigil:***@db/other")
    monkeypatch.setenv("VIGIL_INDEX_DIR", "/srv/index")
    assert pdq_banks.cache_dir_for("sqlite:////data/vigil.db") == Path("/srv/index")
