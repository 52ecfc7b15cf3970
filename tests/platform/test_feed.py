"""The feed on both backends: which events reach the platform and what each message says."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tests.platform.support import T0, act, add_item, add_notice, noise, record
from vigil.audit.models import Event
from vigil.platform import feed
from vigil.policy.schema import ActionKind
from vigil.statements.models import StatementOfReasons
from vigil.statements.services import render_for_user


def _read(
    engine: Engine, *, after: int = 0, limit: int = 100, types: list[str] | None = None
) -> feed.FeedPage:
    with Session(engine) as s:
        return feed.read(s, after=after, limit=limit, types=types)


def test_action_applied_carries_platform_ids_and_the_statement(engine: Engine) -> None:
    action_id = act(engine, "post-1", account="acct-de")
    page = _read(engine)
    assert [e.type for e in page.events] == ["action.applied"]
    event = page.events[0]
    with Session(engine) as s:
        row = s.scalars(select(Event).where(Event.type == "action.applied")).one()
        statement = s.scalars(
            select(StatementOfReasons).where(StatementOfReasons.action_id == action_id)
        ).one()
        statement_text = render_for_user(statement)
    assert event.seq == row.seq
    assert event.id == "evt_" + row.hash[:32]
    assert page.next_cursor == str(row.seq)
    assert event.message() == {
        "id": event.id,
        "type": "action.applied",
        "cursor": str(row.seq),
        "occurred_at": T0.isoformat(),
        "data": {
            "action_id": action_id,
            "kind": "remove_content",
            "category": "harassment",
            "platform_item_id": "post-1",
            "platform_account_id": "acct-de",
            "automated": True,
            "ends_at": None,
            "decision_id": None,
            "message": None,
            "statement": {"puid": statement.puid, "text": statement_text},
        },
    }
    assert "Statement of reasons" in statement_text
    assert json.loads(event.body()) == event.message()


def test_suspension_carries_its_end_and_outside_the_eea_there_is_no_statement(
    engine: Engine,
) -> None:
    act(engine, "post-us", account="acct-us", country="US", kind=ActionKind.SUSPEND_ACCOUNT)
    (event,) = _read(engine).events
    assert event.data["kind"] == "suspend_account"
    assert event.data["platform_account_id"] == "acct-us"
    assert event.data["ends_at"] == "2026-10-31T12:00:00+00:00"  # 30 days in the default policy
    assert event.data["statement"] is None


def test_other_slices_events_map_from_their_contract_payloads(engine: Engine) -> None:
    item_id = add_item(engine, "post-9", account="acct-9")
    notice_id = add_notice(engine, "notice-42", item_id)
    with Session(engine) as s:
        account_id = s.scalar(text("SELECT account_id FROM items WHERE id = :i"), {"i": item_id})
    contract = [
        ("action.reversed", "action:5",
         {"action_id": 5, "kind": "remove_content", "item_id": item_id, "account_id": account_id, "appeal_id": 3}),
        ("account.escalated", f"account:{account_id}",
         {"account_id": account_id, "weight_before": 2, "weight_after": 5, "action": "suspend_account"}),
        ("notice.acknowledged", f"notice:{notice_id}", {"notice_id": notice_id, "item_id": item_id}),
        ("notice.outcome", f"notice:{notice_id}",
         {"notice_id": notice_id, "item_id": item_id, "outcome": "action_taken", "decision_id": 8}),
        ("notifier.warned", "notifier:reporter-7", {"notifier": "reporter-7", "unfounded": 4, "decided": 5}),
        ("notifier.limited", "notifier:reporter-7",
         {"notifier": "reporter-7", "until": "2026-11-01T00:00:00+00:00", "per_day": 3}),
        ("appeal.decided", "appeal:3", {"appeal_id": 3, "outcome": "reversed", "decision_id": 9}),
    ]  # fmt: skip
    for event_type, subject, payload in contract:
        record(engine, event_type, subject, payload)
    got = {e.type: e.data for e in _read(engine).events}
    assert got == {
        "action.reversed": {
            "action_id": 5, "kind": "remove_content", "platform_item_id": "post-9",
            "platform_account_id": "acct-9", "appeal_id": 3,
        },
        "account.escalated": {
            "platform_account_id": "acct-9", "weight_before": 2, "weight_after": 5,
            "action": "suspend_account",
        },
        "notice.acknowledged": {"platform_notice_id": "notice-42", "platform_item_id": "post-9"},
        "notice.outcome": {
            "platform_notice_id": "notice-42", "platform_item_id": "post-9",
            "outcome": "action_taken", "decision_id": 8,
        },
        "notifier.warned": {"notifier": "reporter-7", "unfounded": 4, "decided": 5},
        "notifier.limited": {
            "notifier": "reporter-7", "until": "2026-11-01T00:00:00+00:00", "per_day": 3,
        },
        "appeal.decided": {
            "appeal_id": 3, "outcome": "reversed", "decision_id": 9,
            # No appeal #3 is stored here: the answer is looked up from the appeals table.
            "appellant_kind": None, "appellant": None, "answer": None,
        },
    }  # fmt: skip
    assert list(got) == [c[0] for c in contract]  # in log order


def test_only_feed_types_reach_the_feed(engine: Engine) -> None:
    act(engine, "post-1")  # also writes a statement.issued event
    for event_type in (
        "case.decided", "strike.issued", "notice.refused", "statement.submitted",
        "appeal.filed", "webhook.delivered", "platform_token.created",
    ):  # fmt: skip
        record(engine, event_type, "x:1", {"puid": "p", "reason": "internal"})
    noise(engine, 5)
    with Session(engine) as s:
        all_types = set(s.scalars(select(Event.type)))
    assert "statement.issued" in all_types
    assert len(all_types) >= 10
    page = _read(engine, limit=500)
    assert [e.type for e in page.events] == ["action.applied"]


def test_type_filter_and_paging_follow_seq(engine: Engine) -> None:
    for i in range(3):
        act(engine, f"post-{i}")
        noise(engine, 2)
        record(engine, "appeal.decided", f"appeal:{i}", {"appeal_id": i, "outcome": "upheld"})
    everything = _read(engine, limit=500).events
    assert [e.type for e in everything] == ["action.applied", "appeal.decided"] * 3
    assert [e.seq for e in everything] == sorted(e.seq for e in everything)
    first = _read(engine, limit=4)
    rest = _read(engine, after=int(first.next_cursor), limit=4)
    assert [e.id for e in first.events + rest.events] == [e.id for e in everything]
    assert rest.next_cursor == everything[-1].cursor
    done = _read(engine, after=int(rest.next_cursor))
    assert done.events == []
    assert done.next_cursor == rest.next_cursor
    appeals = _read(engine, types=["appeal.decided"], limit=500).events
    assert [e.data["appeal_id"] for e in appeals] == [0, 1, 2]


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(feed.CursorError, match="cursor 'abc'"):
        feed.parse_cursor("abc")
    with pytest.raises(ValueError, match=r"event types: case\.decided not in the feed"):
        feed.check_types(["case.decided"])
    assert feed.parse_cursor("") == 0
    assert feed.parse_cursor("17") == 17


def test_feed_reads_use_the_type_seq_index(engine: Engine) -> None:
    """Reading after a cursor is an index range scan, however many other events there are."""
    act(engine, "post-1")
    noise(engine, 3000)
    query = feed.type_query("action.applied", 10, 100)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in c.execute(text("EXPLAIN QUERY PLAN " + sql)))
        else:
            c.execute(text("ANALYZE events"))
            plan = " ".join(r[0] for r in c.execute(text("EXPLAIN " + sql)))
    assert "ix_events_type_seq" in plan, plan
