"""Acknowledgement, outcome to the notifier and notifier standing, on both backends."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.notices.support import START, Scenario, notice, strict_policy
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.items.models import Notice
from vigil.notices.models import Notifier, NotifierStatus
from vigil.notices.services import evaluate_notifier, notifier_events, record_outcome
from vigil.notices.standing import Sanctions, sanctions_of, tally
from vigil.unit_of_work import unit_of_work

REASON = "[SYNTHETIC] he posted my home address, please remove it"


def _notices(engine: Engine) -> dict[str, Notice]:
    with Session(engine) as s:
        return {n.platform_notice_id: n for n in s.scalars(select(Notice))}


def _notifier(engine: Engine, name: str) -> Notifier:
    with Session(engine) as s:
        return s.scalars(select(Notifier).where(Notifier.notifier == name)).one()


def test_every_stored_notice_is_acknowledged_in_its_batch(engine: Engine, tmp_path: Path) -> None:
    sc = Scenario(engine, tmp_path)
    sc.items("p1", "p2")
    sc.clock.advance(minutes=5)
    sc.ingest(
        [
            notice("n1", "p1", "alice", "spam", reason=REASON),
            notice("n2", "p2", None, "hate"),
            notice("n3", "ghost", "alice", "spam"),  # unknown item: rejected, not acknowledged
        ]
    )
    stored = _notices(engine)
    assert set(stored) == {"n1", "n2"}
    assert {n.acknowledged_at for n in stored.values()} == {START + timedelta(minutes=5)}
    acks = sc.events("notice.acknowledged")
    assert acks == [
        (f"notice:{stored[n].id}", {"notice_id": stored[n].id, "item_id": stored[n].item_id})
        for n in ("n1", "n2")
    ]
    with Session(engine) as s:
        # Acknowledged in the same transaction: right after its notice.received event.
        types = list(s.scalars(select(Event.type).order_by(Event.seq)))
        bodies = list(s.scalars(select(Event.body)))
        assert verify(s).ok
    received = [i for i, t in enumerate(types) if t == "notice.received"]
    assert [types[i + 1] for i in received] == ["notice.acknowledged"] * 2
    assert not any("home address" in b for b in bodies)
    # Named notifiers are counted; anonymous notices have no notifier.
    with Session(engine) as s:
        rows = list(s.scalars(select(Notifier)))
    assert [(r.notifier, r.kind, r.notices, r.status) for r in rows] == [("alice", "user", 1, "ok")]
    assert sc.events("notifier.first_seen") == [
        (f"notifier:{rows[0].id}", {"notifier": "alice", "kind": "user"})
    ]


def test_record_outcome_tells_every_pending_notice_once(engine: Engine, tmp_path: Path) -> None:
    sc = Scenario(engine, tmp_path)
    sc.items("p1", "p2")
    sc.ingest(
        [
            notice("a1", "p1", "alice"),
            notice("a2", "p1", "alice", "hate", reason=REASON),
            notice("anon", "p1", None),
            notice("other", "p2", "bob"),
        ]
    )
    sc.clock.advance(hours=2)
    told = sc.decide("p1", action_taken=True)
    by_pid = _notices(engine)
    assert sorted(told) == sorted(by_pid[p].id for p in ("a1", "a2", "anon"))
    decision_ids = {by_pid[p].decision_id for p in ("a1", "a2", "anon")}
    assert len(decision_ids) == 1
    assert None not in decision_ids
    for p in ("a1", "a2", "anon"):
        assert (by_pid[p].outcome, by_pid[p].outcome_at) == ("action_taken", sc.clock.now)
    assert (by_pid["other"].outcome, by_pid["other"].decision_id) == (None, None)
    outcome_events = sc.events("notice.outcome")
    assert sorted(p["notice_id"] for _, p in outcome_events) == sorted(told)
    assert {json.dumps(p, sort_keys=True) for _, p in outcome_events} == {
        json.dumps(
            {
                "notice_id": by_pid[n].id,
                "item_id": by_pid[n].item_id,
                "outcome": "action_taken",
                "decision_id": by_pid[n].decision_id,
            },
            sort_keys=True,
        )
        for n in ("a1", "a2", "anon")
    }
    assert all(REASON not in json.dumps(p) for _, p in outcome_events)
    alice = _notifier(engine, "alice")
    assert (alice.founded, alice.unfounded, alice.window_decided) == (2, 0, 2)

    # A later notice about the same item gets the outcome of the next decision; old ones are kept.
    sc.ingest([notice("a3", "p1", "carol")])
    d = by_pid["a1"].decision_id
    assert d is not None
    with unit_of_work(engine, sc.clock) as uow:
        again = record_outcome(
            uow,
            item_id=by_pid["a1"].item_id,
            decision_id=d,
            action_taken=False,
            policy=sc.ctx.policy,
        )
    after = _notices(engine)
    assert again == [after["a3"].id]
    assert after["a3"].outcome == "no_action"
    assert after["a1"].outcome == "action_taken"
    assert len(sc.events("notice.outcome")) == 4


def _assert_projection_follows_events(engine: Engine, sc: Scenario, name: str) -> Notifier:
    """The row equals the reducer over the notifier's events and decided notices."""
    rules = sc.ctx.policy.notices.unfounded
    with Session(engine) as s:
        row = s.scalars(select(Notifier).where(Notifier.notifier == name)).one()
        events = notifier_events(s, row)
        decided = [
            (at, outcome == "no_action")
            for at, outcome in s.execute(
                select(Notice.outcome_at, Notice.outcome).where(
                    Notice.reporter == name, Notice.outcome.is_not(None)
                )
            )
            if at is not None
        ]
    folded = sanctions_of(events)
    assert folded == Sanctions(row.warned_at, row.limited_until, row.per_day)
    assert row.evaluated_at is not None
    assert row.status == folded.status_at(row.evaluated_at, rules.window_delta).value
    counts = tally(decided, now=row.evaluated_at, window=rules.window_delta)
    assert (row.window_decided, row.window_unfounded) == (counts.decided, counts.unfounded)
    return row


def test_serial_unfounded_notifier_is_warned_then_limited(engine: Engine, tmp_path: Path) -> None:
    sc = Scenario(engine, tmp_path)  # default policy: warn at 3, limit at 6, 30 days, 1 a day
    for n in range(1, 7):
        sc.clock.advance(hours=1)
        sc.reported_and_decided("troll", f"t{n}", action_taken=False)
        row = _assert_projection_follows_events(engine, sc, "troll")
        expected = "ok" if n < 3 else ("warned" if n < 6 else "limited")
        assert row.status == expected, n
    warned = sc.events("notifier.warned")
    limited = sc.events("notifier.limited")
    row = _notifier(engine, "troll")
    assert warned == [(f"notifier:{row.id}", {"notifier": "troll", "unfounded": 3, "decided": 3})]
    assert row.warned_at == START + timedelta(hours=3)
    until = START + timedelta(hours=6) + timedelta(days=30)
    assert limited == [
        (f"notifier:{row.id}", {"notifier": "troll", "until": until.isoformat(), "per_day": 1})
    ]
    assert (row.limited_until, row.per_day, row.unfounded, row.founded) == (until, 1, 6, 0)

    # The limit lapses by itself; a re-assessment after it records nothing new.
    sc.clock.now = until + timedelta(minutes=1)
    with unit_of_work(engine, sc.clock) as uow:
        result = evaluate_notifier(uow, "troll", sc.ctx.policy)
    assert result.status is NotifierStatus.OK
    assert (result.tally.decided, result.tally.unfounded) == (0, 0)
    assert len(sc.events("notifier.limited")) == 1
    assert len(sc.events("notifier.warned")) == 1
    _assert_projection_follows_events(engine, sc, "troll")


def test_founded_notices_keep_a_busy_notifier_in_good_standing(
    engine: Engine, tmp_path: Path
) -> None:
    sc = Scenario(engine, tmp_path, strict_policy(tmp_path, warn_after=2, limit_after=3))
    for n, founded in enumerate([True, True, True, True, False, False, False]):
        sc.clock.advance(hours=1)
        sc.reported_and_decided("busy", f"b{n}", action_taken=founded)
    row = _assert_projection_follows_events(engine, sc, "busy")
    # Three unfounded (past limit_after) but only 3 of 7: below min_share 0.5.
    assert (row.founded, row.unfounded, row.window_decided) == (4, 3, 7)
    assert (row.status, row.warned_at, row.limited_until) == ("ok", None, None)
    assert sc.events("notifier.warned") == sc.events("notifier.limited") == []


def test_trusted_flaggers_are_counted_but_never_limited(engine: Engine, tmp_path: Path) -> None:
    sc = Scenario(engine, tmp_path, strict_policy(tmp_path, warn_after=1, limit_after=2))
    for n in range(4):
        sc.clock.advance(hours=1)
        sc.items(f"f{n}")
        sc.ingest([notice(f"tf{n}", f"f{n}", "org-x", reporter_type="trusted_flagger")])
        sc.decide(f"f{n}", action_taken=False)
    row = _assert_projection_follows_events(engine, sc, "org-x")
    assert (row.kind, row.unfounded, row.window_unfounded) == ("trusted_flagger", 4, 4)
    assert row.status == "warned"
    assert row.limited_until is None
    assert sc.events("notifier.limited") == []
    assert len(sc.events("notifier.warned")) == 1


def test_anonymous_notices_have_no_standing(engine: Engine, tmp_path: Path) -> None:
    sc = Scenario(engine, tmp_path, strict_policy(tmp_path, warn_after=1, limit_after=1))
    for n in range(3):
        sc.reported_and_decided(None, f"a{n}", action_taken=False)
    with Session(engine) as s:
        assert list(s.scalars(select(Notifier))) == []
    assert sc.events("notifier.warned") == sc.events("notifier.limited") == []
    assert {n.outcome for n in _notices(engine).values()} == {"no_action"}
