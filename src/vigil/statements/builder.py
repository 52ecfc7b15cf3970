"""Building a statement-of-reasons submission body from non-personal facts.

The body goes both to the affected user and to the public transparency
database, so nothing here ever takes the user's text, handle, ids or URLs:
:class:`StatementFacts` holds only policy data, dates and enum choices, and
:func:`decision_facts` composes its text from the policy, never from content.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from vigil.policy.schema import ActionKind, StatementConfig
from vigil.statements import dsa
from vigil.statements.rules import (
    GROUND_ILLEGAL,
    GROUND_INCOMPATIBLE,
    OTHER_CONTENT_TYPE,
    validate_statement,
)
from vigil.statements.scrubber import scrub_statement

Source = Literal["voluntary", "article_16", "trusted_flagger"]
Automation = Literal["fully", "partially", "not_automated"]
AccountType = Literal["private", "business"]

SOURCE_TYPES: dict[str, str] = {
    "voluntary": "SOURCE_VOLUNTARY",
    "article_16": "SOURCE_ARTICLE_16",
    "trusted_flagger": "SOURCE_TRUSTED_FLAGGER",
}
AUTOMATED_DECISIONS: dict[str, str] = {
    "fully": "AUTOMATED_DECISION_FULLY",
    "partially": "AUTOMATED_DECISION_PARTIALLY",
    "not_automated": "AUTOMATED_DECISION_NOT_AUTOMATED",
}
ACCOUNT_TYPES: dict[str, str] = {
    "private": "ACCOUNT_TYPE_PRIVATE",
    "business": "ACCOUNT_TYPE_BUSINESS",
}

PROFILE_LABEL = "Account profile"
DEFAULT_OTHER_LABEL = "Other content"

# How each signal kind found the content, worded without any of the content.
DETECTION_PHRASES: dict[str, str] = {
    "sha256": "matched an entry in a hash list of known content",
    "md5": "matched an entry in a hash list of known content",
    "url": "contained a link on a list of known harmful addresses",
    "domain": "linked to a domain on a list of known harmful domains",
    "term": "contained terms from a list of prohibited terms",
    "notice": "was reported to us in a notice",
    "classifier": "was scored by an automated text classifier",
}
_ACTION_PHRASES: dict[ActionKind, str] = {
    ActionKind.REMOVE_CONTENT: "The content was removed",
    ActionKind.RESTRICT_VISIBILITY: "The visibility of the content was reduced",
    ActionKind.SUSPEND_ACCOUNT: "The account was suspended",
    ActionKind.CLOSE_ACCOUNT: "The account was closed",
    ActionKind.RESTRICT_ACCOUNT: "Some features of the account were restricted for a time",
    ActionKind.WARN_ACCOUNT: "The account was warned",
}
_TITLE_MAX = 200


@dataclass(frozen=True)
class StatementFacts:
    """Everything a statement states; deliberately no field for user content or identifiers."""

    puid: str
    action: ActionKind
    statement: StatementConfig
    content_types: tuple[str, ...]
    content_date: date
    application_date: date
    end_date: date | None  # when a suspension or account restriction ends
    language: str | None
    source: Source
    automated_detection: bool
    automated_decision: Automation
    account_type: AccountType
    facts: str
    content_type_other: str | None = None


def new_puid() -> str:
    """A fresh platform identifier: random, so never reused, and within the API's charset."""
    return f"vigil-{uuid.uuid4().hex}"


def content_types_for(
    kind: str, media_mimes: Sequence[str | None], has_text: bool
) -> tuple[str, ...]:
    """CONTENT_TYPE_* values for an item; a profile, or nothing recognisable, is OTHER."""
    if kind == "profile":
        return (OTHER_CONTENT_TYPE,)
    found: list[str] = []
    if has_text:
        found.append("CONTENT_TYPE_TEXT")
    for mime in media_mimes:
        major = (mime or "").split("/", 1)[0].strip().lower()
        found.append(
            {
                "image": "CONTENT_TYPE_IMAGE",
                "video": "CONTENT_TYPE_VIDEO",
                "audio": "CONTENT_TYPE_AUDIO",
                "text": "CONTENT_TYPE_TEXT",
            }.get(major, OTHER_CONTENT_TYPE)
        )
    ordered = tuple(t for t in dsa.CONTENT_TYPES if t in found)
    return ordered or (OTHER_CONTENT_TYPE,)


def content_type_other_for(kind: str) -> str:
    """The free-text label that must accompany CONTENT_TYPE_OTHER."""
    if kind == "profile":
        return PROFILE_LABEL
    if kind == "account":
        return "Account"
    return "Media file of another type"


# The rule id under which strike escalation acts (vigil.cases.consequences.ESCALATION_RULE).
ESCALATION_RULE_ID = "strike-escalation"


def decision_facts(
    *,
    action: ActionKind,
    category_title: str,
    signals: Sequence[str],
    reviewed_by_person: bool,
    rule_id: str | None,
    source: Source = "voluntary",
) -> str:
    """The decision_facts text, from policy facts only (Art. 24(5): no personal data)."""
    title = " ".join(category_title.split())[:_TITLE_MAX]
    parts = [f"{_ACTION_PHRASES[action]} under the policy category '{title}'."]
    phrases = list(dict.fromkeys(DETECTION_PHRASES.get(s, "") for s in signals if s))
    phrases = [p for p in phrases if p]
    if phrases:
        parts.append("The content " + " and ".join(phrases) + ".")
    if source == "article_16":
        parts.append("A notice under Article 16 DSA prompted the review.")
    elif source == "trusted_flagger":
        parts.append("A notice from a trusted flagger prompted the review.")
    if reviewed_by_person:
        parts.append("A person reviewed the case before the decision was taken.")
    else:
        parts.append("The decision was taken by automated means without review by a person.")
    if rule_id == ESCALATION_RULE_ID:
        parts.append(
            "The account reached this step because of repeated violations: the strikes on "
            "the account that have not expired add up to the threshold our policy sets for it."
        )
    elif rule_id:
        parts.append(f"Policy rule: {rule_id}.")
    return " ".join(parts)


def _decision(facts: StatementFacts) -> dict[str, Any]:
    kind = facts.action
    if not kind.is_restriction:
        raise ValueError(
            f"action: {kind.value} restricts nothing, so it has no statement of reasons"
        )
    if kind is ActionKind.REMOVE_CONTENT:
        return {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}
    if kind is ActionKind.RESTRICT_VISIBILITY:
        return {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DEMOTED"]}
    if kind is ActionKind.SUSPEND_ACCOUNT:
        out: dict[str, Any] = {"decision_account": "DECISION_ACCOUNT_SUSPENDED"}
        if facts.end_date is not None:
            out["end_date_account_restriction"] = facts.end_date.isoformat()
        return out
    if kind is ActionKind.RESTRICT_ACCOUNT:
        # Limited features for a time: the service is partly suspended, the account is not.
        out = {"decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION"}
        if facts.end_date is not None:
            out["end_date_service_restriction"] = facts.end_date.isoformat()
        return out
    return {
        "decision_account": "DECISION_ACCOUNT_TERMINATED",
        "decision_provision": "DECISION_PROVISION_TOTAL_TERMINATION",
    }


def _ground(statement: StatementConfig) -> dict[str, Any]:
    if statement.ground == "illegal":
        return {
            "decision_ground": GROUND_ILLEGAL,
            "illegal_content_legal_ground": statement.legal_ground,
            "illegal_content_explanation": statement.explanation,
        }
    return {
        "decision_ground": GROUND_INCOMPATIBLE,
        "incompatible_content_ground": statement.terms_clause,
        "incompatible_content_explanation": statement.explanation,
    }


def _language(language: str | None) -> str | None:
    """Upper-cased primary subtag ('en-GB' -> 'EN') when the API knows it, else None."""
    if not language:
        return None
    primary = language.replace("_", "-").split("-", 1)[0].strip().upper()
    return primary if primary in dsa.CONTENT_LANGUAGES else None


def build_statement(facts: StatementFacts, known: Sequence[str | None] = ()) -> dict[str, Any]:
    """The submission body for ``facts``, scrubbed; raises ValueError if it would be rejected.

    ``known`` are the affected account's and item's identifiers (handle, platform
    ids): the scrubber removes them, and any other personal data, from the free text.
    """
    statement = facts.statement
    body: dict[str, Any] = {"puid": facts.puid, **_decision(facts), **_ground(statement)}
    if statement.reference_url:
        body["decision_ground_reference_url"] = statement.reference_url
    body["category"] = statement.category
    if statement.keywords:
        body["category_specification"] = list(statement.keywords)
    body["content_type"] = list(facts.content_types)
    if OTHER_CONTENT_TYPE in facts.content_types:
        body["content_type_other"] = facts.content_type_other or DEFAULT_OTHER_LABEL
    body["territorial_scope"] = list(dsa.EEA_COUNTRIES)
    language = _language(facts.language)
    if language is not None:
        body["content_language"] = language
    body["content_date"] = facts.content_date.isoformat()
    body["application_date"] = facts.application_date.isoformat()
    body["decision_facts"] = facts.facts
    body["source_type"] = SOURCE_TYPES[facts.source]
    body["automated_detection"] = "Yes" if facts.automated_detection else "No"
    body["automated_decision"] = AUTOMATED_DECISIONS[facts.automated_decision]
    body["account_type"] = ACCOUNT_TYPES[facts.account_type]
    # source_identity is never set: a notifier's identity would be personal data.
    body = scrub_statement(body, known).body
    problems = validate_statement(body)
    if problems:
        raise ValueError("invalid statement of reasons: " + "; ".join(problems))
    return body
