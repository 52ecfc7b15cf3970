"""Issuing statements: only for EEA users, stored with the action and logged in the same transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from vigil.actions.models import Action
from vigil.audit.models import Event
from vigil.audit.services import verify
from vigil.items.models import Account, Item
from vigil.policy.schema import ActionKind, StatementConfig
from vigil.statements.models import StatementOfReasons
from vigil.statements.rules import validate_statement
from vigil.statements.services import issue_for_action, render_for_user
from vigil.unit_of_work import UnitOfWork, unit_of_work

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
SECRET_TEXT = "planted-user-text-4410"
SECRET_HANDLE = "planted_handle_4411"

STATEMENT = StatementConfig(
    category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    keywords=["KEYWORD_HATE_SPEECH"],
    ground="incompatible",
    terms_clause="Community guidelines, section 3 (hateful conduct)",
    explanation="Attacks on people for a protected characteristic are not allowed.",
    reference_url="https://vigil.example/guidelines#3",
)


def _seed(
    uow: UnitOfWork, *, account_country: str | None, item_country: str | None, kind: ActionKind
) -> tuple[Action, Item, Account]:
    account = Account(
        platform_account_id=f"acct-{account_country}-{item_country}",
        handle=SECRET_HANDLE,
        country=account_country,
        registered_at=datetime(2022, 1, 1, tzinfo=UTC),
    )
    uow.session.add(account)
    uow.session.flush()
    item = Item(
        platform_item_id=f"item-{account_country}-{item_country}",
        kind="post",
        account_id=account.id,
        created_at=NOW - timedelta(days=1),
        ingested_at=NOW - timedelta(days=1),
        language="de",
        country=item_country,
        text=SECRET_TEXT,
    )
    uow.session.add(item)
    uow.session.flush()
    action = Action(
        kind=kind.value,
        item_id=item.id,
        account_id=account.id,
        category="hate",
        automated=False,
        applied_at=NOW,
        ends_at=NOW + timedelta(days=14) if kind is ActionKind.SUSPEND_ACCOUNT else None,
    )
    uow.session.add(action)
    uow.session.flush()
    return action, item, account


def _issue(
    engine: Engine,
    *,
    account_country: str | None,
    item_country: str | None,
    kind: ActionKind = ActionKind.REMOVE_CONTENT,
) -> int | None:
    with unit_of_work(engine, clock=lambda: NOW) as uow:
        action, item, account = _seed(
            uow, account_country=account_country, item_country=item_country, kind=kind
        )
        row = issue_for_action(
            uow,
            action=action,
            item=item,
            account=account,
            statement=STATEMENT,
            category_title="Hateful conduct",
            rule_id="hate-review",
            source="article_16",
            automated_detection=False,
            automated_decision="not_automated",
            signals=["notice"],
        )
        return None if row is None else row.id


def _events(engine: Engine) -> list[Event]:
    with Session(engine) as s:
        return list(s.scalars(select(Event).where(Event.type == "statement.issued")))


def _statement_count(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(StatementOfReasons)) or 0)


def test_eu_account_gets_one_statement_and_one_event(engine: Engine) -> None:
    row_id = _issue(engine, account_country="FR", item_country=None)
    assert row_id is not None
    with Session(engine) as s:
        rows = list(s.scalars(select(StatementOfReasons)))
        action = s.scalars(select(Action)).one()
        result = verify(s)
    assert len(rows) == 1
    row = rows[0]
    assert row.id == row_id
    assert row.action_id == action.id
    assert row.puid == row.body["puid"]
    assert validate_statement(row.body) == []
    assert row.body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert row.body["source_type"] == "SOURCE_ARTICLE_16"
    assert row.body["content_language"] == "DE"
    events = _events(engine)
    assert len(events) == 1
    assert events[0].subject == f"statement:{row.id}"
    payload = json.loads(events[0].body)["payload"]
    assert payload["puid"] == row.puid
    assert payload["action_id"] == action.id
    assert payload["item_id"] == row.item_id
    assert payload["account_id"] == row.account_id
    assert payload["category"] == STATEMENT.category
    assert payload["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert result.ok, result.problems
    assert result.events_checked == 1
    for text in (events[0].body, json.dumps(row.body), render_for_user(row)):
        assert SECRET_TEXT not in text
        assert SECRET_HANDLE not in text


def test_non_eea_user_gets_nothing(engine: Engine) -> None:
    assert _issue(engine, account_country="US", item_country="CA") is None
    assert _issue(engine, account_country=None, item_country=None) is None
    assert _statement_count(engine) == 0
    assert _events(engine) == []


def test_eu_item_of_non_eu_account_gets_a_statement(engine: Engine) -> None:
    assert _issue(engine, account_country="US", item_country="ie") is not None
    assert _statement_count(engine) == 1
    assert len(_events(engine)) == 1


def test_eea_outside_eu_is_covered(engine: Engine) -> None:
    assert _issue(engine, account_country="NO", item_country=None) is not None
    assert _statement_count(engine) == 1


def test_suspension_states_its_end_and_renders_for_the_user(engine: Engine) -> None:
    row_id = _issue(
        engine, account_country="NL", item_country="NL", kind=ActionKind.SUSPEND_ACCOUNT
    )
    with Session(engine) as s:
        row = s.get_one(StatementOfReasons, row_id)
    assert row.body["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert row.body["end_date_account_restriction"] == "2025-07-15"
    text = render_for_user(row)
    assert "suspended until 2025-07-15" in text
    assert "appeal" in text
    assert "out-of-court" in text
    assert "Community guidelines, section 3 (hateful conduct)" in text
    assert "Policy rule: hate-review." in row.body["decision_facts"]
    assert "A person reviewed" in row.body["decision_facts"]


def test_second_issue_for_the_same_action_returns_the_first(engine: Engine) -> None:
    with unit_of_work(engine, clock=lambda: NOW) as uow:
        action, item, account = _seed(
            uow, account_country="DE", item_country="DE", kind=ActionKind.CLOSE_ACCOUNT
        )
        first, second = (
            issue_for_action(
                uow,
                action=action,
                item=item,
                account=account,
                statement=STATEMENT,
                category_title="Hateful conduct",
                rule_id=None,
                automated_detection=True,
                automated_decision="fully",
            )
            for _ in range(2)
        )
    assert first is not None
    assert second is not None
    assert first.id == second.id
    assert _statement_count(engine) == 1
    assert len(_events(engine)) == 1
    assert first.body["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
