"""Warnings and account restrictions: what they change, what they log and what the user is told."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.statements.sor_checker import SchemaChecker
from tests.support.enforcement import Clock, account, default_policy, post
from vigil.actions.models import Action
from vigil.actions.services import ActionError, apply_action
from vigil.audit.models import Event
from vigil.items.models import Account
from vigil.policy.schema import ActionKind
from vigil.statements.models import StatementOfReasons
from vigil.statements.rules import validate_statement
from vigil.statements.services import render_for_user
from vigil.unit_of_work import unit_of_work


@pytest.fixture(scope="module")
def checker(shared_dir: Path) -> SchemaChecker:
    schema: dict[str, Any] = json.loads(
        (shared_dir / "reference" / "dsa_sor_schema.json").read_text(encoding="utf-8")
    )
    return SchemaChecker(schema)


def _events(s: Session, type_: str) -> list[dict[str, Any]]:
    rows = s.scalars(select(Event).where(Event.type == type_).order_by(Event.seq))
    return [json.loads(e.body)["payload"] for e in rows]


def test_a_warning_restricts_nothing_but_is_an_action(engine: Engine) -> None:
    clock = Clock()
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, "acct-w")
        item = post(uow, who, "item-w")
        action = apply_action(
            uow,
            kind=ActionKind.WARN_ACCOUNT,
            item=item,
            policy=default_policy(),
            category="hate",
            rule_id=None,
            automated=False,
            actor="alice",
        )
        assert action is not None
        action_id, account_id = action.id, who.id
    with Session(engine) as s:
        acct = s.get(Account, account_id)
        assert acct is not None
        assert acct.status == "active"
        assert s.scalars(select(StatementOfReasons)).first() is None
        applied = _events(s, "action.applied")
        assert [p["kind"] for p in applied] == ["warn_account"]
        assert applied[0]["account_id"] == account_id
        assert _events(s, "statement.issued") == []
        row = s.get(Action, action_id)
        assert row is not None
        assert row.ends_at is None


def test_account_restriction_has_an_end_and_a_conforming_statement(
    engine: Engine, checker: SchemaChecker
) -> None:
    clock = Clock()
    policy = default_policy()
    with unit_of_work(engine, clock=clock) as uow:
        who = account(uow, "acct-r")
        item = post(uow, who, "item-r")
        action = apply_action(
            uow,
            kind=ActionKind.RESTRICT_ACCOUNT,
            item=item,
            policy=policy,
            category="harassment",
            rule_id=None,
            decision_id=None,
            automated=False,
        )
        assert action is not None
        action_id, account_id = action.id, who.id
    end = clock.now + timedelta(days=policy.enforcement.restriction_days)
    with Session(engine) as s:
        acct = s.get(Account, account_id)
        assert acct is not None
        assert acct.status == "restricted"
        row = s.get(Action, action_id)
        assert row is not None
        assert row.ends_at == end
        sor = s.scalars(
            select(StatementOfReasons).where(StatementOfReasons.action_id == action_id)
        ).one()
        body = sor.body
        assert body["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
        assert body["end_date_service_restriction"] == end.date().isoformat()
        assert "decision_account" not in body
        assert "decision_visibility" not in body
        assert checker.check(body) == []
        assert validate_statement(body) == []
        assert "features of the account were restricted" in body["decision_facts"]
        text = render_for_user(sor)
        assert f"Some features of your account were restricted until {end.date()}." in text
        issued = _events(s, "statement.issued")
        assert issued[0]["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"


def test_an_account_action_needs_no_item(engine: Engine, checker: SchemaChecker) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-x")
        action = apply_action(
            uow,
            kind=ActionKind.SUSPEND_ACCOUNT,
            item=None,
            account=who,
            policy=default_policy(),
            category="spam",
            rule_id=None,
            automated=False,
        )
        assert action is not None
        assert action.item_id is None
        assert who.status == "suspended"
        sor = uow.session.scalars(
            select(StatementOfReasons).where(StatementOfReasons.action_id == action.id)
        ).one()
        assert sor.body["content_type"] == ["CONTENT_TYPE_OTHER"]
        assert checker.check(sor.body) == []
        with pytest.raises(ActionError, match="remove_content: acts on content"):
            apply_action(
                uow,
                kind=ActionKind.REMOVE_CONTENT,
                item=None,
                account=who,
                policy=default_policy(),
                category="spam",
                rule_id=None,
                automated=False,
            )


def test_a_lighter_account_action_never_lifts_a_heavier_one(engine: Engine) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-h")
        item = post(uow, who, "item-h")
        for kind in (ActionKind.SUSPEND_ACCOUNT, ActionKind.RESTRICT_ACCOUNT):
            apply_action(
                uow,
                kind=kind,
                item=item,
                policy=default_policy(),
                category="spam",
                rule_id=None,
                automated=False,
            )
        assert who.status == "suspended"
        # While the restriction is in force, a second one is not applied.
        again = apply_action(
            uow,
            kind=ActionKind.RESTRICT_ACCOUNT,
            item=None,
            account=who,
            policy=default_policy(),
            category="spam",
            rule_id=None,
            automated=False,
        )
        assert again is None


def test_outside_the_eea_an_account_restriction_has_no_statement(engine: Engine) -> None:
    with unit_of_work(engine, clock=Clock()) as uow:
        who = account(uow, "acct-us", country="US")
        item = post(uow, who, "item-us")
        action = apply_action(
            uow,
            kind=ActionKind.RESTRICT_ACCOUNT,
            item=item,
            policy=default_policy(),
            category="spam",
            rule_id=None,
            automated=False,
        )
        assert action is not None
        assert who.status == "restricted"
        assert uow.session.scalars(select(StatementOfReasons)).first() is None
