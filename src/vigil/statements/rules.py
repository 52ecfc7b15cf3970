"""Product-side check of a statement-of-reasons submission body.

The transparency database answers an invalid submission with HTTP 422, long
after the action was taken; checking here means a bad body is caught when the
statement is built, inside the transaction that applies the action. The rules
mirror the submission schema (v2, in force since 2025-07-01), and are slightly
stricter where the server is lax (unknown fields, the literal string 'null' in
arrays, a trailing newline after a puid).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from vigil.statements import dsa

OTHER_VISIBILITY = "DECISION_VISIBILITY_OTHER"
OTHER_MONETARY = "DECISION_MONETARY_OTHER"
OTHER_CONTENT_TYPE = "CONTENT_TYPE_OTHER"
OTHER_KEYWORD = "KEYWORD_OTHER"
GROUND_ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
GROUND_INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
SOURCE_VOLUNTARY = "SOURCE_VOLUNTARY"
YES_NO: tuple[str, ...] = ("Yes", "No")

PUID_RE = re.compile(r"[a-zA-Z0-9_-]+")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EAN_RE = re.compile(r"[0-9]{13}")

DECISION_FIELDS: tuple[str, ...] = (
    "decision_visibility",
    "decision_monetary",
    "decision_provision",
    "decision_account",
)

ARRAY_ENUMS: dict[str, tuple[str, ...]] = {
    "decision_visibility": dsa.DECISION_VISIBILITY,
    "content_type": dsa.CONTENT_TYPES,
    "category_addition": dsa.STATEMENT_CATEGORIES,
    "category_specification": dsa.KEYWORDS,
    "territorial_scope": dsa.TERRITORIAL_SCOPE,
}

SINGLE_ENUMS: dict[str, tuple[str, ...]] = {
    "decision_monetary": dsa.DECISION_MONETARY,
    "decision_provision": dsa.DECISION_PROVISION,
    "decision_account": dsa.DECISION_ACCOUNT,
    "account_type": dsa.ACCOUNT_TYPES,
    "decision_ground": dsa.DECISION_GROUNDS,
    "incompatible_content_illegal": YES_NO,
    "category": dsa.STATEMENT_CATEGORIES,
    "content_language": dsa.CONTENT_LANGUAGES,
    "source_type": dsa.SOURCE_TYPES,
    "automated_detection": YES_NO,
    "automated_decision": dsa.AUTOMATED_DECISION,
}

MAX_LENGTHS: dict[str, int] = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
}

# field -> (earliest, latest); None means unbounded on that side.
DATE_BOUNDS: dict[str, tuple[date | None, date]] = {
    "content_date": (date(2000, 1, 1), date(2038, 1, 1)),
    "application_date": (date(2020, 1, 1), date(2038, 1, 1)),
    "end_date_account_restriction": (None, date(2038, 1, 1)),
    "end_date_monetary_restriction": (None, date(2038, 1, 1)),
    "end_date_service_restriction": (None, date(2038, 1, 1)),
    "end_date_visibility_restriction": (None, date(2038, 1, 1)),
}
END_DATES: tuple[str, ...] = tuple(f for f in DATE_BOUNDS if f.startswith("end_date_"))

REQUIRED: tuple[str, ...] = (
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)

OTHER_FIELDS = ("content_id", "content_id_ean")
KNOWN_FIELDS = frozenset(
    (*ARRAY_ENUMS, *SINGLE_ENUMS, *MAX_LENGTHS, *DATE_BOUNDS, *REQUIRED, *OTHER_FIELDS)
)


def present(body: Mapping[str, Any], field: str) -> bool:
    """Whether a field carries a value; the API treats null, '' and [] as absent."""
    return body.get(field) not in (None, "", [])


def validate_statement(body: Mapping[str, Any]) -> list[str]:
    """Every way ``body`` breaks the submission schema, each message naming the field."""
    problems: list[str] = []
    for field in sorted(set(body) - KNOWN_FIELDS):
        problems.append(f"{field}: not a field of the submission schema")
    for field in REQUIRED:
        if not present(body, field):
            problems.append(f"{field}: required (and may not be empty)")
    if not any(present(body, f) for f in DECISION_FIELDS):
        problems.append(
            "decision_visibility, decision_monetary, decision_provision, decision_account: "
            "at least one is required"
        )
    for check in (_enums, _lengths, _dates, _conditionals, _formats):
        problems.extend(check(body))
    return problems


def _enums(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for field, allowed in ARRAY_ENUMS.items():
        if not present(body, field):
            continue
        value = body[field]
        if not isinstance(value, list):
            problems.append(f"{field}: must be an array")
            continue
        for element in value:
            if element not in allowed:
                problems.append(f"{field}: {element!r} is not an allowed value")
    for field, allowed in SINGLE_ENUMS.items():
        if present(body, field) and body[field] not in allowed:
            problems.append(f"{field}: {body[field]!r} is not an allowed value")
    return problems


def _lengths(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for field, limit in MAX_LENGTHS.items():
        if not present(body, field):
            continue
        value = body[field]
        if not isinstance(value, str):
            problems.append(f"{field}: must be a string")
        elif len(value) > limit:
            problems.append(f"{field}: longer than {limit} characters ({len(value)})")
    return problems


def parse_date(value: Any) -> date | None:
    """A strict Y-m-d date, or None when the value is not one."""
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _dates(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    parsed: dict[str, date] = {}
    for field, (earliest, latest) in DATE_BOUNDS.items():
        if not present(body, field):
            continue
        day = parse_date(body[field])
        if day is None:
            problems.append(f"{field}: {body[field]!r} is not a date in Y-m-d form")
            continue
        parsed[field] = day
        if earliest is not None and day < earliest:
            problems.append(f"{field}: {day} is before {earliest}")
        if day > latest:
            problems.append(f"{field}: {day} is after {latest}")
    start = parsed.get("application_date")
    for field in END_DATES:
        if start is not None and field in parsed and parsed[field] < start:
            problems.append(f"{field}: {parsed[field]} is before application_date {start}")
    return problems


def _has(body: Mapping[str, Any], field: str, value: str) -> bool:
    """Whether a single field equals, or an array field contains, ``value``."""
    current = body.get(field)
    return current == value or (isinstance(current, list) and value in current)


def _conditionals(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    # (dependent field, field, value, required when chosen?)
    pairs: list[tuple[str, str, str, bool]] = [
        ("decision_visibility_other", "decision_visibility", OTHER_VISIBILITY, True),
        ("decision_monetary_other", "decision_monetary", OTHER_MONETARY, True),
        ("content_type_other", "content_type", OTHER_CONTENT_TYPE, True),
        ("category_specification_other", "category_specification", OTHER_KEYWORD, False),
        ("illegal_content_legal_ground", "decision_ground", GROUND_ILLEGAL, True),
        ("illegal_content_explanation", "decision_ground", GROUND_ILLEGAL, True),
        ("incompatible_content_ground", "decision_ground", GROUND_INCOMPATIBLE, True),
        ("incompatible_content_explanation", "decision_ground", GROUND_INCOMPATIBLE, True),
        ("incompatible_content_illegal", "decision_ground", GROUND_INCOMPATIBLE, False),
    ]
    for dependent, field, value, required in pairs:
        chosen = _has(body, field, value)
        if chosen and required and not present(body, dependent):
            problems.append(f"{dependent}: required when {field} is {value}")
        if not chosen and present(body, dependent):
            problems.append(f"{dependent}: only allowed when {field} is {value}")
    if body.get("source_type") == SOURCE_VOLUNTARY and present(body, "source_identity"):
        problems.append(f"source_identity: not allowed when source_type is {SOURCE_VOLUNTARY}")
    return problems


def _formats(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    puid = body.get("puid")
    if present(body, "puid") and not (isinstance(puid, str) and PUID_RE.fullmatch(puid)):
        problems.append("puid: may contain only letters, digits, '-' and '_'")
    language = body.get("content_language")
    if isinstance(language, str) and language and language != language.upper():
        problems.append("content_language: must be an upper-case ISO 639-1 code")
    url = body.get("decision_ground_reference_url")
    if present(body, "decision_ground_reference_url") and not is_url(url):
        problems.append("decision_ground_reference_url: not a valid URL")
    problems.extend(_content_ids(body))
    return problems


def is_url(value: Any) -> bool:
    """An absolute http(s) URL with a host and no whitespace."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _content_ids(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    checks: list[tuple[str, Callable[[Any], bool]]] = [
        ("content_id_ean", lambda v: isinstance(v, str) and bool(_EAN_RE.fullmatch(v))),
        (
            "content_id",
            lambda v: (
                isinstance(v, dict)
                and set(v) <= {"EAN-13"}
                and all(isinstance(x, str) and _EAN_RE.fullmatch(x) for x in v.values())
            ),
        ),
    ]
    for field, ok in checks:
        if present(body, field) and not ok(body[field]):
            problems.append(f"{field}: must be a 13-digit EAN (content_id: {{'EAN-13': ...}})")
    return problems
