"""The hash chain detects every kind of tampering made directly in the database."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.orm import Session

from vigil.audit.canonical import chain_hash
from vigil.audit.models import ChainHead, Event
from vigil.audit.services import verify
from vigil.unit_of_work import unit_of_work


def _write_events(engine: Engine, n: int) -> None:
    with unit_of_work(engine) as uow:
        for i in range(n):
            uow.log.record("test.event", f"thing:{i}", {"i": i, "note": f"event {i}"})


def _verify(engine: Engine) -> tuple[bool, str | None, int | None]:
    with Session(engine) as s:
        result = verify(s)
    p = result.first_problem
    return result.ok, p.kind if p else None, p.seq if p else None


def test_untouched_chain_verifies(engine: Engine) -> None:
    _write_events(engine, 5)
    _write_events(engine, 3)  # a second transaction continues the chain
    with Session(engine) as s:
        result = verify(s)
        seqs = list(s.scalars(select(Event.seq).order_by(Event.seq)))
    assert result.ok, result.problems
    assert result.events_checked == 8
    assert seqs == list(range(1, 9))


def test_rolled_back_transaction_leaves_no_events(engine: Engine) -> None:
    _write_events(engine, 2)
    try:
        with unit_of_work(engine) as uow:
            uow.log.record("test.event", "thing:x", {})
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with Session(engine) as s:
        assert s.scalar(select(ChainHead.seq)) == 2
        assert len(list(s.scalars(select(Event)))) == 2
    assert _verify(engine)[0]


def test_altered_payload_is_named(engine: Engine) -> None:
    _write_events(engine, 6)
    with engine.begin() as c:
        c.execute(
            update(Event)
            .where(Event.seq == 4)
            .values(body=text("replace(body, 'event 3', 'event X')"))
        )
    assert _verify(engine) == (False, "altered", 4)


def test_altered_column_is_named(engine: Engine) -> None:
    _write_events(engine, 6)
    with engine.begin() as c:
        c.execute(update(Event).where(Event.seq == 2).values(type="innocent.event"))
    assert _verify(engine) == (False, "altered", 2)


def test_removed_event_is_named(engine: Engine) -> None:
    _write_events(engine, 6)
    with engine.begin() as c:
        c.execute(delete(Event).where(Event.seq == 3))
    assert _verify(engine) == (False, "removed", 3)


def test_removed_and_renumbered_is_detected(engine: Engine) -> None:
    _write_events(engine, 6)
    with engine.begin() as c:
        c.execute(delete(Event).where(Event.seq == 3))
        for seq in (4, 5, 6):
            c.execute(update(Event).where(Event.seq == seq).values(seq=seq - 1))
        c.execute(update(ChainHead).values(seq=5))
    assert _verify(engine) == (False, "removed", 3)


def test_removed_tail_is_detected(engine: Engine) -> None:
    _write_events(engine, 6)
    with engine.begin() as c:
        c.execute(delete(Event).where(Event.seq >= 5))
    assert _verify(engine) == (False, "removed", 5)


def test_reordered_events_are_named(engine: Engine) -> None:
    _write_events(engine, 6)
    with engine.begin() as c:
        c.execute(update(Event).where(Event.seq == 3).values(seq=-3))
        c.execute(update(Event).where(Event.seq == 4).values(seq=3))
        c.execute(update(Event).where(Event.seq == -3).values(seq=4))
    assert _verify(engine) == (False, "reordered", 3)


def test_inserted_event_is_named(engine: Engine) -> None:
    _write_events(engine, 5)
    with Session(engine) as s:
        e2 = s.get(Event, 2)
        assert e2 is not None
        forged_body = e2.body.replace("event 1", "forged")
        forged_hash = chain_hash(e2.hash, forged_body)
    with engine.begin() as c:
        for seq in (5, 4, 3):
            c.execute(update(Event).where(Event.seq == seq).values(seq=seq + 1))
        c.execute(
            insert(Event).values(
                seq=3,
                ts=e2.ts,
                type=e2.type,
                subject=e2.subject,
                actor=e2.actor,
                body=forged_body,
                prev_hash=e2.hash,
                hash=forged_hash,
            )
        )
        c.execute(update(ChainHead).values(seq=6))
    assert _verify(engine) == (False, "inserted", 3)
