"""Queues on both backends: order, trusted flaggers first, overdue marks, sweeps and counts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tests.cases.support import (
    assert_projection,
    at,
    case_ids,
    clock,
    events,
    get,
    notice,
    notices,
    seed,
    types,
)
from tests.support.spine import item, write_jsonl
from vigil.cases.models import Case, Outcome
from vigil.cases.services import (
    QueueStats,
    claim,
    decide,
    queue,
    queue_stats,
    sweep_deadlines,
)
from vigil.ingest.services import ingest_file
from vigil.unit_of_work import unit_of_work


def test_trusted_flagger_case_goes_first_and_is_due_sooner(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=0, harassment=0)
    ingest_file(
        engine,
        write_jsonl(tmp_path / "plain.jsonl", [item("by-users"), item("by-flagger")]),
        ctx,
    )
    before = datetime.now(UTC)
    # Hate needs two notices; its rule gives 24 h.
    notices(
        engine,
        tmp_path,
        ctx,
        notice("u1", "by-users", "hate"),
        notice("u2", "by-users", "hate"),
        notice("t1", "by-flagger", "hate", "trusted_flagger"),
        notice("t2", "by-flagger", "hate", "trusted_flagger"),
    )
    after = datetime.now(UTC)
    with unit_of_work(engine) as uow:
        entries = queue(uow)
    by_users, by_flagger = sorted((e.case for e in entries), key=lambda c: c.id)
    limit = ctx.policy.notices.trusted_flagger_delta
    assert (by_users.priority, by_flagger.priority) == (1, 0)
    assert by_flagger.deadline_at is not None
    assert before + limit <= by_flagger.deadline_at <= after + limit
    assert by_users.deadline_at is not None
    assert by_users.deadline_at >= before + timedelta(hours=24)
    assert [e.case.id for e in entries] == [by_flagger.id, by_users.id]
    opened = next(e for e in events(engine, by_flagger.id) if e.type == "case.opened")
    assert '"priority":0' in opened.body


def test_rule_deadline_kept_when_sooner_than_the_flaggers(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=0, harassment=0)
    ingest_file(engine, write_jsonl(tmp_path / "plain.jsonl", [item("x")]), ctx)
    before = datetime.now(UTC)
    notices(engine, tmp_path, ctx, notice("t1", "x", "threat_to_life", "trusted_flagger"))
    after = datetime.now(UTC)
    case = get(engine, case_ids(engine, "threat_to_life")[0])
    assert case.priority == 0
    assert case.deadline_at is not None
    assert before + timedelta(hours=1) <= case.deadline_at <= after + timedelta(hours=1)


def test_a_flagger_notice_on_an_open_case_raises_its_priority(
    engine: Engine, tmp_path: Path
) -> None:
    ctx = seed(engine, tmp_path, threats=0, harassment=1)
    case_id = case_ids(engine, "harassment")[0]
    assert get(engine, case_id).priority == 1
    before = datetime.now(UTC)
    notices(
        engine,
        tmp_path,
        ctx,
        notice("t1", "harass-0", "hate", "trusted_flagger"),
        notice("t2", "harass-0", "hate", "trusted_flagger"),
    )
    case = get(engine, case_id)
    assert case.priority == 0
    assert case.deadline_at is not None
    limit = ctx.policy.notices.trusted_flagger_delta
    assert before + limit <= case.deadline_at <= datetime.now(UTC) + limit
    assert types(engine, case_id)[-1] == "case.verdict_attached"


def _set(engine: Engine, case_id: int, **values: object) -> None:
    with Session(engine) as s, s.begin():
        s.execute(update(Case).where(Case.id == case_id).values(**values))


def test_order_is_deadline_then_priority_then_severity(engine: Engine, tmp_path: Path) -> None:
    seed(engine, tmp_path, threats=2, harassment=2)
    t0, t1 = case_ids(engine, "threat_to_life")
    h0, h1 = case_ids(engine, "harassment")
    due = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    _set(engine, t0, deadline_at=due, priority=1)  # critical
    _set(engine, h0, deadline_at=due, priority=0)  # medium, trusted flagger
    _set(engine, h1, deadline_at=due, priority=1)  # medium
    _set(engine, t1, deadline_at=due - timedelta(minutes=1), priority=1, severity="low")
    with unit_of_work(engine) as uow:
        order = [e.case.id for e in queue(uow)]
    assert order == [t1, h0, t0, h1]


def test_filters_and_marks(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=2, harassment=1)
    t0, t1 = case_ids(engine, "threat_to_life")
    (h0,) = case_ids(engine, "harassment")
    later = at(90)  # threats (1 h) overdue, harassment (24 h) not
    with unit_of_work(engine, clock=clock(later)) as uow:
        claim(uow, t0, "alice", ctx.policy)
    with unit_of_work(engine, clock=clock(later)) as uow:
        entries = {e.case.id: e for e in queue(uow)}
        assert {i: (e.overdue, e.held_by) for i, e in entries.items()} == {
            t0: (True, "alice"),
            t1: (True, None),
            h0: (False, None),
        }
        assert [e.case.id for e in queue(uow, category="harassment")] == [h0]
        assert [e.case.id for e in queue(uow, severity="critical")] == [t0, t1]
        assert [e.case.id for e in queue(uow, held_by_reviewer="alice")] == [t0]
        assert [e.case.id for e in queue(uow, held_by_reviewer="bob")] == []
        assert [e.case.id for e in queue(uow, unheld=True)] == [t1, h0]


def test_sweep_records_each_missed_deadline_once(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=2, harassment=1)
    t0, t1 = case_ids(engine, "threat_to_life")
    (h0,) = case_ids(engine, "harassment")
    with unit_of_work(engine) as uow:  # decided in time: never missed
        decide(uow, t1, reviewer="alice", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
    later = at(90)
    with unit_of_work(engine, clock=clock(later)) as uow:
        assert sweep_deadlines(uow) == 1
    with unit_of_work(engine, clock=clock(later + timedelta(minutes=5))) as uow:
        assert sweep_deadlines(uow) == 0
    assert get(engine, t0).deadline_missed_at == later
    assert get(engine, t1).deadline_missed_at is None
    assert get(engine, h0).deadline_missed_at is None
    missed = [e for e in events(engine, t0) if e.type == "case.deadline_missed"]
    assert len(missed) == 1
    assert get(engine, t0).deadline_at.isoformat() in missed[0].body  # type: ignore[union-attr]
    assert_projection(engine, t0)


def test_concurrent_sweeps_record_once(engine: Engine, tmp_path: Path) -> None:
    seed(engine, tmp_path, threats=3, harassment=0)
    later = at(90)
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait(timeout=30)
        with unit_of_work(engine, clock=clock(later)) as uow:
            counts.append(sweep_deadlines(uow))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(counts) == [0, 3]
    for case_id in case_ids(engine, "threat_to_life"):
        assert types(engine, case_id).count("case.deadline_missed") == 1


def test_stats_count_open_held_awaiting_overdue_and_missed(engine: Engine, tmp_path: Path) -> None:
    ctx = seed(engine, tmp_path, threats=2, harassment=2)
    t0, t1 = case_ids(engine, "threat_to_life")
    h0, _ = case_ids(engine, "harassment")
    late = at(25 * 60)  # everything is overdue
    with unit_of_work(engine, clock=clock(late)) as uow:
        claim(uow, t0, "alice", ctx.policy)
        decide(
            uow,
            t1,
            reviewer="bob",
            outcome=Outcome.VIOLATING,
            policy=ctx.policy,
            clause="threat_to_life",
        )
        decide(uow, h0, reviewer="carol", outcome=Outcome.NOT_VIOLATING, policy=ctx.policy)
    with unit_of_work(engine, clock=clock(late)) as uow:
        assert queue_stats(uow) == [
            QueueStats("harassment", "medium", 1, 0, 0, 1, 1),
            QueueStats("threat_to_life", "critical", 1, 1, 1, 2, 1),
        ]
        sweep_deadlines(uow)
    lapsed = late + ctx.policy.review.claim_delta
    with unit_of_work(engine, clock=clock(lapsed)) as uow:
        assert queue_stats(uow) == [
            QueueStats("harassment", "medium", 1, 0, 0, 1, 2),
            QueueStats("threat_to_life", "critical", 1, 0, 1, 2, 2),
        ]
