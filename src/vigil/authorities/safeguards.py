"""Pure checks a request must pass; each failure is a :class:`Refusal` with a code and a message.

Nothing here touches the database, so every rule can be tested on its own and the
services cannot skip one by accident. The codes are stable: they feed the figures
(refusals by reason) and the ``authority_request.refused`` events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.authorities.models import DataCategory, RequestKind

C = DataCategory

INSTRUMENTS = (
    "DSA_ART9_ORDER_TO_ACT",
    "DSA_ART10_ORDER_TO_PROVIDE_INFO",
    "TCO_REMOVAL_ORDER_ART3",
    "TCO_PRESERVATION_EXTENSION_ART6",
    "EU_EPOC_PRODUCTION",
    "EU_EPOC_PR_PRESERVATION",
    "US_SUBPOENA",
    "US_2703D_ORDER",
    "US_SEARCH_WARRANT",
    "US_2703F_PRESERVATION",
    "US_2702_EMERGENCY_REQUEST",
    "US_PEN_TRAP_WIRETAP",
    "US_NSL_FISA",
    "UK_IPA_PART3_CD_AUTHORISATION",
    "UK_IPA_PART2_INTERCEPTION_WARRANT",
    "UK_COPO",
    "UK_DAA_OVERSEAS_ORDER",
    "UK_TA2006_S3_NOTICE",
    "CTIRU_VOLUNTARY_REFERRAL",
    "OTHER_NATIONAL",
)

_ALL = frozenset(C)
_BASIC = frozenset({C.SUBSCRIBER_BASIC})
_NON_CONTENT = frozenset({C.SUBSCRIBER_BASIC, C.NON_CONTENT_TRAFFIC_LOGS})

# What each instrument may yield. A US subpoena reaches only basic subscriber
# records (18 USC 2703(c)(2)); other non-content data needs a 2703(d) order;
# content needs a warrant or an equivalent production order. Instruments for
# preservation, removal or interception produce nothing here: Vigil holds stored
# data only and has no real-time or bulk path.
ALLOWED_CATEGORIES: dict[str, frozenset[DataCategory]] = {
    "US_SUBPOENA": _BASIC,
    "US_2703D_ORDER": _NON_CONTENT,
    "US_SEARCH_WARRANT": _ALL,
    "EU_EPOC_PRODUCTION": _ALL,
    "US_2702_EMERGENCY_REQUEST": _ALL,
    "DSA_ART10_ORDER_TO_PROVIDE_INFO": _NON_CONTENT,
    "UK_IPA_PART3_CD_AUTHORISATION": _NON_CONTENT,
    "UK_COPO": _ALL,
    "UK_DAA_OVERSEAS_ORDER": _ALL,
    "OTHER_NATIONAL": _BASIC,
}
for _name in INSTRUMENTS:
    ALLOWED_CATEGORIES.setdefault(_name, frozenset())

# Kinds whose instrument is fixed by the law they come under.
KIND_INSTRUMENTS: dict[RequestKind, frozenset[str]] = {
    RequestKind.DSA_ART9_ORDER_TO_ACT: frozenset({"DSA_ART9_ORDER_TO_ACT"}),
    RequestKind.DSA_ART10_ORDER_TO_PROVIDE_INFORMATION: frozenset(
        {"DSA_ART10_ORDER_TO_PROVIDE_INFO"}
    ),
    RequestKind.TCO_REMOVAL_ORDER: frozenset({"TCO_REMOVAL_ORDER_ART3"}),
}

# Identifiers that name one account or one piece of content.
TARGET_TYPES = ("account_id", "username", "url", "email", "phone", "content_id")

# Words that name everyone or a population rather than a person.
_POPULATION = frozenset(
    {
        "all",
        "any",
        "anyone",
        "everyone",
        "everybody",
        "all users",
        "all accounts",
        "all content",
        "users",
        "accounts",
        "none",
        "null",
    }
)
_WILDCARD = re.compile(r"[*%?]|\[.*\]|^#|\s(or|and)\s", re.IGNORECASE)
# URLs carry ? and % legitimately; only a star makes one a pattern.
_URL_WILDCARD = re.compile(r"\*")


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# Codes a legal officer may give when refusing by hand, beside the automatic ones.
MANUAL_CODES = (
    "legal_insufficiency",
    "overbroad",
    "unverified",
    "no_data_found",
    "not_necessary_or_proportionate",
    "duplicate",
    "withdrawn",
)


@dataclass(frozen=True)
class Target:
    identifier_type: str
    value: str


def check_targets(targets: Sequence[Target], *, max_targets: int) -> list[Refusal]:
    """The request must name specific accounts or content, and not too many."""
    if not targets:
        return [Refusal("no_targets", "the request names no account or content")]
    out: list[Refusal] = []
    if len(targets) > max_targets:
        out.append(
            Refusal(
                "too_many_targets",
                f"the request names {len(targets)} targets; at most {max_targets} per request",
            )
        )
    for n, target in enumerate(targets, 1):
        kind, value = target.identifier_type.strip().lower(), target.value.strip()
        if kind not in TARGET_TYPES:
            out.append(
                Refusal(
                    "broad_target",
                    f"target {n}: {kind!r} does not name an account or content "
                    f"(one of {', '.join(TARGET_TYPES)})",
                )
            )
        elif not value:
            out.append(Refusal("empty_target", f"target {n}: the {kind} is empty"))
        elif value.lower() in _POPULATION or (_URL_WILDCARD if kind == "url" else _WILDCARD).search(
            value
        ):
            out.append(
                Refusal(
                    "broad_target",
                    f"target {n}: {kind} is a wildcard or population, not one account",
                )
            )
    return out


def check_instrument(kind: RequestKind, instrument: str | None) -> list[Refusal]:
    """The request must rest on a known legal instrument that fits its kind."""
    if not instrument or not instrument.strip():
        return [Refusal("no_legal_instrument", "the request names no legal instrument")]
    if instrument not in ALLOWED_CATEGORIES:
        return [Refusal("unknown_instrument", f"{instrument!r} is not a known legal instrument")]
    fixed = KIND_INSTRUMENTS.get(kind)
    if fixed is not None and instrument not in fixed:
        return [
            Refusal(
                "instrument_mismatch",
                f"a {kind.value} rests on {', '.join(sorted(fixed))}, not {instrument}",
            )
        ]
    return []


def check_time_range(
    start: datetime | None, end: datetime | None, *, max_span: timedelta
) -> list[Refusal]:
    """The request must give a date range, in order, no longer than ``max_span``."""
    if start is None or end is None:
        return [Refusal("no_date_range", "the request gives no complete date range (from, to)")]
    if end < start:
        return [Refusal("bad_date_range", "the date range ends before it starts")]
    if end - start > max_span:
        return [
            Refusal(
                "date_range_too_long",
                f"the date range spans {(end - start).days} days; at most {max_span.days}",
            )
        ]
    return []


def check_categories(
    kind: RequestKind, instrument: str | None, requested: Iterable[str]
) -> list[Refusal]:
    """A request for data must ask for some category its instrument allows."""
    if not kind.produces or instrument not in ALLOWED_CATEGORIES:
        return []
    wanted = set(requested)
    if not wanted:
        return [Refusal("no_data_categories", "the request names no data category")]
    if not producible(instrument, wanted):
        return [
            Refusal(
                "category_not_allowed",
                f"{instrument} allows none of {', '.join(sorted(wanted))}",
            )
        ]
    return []


def producible(instrument: str | None, requested: Iterable[str]) -> list[DataCategory]:
    """The categories a production may contain: requested ones the instrument allows."""
    allowed = ALLOWED_CATEGORIES.get(instrument or "", frozenset())
    return sorted({C(c) for c in requested if c in set(C)} & allowed)


def check_intake(
    kind: RequestKind,
    instrument: str | None,
    targets: Sequence[Target],
    start: datetime | None,
    end: datetime | None,
    categories: Iterable[str],
    *,
    max_targets: int,
    max_span: timedelta,
) -> list[Refusal]:
    """Every intake check; an empty list means the request may go on to verification."""
    # An order to act names the content itself; a date range bounds data, so
    # orders to act need none (one they give is still checked).
    needs_range = not kind.acts or start is not None or end is not None
    return [
        *check_targets(targets, max_targets=max_targets),
        *check_instrument(kind, instrument),
        *(check_time_range(start, end, max_span=max_span) if needs_range else []),
        *check_categories(kind, instrument, categories),
    ]


def check_verified(verified_at: datetime | None) -> list[Refusal]:
    if verified_at is None:
        return [
            Refusal(
                "unverified",
                "the requester has not been verified through an independent channel",
            )
        ]
    return []


def check_emergency_approval(
    good_faith_reason: str | None, first_approver: str | None, second_approver: str
) -> list[Refusal]:
    """Emergency disclosure: a recorded good-faith reason and two different approvers."""
    out: list[Refusal] = []
    if not (good_faith_reason or "").strip():
        out.append(
            Refusal(
                "no_good_faith_reason",
                "emergency disclosure needs a recorded good-faith belief of danger",
            )
        )
    if first_approver is not None and _same(first_approver, second_approver):
        out.append(
            Refusal(
                "same_approver",
                "the second approver of an emergency disclosure must be a different person",
            )
        )
    return out


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def tco_deadline(received_at: datetime) -> datetime:
    """TCO Art. 3(3): a removal order is carried out within one hour of receipt."""
    return received_at + timedelta(hours=1)
