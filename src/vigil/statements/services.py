"""Issuing statements of reasons (DSA Art. 17) for restrictions of EEA users.

A statement is issued in the same unit of work as the action it explains, so an
action and its statement (and the audit event for it) are committed together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.actions.models import Action
from vigil.items.models import Account, Item, Notice
from vigil.policy.schema import ActionKind, StatementConfig
from vigil.statements import dsa, puids
from vigil.statements.builder import (
    ACCOUNT_TYPES,
    AUTOMATED_DECISIONS,
    SOURCE_TYPES,
    AccountType,
    Automation,
    Source,
    StatementFacts,
    build_statement,
    content_type_other_for,
    content_types_for,
    decision_facts,
    new_puid,
)
from vigil.statements.models import StatementOfReasons
from vigil.statements.rules import DECISION_FIELDS
from vigil.unit_of_work import UnitOfWork

_CONTENT_DATE_MIN = date(2000, 1, 1)
# Account actions that end by themselves; their statement states when.
_TIME_LIMITED = (ActionKind.SUSPEND_ACCOUNT, ActionKind.RESTRICT_ACCOUNT)
_DATE_MAX = date(2038, 1, 1)

CATEGORY_LABELS: dict[str, str] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": "Consumer information infringements",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Cyber violence",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": "Data protection and privacy violations",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": "Intellectual property infringements",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": "Negative effects on civic discourse or elections",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": "Type of alleged illegal content not specified by the notifier",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": "Other violation of our terms and conditions",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Risk for public security",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams and/or fraud",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": "Unsafe, non-compliant or prohibited products",
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
}


def is_covered(item: Item | None, account: Account) -> bool:
    """Whether the DSA duty applies: the item or the account is in the EEA."""
    return dsa.is_eea_country(item.country if item else None) or dsa.is_eea_country(account.country)


def known_identifiers(session: Session, item: Item | None, account: Account) -> list[str]:
    """What identifies the people behind a statement: the scrubber removes all of it.

    The account's handle and platform id, the item's platform ids, and the
    reporters of notices about the item.
    """
    found: list[str | None] = [account.handle, account.platform_account_id]
    if item is not None:
        found += [item.platform_item_id, item.parent_platform_id]
        found += session.scalars(select(Notice.reporter).where(Notice.item_id == item.id))
    return sorted({f for f in found if f})


def _clamp(day: date, lowest: date, highest: date) -> date:
    """Keep a date inside the range the schema can represent."""
    return max(lowest, min(day, highest))


def facts_for_action(
    *,
    action: Action,
    item: Item | None,
    account: Account,
    statement: StatementConfig,
    category_title: str,
    rule_id: str | None,
    source: str = "voluntary",
    automated_detection: bool,
    automated_decision: str,
    suspension_end: datetime | None = None,
    signals: Sequence[str] = (),
) -> StatementFacts:
    """The statement's facts for an applied action; reads no user text, handle, id or URL."""
    if source not in SOURCE_TYPES:
        raise ValueError(f"source: {source!r} is not one of {sorted(SOURCE_TYPES)}")
    if automated_decision not in AUTOMATED_DECISIONS:
        raise ValueError(
            f"automated_decision: {automated_decision!r} is not one of {sorted(AUTOMATED_DECISIONS)}"
        )
    if account.account_type not in ACCOUNT_TYPES:
        raise ValueError(f"account_type: {account.account_type!r} is not private or business")
    kind = ActionKind(action.kind)
    if item is not None:
        types = content_types_for(
            item.kind,
            [m.mime for m in item.media],
            bool(item.text) or item.text_sha256 is not None,
        )
        other = content_type_other_for(item.kind)
        posted = item.created_at
    else:
        types, other = ("CONTENT_TYPE_OTHER",), content_type_other_for("account")
        posted = account.registered_at or account.first_seen_at
    applied = action.applied_at.date()
    end: date | None = None
    if kind in _TIME_LIMITED:
        until = suspension_end or action.ends_at
        # A suspension or restriction past the schema's last date is reported as ending on it.
        end = min(until.date(), _DATE_MAX) if until is not None else None
    src = cast(Source, source)
    text = decision_facts(
        action=kind,
        category_title=category_title,
        signals=signals,
        reviewed_by_person=automated_decision != "fully",
        rule_id=rule_id,
        source=src,
    )
    return StatementFacts(
        puid=new_puid(),
        action=kind,
        statement=statement,
        content_types=types,
        content_date=_clamp(posted.date(), _CONTENT_DATE_MIN, _DATE_MAX),
        application_date=applied,
        end_date=end,
        language=item.language if item is not None else None,
        source=src,
        automated_detection=automated_detection,
        automated_decision=cast(Automation, automated_decision),
        account_type=cast(AccountType, account.account_type),
        facts=text,
        content_type_other=other,
    )


def issue_for_action(
    uow: UnitOfWork,
    *,
    action: Action,
    item: Item | None,
    account: Account,
    statement: StatementConfig,
    category_title: str,
    rule_id: str | None,
    source: str = "voluntary",
    automated_detection: bool,
    automated_decision: str,
    suspension_end: datetime | None = None,
    signals: Sequence[str] = (),
) -> StatementOfReasons | None:
    """Store and log the statement for ``action``; None when the user is outside the EEA.

    Idempotent per action: a second call returns the statement already issued.
    A warning restricts nothing and gets none (None).
    """
    if not ActionKind(action.kind).is_restriction or not is_covered(item, account):
        return None
    if action.id is None:
        uow.session.flush()
    existing = uow.session.scalar(
        select(StatementOfReasons).where(StatementOfReasons.action_id == action.id)
    )
    if existing is not None:
        return existing
    facts = facts_for_action(
        action=action,
        item=item,
        account=account,
        statement=statement,
        category_title=category_title,
        rule_id=rule_id,
        source=source,
        automated_detection=automated_detection,
        automated_decision=automated_decision,
        suspension_end=suspension_end,
        signals=signals,
    )
    facts = dataclasses.replace(facts, puid=puids.claim(uow, facts.puid))
    body = build_statement(facts, known=known_identifiers(uow.session, item, account))
    row = StatementOfReasons(
        puid=facts.puid,
        action_id=action.id,
        item_id=item.id if item is not None else None,
        account_id=account.id,
        body=body,
        issued_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    payload: dict[str, Any] = {
        "puid": row.puid,
        "action_id": row.action_id,
        "item_id": row.item_id,
        "account_id": row.account_id,
        "category": body["category"],
        "decision_ground": body["decision_ground"],
    }
    payload.update({f: body[f] for f in DECISION_FIELDS if f in body})
    uow.log.record("statement.issued", f"statement:{row.id}", payload)
    return row


_VISIBILITY_TEXT = {
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Your content was removed.",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "The visibility of your content was reduced.",
}


def _what(body: dict[str, Any]) -> list[str]:
    lines = [
        _VISIBILITY_TEXT.get(v, "Access to your content was restricted.")
        for v in body.get("decision_visibility") or []
    ]
    account = body.get("decision_account")
    if account == "DECISION_ACCOUNT_SUSPENDED":
        end = body.get("end_date_account_restriction")
        lines.append(
            f"Your account was suspended until {end}." if end else "Your account was suspended."
        )
    elif account == "DECISION_ACCOUNT_TERMINATED":
        lines.append("Your account was closed.")
    if body.get("decision_provision") == "DECISION_PROVISION_PARTIAL_SUSPENSION":
        end = body.get("end_date_service_restriction")
        lines.append(
            f"Some features of your account were restricted until {end}."
            if end
            else "Some features of your account were restricted."
        )
    return lines or ["Your use of the service was restricted."]


def render_for_user(statement: StatementOfReasons) -> str:
    """The statement as plain text for the affected user, from the issued body only."""
    body = statement.body
    lines = ["Statement of reasons", f"Reference: {body['puid']}", "", "What we did:"]
    lines += [f"  {line}" for line in _what(body)]
    lines.append(f"  Applies from: {body['application_date']}")
    lines += ["", "Why:"]
    if body["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT":
        lines.append(
            f"  We consider the content illegal under: {body['illegal_content_legal_ground']}"
        )
        lines.append(f"  {body['illegal_content_explanation']}")
    else:
        lines.append(
            f"  The content is incompatible with our terms and conditions: {body['incompatible_content_ground']}"
        )
        lines.append(f"  {body['incompatible_content_explanation']}")
    lines.append(f"  Category: {CATEGORY_LABELS.get(body['category'], body['category'])}")
    if body.get("decision_ground_reference_url"):
        lines.append(f"  More information: {body['decision_ground_reference_url']}")
    lines += ["", "How we decided:", f"  {body['decision_facts']}"]
    detected = "was" if body["automated_detection"] == "Yes" else "was not"
    lines.append(f"  The content {detected} detected by automated means.")
    lines += [
        "",
        "Your options:",
        "  You can appeal this decision through our internal complaint-handling system",
        "  (DSA Art. 20).",
        "  You can also refer it to a certified out-of-court dispute settlement body",
        "  (DSA Art. 21), or seek redress before a court.",
    ]
    return "\n".join(lines) + "\n"
