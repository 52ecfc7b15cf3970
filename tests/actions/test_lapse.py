"""Suspensions and account restrictions end on time: the sweep lifts them once, and logs it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.support.enforcement import Clock, account, default_policy, post
from vigil.actions.models import Action
from vigil.actions.services import apply_action, lapse_expired
from vigil.audit.models import Event
from vigil.cli import app
from vigil.items.models import Account
from vigil.platform import feed
from vigil.policy.schema import ActionKind
from vigil.unit_of_work import unit_of_work


def _apply(engine: Engine, clock: Clock, kind: ActionKind, pid: str) -> tuple[int, int]:
    with unit_of_work(engine, clock=clock) as uow:
        who = uow.session.scalar(select(Account).where(Account.platform_account_id == "acct-l"))
        who = who or account(uow, "acct-l")
        action = apply_action(
            uow,
            kind=kind,
            item=post(uow, who, pid),
            policy=default_policy(),
            category="harassment",
            rule_id=None,
            automated=False,
            actor="alice",
        )
        assert action is not None
        return action.id, who.id


def _status(engine: Engine, account_id: int) -> str:
    with Session(engine) as s:
        acct = s.get(Account, account_id)
        assert acct is not None
        return acct.status


def _lapsed(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.scalars(
            select(Event.body).where(Event.type == "action.lapsed").order_by(Event.seq)
        )
        return [json.loads(b)["payload"] for b in rows]


def test_a_restriction_lapses_after_its_days_and_only_once(engine: Engine) -> None:
    clock = Clock()
    days = default_policy().enforcement.restriction_days
    restriction, account_id = _apply(engine, clock, ActionKind.RESTRICT_ACCOUNT, "p1")
    assert _status(engine, account_id) == "restricted"

    clock.advance(days=days, seconds=-1)
    with unit_of_work(engine, clock=clock) as uow:
        assert lapse_expired(uow) == []
    assert _status(engine, account_id) == "restricted"

    clock.advance(seconds=1)
    with unit_of_work(engine, clock=clock) as uow:
        assert [a.id for a in lapse_expired(uow)] == [restriction]
    assert _status(engine, account_id) == "active"
    clock.advance(days=1)
    with unit_of_work(engine, clock=clock) as uow:
        assert lapse_expired(uow) == []  # once only
    (event,) = _lapsed(engine)
    assert event["action_id"] == restriction
    assert event["account_status"] == "active"
    with Session(engine) as s:
        row = s.get(Action, restriction)
        assert row is not None
        assert row.lapsed_at is not None
        assert row.reversed_at is None  # lapsing is not a reversal
        page = feed.read(s, types=["action.lapsed"])
    assert [e.data["platform_account_id"] for e in page.events] == ["acct-l"]


def test_a_lapsed_restriction_leaves_a_longer_suspension_in_force(engine: Engine) -> None:
    clock = Clock()
    policy = default_policy().enforcement
    restriction, account_id = _apply(engine, clock, ActionKind.RESTRICT_ACCOUNT, "p1")
    suspension, _ = _apply(engine, clock, ActionKind.SUSPEND_ACCOUNT, "p2")
    assert policy.suspension_days > policy.restriction_days
    clock.advance(days=policy.restriction_days)
    with unit_of_work(engine, clock=clock) as uow:
        assert [a.id for a in lapse_expired(uow)] == [restriction]
    assert _status(engine, account_id) == "suspended"
    # The suspension ended on 2026-11-15 (T0 + 14 + 30 days); the command runs on the real clock.
    result = CliRunner().invoke(
        app, ["--db", engine.url.render_as_string(hide_password=False), "account", "sweep"]
    )
    assert result.exit_code == 0, result.output
    assert f"lifted suspend_account #{suspension}" in result.output
    assert "1 action(s) lapsed" in result.output
    assert _status(engine, account_id) == "active"


def test_a_closure_never_lapses(engine: Engine) -> None:
    clock = Clock()
    _, account_id = _apply(engine, clock, ActionKind.CLOSE_ACCOUNT, "p1")
    clock.advance(days=3650)
    with unit_of_work(engine, clock=clock) as uow:
        assert lapse_expired(uow) == []
    assert _status(engine, account_id) == "closed"
