"""The builder never carries personal data and maps actions, content and languages correctly."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from vigil.actions.models import Action
from vigil.items.models import Account, Item, Media
from vigil.policy.schema import ActionKind, StatementConfig
from vigil.statements.builder import (
    ESCALATION_RULE_ID,
    StatementFacts,
    build_statement,
    content_types_for,
    decision_facts,
    new_puid,
)
from vigil.statements.models import StatementOfReasons
from vigil.statements.rules import validate_statement
from vigil.statements.services import facts_for_action, render_for_user

PLANTED = [
    "zebra-secret-words-7731",
    "planted_handle_x",
    "acct-PLANTED-9931",
    "item-PLANTED-4471",
    "parent-PLANTED-5501",
    "space-PLANTED-6601",
    "planted.example",
    "cdn.planted.example",
    "https://planted.example/evil",
    "7340021",
    "9184433",
    "5517001",
]
NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)

ILLEGAL = StatementConfig(
    category="STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    keywords=["KEYWORD_TERRORIST_CONTENT"],
    ground="illegal",
    legal_ground="Art. 2(7) of Regulation (EU) 2021/784",
    explanation="Terrorist content as defined by the regulation.",
    reference_url="https://vigil.example/policy#terror",
)


def _planted(kind: ActionKind) -> tuple[Action, Item, Account]:
    account = Account(
        id=7340021,
        platform_account_id="acct-PLANTED-9931",
        handle="@planted_handle_x",
        country="DE",
        account_type="private",
        registered_at=datetime(2021, 5, 4, tzinfo=UTC),
        first_seen_at=NOW,
    )
    item = Item(
        id=9184433,
        platform_item_id="item-PLANTED-4471",
        kind="post",
        account=account,
        account_id=7340021,
        space="space-PLANTED-6601",
        parent_platform_id="parent-PLANTED-5501",
        created_at=datetime(2025, 6, 30, tzinfo=UTC),
        ingested_at=NOW,
        language="en",
        country="DE",
        text="zebra-secret-words-7731 see https://planted.example/evil",
        urls=["https://planted.example/evil"],
        media=[Media(position=0, url="https://cdn.planted.example/m.jpg", mime="image/jpeg")],
    )
    action = Action(
        id=5517001,
        kind=kind.value,
        item_id=9184433,
        account_id=7340021,
        category="terror",
        automated=True,
        applied_at=NOW,
        ends_at=NOW + timedelta(days=30) if kind is ActionKind.SUSPEND_ACCOUNT else None,
    )
    return action, item, account


@pytest.mark.parametrize("kind", [k for k in ActionKind if k.is_restriction])
@pytest.mark.parametrize("source", ["voluntary", "article_16", "trusted_flagger"])
def test_statement_carries_no_user_data(kind: ActionKind, source: str) -> None:
    action, item, account = _planted(kind)
    facts = facts_for_action(
        action=action,
        item=item,
        account=account,
        statement=ILLEGAL,
        category_title="Terrorist content",
        rule_id="terror-hash",
        source=source,
        automated_detection=True,
        automated_decision="fully",
        signals=["sha256", "url", "term", "notice"],
    )
    body = build_statement(facts)
    rendered = render_for_user(StatementOfReasons(body=body, puid=body["puid"]))
    for text in (facts.facts, json.dumps(body), rendered):
        for secret in PLANTED:
            assert secret not in text
    assert "hash list of known content" in facts.facts
    assert "terror-hash" in facts.facts
    assert "Terrorist content" in facts.facts
    assert "source_identity" not in body


def test_decision_facts_say_whether_a_person_reviewed() -> None:
    def facts(reviewed: bool, rule_id: str | None) -> str:
        return decision_facts(
            action=ActionKind.REMOVE_CONTENT,
            category_title="Spam",
            signals=["md5"],
            reviewed_by_person=reviewed,
            rule_id=rule_id,
        )

    automated, reviewed = facts(False, None), facts(True, "r1")
    assert "without review by a person" in automated
    assert "Policy rule" not in automated
    assert "A person reviewed" in reviewed
    assert "Policy rule: r1." in reviewed


def test_an_escalation_step_says_it_follows_repeated_violations() -> None:
    text = decision_facts(
        action=ActionKind.SUSPEND_ACCOUNT,
        category_title="Hate speech",
        signals=[],
        reviewed_by_person=True,
        rule_id=ESCALATION_RULE_ID,
    )
    assert "The account was suspended" in text
    assert "repeated violations" in text
    assert "Policy rule" not in text


def test_puids_are_unique_and_well_formed() -> None:
    draws = [new_puid() for _ in range(10_000)]
    assert len(set(draws)) == len(draws)
    pattern = re.compile(r"^[a-zA-Z0-9-_]+$")
    assert all(pattern.match(p) and len(p) <= 500 and p.startswith("vigil-") for p in draws)


@pytest.mark.parametrize(
    ("kind", "mimes", "has_text", "expected"),
    [
        ("profile", ["image/png"], True, ("CONTENT_TYPE_OTHER",)),
        ("post", [], True, ("CONTENT_TYPE_TEXT",)),
        ("post", ["image/jpeg", "video/mp4"], True,
         ("CONTENT_TYPE_IMAGE", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO")),
        ("media", ["audio/ogg"], False, ("CONTENT_TYPE_AUDIO",)),
        ("media", [None], False, ("CONTENT_TYPE_OTHER",)),
        ("comment", [], False, ("CONTENT_TYPE_OTHER",)),
    ],
)  # fmt: skip
def test_content_types(
    kind: str, mimes: list[str | None], has_text: bool, expected: tuple[str, ...]
) -> None:
    assert content_types_for(kind, mimes, has_text) == expected


def _facts(**changes: object) -> StatementFacts:
    base = StatementFacts(
        puid=new_puid(),
        action=ActionKind.REMOVE_CONTENT,
        statement=ILLEGAL,
        content_types=("CONTENT_TYPE_TEXT",),
        content_date=date(2025, 6, 30),
        application_date=date(2025, 7, 1),
        end_date=None,
        language="en",
        source="voluntary",
        automated_detection=True,
        automated_decision="fully",
        account_type="business",
        facts="Removed under the policy category 'Terrorist content'.",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_action_kinds_map_to_decisions() -> None:
    removed = build_statement(_facts())
    assert removed["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert "decision_account" not in removed
    demoted = build_statement(_facts(action=ActionKind.RESTRICT_VISIBILITY))
    assert demoted["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DEMOTED"]
    suspended = build_statement(
        _facts(action=ActionKind.SUSPEND_ACCOUNT, end_date=date(2025, 7, 31))
    )
    assert suspended["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert suspended["end_date_account_restriction"] == "2025-07-31"
    assert "decision_visibility" not in suspended
    closed = build_statement(_facts(action=ActionKind.CLOSE_ACCOUNT))
    assert closed["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert closed["decision_provision"] == "DECISION_PROVISION_TOTAL_TERMINATION"
    assert removed["account_type"] == "ACCOUNT_TYPE_BUSINESS"
    assert removed["automated_detection"] == "Yes"
    assert removed["illegal_content_legal_ground"] == ILLEGAL.legal_ground
    assert "incompatible_content_ground" not in removed


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "EN"), ("de-AT", "DE"), ("El", "EL"), ("xx", None), (None, None)],
)
def test_content_language(language: str | None, expected: str | None) -> None:
    assert build_statement(_facts(language=language)).get("content_language") == expected


def test_profile_gets_other_label() -> None:
    body = build_statement(
        _facts(content_types=("CONTENT_TYPE_OTHER",), content_type_other="Account profile")
    )
    assert body["content_type_other"] == "Account profile"
    assert "content_type_other" not in build_statement(_facts())


def test_invalid_facts_raise_with_the_problem() -> None:
    no_ground = ILLEGAL.model_copy(update={"legal_ground": None})
    with pytest.raises(ValueError, match="illegal_content_legal_ground"):
        build_statement(_facts(statement=no_ground))
    with pytest.raises(ValueError, match="application_date"):
        build_statement(_facts(application_date=date(2019, 1, 1)))
    terms = StatementConfig(
        category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        ground="incompatible",
        terms_clause="Terms s.7",
        explanation="Spam.",
    )
    body = build_statement(_facts(statement=terms))
    assert validate_statement(body) == []
    assert body["incompatible_content_ground"] == "Terms s.7"
    assert "illegal_content_legal_ground" not in body
