"""Reversing an action restores the item or account unless another action still holds it."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.enforcement import Clock, account, default_policy, post, violation
from vigil.actions.models import Action
from vigil.actions.services import apply_action, reverse_action
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.items.models import Account, Item
from vigil.policy.schema import ActionKind
from vigil.unit_of_work import unit_of_work


def test_reversal_restores_the_item_and_is_logged(engine: Engine) -> None:
    clock = Clock()
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        _, (action,) = violation(uow, item, "hate")
        assert item.status == "removed"
        ids = (action.id, item.id, who.id)
    clock.advance(days=2)
    with unit_of_work(engine, clock=clock) as uow:
        row = uow.session.get(Action, ids[0])
        assert row is not None
        assert reverse_action(uow, row, appeal_id=None, actor="bob") is True
        assert reverse_action(uow, row, appeal_id=None, actor="bob") is False
    with Session(engine) as s:
        item_row = s.get(Item, ids[1])
        assert item_row is not None
        assert item_row.status == "visible"
        row = s.get(Action, ids[0])
        assert row is not None
        assert row.reversed_at == clock.now
        events = list(s.scalars(select(Event).where(Event.type == "action.reversed")))
        assert len(events) == 1
        assert events[0].actor == "bob"
        assert events[0].subject == f"action:{ids[0]}"
        assert json.loads(events[0].body)["payload"] == {
            "action_id": ids[0],
            "kind": "remove_content",
            "item_id": ids[1],
            "account_id": ids[2],
            "appeal_id": None,
        }
        assert verify(s).ok


def test_another_unreversed_action_still_holds_the_item(engine: Engine) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        _, (restrict,) = violation(uow, item, "spam", actions=[ActionKind.RESTRICT_VISIBILITY])
        _, (remove,) = violation(uow, item, "hate", reviewer="carol")
        assert item.status == "removed"
        reverse_action(uow, remove, appeal_id=None, actor="bob")
        assert item.status == "restricted"
        reverse_action(uow, restrict, appeal_id=None, actor="bob")
        assert item.status == "visible"
        # Once reversed, the same action can be taken again (e.g. after a new review).
        again = apply_action(
            uow,
            kind=ActionKind.REMOVE_CONTENT,
            item=item,
            policy=default_policy(),
            category="hate",
            rule_id=None,
            automated=False,
        )
        assert again is not None
        assert item.status == "removed"


def test_account_is_restored_only_when_nothing_in_force_holds_it(engine: Engine) -> None:
    clock = Clock()
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        _, (restrict,) = violation(uow, item, "spam", actions=[ActionKind.RESTRICT_ACCOUNT])
        _, (suspend,) = violation(uow, item, "hate", actions=[ActionKind.SUSPEND_ACCOUNT])
        _, (close,) = violation(uow, item, "hate", actions=[ActionKind.CLOSE_ACCOUNT])
        ids = (restrict.id, suspend.id, close.id, who.id)
        assert who.status == "closed"
    with unit_of_work(engine, clock=clock) as uow:
        reverse_action(uow, uow.session.get_one(Action, ids[2]), appeal_id=None, actor="bob")
        assert uow.session.get_one(Account, ids[3]).status == "suspended"
        reverse_action(uow, uow.session.get_one(Action, ids[1]), appeal_id=None, actor="bob")
        assert uow.session.get_one(Account, ids[3]).status == "restricted"
    with unit_of_work(engine, clock=clock) as uow:
        who = uow.session.get_one(Account, ids[3])
        again = apply_action(
            uow,
            kind=ActionKind.SUSPEND_ACCOUNT,
            item=None,
            account=who,
            policy=default_policy(),
            category="hate",
            rule_id=None,
            automated=False,
        )
        assert again is not None
        suspend_id = again.id
    # The 14-day restriction has ended by the time the suspension is reversed.
    clock.advance(days=20)
    with unit_of_work(engine, clock=clock) as uow:
        reverse_action(uow, uow.session.get_one(Action, suspend_id), appeal_id=None, actor="bob")
        assert uow.session.get_one(Account, ids[3]).status == "active"


def test_reversing_a_warning_changes_no_status(engine: Engine) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-1")
        item = post(uow, who, "item-1")
        _, (suspend,) = violation(uow, item, "hate", actions=[ActionKind.SUSPEND_ACCOUNT])
        _, (warn,) = violation(uow, item, "spam", actions=[ActionKind.WARN_ACCOUNT])
        reverse_action(uow, warn, appeal_id=None, actor="bob")
        assert who.status == "suspended"
        assert suspend.reversed_at is None
