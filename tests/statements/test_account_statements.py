"""Account restrictions map onto the DSA decision fields; a warning has no statement at all."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.statements.sor_checker import SchemaChecker
from vigil.actions.models import Action
from vigil.items.models import Account
from vigil.policy.schema import ActionKind, StatementConfig
from vigil.statements.builder import StatementFacts, build_statement, new_puid
from vigil.statements.models import StatementOfReasons
from vigil.statements.services import facts_for_action, render_for_user

TERMS = StatementConfig(
    category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    keywords=["KEYWORD_PHISHING"],
    ground="incompatible",
    terms_clause="Terms of service: spam and fraud",
    explanation="Spam is not allowed.",
)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _facts(kind: ActionKind, end: date | None) -> StatementFacts:
    return StatementFacts(
        puid=new_puid(),
        action=kind,
        statement=TERMS,
        content_types=("CONTENT_TYPE_TEXT",),
        content_date=date(2026, 3, 1),
        application_date=NOW.date(),
        end_date=end,
        language="en",
        source="voluntary",
        automated_detection=False,
        automated_decision="not_automated",
        account_type="private",
        facts="Some features of the account were restricted for a time.",
    )


@pytest.fixture(scope="module")
def checker(shared_dir: Path) -> SchemaChecker:
    schema: dict[str, Any] = json.loads(
        (shared_dir / "reference" / "dsa_sor_schema.json").read_text(encoding="utf-8")
    )
    return SchemaChecker(schema)


@pytest.mark.parametrize("end", [date(2026, 3, 16), None])
def test_restriction_is_a_partial_suspension_of_the_service(
    checker: SchemaChecker, end: date | None
) -> None:
    body = build_statement(_facts(ActionKind.RESTRICT_ACCOUNT, end))
    assert body["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert body.get("end_date_service_restriction") == (end.isoformat() if end else None)
    assert "end_date_account_restriction" not in body
    assert checker.check(body) == []
    text = render_for_user(StatementOfReasons(body=body, puid=body["puid"]))
    expected = f" until {end}." if end else "."
    assert "Some features of your account were restricted" + expected in text


def test_a_warning_has_no_statement() -> None:
    with pytest.raises(ValueError, match="warn_account restricts nothing"):
        build_statement(_facts(ActionKind.WARN_ACCOUNT, None))


def test_restriction_facts_carry_its_end_date() -> None:
    account = Account(
        id=1, platform_account_id="a", country="DE", account_type="private", first_seen_at=NOW
    )
    action = Action(
        id=2,
        kind=ActionKind.RESTRICT_ACCOUNT.value,
        item_id=None,
        account_id=1,
        category="spam",
        automated=False,
        applied_at=NOW,
        ends_at=datetime(2026, 3, 16, 9, 0, tzinfo=UTC),
    )
    facts = facts_for_action(
        action=action,
        item=None,
        account=account,
        statement=TERMS,
        category_title="Spam",
        rule_id=None,
        automated_detection=False,
        automated_decision="not_automated",
    )
    assert facts.end_date == date(2026, 3, 16)
    assert facts.content_types == ("CONTENT_TYPE_OTHER",)
    body = build_statement(facts)
    assert body["end_date_service_restriction"] == "2026-03-16"
    assert body["content_type_other"] == "Account"
