"""Statements issued the way the product issues them, in bulk, for export and submission tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from vigil.actions.models import Action
from vigil.items.models import Account, Item
from vigil.policy.schema import ActionKind, StatementConfig
from vigil.statements.models import StatementOfReasons
from vigil.statements.services import issue_for_action
from vigil.unit_of_work import unit_of_work

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
HANDLE = "planted_handle_4411"
ACCOUNT_ID = "acct-PLANTED-7781"

HATE = StatementConfig(
    category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    keywords=["KEYWORD_HATE_SPEECH"],
    ground="incompatible",
    terms_clause="Community guidelines, section 3 (hateful conduct)",
    explanation="Attacks on people for a protected characteristic are not allowed.",
    reference_url="https://vigil.example/guidelines#3",
)

_serial = 0


def seed_statements(
    engine: Engine,
    count: int,
    *,
    when: datetime = NOW,
    statement: StatementConfig = HATE,
    kind: ActionKind = ActionKind.REMOVE_CONTENT,
) -> list[str]:
    """Issue ``count`` statements (one account, one item and action each); their PUIDs in order."""
    global _serial
    puids: list[str] = []
    with unit_of_work(engine, clock=lambda: when) as uow:
        account = uow.session.scalar(
            select(Account).where(Account.platform_account_id == ACCOUNT_ID)
        )
        if account is None:
            account = Account(
                platform_account_id=ACCOUNT_ID,
                handle=HANDLE,
                country="DE",
                registered_at=datetime(2022, 1, 1, tzinfo=UTC),
            )
            uow.session.add(account)
            uow.session.flush()
        for _ in range(count):
            _serial += 1
            item = Item(
                platform_item_id=f"item-PLANTED-{_serial}",
                kind="post",
                account_id=account.id,
                created_at=when - timedelta(days=1),
                ingested_at=when - timedelta(days=1),
                language="de",
                country="DE",
                text="planted user text",
            )
            uow.session.add(item)
            uow.session.flush()
            action = Action(
                kind=kind.value,
                item_id=item.id,
                account_id=account.id,
                category="hate",
                automated=False,
                applied_at=when,
            )
            uow.session.add(action)
            uow.session.flush()
            row = issue_for_action(
                uow,
                action=action,
                item=item,
                account=account,
                statement=statement,
                category_title="Hateful conduct",
                rule_id="hate-review",
                source="article_16",
                automated_detection=False,
                automated_decision="not_automated",
                signals=["notice"],
            )
            assert row is not None
            puids.append(row.puid)
    return puids


def set_body(engine: Engine, puid: str, **changes: Any) -> None:
    """Change a stored body (as an older release or a hand edit might have left it)."""
    with Session(engine) as s, s.begin():
        row = s.scalars(select(StatementOfReasons).where(StatementOfReasons.puid == puid)).one()
        row.body = {**row.body, **changes}


def stored(engine: Engine, puid: str) -> StatementOfReasons:
    with Session(engine) as s:
        return s.scalars(select(StatementOfReasons).where(StatementOfReasons.puid == puid)).one()
