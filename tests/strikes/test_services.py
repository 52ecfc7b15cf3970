"""Issuing, expiring and removing strikes on both backends, and escalation as events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.support.enforcement import Clock, account, default_policy, post, violation
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.policy.defaults import default_policy_text
from vigil.policy.schema import ActionKind
from vigil.policy.validate import load_policy_text
from vigil.strikes import services as strikes
from vigil.strikes.models import Strike
from vigil.strikes.services import StrikeError
from vigil.unit_of_work import UnitOfWork, unit_of_work

WARN, RESTRICT, SUSPEND, CLOSE = (
    ActionKind.WARN_ACCOUNT,
    ActionKind.RESTRICT_ACCOUNT,
    ActionKind.SUSPEND_ACCOUNT,
    ActionKind.CLOSE_ACCOUNT,
)


def _payloads(s: Session, type_: str) -> list[dict[str, Any]]:
    rows = s.scalars(select(Event).where(Event.type == type_).order_by(Event.seq))
    return [json.loads(e.body)["payload"] for e in rows]


def _strike_for(
    uow: UnitOfWork, account_id: int, item_id: int, category: str
) -> strikes.IssuedStrike:
    from vigil.items.models import Item

    item = uow.session.get(Item, item_id)
    assert item is not None
    decision, actions = violation(uow, item, category)
    return strikes.issue(
        uow,
        account_id=account_id,
        item_id=item_id,
        category=category,
        policy=default_policy(),
        decision_id=decision.id,
        action_id=actions[0].id if actions else None,
        actor=decision.reviewer,
    )


def test_weights_follow_the_category(engine: Engine) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        spam = _strike_for(uow, who.id, item.id, "spam")
        hate = _strike_for(uow, who.id, item.id, "hate")
        assert spam.strike is not None
        assert spam.strike.weight == 1
        assert hate.strike is not None
        assert hate.strike.weight == 2
        assert (spam.weight_before, spam.weight_after) == (0, 1)
        assert (hate.weight_before, hate.weight_after) == (1, 3)
        assert spam.escalation == [WARN]
        assert hate.escalation == [RESTRICT]
        assert strikes.weight_now(uow, who.id) == 3


def test_a_weightless_category_issues_nothing(engine: Engine) -> None:
    text = default_policy_text().replace(
        "strike: {weight: 1, expires: 90d}", "strike: {weight: 0, expires: 90d}"
    )
    policy = load_policy_text(text, "test")
    assert policy.category("spam").strike.weight == 0
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-1")
        issued = strikes.issue(
            uow,
            account_id=who.id,
            item_id=None,
            category="spam",
            policy=policy,
            decision_id=None,
            action_id=None,
        )
        assert issued.strike is None
        assert issued.escalation == []
        assert strikes.preview_escalation(uow, who.id, "spam", policy) == []
        with pytest.raises(StrikeError, match="category: 'nope' is not a category"):
            strikes.issue(
                uow,
                account_id=who.id,
                item_id=None,
                category="nope",
                policy=policy,
                decision_id=None,
                action_id=None,
            )
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Strike)) == 0
        assert _payloads(s, "strike.issued") == []


def test_one_heavy_strike_crosses_several_steps_and_logs_each(engine: Engine) -> None:
    clock = Clock()
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        account_id = who.id
        preview = strikes.preview_escalation(uow, who.id, "terrorism", default_policy())
        assert preview == [WARN, RESTRICT, SUSPEND]
        issued = _strike_for(uow, who.id, item.id, "terrorism")
        assert issued.escalation == preview
        assert issued.strike is not None
        strike_id, decision_id = issued.strike.id, issued.strike.decision_id
        # The steps are for the caller to apply: issuing changed no account status.
        assert who.status == "active"
        # The next heavy strike crosses only the last step.
        assert strikes.preview_escalation(uow, who.id, "terrorism", default_policy()) == [CLOSE]
    with Session(engine) as s:
        (issued_event,) = _payloads(s, "strike.issued")
        expires = clock.now + default_policy().category("terrorism").strike.expires_delta
        assert issued_event == {
            "strike_id": strike_id,
            "account_id": account_id,
            "category": "terrorism",
            "weight": 5,
            "expires_at": expires.isoformat(),
            "decision_id": decision_id,
            "action_id": issued_event["action_id"],
        }
        escalated = _payloads(s, "account.escalated")
        assert escalated == [
            {"account_id": account_id, "weight_before": 0, "weight_after": 5, "action": a.value}
            for a in (WARN, RESTRICT, SUSPEND)
        ]
        assert verify(s).ok


def test_the_same_decision_strikes_once(engine: Engine) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        first = _strike_for(uow, who.id, item.id, "hate")
        assert first.strike is not None
        again = strikes.issue(
            uow,
            account_id=who.id,
            item_id=item.id,
            category="hate",
            policy=default_policy(),
            decision_id=first.strike.decision_id,
            action_id=None,
        )
        assert again.strike is not None
        assert again.strike.id == first.strike.id
        assert again.escalation == []
        assert strikes.weight_now(uow, who.id) == 2


def test_strikes_expire(engine: Engine) -> None:
    clock = Clock()
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        _strike_for(uow, who.id, item.id, "spam")  # 90 days
        _strike_for(uow, who.id, item.id, "hate")  # 180 days
        account_id = who.id
    clock.advance(days=89)
    with unit_of_work(engine, clock=clock) as uow:
        assert strikes.weight_now(uow, account_id) == 3
    clock.advance(days=2)
    with unit_of_work(engine, clock=clock) as uow:
        assert strikes.weight_now(uow, account_id) == 2
        s = strikes.standing(uow, account_id, default_policy())
        assert [x.category for x in s.active] == ["hate"]
        assert [x.category for x in s.expired] == ["spam"]
        assert s.active_weight == 2
        assert s.next_step is not None
        assert s.next_step.at == 3
        # Back under a step, a new strike crosses it again.
        assert strikes.preview_escalation(uow, account_id, "spam", default_policy()) == [RESTRICT]
    clock.advance(days=90)
    with unit_of_work(engine, clock=clock) as uow:
        assert strikes.weight_now(uow, account_id) == 0


def test_remove_for_a_decision_or_actions(engine: Engine) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        other = post(uow, who, "item-2")
        hate = _strike_for(uow, who.id, item.id, "hate")
        spam = _strike_for(uow, who.id, other.id, "spam")
        assert hate.strike is not None
        assert spam.strike is not None
        removed = strikes.remove_for(
            uow, decision_id=hate.strike.decision_id, appeal_id=None, actor="bob"
        )
        assert [x.id for x in removed] == [hate.strike.id]
        assert strikes.weight_now(uow, who.id) == 1
        assert strikes.remove_for(uow, appeal_id=None, actor="bob") == []
        assert spam.strike.action_id is not None
        removed = strikes.remove_for(
            uow, action_ids=[spam.strike.action_id], appeal_id=None, actor="bob"
        )
        assert [x.id for x in removed] == [spam.strike.id]
        # Removing twice removes nothing more.
        assert (
            strikes.remove_for(
                uow, decision_id=hate.strike.decision_id, appeal_id=None, actor="bob"
            )
            == []
        )
        now = strikes.standing(uow, who.id, default_policy())
        assert now.active == []
        assert now.active_weight == 0
        assert {x.id for x in now.removed} == {hate.strike.id, spam.strike.id}
        ids = (who.id, hate.strike.id, spam.strike.id)
    with Session(engine) as s:
        assert _payloads(s, "strike.removed") == [
            {"strike_id": ids[1], "account_id": ids[0], "appeal_id": None},
            {"strike_id": ids[2], "account_id": ids[0], "appeal_id": None},
        ]


def test_standing_decays(engine: Engine) -> None:
    clock = Clock()
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        _strike_for(uow, who.id, item.id, "terrorism")  # weight 5, one upheld verdict
        account_id = who.id
        now = strikes.standing(uow, account_id, default_policy()).concern
    assert now.of_concern
    assert now.score == pytest.approx(5.5)
    assert sorted((r.kind, r.category) for r in now.reasons) == [
        ("strike", "terrorism"),
        ("verdict", "terrorism"),
    ]
    clock.advance(days=90)
    with unit_of_work(engine, clock=clock) as uow:
        later = strikes.standing(uow, account_id, default_policy()).concern
    assert later.score == pytest.approx(2.75)
    assert not later.of_concern
